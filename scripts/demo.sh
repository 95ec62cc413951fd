#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command: installs what is missing, builds, mounts the bundled sample image
# read-only, shows what is in it, and unmounts. Idempotent; works from any directory.
# usage: scripts/demo.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
[ $# -eq 0 ] || { show_usage >&2; exit 2; }
"$here/scripts/deps.sh" build
"$here/scripts/build.sh" normal
mnt=$(mktemp -d /tmp/ext4pager-demo.XXXXXX)
cleanup() { mountpoint -q "$mnt" && fusermount3 -u "$mnt"; rmdir "$mnt"; }
trap cleanup EXIT
"$here/build/ext4pager" "$here/images/sample.img" "$mnt"
echo "== mounted $here/images/sample.img on $mnt:"
grep " $mnt " /proc/mounts
echo "== ls -lR"
ls -lR "$mnt"
echo "== cat README.txt"
cat "$mnt/README.txt"
echo "== run bin/hello.sh from the mount"
"$mnt/bin/hello.sh"
echo "== xattrs of README.txt"
getfattr -d "$mnt/README.txt"
echo "== pager stats"
"$here/build/ext4pager" --stats "$mnt"
echo "== unmounting"
