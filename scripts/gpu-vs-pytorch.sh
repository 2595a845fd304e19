#!/bin/bash
# hitogata (wgpu) against PyTorch CUDA on a lent GPU, side by side in one prepared call (#37):
# the same shapes and WGAN iteration as scripts/bench-vs-pytorch.sh, rounds alternated, at batch
# 64 and 256; PyTorch with TF32 convolutions (its default on NVIDIA) and without; then both
# `--profile` tables (each convolution forward and with its gradients, and one whole iteration
# in device time against wall time). Runs there in a copy of the repo, with carried in:
#   .gl/*.deb           Vulkan/EGL loaders (scripts/gpu/setup.sh)
#   .gpu/hitogata.xz    the release binary built here (strip, then xz -9)
# Writes the tables and compare.md under $OUT. DEVICE=cpu TORCH_DEVICE=cpu PYTHON=... makes it
# a dry run anywhere.
#   run: bash scripts/gpu-vs-pytorch.sh      (timeout_s ~480)
set -u
T0=$(date +%s)
DEVICE=${DEVICE:-wgpu}
TORCH_DEVICE=${TORCH_DEVICE:-cuda}
PY=${PYTHON:-python3}
OUT=${OUT:-/tmp/gpu-out}
ITERS=${ITERS:-5}
NGF=${NGF:-64,32}
BUDGET=${BUDGET:-400}   # seconds: later steps are skipped past it
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
left() { [ $(( $(date +%s) - T0 )) -lt "$BUDGET" ]; }
mkdir -p "$OUT"
. scripts/gpu/setup.sh
export PYTHONUNBUFFERED=1
el "setup done"
hito() { timeout 200 "$B" bench --device "$DEVICE" --ngf "$NGF" --runs 10 --train-iters "$ITERS" "$@"; }
torch() { timeout 120 "$PY" benches/pytorch/bench.py --device "$TORCH_DEVICE" --ngf "$NGF" \
  --runs 10 --train-iters "$ITERS" "$@"; }
for batch in 64 256; do
  for r in 1 2; do
    left || break
    [ "$batch" = 256 ] && [ "$r" = 2 ] && break
    profile=""; [ "$r" = 1 ] && [ "$batch" = 64 ] && profile=--profile
    hito --batch-size "$batch" $profile > "$OUT/h-$batch-$r.md" 2> "$OUT/h-$batch-$r.err"
    el "hitogata batch $batch round $r: rc $?"
    torch --batch-size "$batch" $profile > "$OUT/p-$batch-$r.md" 2> "$OUT/p-$batch-$r.err"
    el "pytorch batch $batch round $r: rc $?"
    torch --batch-size "$batch" --no-tf32 > "$OUT/f-$batch-$r.md" 2> "$OUT/f-$batch-$r.err"
    el "pytorch fp32 batch $batch round $r: rc $?"
  done
done
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
{
  for batch in 64 256; do
    ls "$OUT"/h-$batch-*.md >/dev/null 2>&1 || continue
    python3 scripts/bench_compare.py "${gpu:-$DEVICE}, batch $batch: hitogata $DEVICE vs PyTorch $TORCH_DEVICE (TF32 convolutions)" \
      "$OUT"/h-$batch-*.md -- "$OUT"/p-$batch-*.md
    echo
    python3 scripts/bench_compare.py "${gpu:-$DEVICE}, batch $batch: hitogata $DEVICE vs PyTorch $TORCH_DEVICE (FP32)" \
      "$OUT"/h-$batch-*.md -- "$OUT"/f-$batch-*.md
    echo
  done
} > "$OUT/compare.md" 2>&1
# The results in as few files as come back: tables in one, errors in another.
for f in "$OUT"/[hpf]-*.md; do echo "== $(basename "$f")"; cat "$f"; done > "$OUT/tables.md"
for f in "$OUT"/*.err; do echo "== $(basename "$f")"; tail -20 "$f"; done > "$OUT/errors.txt"
rm -f "$OUT"/[hpf]-*.md "$OUT"/*.err
el "done"
cat "$OUT/compare.md"
