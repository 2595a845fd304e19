#!/usr/bin/env bash
# Regenerates assets/datasets/{faces,people} byte for byte from pinned npm packages.
# Needs node + npm and python3; installs Pillow 11.3.0 into a private venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$here/datasets"
npm ci --no-audit --no-fund
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pillow==11.3.0

node render_faces.mjs "$work/faces" 4000
node render_people.mjs "$work/people"
for set in faces people; do
  out="$root/assets/datasets/$set"
  find "$out" -maxdepth 1 -name '*.png' -delete 2>/dev/null || true
  "$work/venv/bin/python" pack.py "$work/$set" "$out"
done
echo "check: (cd assets/datasets/faces && sha256sum -c --quiet MANIFEST.sha256)"
