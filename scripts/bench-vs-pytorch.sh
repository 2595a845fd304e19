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
python3 - "$out" "$rounds" "$cpu" "$cores" "$avx512" <<'PY'
import sys, glob
out, rounds, cpu, cores, avx = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def rows(path):
    """{ngf: {column header: value}} from the first table of a bench's markdown output."""
    r, header = {}, None
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None and "ngf" in cells:
            header = cells
        elif header and len(cells) == len(header) and cells[1].isdigit():
            r[int(cells[1])] = {k: float(v) for k, v in zip(header[2:], cells[2:])}
    return r
h = [rows(f"{out}/hitogata-{i}.md") for i in range(1, rounds + 1)]
p = [rows(f"{out}/pytorch-{i}.md") for i in range(1, rounds + 1)]
print(f"{cpu}, {cores} cores, {avx}; {rounds} rounds alternated, batch 64")
print()
print("| | hitogata | PyTorch eager | ratio (hitogata / PyTorch speed) |")
print("|---|---|---|---|")
def fmt(vals, unit): return " / ".join(f"{v:.2f}" if unit != "img/s" else f"{v:.0f}" for v in vals)
for ngf in sorted(h[0], reverse=True):
    hi = [r[ngf]["train img/s"] for r in h]; pi = [r[ngf]["train img/s"] for r in p]
    print(f"| WGAN iteration img/s, ngf {ngf} | {fmt(hi,'img/s')} | {fmt(pi,'img/s')} | {sum(hi)/sum(pi):.2f} |")
    # burn's generator forward, then the pictures as hitogata draws them (its CPU path, RGB
    # conversion included), both against PyTorch's generator forward.
    for batch in (1, 16):
        pb = [r[ngf][f"G batch {batch} (ms)"] for r in p]
        for name, col in (("generator", f"G batch {batch} (ms)"), ("pictures", f"pictures batch {batch} (ms)")):
            hb = [r[ngf][col] for r in h]
            print(f"| {name} batch {batch} (ms), ngf {ngf} | {fmt(hb,'ms')} | {fmt(pb,'ms')} | {sum(pb)/sum(hb):.2f} |")
PY
