#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the feature-diverse test images into DIR (default build/test-images), each once:
# an image is rebuilt only when this script changes. Needs root (a read-write loop mount makes
# what mkfs -d cannot: device nodes, ACLs, fallocated extents, odd timestamps ...).
# usage: scripts/make-test-images.sh [DIR] [NAME...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
dir=${1:-$here/build/test-images}
shift || true
mkdir -p "$dir"
version=$(sha256sum "$0" | cut -c1-16)
mnt=$(mktemp -d)
cleanup() { mountpoint -q "$mnt" && umount "$mnt"; rmdir "$mnt"; }
trap cleanup EXIT

# name  mkfs-command (the image path is appended)
images=(
	"ext4-4k|mkfs.ext4 -q -F -b 4096 -O ea_inode -I 256"
	"ext4-1k|mkfs.ext4 -q -F -b 1024 -I 256"
	"ext4-inline|mkfs.ext4 -q -F -b 4096 -O inline_data -I 512"
	"ext4-bigalloc|mkfs.ext4 -q -F -b 4096 -O bigalloc -C 65536 -N 16384"
	"ext4-nocsum|mkfs.ext4 -q -F -b 4096 -O ^metadata_csum,^64bit -I 128"
	"ext3-1k|mkfs.ext3 -q -F -b 1024 -I 128"
	"ext2-1k|mkfs.ext2 -q -F -b 1024"
	"ext2-4k|mkfs.ext2 -q -F -b 4096"
	"ext4-project|mkfs.ext4 -q -F -b 4096 -I 256" # the project feature is added after populate
	# Features the kernel mounts that change nothing ext4pager reads, together; Android's
	# shared_blocks (the kernel mounts it read-only only) is added after populate.
	"ext4-features|mkfs.ext4 -q -F -b 4096 -I 256 -O verity,stable_inodes,orphan_file,metadata_csum_seed,large_dir,ea_inode"
)

write_pattern() { # FILE BYTES SEED
	python3 - "$1" "$2" "$3" <<'PY'
import random, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
with open(path, "wb") as f:
    while n > 0:
        k = min(n, 1 << 20)
        f.write(r.randbytes(k))
        n -= k
PY
}

populate() { # ROOT NAME
	local r=$1 name=$2
	mkdir -p "$r/dir/sub/deeper" "$r/empty" "$r/perm" "$r/links" "$r/times" "$r/sparse" "$r/xattr" "$r/big"
	echo hello >"$r/hello.txt"
	: >"$r/empty-file"
	write_pattern "$r/one-block" 4096 1
	write_pattern "$r/one-k" 1024 2
	write_pattern "$r/odd-tail" 123457 3
	write_pattern "$r/big/two-mib" $((2 << 20)) 4
	write_pattern "$r/dir/sub/deeper/file" 70000 5
	# Fragmented: interleave appends to two files so their extents alternate (depth >= 1).
	for i in $(seq 1 300); do
		head -c 4096 /dev/urandom >>"$r/big/frag-a"
		head -c 4096 /dev/urandom >>"$r/big/frag-b"
		[ $((i % 50)) -eq 0 ] && sync
	done
	# Sparse files: holes at start, middle and end; data at the far end (> 4 GiB).
	truncate -s 10M "$r/sparse/holes"
	printf 'middle' | dd of="$r/sparse/holes" bs=1 seek=5000000 conv=notrunc status=none
	printf 'start' | dd of="$r/sparse/start-data" bs=1 seek=0 status=none
	truncate -s 3M "$r/sparse/start-data"
	if [[ $name != ext2* && $name != ext3* ]] || [[ $name == *-1k ]]; then
		truncate -s 5G "$r/sparse/far" 2>/dev/null || true
		printf 'far away' | dd of="$r/sparse/far" bs=1 seek=$((5 << 30)) conv=notrunc status=none 2>/dev/null || true
	fi
	if [[ $name == ext2-1k || $name == ext3-1k ]]; then
		# 1 KiB blocks: blocks past 12 + 256 + 65536 need the triple-indirect map.
		truncate -s 80M "$r/sparse/triple"
		printf 'triple indirect' | dd of="$r/sparse/triple" bs=1 seek=$((70 << 20)) conv=notrunc status=none
		write_pattern "$r/big/indirect" $((9 << 20)) 6
	fi
	# Unwritten extents, partly written; > 16 GiB sparse; an extent tree of depth >= 2
	# (2000 one-block extents, more than 4 index entries x one leaf block hold).
	if [[ $name == ext4* ]]; then
		truncate -s 17G "$r/sparse/far16"
		printf 'past sixteen GiB' | dd of="$r/sparse/far16" bs=1 seek=$(((17 << 30) - 16)) conv=notrunc status=none
		python3 - "$r/big/deep-tree" <<'PY'
import os, random, sys
r = random.Random(7)
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o644)
for i in range(2000):
    os.pwrite(fd, r.randbytes(4096), 2 * i * 4096)
os.ftruncate(fd, 2 * 2000 * 4096 - 1000)
os.close(fd)
PY
		fallocate -l 1M "$r/sparse/unwritten"
		printf 'written' | dd of="$r/sparse/unwritten" bs=1 seek=300000 conv=notrunc status=none
		fallocate -l 256K -o 2M -n "$r/sparse/unwritten-past-eof" 2>/dev/null || true
	fi
	# Links: hard, fast, slow, dangling, looping, absolute.
	ln "$r/hello.txt" "$r/links/hard"
	ln -s ../hello.txt "$r/links/fast"
	ln -s "$(printf 'long/%.0s' $(seq 1 40))target" "$r/links/slow"
	ln -s does-not-exist "$r/links/dangling"
	ln -s loop-b "$r/links/loop-a"
	ln -s loop-a "$r/links/loop-b"
	ln -s /etc/passwd "$r/links/absolute"
	# Special files and permission bits.
	mknod "$r/perm/char" c 1 3
	mknod "$r/perm/block" b 7 200
	mknod "$r/perm/bigdev" c 300 70000
	mkfifo "$r/perm/fifo"
	python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$r/perm/socket"
	: >"$r/perm/setuid"; chmod 4755 "$r/perm/setuid"
	: >"$r/perm/setgid"; chmod 2755 "$r/perm/setgid"
	mkdir "$r/perm/sticky"; chmod 1777 "$r/perm/sticky"
	: >"$r/perm/none"; chmod 000 "$r/perm/none"
	: >"$r/perm/bigids"; chown 4000000000:3000000000 "$r/perm/bigids"
	: >"$r/perm/midids"; chown 70000:65536 "$r/perm/midids"
	# Timestamps with nanoseconds, before 1970 and past 2038, 2106 (where the inode allows).
	for t in pre-1970 1901 2038 2106 2446 ns; do : >"$r/times/$t"; done
	touch -h -d '1969-07-20 20:17:40.123456789' "$r/times/pre-1970"
	touch -h -d '1901-12-14 00:00:00' "$r/times/1901"
	touch -h -d '2038-01-19 03:14:08.5' "$r/times/2038"
	touch -h -d '2106-02-07 06:28:16.000000001' "$r/times/2106" 2>/dev/null || true
	touch -h -d '2446-05-10 22:38:55.999999999' "$r/times/2446" 2>/dev/null || true
	touch -h -d '2001-09-09 01:46:40.987654321' "$r/times/ns"
	# Names: 255 bytes, non-ASCII UTF-8, spaces and odd bytes.
	: >"$r/dir/$(printf 'n%.0s' $(seq 1 255))"
	: >"$r/dir/ünïcödé-名前-😀"
	: >"$r/dir/with space"
	: >"$r/dir/$(printf 'tab\there')"
	# xattrs: in the inode, in a block, big values (EA inode where enabled); ACLs.
	: >"$r/xattr/small"
	setfattr -n user.a -v 1 "$r/xattr/small"
	setfattr -n trusted.t -v trusted-value "$r/xattr/small"
	setfattr -n security.s -v security-value "$r/xattr/small"
	: >"$r/xattr/block"
	for i in $(seq 1 6); do setfattr -n "user.attr$i" -v "$(printf 'v%.0s' $(seq 1 100))" "$r/xattr/block"; done
	setfattr -n user.empty "$r/xattr/block"
	if [[ $name == ext4-4k ]]; then
		: >"$r/xattr/ea-inode"
		setfattr -n user.huge -v "$(head -c 20000 /dev/zero | tr '\0' 'x')" "$r/xattr/ea-inode"
	fi
	mkdir "$r/xattr/acl-dir"
	: >"$r/xattr/acl-file"
	setfacl -m u:1234:rwx,g:5678:r-x,m::rwx "$r/xattr/acl-file"
	setfacl -d -m u:1234:r-x "$r/xattr/acl-dir"
	setfacl -m u:42:rw- "$r/xattr/acl-dir"
	: >"$r/xattr/acl-dir/inherits"
	# Directories: one htree directory with many entries, one with a few.
	python3 - "$r/big/many" <<'PY'
import os, sys
d = sys.argv[1]
os.mkdir(d)
for i in range(6000):
    name = f"entry-{i:05d}" + ("-" + "x" * 200 if i % 97 == 0 else "")
    os.close(os.open(os.path.join(d, name), os.O_CREAT | os.O_WRONLY, 0o644))
PY
	if [[ $name == ext4-1k ]]; then
		# 50,000 entries: a two-level htree (with 1 KiB blocks; 4 KiB blocks would need more
		# than 60,000 for a second level, and big/many covers their one-level htree);
		# long and non-ASCII names among them.
		python3 - "$r/huge-dir" <<'PY'
import os, sys
d = sys.argv[1]
os.mkdir(d)
for i in range(50000):
    if i % 500 == 0:
        name = f"{i:05d}-" + "L" * 249
    elif i % 7 == 0:
        name = f"файл-{i}-ünï-😀"
    else:
        name = f"f{i}"
    os.close(os.open(os.path.join(d, name), os.O_CREAT | os.O_WRONLY, 0o644))
for i in range(3, 50000, 1000):
    os.unlink(os.path.join(d, f"f{i}")) if i % 7 and i % 500 else None
PY
	fi
	for i in $(seq 1 20); do echo "$i" >"$r/dir/small-$i"; done
	# Files deleted after creation leave holes in directory blocks.
	for i in $(seq 1 20 200); do rm -f "$r/big/many/entry-$(printf %05d "$i")"; done
	if [[ $name == ext4-inline ]]; then
		mkdir "$r/inline-dir"
		for i in 1 2 3; do echo "tiny $i" >"$r/inline-dir/t$i"; done
		ln -s "$(printf 'i%.0s' $(seq 1 70))" "$r/inline-dir/inline-symlink"
		printf '%s' "$(head -c 100 /dev/zero | tr '\0' 'q')" >"$r/inline-dir/hundred"
	fi
	# An executable and a shared library, run from the mount by the tests.
	cp /bin/true "$r/bin-true"
	lib=$(ldd /bin/ls | awk '/libc.so/ {print $3}')
	cp "$lib" "$r/libc-copy.so"
	# Inode flags, for lsattr: one file per flag the filesystem accepts (the others fail and
	# are skipped), a few together, and directories' own flags. Last: immutable and append-only
	# files take no more changes.
	mkdir "$r/flags" "$r/flags/dir-DTA" "$r/flags/dir-dS"
	for f in s u c S d A j; do
		echo "flag $f" >"$r/flags/file-$f"
		chattr "+$f" "$r/flags/file-$f" 2>/dev/null || true
	done
	echo several >"$r/flags/file-dAS"
	chattr +dAS "$r/flags/file-dAS" 2>/dev/null || true
	chattr +DTA "$r/flags/dir-DTA" 2>/dev/null || true
	chattr +dS "$r/flags/dir-dS" 2>/dev/null || true
	echo immutable >"$r/flags/file-i"
	echo append >"$r/flags/file-a"
	if [[ $name == ext4-project ]]; then
		mkdir "$r/flags/project-dir" # project ids: set by add_projects
		echo "in project 4242" >"$r/flags/project-dir/member"
		echo "project 7" >"$r/flags/project-file"
	fi
	chattr +i "$r/flags/file-i" 2>/dev/null || true
	chattr +a "$r/flags/file-a" 2>/dev/null || true
}

# Project ids (lsattr -p, FS_IOC_FSGETXATTR) on an image of its own: a kernel without
# CONFIG_QUOTA mounts a `project` filesystem read-only only, so the feature, the ids and the
# inheriting directory's flag come after populate, from tune2fs and debugfs.
add_projects() { # IMAGE
	tune2fs -O project "$1" >/dev/null
	debugfs -w -f - "$1" >/dev/null 2>&1 <<'DEBUGFS'
set_inode_field /flags/project-file projid 7
set_inode_field /flags/project-dir projid 4242
set_inode_field /flags/project-dir/member projid 4242
set_inode_field /flags/project-dir flags 0x20080000
DEBUGFS
	e2fsck -fy "$1" >/dev/null 2>&1 || true # the project quota's usage, now that ids changed
}

build() { # NAME MKFS...
	local name=$1 img=$dir/$1.img
	shift
	if [ -f "$img" ] && [ "$(cat "$img.version" 2>/dev/null)" = "$version" ]; then
		return
	fi
	echo "building test image $name"
	rm -f "$img" "$img.version"
	truncate -s 256M "$img"
	"$@" "$img" >/dev/null
	mount -o loop "$img" "$mnt"
	populate "$mnt" "$name"
	umount "$mnt"
	[[ $name != ext4-project ]] || add_projects "$img"
	[[ $name != ext4-features ]] || debugfs -w -R "feature shared_blocks" "$img" >/dev/null 2>&1
	e2fsck -fn "$img" >/dev/null 2>&1 || { echo "fsck of $name failed" >&2; e2fsck -fn "$img" | tail -5 >&2; exit 1; }
	echo "$version" >"$img.version"
}

for spec in "${images[@]}"; do
	name=${spec%%|*}
	if [ $# -gt 0 ] && ! grep -qx "$name" <<<"$(printf '%s\n' "$@")"; then
		continue
	fi
	# shellcheck disable=SC2086
	build "$name" ${spec#*|}
done
