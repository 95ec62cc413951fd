#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds images/sample.img byte-for-byte reproducibly: fixed UUID, hash seed and timestamps.
# Usage: scripts/make-sample-image.sh [OUTPUT]   (default: images/sample.img)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
out=${1:-$here/images/sample.img}
stamp=202601011200.00
epoch=1767268800 # 2026-01-01 12:00:00 UTC

src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
umask 022
mkdir -p "$src/docs/guides" "$src/bin" "$src/data" "$src/empty-dir"
cat >"$src/README.txt" <<'TXT'
This is the ext4pager sample image.
It holds directories, symlinks, a hard link, xattrs, a sparse file and a script.
TXT
cat >"$src/bin/hello.sh" <<'TXT'
#!/bin/sh
echo "hello from a script on the ext4pager mount"
echo "this script lives at: $0"
TXT
chmod 755 "$src/bin/hello.sh"
printf 'Guide number one.\n' >"$src/docs/guides/one.md"
printf 'Guide number two.\n' >"$src/docs/guides/two.md"
for i in $(seq 1 40); do printf 'line %03d of the notes file\n' "$i"; done >"$src/docs/notes.txt"
# A file with a known pattern spanning several 128 KiB readahead windows.
python3 -c "
import sys
sys.stdout.buffer.write(bytes((i * 7 + (i >> 12)) & 0xff for i in range(300000)))" >"$src/data/pattern.bin"
# Sparse: a hole, 4 KiB of data at 1 MiB, a hole to 3 MiB.
truncate -s 3M "$src/data/sparse.bin"
printf 'data in the middle of a sparse file\n' | dd of="$src/data/sparse.bin" bs=1 seek=1048576 conv=notrunc status=none
: >"$src/data/empty"
ln "$src/docs/notes.txt" "$src/docs/notes-hardlink.txt"
ln -s README.txt "$src/short-link"
ln -s "docs/guides/$(printf 'a%.0s' $(seq 1 10))/../../guides/one.md-with-a-long-target-name-that-does-not-fit-in-the-inode-$(printf 'x%.0s' $(seq 1 40))" "$src/long-link"
ln -s docs/guides/one.md "$src/guide-link"
setfattr -n user.comment -v "sample image" "$src/README.txt"
setfattr -n user.checksum -v "0123456789abcdef" "$src/data/pattern.bin"
find "$src" -exec touch -h -t "$stamp" {} +

rm -f "$out"
E2FSPROGS_FAKE_TIME=$epoch mkfs.ext4 -q -F -t ext4 -b 4096 -N 64 -L sample \
	-U 5a3f0e2c-1d2b-4c6e-9f7a-0b1c2d3e4f50 \
	-E hash_seed=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0,root_owner=0:0,nodiscard \
	-O ^has_journal -d "$src" "$out" 2M >/dev/null
# populate_fs copies each file's ctime from the source tree, which touch cannot set: pin them.
debugfs_cmds=$(mktemp)
trap 'rm -rf "$src" "$debugfs_cmds"' EXIT
for ino in $(seq 2 64); do
	echo "set_inode_field <$ino> ctime @$epoch"
	echo "set_inode_field <$ino> ctime_extra 0"
	echo "set_inode_field <$ino> crtime @$epoch"
	echo "set_inode_field <$ino> crtime_extra 0"
done >"$debugfs_cmds"
E2FSPROGS_FAKE_TIME=$epoch debugfs -w -f "$debugfs_cmds" "$out" >/dev/null 2>&1
# debugfs stamps the superblock with the wall clock: pin s_wtime too and redo its checksum.
python3 "$here/scripts/sb-patch.py" "$out" set 0x30 "$epoch"
echo "built $out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -c1-16))"
