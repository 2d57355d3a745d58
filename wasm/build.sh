#!/usr/bin/env bash
# Builds the browser package (npm-shaped, `dbconfig-wasm`): release wasm, wasm-bindgen --target
# web, wasm-opt (binaryen from npm), plus the package's own files from wasm/js (package.json,
# index.js, client.js, worker.js, index.d.ts, README.md; wasm-bindgen copies js/wire.js into
# snippets/), into wasm/pkg and wasm/www/pkg;
# prints the sizes. `cd wasm/pkg && npm pack` makes the tarball.
set -euo pipefail
cd "$(dirname "$0")"
# With a nightly toolchain (CI has one), std is built for the package too (build-std) with
# panic = immediate-abort: no panic messages or unwinding tables in the module (the library
# returns errors as values and never relies on a panic message): 585 -> 561 KB gzipped.
# Without nightly, the stable build is used (about 25 KB gzipped larger).
if rustup toolchain list | grep -q '^nightly'; then
  rustup component list --toolchain nightly --installed | grep -q '^rust-src' ||
    rustup component add rust-src --toolchain nightly
  rustup target list --toolchain nightly --installed | grep -qx wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown --toolchain nightly
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    cargo +nightly build --release --target wasm32-unknown-unknown --lib -Z build-std=std,panic_abort
else
  echo "build.sh: no nightly toolchain, building with stable (a larger module)"
  cargo build --release --target wasm32-unknown-unknown --lib
fi
wasm-bindgen --target web --out-dir pkg \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/dbconfig_wasm.wasm"
[ -x node_modules/.bin/wasm-opt ] || npm install --no-audit --no-fund --silent
raw=$(stat -c %s pkg/dbconfig_wasm_bg.wasm)
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-reference-types --enable-multivalue --enable-mutable-globals \
  pkg/dbconfig_wasm_bg.wasm -o pkg/dbconfig_wasm_bg.opt.wasm
mv pkg/dbconfig_wasm_bg.opt.wasm pkg/dbconfig_wasm_bg.wasm
opt=$(stat -c %s pkg/dbconfig_wasm_bg.wasm)
gz=$(gzip -9 -c pkg/dbconfig_wasm_bg.wasm | wc -c)
# wasm-bindgen's own declarations give way to the hand-written index.d.ts.
rm -f pkg/dbconfig_wasm.d.ts pkg/dbconfig_wasm_bg.wasm.d.ts pkg/.gitignore
cp js/package.json js/index.js js/client.js js/worker.js js/index.d.ts js/README.md pkg/
js=$(cat pkg/index.js pkg/client.js pkg/worker.js pkg/dbconfig_wasm.js pkg/snippets/*/js/*.js | gzip -9 | wc -c)
rm -rf www/pkg && cp -r pkg www/pkg
cp ../examples/schema/orchestrator.json www/schema.json
echo "wasm: after wasm-bindgen ${raw} bytes, after wasm-opt ${opt} bytes, gzipped ${gz} bytes; JS gzipped ${js} bytes"
