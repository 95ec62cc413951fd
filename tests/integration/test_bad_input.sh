#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every bad input at mount: one clear line on stderr, a non-zero exit, nothing left mounted,
# and the image unchanged.
source "$(dirname "$0")/lib.sh"
need_root
mnt=$WORK/mnt
mkdir -p "$mnt"
MOUNTS+=("$mnt")

# expect_refusal DESCRIPTION PATTERN ARGS...: the daemon must refuse with one matching line.
expect_refusal() {
	local what=$1 pattern=$2 rc=0
	shift 2
	timeout 20 "$EXT4PAGER" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
		fail "$what: exit status $rc (want a refusal)"
	elif [ "$(wc -l <"$WORK/err")" -ne 1 ]; then
		fail "$what: want exactly one line on stderr, got:"; cat "$WORK/err"
	elif ! grep -qiE "$pattern" "$WORK/err"; then
		fail "$what: message does not say /$pattern/: $(cat "$WORK/err")"
	elif grep -q " $mnt " /proc/mounts; then
		fail "$what: something is still mounted on $mnt"
	else
		pass "$what: $(cat "$WORK/err")"
	fi
	if grep -q " $mnt " /proc/mounts; then fusermount3 -u "$mnt"; fi
}

good=$WORK/good.img
cp "$REPO/images/sample.img" "$good"
head -c 4M /dev/urandom >"$WORK/random.img"
: >"$WORK/empty.img"
head -c 100000 "$good" >"$WORK/truncated.img"
cp "$good" "$WORK/incompat.img"
python3 "$REPO/scripts/sb-patch.py" "$WORK/incompat.img" or 0x60 0x40000000
mkfs.ext4 -q -F -b 4096 "$WORK/journal.img" 16M >/dev/null
cp "$WORK/journal.img" "$WORK/recover.img"
python3 "$REPO/scripts/sb-patch.py" "$WORK/recover.img" or 0x60 0x4
before=$(sha256sum "$good" "$WORK/recover.img" "$WORK/incompat.img" | sha256sum)

expect_refusal "missing image" "no such file" "$WORK/nope.img" "$mnt"
expect_refusal "image is a directory" "not a regular file|is a directory" "$WORK" "$mnt"
expect_refusal "not a filesystem" "not a valid ext2/ext3/ext4" "$WORK/random.img" "$mnt"
expect_refusal "empty file" "not a valid ext2/ext3/ext4|cannot open" "$WORK/empty.img" "$mnt"
expect_refusal "truncated image" "truncated" "$WORK/truncated.img" "$mnt"
expect_refusal "unparsable offset" "offset" "$good" "$mnt" -o offset=lots
expect_refusal "offset with no filesystem" "no valid ext2/ext3/ext4 filesystem at offset" "$good" "$mnt" -o offset=4096
expect_refusal "offset past the end" "no valid|offset" "$good" "$mnt" -o offset=1T
expect_refusal "missing mountpoint" "mountpoint .* does not exist" "$good" "$WORK/no-such-dir"
expect_refusal "mountpoint is a file" "not a directory" "$good" "$good"
expect_refusal "unknown option" "unknown mount option 'frobnicate'" "$good" "$mnt" -o frobnicate
expect_refusal "unknown flag" "unknown or incomplete option" "$good" "$mnt" --frobnicate
expect_refusal "read-write requested" "read-only" "$good" "$mnt" -o rw
expect_refusal "missing arguments" "need an IMAGE and a MOUNTPOINT" "$good"
expect_refusal "incompatible features" "unsupported" "$WORK/incompat.img" "$mnt"
# needs_recovery with a clean journal (s_start 0): nothing to replay, it mounts as on the kernel.
if mount_fuse "$WORK/recover.img" "$mnt" && [ -d "$mnt/lost+found" ]; then
	pass "needs_recovery with a clean journal mounts (nothing to replay)"
else
	fail "needs_recovery with a clean journal did not mount"
fi
unmount_fuse "$mnt"

# -o norecovery mounts the checkpointed state.
if mount_fuse "$WORK/recover.img" "$mnt" -o norecovery && [ -d "$mnt/lost+found" ]; then
	pass "norecovery mounts a filesystem that needs recovery"
else
	fail "norecovery did not mount"
fi
unmount_fuse "$mnt"

after=$(sha256sum "$good" "$WORK/recover.img" "$WORK/incompat.img" | sha256sum)
[ "$before" = "$after" ] && pass "no image was written" || fail "an image changed"
finish
