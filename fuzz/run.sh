#!/usr/bin/env bash
# Runs every fuzz target for the given number of seconds each (default 60) and fails on a crash.
# Needs the nightly toolchain and cargo-fuzz (both installed here when missing).
#   fuzz/run.sh 1800          # 30 minutes per target
#   TARGETS="ddl" fuzz/run.sh # one target
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
targets="${TARGETS:-connection_url sqlite_url postgres_url settings_from_env ddl}"
mkdir -p artifacts logs
for target in $targets; do
  mkdir -p "corpus/$target"
  dict=()
  case "$target" in
    connection_url|sqlite_url|postgres_url) dict=(-dict=dict/url.dict) ;;
  esac
  echo "== $target for ${seconds}s"
  # Plain mode (no -fork): the first crash stops the run and fails this script.
  cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "${dict[@]}" > "logs/$target.log" 2>&1 || true
  grep -aE "^#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec" "logs/$target.log" || true
  grep -aE "^#[0-9]+" "logs/$target.log" | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+" || true
  if grep -qE "ERROR: libFuzzer|panicked at|SUMMARY: " "logs/$target.log"; then
    echo "!! $target crashed; see fuzz/logs/$target.log and fuzz/artifacts/$target/"
    exit 1
  fi
done
echo "== no crashes"
