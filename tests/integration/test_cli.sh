#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line and mount plumbing: --help/--version, mount -t fuse.ext4pager through
# mount.fuse3, read-only reporting, EROFS, SIGTERM/SIGINT, offset= and the stats view.
source "$(dirname "$0")/lib.sh"
need_root
img=$REPO/images/sample.img
mnt=$WORK/mnt
mkdir -p "$mnt"
MOUNTS+=("$mnt")

grep -q "offset=BYTES" <<<"$("$EXT4PAGER" --help)" && pass "--help documents the options" || fail "--help"
grep -q "^ext4pager [0-9]" <<<"$("$EXT4PAGER" --version)" && pass "--version" || fail "--version"

# mount(8) → mount.fuse3 → ext4pager. mount.fuse3 looks for it on a fixed PATH, where
# `cmake --install` puts it; stand a link there for this test unless one is installed.
helper=/usr/local/sbin/ext4pager
if [ ! -e "$helper" ]; then
	mkdir -p /usr/local/sbin
	ln -s "$EXT4PAGER" "$helper"
	trap 'rm -f "$helper"; cleanup' EXIT
fi
if mount -t fuse.ext4pager -o ro,nosuid "$img" "$mnt"; then
	line=$(grep " $mnt " /proc/mounts || true)
	case $line in
	"$img $mnt fuse.ext4pager ro,"*) pass "mount -t fuse.ext4pager: $line" ;;
	*) fail "mount -t fuse.ext4pager: /proc/mounts says '$line'" ;;
	esac
	python3 -c "import os,sys; sys.exit(0 if os.statvfs(sys.argv[1]).f_flag & os.ST_RDONLY else 1)" "$mnt" &&
		pass "statvfs reports ST_RDONLY" || fail "statvfs lacks ST_RDONLY"
	[ "$(cat "$mnt/README.txt" | head -1)" = "This is the ext4pager sample image." ] && pass "read through mount(8)" || fail "read"
	for op in "touch $mnt/new" "mkdir $mnt/newdir" "rm $mnt/README.txt" "setfattr -n user.x -v 1 $mnt/README.txt" \
		"ln -s x $mnt/newlink" "mv $mnt/README.txt $mnt/moved" "truncate -s 0 $mnt/README.txt"; do
		if out=$($op 2>&1); then
			fail "'$op' succeeded on a read-only mount"
		elif grep -q "Read-only file system" <<<"$out"; then
			pass "'${op%% *}' → EROFS"
		else
			fail "'$op' failed, but not with EROFS: $out"
		fi
	done
	python3 - "$mnt/README.txt" <<'PY' && pass "open(O_RDWR) → EROFS" || fail "open(O_RDWR) did not give EROFS"
import errno, os, sys
try:
    os.open(sys.argv[1], os.O_RDWR)
except OSError as e:
    sys.exit(0 if e.errno == errno.EROFS else 1)
sys.exit(1)
PY
	umount "$mnt"
else
	fail "mount -t fuse.ext4pager failed"
fi

# Signals unmount cleanly, and the daemon exits 0.
for sig in TERM INT; do
	mount_fuse "$img" "$mnt"
	pid=${DAEMONS[-1]}
	kill -s "$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	DAEMONS[-1]=""
	if [ $rc -eq 0 ] && ! grep -q " $mnt " /proc/mounts; then
		pass "SIG$sig unmounts cleanly"
	else
		fail "SIG$sig: exit $rc, mounted: $(grep -c " $mnt " /proc/mounts || true)"
		fusermount3 -u "$mnt" 2>/dev/null || true
	fi
done

# A daemonized mount (no -f) comes back with the mount in place.
"$EXT4PAGER" "$img" "$mnt" && grep -q " $mnt fuse.ext4pager " /proc/mounts && pass "daemonizes with the mount up" || fail "daemon mode"
fusermount3 -u "$mnt" 2>/dev/null || true

# offset=: the sample image 1 MiB into a bigger file, against the kernel's offset= loop mount.
disk=$WORK/disk.img
head -c 1M /dev/urandom >"$disk"
cat "$img" >>"$disk"
head -c 64K /dev/urandom >>"$disk"
mount_kernel "$disk" "$WORK/k" "offset=1048576"
mount_fuse "$disk" "$mnt" -o offset=1048576
if python3 "$REPO/tests/integration/compare.py" --label offset "$WORK/k" "$mnt"; then
	pass "offset= matches the kernel's offset= mount"
else
	fail "offset= mount differs"
fi
# Stats: files read and closed are reclaimed.
cat "$mnt/data/pattern.bin" >/dev/null
wait_until 20 stats_show "$mnt" "^vmos_live 0" # the reclaim runs on a pager thread
stats=$("$EXT4PAGER" --stats "$mnt")
grep -q "^page_requests [1-9]" <<<"$stats" && grep -q "^vmos_reclaimed [1-9]" <<<"$stats" &&
	grep -q "^vmos_live 0" <<<"$stats" && pass "stats show requests and reclaim after close" ||
	{ fail "stats"; echo "$stats"; }
getfattr -n ext4pager.stats "$mnt" >/dev/null 2>&1 || true
unmount_fuse "$mnt"
umount "$WORK/k"
"$EXT4PAGER" --stats "$WORK" >/dev/null 2>&1 && fail "--stats on a non-ext4pager dir succeeded" || pass "--stats refuses a plain directory"
finish
