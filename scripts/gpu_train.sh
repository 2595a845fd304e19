#!/bin/bash
# Train both shipped models on a lent GPU machine in one prepared call (see README, "On a GPU",
# and checkpoints/*/REPORT.md). Runs there in a copy of the repo, with these carried in:
#   .gl/*.deb           Vulkan/EGL loaders (apt-get download libvulkan1 libegl1 libglvnd0 ...)
#   .gpu/hitogata.xz    the release binary built here (strip, then xz -9: 111 MB -> 20 MB)
#   .gpu/runs.tar.xz    optional: run directories to resume (checkpoint/ only: the carry limit is
#                       64 MiB); a dataset without one starts a new run
# Both runs train on wgpu at once until TRAIN_END seconds, stop with SIGINT (which saves a
# checkpoint), rank their snapshots with `eval` on the machine's CPUs and pack the checkpoint and
# the best snapshot as split tarballs under $OUT (at most 8 files come back: 2 logs + parts).
# A run that fails on wgpu restarts on the CPU.
# History: the 2026-11-26 session ran the first version of this (no snapshots, no weight average
# then); both runs drew clean pictures and then collapsed, and only the collapsed last checkpoint
# came back. Hence snapshots and the ranking here.
set -u
T0=$(date +%s)
TRAIN_END=${TRAIN_END:-430}
SNAPSHOT_EVERY=${SNAPSHOT_EVERY:-500}
DEVICE=${DEVICE:-wgpu}              # cpu for a dry run of this script anywhere
EVAL_COUNT=${EVAL_COUNT:-1000}
RUNS_TAR=${RUNS_TAR:-.gpu/runs.tar.xz}
R=${R:-/tmp/runs}
TRAIN_ARGS=${TRAIN_ARGS:-}          # more train flags: "--lr 5e-5" anneals resumed runs;
                                    # "--upsampling resize" for new runs (RUNS_TAR=/none)
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
if ls .gl/*.deb >/dev/null 2>&1; then for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
nvidia-smi -L 2>/dev/null; nproc
B=${B:-/tmp/hitogata}
if [ ! -x "$B" ]; then
  xz -dc .gpu/hitogata.xz > $B 2>/dev/null || python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('.gpu/hitogata.xz'),open('$B','wb'))"
  chmod +x $B
fi
mkdir -p $R
[ -f $RUNS_TAR ] && tar -xJf $RUNS_TAR -C $R
el "setup done"
start() { # dataset device
  local extra="--algo dcgan --ngf 32 --ndf 32 --seed 1"
  [ -d $R/$1/checkpoint ] && extra="--resume"
  $B train --data assets/datasets/$1 --run $R/$1 --steps 1000000 $extra --device $2 \
    --sample-every 1000 --checkpoint-every 2000 --snapshot-every $SNAPSHOT_EVERY $TRAIN_ARGS >> $OUT/$1.log 2>&1 &
  eval "PID_$1=$!"
  el "started $1 on $2 (pid $!, $extra)"
}
start faces $DEVICE; start people $DEVICE
sleep 45
for n in faces people; do
  p=PID_$n
  if ! kill -0 ${!p} 2>/dev/null; then el "$n died on $DEVICE:"; cat $OUT/$n.log; start $n cpu; fi
done
while [ $(( $(date +%s) - T0 )) -lt $TRAIN_END ]; do
  sleep 30
  el "faces: $(ls $R/faces/samples | tail -1) people: $(ls $R/people/samples | tail -1)"
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null
done
el "stopping"; kill -INT $PID_faces $PID_people
for i in $(seq 1 60); do kill -0 $PID_faces 2>/dev/null || kill -0 $PID_people 2>/dev/null || break; sleep 1; done
for p in $PID_faces $PID_people; do kill -9 $p 2>/dev/null && el "killed $p"; done
wait; el "stopped"; cat $OUT/faces.log $OUT/people.log
# Rank the last 8 snapshots of each run on the CPUs (both at once), keep the best.
for n in faces people; do
  ls -d $R/$n/snapshots/step-* 2>/dev/null | tail -8 > /tmp/$n.snaps
  [ -s /tmp/$n.snaps ] && $B eval --device cpu --count $EVAL_COUNT --data assets/datasets/$n \
    --checkpoint $(cat /tmp/$n.snaps) --report $R/$n/snapshots.eval.ron > $R/$n/snapshots.eval.txt 2>&1 &
done
wait; el "ranked"; tail -n 10 $R/*/snapshots.eval.txt
for n in faces people; do
  best=$(grep -A1 "best first" $R/$n/snapshots.eval.txt 2>/dev/null | tail -1 | awk '{print $2}')
  [ -n "$best" ] && cp -r "$best" $R/$n/best && echo "$best" > $R/$n/best/FROM
done
(cd $R && tar -cf - --exclude=snapshots faces people | xz -1 -T0 > /tmp/out.tar.xz)
split -b 15M -d /tmp/out.tar.xz $OUT/runs.tar.xz.part; ls -la $OUT; el "packed"
