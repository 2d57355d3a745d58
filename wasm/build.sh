#!/usr/bin/env bash
# Builds the browser package: release wasm, wasm-bindgen --target web, wasm-opt (binaryen from
# npm), into wasm/pkg and wasm/www/pkg; prints the sizes.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --target wasm32-unknown-unknown --lib
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
rm -rf www/pkg && cp -r pkg www/pkg
cp ../examples/schema/orchestrator.json www/schema.json
echo "wasm: after wasm-bindgen ${raw} bytes, after wasm-opt ${opt} bytes, gzipped ${gz} bytes"
