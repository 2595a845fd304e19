#!/usr/bin/env bash
# hitogata (burn flex) against PyTorch eager on this machine's CPU, side by side: the same
# DCGAN shapes and WGAN iteration (benches/pytorch/bench.py), run alternately ROUNDS times
# (default 2) in the same minutes, then one table with the ratios.
#   scripts/bench-vs-pytorch.sh [ROUNDS] [TRAIN_ITERS]
# PyTorch is a benchmark dependency only: it goes into a venv of its own
# (~/.cache/hitogata-torch-venv, or $TORCH_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"
iters="${2:-3}"
venv="${TORCH_VENV:-$HOME/.cache/hitogata-torch-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  python3 -m venv "$venv"
  # The CPU-only wheel where its index is reachable, else PyPI's (with CUDA libraries: larger).
  "$venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
    || "$venv/bin/pip" install -q torch
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hitogata-target}"
cargo build --release -q
bin="$CARGO_TARGET_DIR/release/hitogata"
out=$(mktemp -d)
for r in $(seq "$rounds"); do
  echo "round $r/$rounds: hitogata" >&2
  "$bin" bench --device cpu --ngf 64,32 --train-iters "$iters" 2>/dev/null > "$out/hitogata-$r.md"
  echo "round $r/$rounds: pytorch" >&2
  "$venv/bin/python" benches/pytorch/bench.py --ngf 64,32 --train-iters "$iters" > "$out/pytorch-$r.md"
done
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
cores=$(nproc)
avx512=$(grep -q avx512f /proc/cpuinfo && echo "AVX-512" || echo "no AVX-512")
python3 scripts/bench_compare.py "$cpu, $cores cores, $avx512; $rounds rounds alternated, batch 64" \
  "$out"/hitogata-*.md -- "$out"/pytorch-*.md
