#!/usr/bin/env bash
# The remote backend's own cost, on loopback: training img/s with the tensors local (flex) and
# on a `hitogata serve --device cpu` (or $DEVICE) on this machine over iroh and over websocket, at each
# batch size, with the bytes crossing loopback per training iteration (/proc/net/dev, lo).
# Alternates local and remote runs ROUNDS times so drift hits both alike.
#   [DEVICE=wgpu] scripts/bench-remote.sh [ROUNDS=2] [ITERS=2] [BATCHES="64 256"] [NGF=32]
set -euo pipefail
ROUNDS=${1:-2}
ITERS=${2:-2}
BATCHES=${3:-"64 256"}
NGF=${4:-32}
# DEVICE=wgpu on a GPU machine: the server and the local runs both on the GPU.
DEVICE=${DEVICE:-cpu}
BIN=${HITOGATA_BIN:-${CARGO_TARGET_DIR:-target}/release/hitogata}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
echo bench-token >"$WORK/token"

lo_bytes() { awk '/^ *lo:/ {print $10}' /proc/net/dev; }

serve() { # transport listen -> prints the --device value for loopback
  "$BIN" serve --device "$DEVICE" --transport "$1" --listen "$2" --token-file "$WORK/token" \
    --identity "$WORK/key" >"$WORK/serve-$1.out" 2>"$WORK/serve-$1.err" &
  for _ in $(seq 100); do
    grep -q "Ctrl-C stops" "$WORK/serve-$1.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -- "--device remote:" "$WORK/serve-$1.out" | grep 127.0.0.1 | head -1 | awk '{print $2}'
}

IROH=$(serve iroh 0)
WS=$(serve websocket 127.0.0.1:0)

run() { # device batch -> "img/s bytes"
  local before after rate token=()
  [[ $1 == remote:* ]] && token=(--token-file "$WORK/token")
  before=$(lo_bytes)
  # The "train img/s" column, found by its header.
  rate=$("$BIN" bench --device "$1" "${token[@]}" --ngf "$NGF" --runs 1 \
    --train-iters "$ITERS" --batch-size "$2" 2>/dev/null | awk -F'|' '
      NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /train img\/s/) col = i }
      NR > 2 && col { gsub(/ /, "", $col); print $col }' | tail -1)
  after=$(lo_bytes)
  echo "$rate $(( (after - before) / (ITERS + 1) ))"
}

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, avx512f: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
echo "ngf $NGF, $ITERS timed WGAN iterations (5 critic + 1 generator step) after one warm-up"
echo "| batch | round | local img/s | iroh img/s | iroh/local | iroh bytes/iter | websocket img/s | ws/local | ws bytes/iter |"
echo "|---|---|---|---|---|---|---|---|---|"
for batch in $BATCHES; do
  for round in $(seq "$ROUNDS"); do
    read -r L _ < <(run "$DEVICE" "$batch")
    read -r I IB < <(run "$IROH" "$batch")
    read -r W WB < <(run "$WS" "$batch")
    awk -v b="$batch" -v r="$round" -v l="$L" -v i="$I" -v ib="$IB" -v w="$W" -v wb="$WB" \
      'BEGIN { printf "| %d | %d | %.1f | %.1f | %.2f | %.1f MB | %.1f | %.2f | %.1f MB |\n", b, r, l, i, i/l, ib/1e6, w, w/l, wb/1e6 }'
  done
done
