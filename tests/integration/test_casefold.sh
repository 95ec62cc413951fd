#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The casefold feature. The kernel here is built without CONFIG_UNICODE and refuses these
# images, so the oracle is e2fsprogs: debugfs makes the directories (a casefolded one, indexed
# by e2fsck -D with casefolded hashes, and a plain one), debugfs names each entry's inode and
# dumps the htree with its hashes, and e2fsck -fn says the image is clean. What a user sees is
# checked against the kernel's rules (fs/ext4/namei.c ext4_match): names listed as stored, in
# the htree's hash order; lookups case-insensitive in the casefolded directory only; in strict
# mode a name the encoding cannot normalise is refused (EINVAL).
source "$(dirname "$0")/lib.sh"
need_root
set +e
f=$WORK/f
mkdir -p "$WORK/src" "$WORK/nomount"
echo hello >"$WORK/src/x"

# make_image IMAGE [mkfs -E options]: a casefolded directory cf (300 mixed-case names, an
# ß and a non-ASCII name among them) and a plain directory with one mixed-case name.
make_image() {
	local img=$1 enc=$2
	mkfs.ext4 -q -F -b 1024 -O casefold -E "$enc" "$img" 32M >/dev/null
	{
		echo "mkdir cf"
		echo "set_inode_field cf flags 0x40080000" # EXT4_CASEFOLD_FL | EXT4_EXTENTS_FL
		echo "mkdir plain"
		for n in Hello.TXT Straße Ünïcode-Name; do echo "write $WORK/src/x cf/$n"; done
		for i in $(seq -w 0 299); do echo "write $WORK/src/x cf/File-$i-MiXeD"; done
		echo "write $WORK/src/x plain/Hello.TXT"
	} | debugfs -w -f - "$img" >/dev/null 2>&1
	e2fsck -fyD "$img" >/dev/null 2>&1 # index cf, with the casefolded hash
	e2fsck -fn "$img" >/dev/null 2>&1 || { fail "$img: e2fsck -fn is not clean"; e2fsck -fn "$img" | tail -5; }
}

img=$WORK/casefold.img
make_image "$img" encoding=utf8
sum=$(sha256sum <"$img")
mount_fuse "$img" "$f" || exit 1

# Names as stored: the same set debugfs lists.
want=$(debugfs -R "ls -p cf" "$img" 2>/dev/null | awk -F/ 'NF > 5 && $6 != "." && $6 != ".." { print $6 }' | sort)
got=$(ls -A "$f/cf" | sort)
[ -n "$want" ] && [ "$want" = "$got" ] && pass "cf: $(wc -l <<<"$got") names listed as stored" ||
	fail "cf: listing differs from debugfs: $(diff <(echo "$want") <(echo "$got") | head -5)"

# Readdir order: the htree's hash order (debugfs htree_dump prints each entry's casefolded hash).
order=$(debugfs -R "htree_dump cf" "$img" 2>/dev/null |
	sed -e 's/ *leaf block checksum: 0x[0-9a-f]* *$//' |
	sed -n 's/^[0-9]* 0x\([0-9a-f]*\)-\([0-9a-f]*\) ([0-9]*) \(.*[^ ]\) *$/\1 \2 \3/p' | sort -k1,1 -k2,2 -s | cut -d' ' -f3-)
readdir=$(ls -f "$f/cf" | tail -n +3)
[ "$(ls -f "$f/cf" | head -2 | tr '\n' ' ')" = ". .. " ] && [ -n "$order" ] && [ "$order" = "$readdir" ] &&
	pass "cf: readdir in the casefolded hash order" || fail "cf: readdir order: $(diff <(echo "$order") <(echo "$readdir") | head -5)"

# Lookups: every spelling that folds alike finds the inode debugfs names for the stored one.
ino_of() { debugfs -R "stat $1" "$img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'; }
for pair in "Hello.TXT HELLO.txt" "Hello.TXT hello.txt" "Straße STRASSE" "Straße strasse" \
	"Ünïcode-Name üNÏCODE-name" "File-007-MiXeD file-007-mixed" "File-299-MiXeD FILE-299-MIXED"; do
	stored=${pair% *} asked=${pair#* }
	want=$(ino_of "cf/$stored")
	got=$(stat -c %i "$f/cf/$asked" 2>&1)
	[ -n "$want" ] && [ "$want" = "$got" ] && pass "cf: $asked finds $stored (inode $got)" ||
		fail "cf: $asked: got '$got', debugfs says $stored is '$want'"
done
out=$(stat -c %i "$f/cf/File-300-MiXeD" 2>&1) && fail "cf: a name that is not there was found" ||
	{ [[ $out == *"No such file"* ]] && pass "cf: absent name: ENOENT" || fail "cf: absent name: $out"; }
[ "$(stat -c %i "$f/plain/Hello.TXT")" = "$(ino_of plain/Hello.TXT)" ] && pass "plain: exact name found" || fail "plain: exact name"
out=$(stat "$f/plain/HELLO.TXT" 2>&1) && fail "plain: lookup is case-insensitive outside the casefolded dir" ||
	{ [[ $out == *"No such file"* ]] && pass "plain: case matters outside the casefolded dir" || fail "plain: $out"; }
out=$(stat "$f/cf/$(printf 'bad\xff')" 2>&1)
[[ $out == *"No such file"* ]] && pass "cf, not strict: an invalid UTF-8 name is looked up as bytes" || fail "cf invalid name: $out"
[ "$(cat "$f/cf/HELLO.TXT")" = hello ] && pass "cf: read through a folded name" || fail "cf: read through a folded name"
unmount_fuse "$f"
[ "$(sha256sum <"$img")" = "$sum" ] && pass "image unchanged" || fail "image changed"

# Strict mode: an invalid name is refused, as the kernel refuses it.
strict=$WORK/strict.img
make_image "$strict" encoding=utf8,encoding_flags=strict
mount_fuse "$strict" "$f" || exit 1
out=$(stat "$f/cf/$(printf 'bad\xff')" 2>&1)
[[ $out == *"Invalid argument"* ]] && pass "strict: an invalid UTF-8 name is EINVAL" || fail "strict: $out"
[ "$(stat -c %i "$f/cf/HELLO.txt")" = "$(debugfs -R "stat cf/Hello.TXT" "$strict" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')" ] &&
	pass "strict: folded lookup" || fail "strict: folded lookup"
unmount_fuse "$f"

# An encoding ext4pager (and the kernel) has no table for: refused at mount, one line.
python3 "$REPO/scripts/sb-patch.py" "$img" set 0x27c 99 >/dev/null
out=$("$EXT4PAGER" "$img" "$WORK/nomount" 2>&1) && fail "unknown encoding mounted" ||
	{ [[ $out == *"unsupported casefold encoding 99"* ]] && pass "unknown encoding refused: $out" || fail "unknown encoding: $out"; }
finish
