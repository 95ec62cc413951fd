#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes the seed images of the image-parsing fuzz targets (tests/fuzz/corpus/image): tiny
# (128–256 KiB, 1 KiB blocks) valid filesystems, one per feature set, each holding what the
# parsers read — regular, sparse and indirect-mapped files, a fragmented file with a depth-1
# extent tree, fast and slow symlinks, a fifo, xattrs in the inode and in a block, an ACL,
# inline data, an htree directory with non-ASCII names, an encrypted and casefolded one. The
# committed seeds were made by this script; re-run it only to change them.
# usage: scripts/make-fuzz-seeds.sh [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
out=${1:-$here/tests/fuzz/corpus/image}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1700000000
mkdir -p "$out"

src=$work/src
mkdir -p "$src/d/sub"
echo hello >"$src/a"
head -c 3000 /dev/urandom >"$src/d/b"
head -c 20000 /dev/urandom >"$src/d/ind"
truncate -s 100000 "$src/d/sparse" && echo tail >>"$src/d/sparse"
ln -s a "$src/fast"
ln -s "$(printf 'x%.0s' $(seq 100))" "$src/slow"
for i in $(seq 40); do echo "$i" >"$src/d/sub/f$i"; done
mkfifo "$src/fifo"
setfattr -n user.k -v val "$src/a"
setfattr -n user.big -v "$(head -c 300 /dev/zero | tr '\0' v)" "$src/d/b"
setfacl -m u:1000:r "$src/a"

seed() { # NAME TYPE SIZE MKFS-OPTIONS...
	local name=$1 type=$2 size=$3
	shift 3
	rm -f "$out/$name"
	"mkfs.$type" -q -F -b 1024 -N 64 "$@" -d "$src" "$out/$name" "$size" >/dev/null
}
seed ext4-csum ext4 128K -O metadata_csum,^has_journal
seed ext4-nocsum ext4 128K -O ^metadata_csum,^has_journal
seed ext4-inline ext4 128K -O inline_data,^has_journal
seed ext2 ext2 128K

# An htree directory: 120 names with UTF-8, indexed by e2fsck -D.
hsrc=$work/htree
mkdir -p "$hsrc/big"
for i in $(seq 120); do echo "$i" >"$hsrc/big/name-$(printf '%03d' "$i")-éééééééééé"; done
rm -f "$out/ext4-htree"
mkfs.ext4 -q -F -b 1024 -N 160 -O metadata_csum,^has_journal -d "$hsrc" "$out/ext4-htree" 256K 2>/dev/null
e2fsck -fyD "$out/ext4-htree" >/dev/null 2>&1 || true

# A fragmented file: free every other small file, then write a 30 KiB file into the holes.
fsrc=$work/frag
mkdir -p "$fsrc"
for i in $(seq 30); do head -c 2048 /dev/urandom >"$fsrc/s$i"; done
rm -f "$out/ext4-extent-tree"
mkfs.ext4 -q -F -b 1024 -N 64 -O ^has_journal -d "$fsrc" "$out/ext4-extent-tree" 160K 2>/dev/null
head -c 30000 /dev/urandom >"$work/bigf"
{
	for i in $(seq 1 2 30); do echo "rm s$i"; done
	echo "write $work/bigf frag"
} | debugfs -w "$out/ext4-extent-tree" >/dev/null 2>&1

# A casefolded directory (the kernel here cannot make one: debugfs sets the flag on the empty
# directory), with names that fold alike in other spellings, indexed by e2fsck -D.
rm -f "$out/ext4-casefold"
mkfs.ext4 -q -F -b 1024 -N 128 -O casefold,^has_journal -E encoding=utf8 "$out/ext4-casefold" 256K >/dev/null
echo x >"$work/x"
{
	echo "mkdir cf"
	echo "set_inode_field cf flags 0x40080000"
	for i in $(seq -w 1 60); do echo "write $work/x cf/Name-$i-ÄßÇ-$(printf 'l%.0s' $(seq 1 20))"; done
} | debugfs -w -f - "$out/ext4-casefold" >/dev/null 2>&1
e2fsck -fyD "$out/ext4-casefold" >/dev/null 2>&1 || true

# An encrypted and casefolded directory, whose entries carry their hashes, indexed (60 names in
# 1 KiB blocks), and an AES-128-CBC-ESSIV file: made by Debian's kernel in a virtual machine
# (scripts/kernel-vm.sh), as nothing else here can make them. Without the key, as fuzzed.
rm -f "$out/ext4-encrypt-casefold"
mkfs.ext4 -q -F -b 1024 -N 128 -O encrypt,casefold,^has_journal "$out/ext4-encrypt-casefold" 256K >/dev/null
mkdir -p "$work/guest"
cc -static -O2 -o "$work/guest/fscrypt_helper" "$here/tests/integration/fscrypt_helper.c"
head -c 64 /dev/urandom >"$work/guest/key"
cat >"$work/guest/run.sh" <<'GUEST'
set -eu
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt
id=$(./fscrypt_helper add_key /mnt key)
mkdir /mnt/cf /mnt/essiv
./fscrypt_helper set_policy /mnt/cf v2 "$id" 0x02
./fscrypt_helper casefold /mnt/cf
for i in $(seq -w 1 60); do echo x >"/mnt/cf/Name-$i-ÄßÇ"; done
ln -s target /mnt/cf/Link
./fscrypt_helper set_policy /mnt/essiv v2 "$id" 0x00 5 6
head -c 3000 /dev/urandom >/mnt/essiv/f
umount /mnt
GUEST
"$here/scripts/kernel-vm.sh" "$work/guest" "$work/guest-out" "$out/ext4-encrypt-casefold"
[ "$(cat "$work/guest-out/rc")" = 0 ] || { cat "$work/guest-out/guest.log" >&2; exit 1; }

for f in "$out"/*; do
	e2fsck -fn "$f" >/dev/null 2>&1 || { echo "seed $f does not pass e2fsck" >&2; exit 1; }
done
ls -l "$out"

# Android sparse seeds (fuzz_sparse, tests/fuzz/corpus/sparse): seeds above through img2simg,
# which writes raw, fill and don't-care chunks.
sparse_out=$(dirname "$out")/sparse
mkdir -p "$sparse_out"
for f in ext4-csum ext2 ext4-extent-tree; do
	img2simg "$out/$f" "$sparse_out/$f.simg"
done
ls -l "$sparse_out"
