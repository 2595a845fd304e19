#!/bin/bash
# The prepared script of the one GPU session that trained on an H100 (see README, Performance,
# and checkpoints/*/REPORT.md). It runs on the lent machine, in a copy of the repo, with carried:
#   .gl/*.deb           Vulkan/EGL loaders (apt-get download libvulkan1 libegl1 libglvnd0 ...)
#   .gpu/hitogata.xz    the release binary built here (strip; xz -9: 111 MB -> 20 MB)
#   .gpu/runs.tar.xz    run directories to resume (checkpoint/ only; the 64 MiB carry limit)
# Both runs train on wgpu at once until TRAIN_END seconds, stop with SIGINT (which saves a
# checkpoint), and come back as split tarballs under $OUT. A run that fails on wgpu restarts on
# the CPU. Lesson learnt: add --snapshot-every (it did not exist then): the runs collapsed late
# and only the last checkpoint came back. (A second call on the still-warm machine resumed both
# from /tmp/runs with the same train command, for 235 s more.)
set -u
T0=$(date +%s)
TRAIN_END=${TRAIN_END:-430}
el() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
nvidia-smi -L; nproc
B=/tmp/hitogata
xz -dc .gpu/hitogata.xz > $B 2>/dev/null || python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('.gpu/hitogata.xz'),open('$B','wb'))"
chmod +x $B
mkdir -p /tmp/runs && tar -xJf .gpu/runs.tar.xz -C /tmp/runs
el "setup done"; ls /tmp/runs/*
start() { # name device: faces resumes the shipped CPU run; people starts afresh (no room to carry both)
  if [ $1 = faces ]; then extra="--resume"; else rm -rf /tmp/runs/people; extra="--algo dcgan --ngf 32 --ndf 32 --seed 1"; fi
  $B train --data assets/datasets/$1 --run /tmp/runs/$1 --steps 1000000 $extra --device $2 \
    --sample-every 500 --checkpoint-every 2000 >> $OUT/$1.log 2>&1 &
  eval "PID_$1=$!"
  el "started $1 on $2 (pid $!)"
}
start faces wgpu; start people wgpu
sleep 45
for n in faces people; do
  p=PID_$n
  if ! kill -0 ${!p} 2>/dev/null; then
    el "$n died on wgpu:"; cat $OUT/$n.log; start $n cpu
  fi
done
while [ $(( $(date +%s) - T0 )) -lt $TRAIN_END ]; do
  sleep 30
  el "faces: $(ls /tmp/runs/faces/samples | tail -1) people: $(ls /tmp/runs/people/samples | tail -1)"
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
done
el "stopping"; kill -INT $PID_faces $PID_people
for i in $(seq 1 60); do kill -0 $PID_faces 2>/dev/null || kill -0 $PID_people 2>/dev/null || break; sleep 1; done
for p in $PID_faces $PID_people; do kill -9 $p 2>/dev/null && el "killed $p"; done
wait; el "stopped"; cat $OUT/faces.log $OUT/people.log
# Keep every 2000th sample grid and the last one: the output channel is small.
for n in faces people; do
  last=$(ls /tmp/runs/$n/samples | tail -1)
  for f in /tmp/runs/$n/samples/step-*.png; do
    b=$(basename $f); s=$((10#${b:5:6}))
    [ "$b" != "$last" ] && [ $((s % 2000)) -ne 0 ] && rm $f
  done
done
(cd /tmp/runs && tar -cf - faces/checkpoint faces/samples people/checkpoint people/samples | xz -1 -T16 > /tmp/out.tar.xz)
split -b 15M -d /tmp/out.tar.xz $OUT/runs.tar.xz.part; ls -la $OUT; el "packed"
timeout 45 $B bench --device wgpu --ngf 32 --runs 20 --train-iters 3 2>&1 | tee $OUT/bench.txt
el "all done"
