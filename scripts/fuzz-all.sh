#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), JOBS at a time (default 2), niced so
# that builds go first; one log per target in fuzz/logs/, then a table of executions, corpus
# sizes and crashes. Crashing inputs land in fuzz/artifacts/TARGET: copy each into
# fuzz/regressions/TARGET once fixed (tests/all/fuzz_inputs.rs runs them in `cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
jobs="${2:-2}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/hitogata-fuzz-target}"
(cd fuzz && cargo +nightly fuzz build --sanitizer none --release)
mkdir -p fuzz/logs
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v hitogata-fuzz)
printf '%s\n' $targets | xargs -P "$jobs" -I{} sh -c \
  "nice -n 19 scripts/fuzz.sh {} $seconds > fuzz/logs/{}.log 2>&1 || echo '{}: exit' \$? >> fuzz/logs/{}.log"
printf '| target | seconds | executions | corpus files | crashes |\n|---|---|---|---|---|\n'
for t in $targets; do
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz/logs/$t.log" | tail -1)
  files=$(ls "fuzz/corpus/$t" 2>/dev/null | wc -l)
  crashes=$(ls "fuzz/artifacts/$t" 2>/dev/null | wc -l)
  printf '| %s | %s | %s | %s | %s |\n' "$t" "$seconds" "${execs:-?}" "$files" "$crashes"
done
