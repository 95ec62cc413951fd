#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark (not a test): ext4pager vs the kernel's ext4 vs fuse2fs on the same images, in
# one run. Builds its images once into build/bench (cached by this script's hash), then runs
# scripts/bench.py, which prints the table and rewrites docs/PERFORMANCE.md.
# usage: sudo scripts/bench.sh [--runs N] [--systems kernel,ext4pager,...] [--image-cache cold|warm]
#        [--only TEXT] [--out REPORT.md] | --build-only
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "--runs --systems --only --image-cache --out --build-only" "$@"
dir=$here/build/bench
"$here/scripts/deps.sh" build bench >/dev/null
"$here/scripts/build.sh" normal >/dev/null
mkdir -p "$dir"
version=$(sha256sum "$0" | cut -c1-16)

fresh() { [ -f "$dir/$1.img" ] && [ "$(cat "$dir/$1.img.version" 2>/dev/null)" = "$version" ]; }

if ! fresh big; then
	echo "building big.img (1 GiB + 256 MiB random files)"
	stage=$(mktemp -d "$dir/stage.XXXXXX")
	python3 - "$stage" <<'PY'
import random, sys
r = random.Random(1)
for name, mib in (("big-1g", 1024), ("mid-256m", 256)):
    with open(f"{sys.argv[1]}/{name}", "wb") as f:
        for _ in range(mib):
            f.write(r.randbytes(1 << 20))
PY
	rm -f "$dir/big.img"
	mkfs.ext4 -q -F -d "$stage" "$dir/big.img" 1400M >/dev/null 2>&1
	rm -rf "$stage"
	echo "$version" >"$dir/big.img.version"
fi

if ! fresh tree; then
	echo "building tree.img (~50,000 files of 0-64 KiB in ~2,000 directories)"
	stage=$(mktemp -d "$dir/stage.XXXXXX")
	python3 - "$stage" <<'PY'
import os, random, sys
r = random.Random(2)
root = sys.argv[1]
n = 0
def add(d, count):
    global n
    os.makedirs(d, exist_ok=True)
    for i in range(count):
        with open(os.path.join(d, f"file-{i:05d}.dat"), "wb") as f:
            f.write(r.randbytes(r.randrange(0, 64 << 10)))
        n += 1
for big in range(3):                       # directories with 5,000+ entries
    add(f"{root}/big-{big}", 5200)
for top in range(40):                      # ~2,000 directories of a few files each
    for sub in range(48):
        add(f"{root}/t{top:02d}/s{sub:02d}", r.randrange(10, 26))
print(f"{n} files")
PY
	rm -f "$dir/tree.img"
	mkfs.ext4 -q -F -d "$stage" "$dir/tree.img" 3G >/dev/null 2>&1
	rm -rf "$stage"
	echo "$version" >"$dir/tree.img.version"
fi

"$here/scripts/make-rootfs-image.sh" "$dir/rootfs.img"
[ "${1:-}" = --build-only ] && exit 0
exec python3 "$here/scripts/bench.py" --ext4pager "$here/build/ext4pager" --images "$dir" \
	--out "$here/docs/PERFORMANCE.md" "$@"
