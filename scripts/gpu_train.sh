#!/bin/bash
# Train several runs at once on a lent GPU machine in one prepared call (see README, "On a GPU",
# and checkpoints/*/REPORT.md). Runs there in a copy of the repo, with these carried in:
#   .gl/*.deb           Vulkan/EGL loaders (apt-get download libvulkan1 libegl1 libglvnd0 ...)
#   .gpu/hitogata.xz    the release binary built here (strip, then xz -9: 151 MB -> 21 MB)
#   .gpu/runs.tar.xz    optional: run directories to resume (checkpoint/ only: the carry limit is
#                       64 MiB in all)
#   .gpu/plan           one run per line: NAME DATASET TRAIN-FLAGS... (`--resume` for a run
#                       directory from runs.tar.xz, else the flags of a new run)
#   .gpu/pack           what comes back, most important first, one per line: NAME snap K (the
#                       last K snapshots as f16 exports), NAME ckpt (the checkpoint) or NAME log K
#                       (training history and the last K sample grids); NAME may be BEST: the
#                       run CONTINUE_BEST chose (lines naming no run that exists are skipped)
# All runs train on wgpu side by side until TRAIN_END seconds, stop with SIGINT (which saves a
# checkpoint), and the pack list is filled in order until PACK_MB is reached, then split into
# 15 MB parts under $OUT (at most 8 files come back). Snapshots are ranked afterwards with
# `hitogata eval` on the machine they come back to: the GPU's minutes are for training.
# CONTINUE_BEST=S (all runs on one dataset): after TRAIN_END, rank the last RANK_LAST snapshots
# of every run with `eval` there (16 cores), then continue the best run alone for S seconds (one
# run alone is ~2x as fast as each of two: 27 against 13.7 steps/s in the 2026-11-27 session);
# the ranking comes back as rank.txt. RANK_REPEATS=N ranks on the mean of N eval seeds
# (`eval --repeats`; one seed's figure moves by up to ±1 on the faces).
# A second call on the still-warm machine (it is released after ~30 s idle, so make it at once)
# can continue a run left in $R: RUNS_TAR=/nonexistent PLAN=/tmp/plan2 PACK=/tmp/pack2 (files
# written by the command itself; the 2026-11-27 session did this: 27 steps/s for one run alone).
# scripts/gpu/faces-finetune.plan (and .pack) need no runs.tar.xz: they start new runs from the
# shipped generator (`train --init-generator checkpoints/faces --critic-warmup N`), so a GPU
# session can go on from the repository alone; its header has the command.
# History: the 2026-11-26 session ran a first version (no snapshots): both runs drew clean
# pictures and then collapsed, and only the collapsed last checkpoint came back.
set -u
T0=$(date +%s)
TRAIN_END=${TRAIN_END:-430}
SNAPSHOT_EVERY=${SNAPSHOT_EVERY:-500}
DEVICE=${DEVICE:-wgpu}              # cpu for a dry run of this script anywhere
RUNS_TAR=${RUNS_TAR:-.gpu/runs.tar.xz}
PLAN=${PLAN:-.gpu/plan}
PACK=${PACK:-.gpu/pack}
PACK_MB=${PACK_MB:-62}
R=${R:-/tmp/runs}
OUT=${OUT:-/tmp/gpu-out}
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
mkdir -p "$OUT" "$R"
. scripts/gpu/setup.sh
[ -f "$RUNS_TAR" ] && tar -xJf "$RUNS_TAR" -C "$R"
el "setup done"
declare -A PIDS DATA FLAGS
start() { # name device
  local n=$1
  # shellcheck disable=SC2086
  "$B" train --data "assets/datasets/${DATA[$n]}" --run "$R/$n" --steps 1000000 --device "$2" \
    --sample-every "$SNAPSHOT_EVERY" --checkpoint-every 2000 --snapshot-every "$SNAPSHOT_EVERY" \
    ${FLAGS[$n]} >> "$OUT/$n.log" 2>&1 &
  PIDS[$n]=$!
  el "started $n on $2 (pid $!): ${FLAGS[$n]}"
}
while read -r name data flags; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  DATA[$name]=$data; FLAGS[$name]=$flags
  start "$name" "$DEVICE"
done < "$PLAN"
sleep 45
for n in "${!PIDS[@]}"; do
  if ! kill -0 "${PIDS[$n]}" 2>/dev/null; then el "$n died on $DEVICE:"; cat "$OUT/$n.log"; start "$n" cpu; fi
done
while [ $(( $(date +%s) - T0 )) -lt "$TRAIN_END" ]; do
  sleep 20
  line=""
  for n in "${!PIDS[@]}"; do line="$line $n: $(ls "$R/$n/snapshots" 2>/dev/null | tail -1)"; done
  el "$line"
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null
done
stop_all() {
  el "stopping"
  for n in "${!PIDS[@]}"; do kill -INT "${PIDS[$n]}" 2>/dev/null; done
  for _ in $(seq 1 60); do
    alive=0; for n in "${!PIDS[@]}"; do kill -0 "${PIDS[$n]}" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 1
  done
  for n in "${!PIDS[@]}"; do kill -9 "${PIDS[$n]}" 2>/dev/null && el "killed $n"; done
  wait; el "stopped"
  for n in "${!PIDS[@]}"; do tail -n 3 "$OUT/$n.log"; done
}
stop_all
CONTINUE_BEST=${CONTINUE_BEST:-0}
if [ "$CONTINUE_BEST" -gt 0 ]; then
  snaps=()
  for n in "${!PIDS[@]}"; do
    while read -r d; do snaps+=("$d"); done < <(ls -d "$R/$n"/snapshots/step-* 2>/dev/null | tail -n "${RANK_LAST:-2}")
  done
  first=$(printf '%s\n' "${!DATA[@]}" | head -1)
  "$B" eval --device "$DEVICE" --count "${RANK_COUNT:-1000}" --repeats "${RANK_REPEATS:-1}" --data "assets/datasets/${DATA[$first]}" \
    --checkpoint "${snaps[@]}" > "$OUT/rank.txt" 2>&1
  best=$(grep -A1 "best first" "$OUT/rank.txt" | tail -1 | awk '{print $2}')
  el "ranked ${#snaps[@]} snapshots; best: ${best:-none}"
  if [ -n "$best" ]; then
    name=$(basename "$(dirname "$(dirname "$best")")"); BEST=$name
    END2=$(( $(date +%s) - T0 + CONTINUE_BEST ))
    unset PIDS; declare -A PIDS
    FLAGS[$name]="--resume"; start "$name" "$DEVICE"
    while [ $(( $(date +%s) - T0 )) -lt "$END2" ]; do
      sleep 20; el " $name: $(ls "$R/$name/snapshots" 2>/dev/null | tail -1)"
    done
    stop_all
  fi
fi
# Fill the pack list in order while it fits.
S=/tmp/stage; rm -rf $S; mkdir -p $S
fits() { [ $(( $(du -sb $S | cut -f1) + $(du -sb "$1" | cut -f1) )) -le $(( PACK_MB * 1000000 )) ]; }
while read -r name what k; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  [ "$name" = BEST ] && name=${BEST:-}
  [ -n "$name" ] && [ -d "$R/$name" ] || continue
  mkdir -p "$S/$name"
  case $what in
    log) mkdir -p "$S/$name/samples"; cp "$R/$name/checkpoint/state.ron" "$S/$name/" 2>/dev/null
         for f in $(ls "$R/$name/samples" 2>/dev/null | tail -n "${k:-3}"); do cp "$R/$name/samples/$f" "$S/$name/samples/"; done ;;
    ckpt) fits "$R/$name/checkpoint" && cp -r "$R/$name/checkpoint" "$S/$name/" ;;
    snap)
      for s in $(ls -d "$R/$name"/snapshots/step-* 2>/dev/null | tail -n "$k" | tac); do
        "$B" export --checkpoint "$s" --out "/tmp/f16/$name/$(basename "$s")" --f16 >/dev/null &&
          fits "/tmp/f16/$name/$(basename "$s")" && mkdir -p "$S/$name/snapshots" &&
          cp -r "/tmp/f16/$name/$(basename "$s")" "$S/$name/snapshots/"
      done ;;
  esac
done < "$PACK"
du -sh $S/*; el "staged"
(cd $S && tar -cf - . | xz -1 -T0 > /tmp/out.tar.xz)
split -b 15M -d /tmp/out.tar.xz "$OUT/runs.tar.xz.part"; ls -la "$OUT"; el "packed"
