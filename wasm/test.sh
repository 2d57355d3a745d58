#!/usr/bin/env bash
# Browser tests of the wasm crate in a real headless Chromium (main thread and dedicated
# worker), persistence across two browser processes, the demo page end to end, and the npm
# package (packed, installed into a fresh Vite project and a plain page, type-checked), and
# several tabs on one OPFS database (the holder tab closed mid-load).
# Installs what it needs: Debian chromium, chromium-driver, clang; the wasm32 target;
# wasm-bindgen-cli at the version in Cargo.lock (skipped when already installed); npm packages.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v clang >/dev/null 2>&1 || need+=(clang)
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! wasm-bindgen-test-runner --version 2>/dev/null | grep -q " $version\$"; then
  echo "== cargo install wasm-bindgen-cli $version (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$version"
fi

export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=120
flags='"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage"'
webdriver_json() { # $1 = user data dir
  cat <<JSON
{ "goog:chromeOptions": { "binary": "/usr/bin/chromium",
  "args": [ $flags, "--user-data-dir=$1" ] } }
JSON
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== browser tests: main thread and dedicated worker (fresh profile)"
webdriver_json "$work/profile" > "$work/webdriver.json"
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$work/webdriver.json" \
  cargo test --target wasm32-unknown-unknown --test main_thread --test worker

echo "== persistence: write in one browser process, read back in a new one"
webdriver_json "$work/persist-profile" > "$work/persist.json"
for phase in write read; do
  DBCONFIG_PERSIST_PHASE=$phase WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:8917 \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$work/persist.json" \
    cargo test --target wasm32-unknown-unknown --test persist
done

echo "== demo page end to end (playwright-core driving /usr/bin/chromium)"
bash build.sh
[ -d node_modules/playwright-core ] || npm install --no-audit --no-fund --silent
node e2e/demo.test.mjs
echo "== npm package: pack, install into a Vite project and a plain page, tsc, OPFS, export/import"
node e2e/package.test.mjs
echo "== several tabs on one OPFS database: 2 x 500 transactions, the holder tab closes mid-load"
node e2e/tabs.test.mjs
echo "== wasm: all browser tests passed"
