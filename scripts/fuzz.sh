#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (default 600) with libFuzzer through cargo-fuzz. The corpus
# lives outside git in fuzz/corpus/TARGET (built here from the committed seeds in
# fuzz/seeds/TARGET on the first run, grown by every run); crashes land in fuzz/artifacts/TARGET.
#   scripts/fuzz.sh generator 600
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Memory: inputs that
# make a loader allocate more than 2 GiB count as crashes (refuse them before allocating).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}"
seconds="${2:-600}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/hitogata-fuzz-target}"
mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
# libFuzzer writes new inputs into the first folder and reads the seeds from the second.
exec cargo +nightly fuzz run --sanitizer none --release "$target" \
  "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
  -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
  -max_len=65536 -print_final_stats=1
