#!/bin/bash
# The figures a lent GPU machine gives in one prepared call (no training): the bench with the
# debugger on the shipped faces (#26 asks for the strips on the GPU too), and training over
# the remote backend against local training on the same GPU (#28's GPU-vs-GPU figure). Runs
# there in a copy of the repo, with carried in (see scripts/gpu_train.sh for how they are made):
#   .gl/*.deb           Vulkan/EGL loaders
#   .gpu/hitogata.xz    the release binary built here (strip, then xz -9)
# Writes bench.md and remote.md under $OUT. DEVICE=cpu makes it a dry run anywhere.
#   run: bash scripts/gpu_check.sh      (timeout_s ~420: bench ~2 min, remote ~4 min on an H100)
set -u
T0=$(date +%s)
DEVICE=${DEVICE:-wgpu}
OUT=${OUT:-/tmp/gpu-out}
NGF=${NGF:-64,32}
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
mkdir -p "$OUT"
. scripts/gpu/setup.sh
el "setup done"
"$B" bench --device "$DEVICE" --ngf "$NGF" --debugger checkpoints/faces > "$OUT/bench.md" 2> "$OUT/bench.err"
el "bench: $(grep -c '|' "$OUT/bench.md") table lines"
DEVICE=$DEVICE HITOGATA_BIN=$B bash scripts/bench-remote.sh "${ROUNDS:-2}" "${ITERS:-3}" \
  "${BATCHES:-64 256}" "${REMOTE_NGF:-32}" > "$OUT/remote.md" 2> "$OUT/remote.err"
el "remote: done"
cat "$OUT/bench.md" "$OUT/remote.md"
