#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lifecycle, faults and security defaults: the image opened O_RDONLY and never changed; two
# mounts of one image; reads failing under the daemon (an LD_PRELOAD shim that fails pread on
# one byte range, like a bad sector); the image truncated while mounted; a SIGKILLed daemon
# cleared by fusermount3 -u; nosuid,nodev by default; allow_other with the kernel enforcing
# the image's modes (default_permissions).
source "$(dirname "$0")/lib.sh"
need_root

chmod 755 "$WORK" # other users must reach the mount points for the allow_other checks
src=$WORK/src img=$WORK/life.img
mkdir -p "$src/dir"
head -c 1M /dev/urandom >"$src/a"
head -c 2M /dev/urandom >"$src/b"
for i in $(seq 20); do echo "file $i" >"$src/dir/f$i"; done
echo secret >"$src/secret" && chmod 600 "$src/secret"
echo public >"$src/public" && chmod 644 "$src/public"
mkfs.ext4 -q -F -b 4096 -O ^has_journal -d "$src" "$img" 16M >/dev/null
image_hash=$(sha256sum <"$img")
b_block() { debugfs -R "bmap /b $1" "$img" 2>/dev/null; } # physical block of b's block N
a_last=$(debugfs -R "bmap /a 255" "$img" 2>/dev/null)
sum() { sha256sum | cut -d' ' -f1; }
want_a=$(sum <"$src/a") want_b=$(sum <"$src/b")
# read_range FILE SKIP_BLOCKS COUNT_BLOCKS → sha256 of those 4 KiB blocks, or "EIO"
read_range() { dd if="$1" bs=4096 skip="$2" count="$3" status=none 2>/dev/null | sum || true; }
expect_eio() { # what FILE
	if python3 -c 'import sys; open(sys.argv[1], "rb").read()' "$2" 2>"$WORK/err"; then
		fail "$1: read succeeded"
	elif grep -q "Errno 5" "$WORK/err"; then
		pass "$1: EIO"
	else
		fail "$1: $(cat "$WORK/err")"
	fi
}

# --- O_RDONLY, two mounts of one image --------------------------------------------------------
m1=$WORK/m1 m2=$WORK/m2
mount_fuse "$img" "$m1"
mount_fuse "$img" "$m2"
if [ "$(sum <"$m1/a")" = "$want_a" ] && [ "$(sum <"$m2/b")" = "$want_b" ] && diff -r "$m1" "$m2" >/dev/null; then
	pass "the same image mounted twice: both mounts serve it"
else
	fail "two mounts of one image"
fi
modes=""
for pid in "${DAEMONS[@]}"; do
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd")" = "$img" ] || continue
		modes+=" $(awk '/^flags:/ { print substr($2, length($2), 1) }' /proc/"$pid"/fdinfo/"${fd##*/}")"
	done
done
if [ -n "$modes" ] && ! grep -q '[12]' <<<"$modes"; then
	pass "every descriptor of the image is O_RDONLY (access modes:$modes)"
else
	fail "image descriptors not all read-only (access modes:$modes)"
fi

# --- security defaults ------------------------------------------------------------------------
opts=$(awk -v m="$m1" '$2 == m { print $4 }' /proc/mounts)
case ",$opts," in
*,nosuid,*nodev,*) pass "default mount is nosuid,nodev ($opts)" ;;
*) fail "default mount options: $opts" ;;
esac
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
nobody cat "$m1/public" >/dev/null 2>&1 && fail "another user read a mount without allow_other" ||
	pass "without allow_other, other users are refused"
unmount_fuse "$m2"
mount_fuse "$img" "$m2" -o allow_other
[ "$(nobody cat "$m2/public" 2>/dev/null)" = public ] && pass "allow_other: a 0644 file is readable by others" ||
	fail "allow_other: 0644 file unreadable"
nobody cat "$m2/secret" >/dev/null 2>&1 && fail "allow_other: a 0600 root file was readable by nobody" ||
	pass "allow_other: the kernel enforces the image's modes (0600 root file → EACCES)"
grep -q default_permissions <<<"$(grep " $m2 " /proc/mounts)" && pass "allow_other mount has default_permissions" ||
	fail "allow_other without default_permissions"
unmount_fuse "$m2"
mount_fuse "$img" "$m2" -o suid,dev
opts=$(awk -v m="$m2" '$2 == m { print $4 }' /proc/mounts)
case ",$opts," in
*,nosuid,* | *,nodev,*) fail "-o suid,dev not honoured ($opts)" ;;
*) pass "-o suid,dev turns the defaults off" ;;
esac
unmount_fuse "$m2"
unmount_fuse "$m1"

# --- reads failing under the daemon -----------------------------------------------------------
shim=$WORK/failing_reads.so
cc -shared -fPIC -O1 -o "$shim" "$REPO/tests/integration/faults/failing_reads.c" -ldl
bad=$(b_block 300)
(
	export LD_PRELOAD=$shim EXT4PAGER_FAIL_INO=$(stat -c %i "$img")
	export EXT4PAGER_FAIL_RANGE=$((bad * 4096)):4096
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	exec "$EXT4PAGER" -f "$img" "$m1" -o cache_size=4M >"$WORK/daemon-fault.log" 2>&1
) &
DAEMONS+=($!) MOUNTS+=("$m1")
for _ in $(seq 100); do grep -q " $m1 " /proc/mounts && break; sleep 0.05; done
expect_eio "bad sector inside /b" "$m1/b"
[ "$(read_range "$m1/b" 0 300)" = "$(read_range "$src/b" 0 300)" ] && pass "bad sector: /b before it reads back intact" ||
	fail "bad sector: /b before it"
[ "$(read_range "$m1/b" 301 211)" = "$(read_range "$src/b" 301 211)" ] && pass "bad sector: /b after it reads back intact" ||
	fail "bad sector: /b after it"
expect_eio "bad sector, read again" "$m1/b"
[ "$(sum <"$m1/a")" = "$want_a" ] && [ "$(cat "$m1/dir/f7")" = "file 7" ] && pass "bad sector: every other file keeps working" ||
	fail "bad sector poisoned other files"
kill -0 "${DAEMONS[-1]}" && pass "bad sector: daemon alive" || fail "bad sector: daemon died"
fusermount3 -u "$m1"
wait "${DAEMONS[-1]}" && pass "bad sector: daemon exits cleanly" || { fail "bad sector: daemon exit"; cat "$WORK/daemon-fault.log"; }
DAEMONS[-1]=""

# --- the image truncated while mounted --------------------------------------------------------
cut_img=$WORK/cut.img
cp "$img" "$cut_img"
cut=$(b_block 256)
if [ "$cut" -le "$a_last" ] || [ "$(b_block 255)" -ge "$cut" ]; then
	fail "truncation test: unexpected layout (a ends at $a_last, b's block 256 at $cut)"
fi
mount_fuse "$cut_img" "$m1" -o cache_size=4M
ls -R "$m1" >/dev/null
truncate -s $((cut * 4096)) "$cut_img"
expect_eio "image truncated under /b" "$m1/b"
[ "$(read_range "$m1/b" 0 256)" = "$(read_range "$src/b" 0 256)" ] && pass "truncated: /b before the cut reads back intact" ||
	fail "truncated: /b before the cut"
[ "$(sum <"$m1/a")" = "$want_a" ] && grep -q f20 <<<"$(ls "$m1/dir")" && pass "truncated: the rest keeps working" ||
	fail "truncated: other files failed"
unmount_fuse "$m1"

# --- a killed daemon; fusermount3 -u clears the mount -----------------------------------------
mount_fuse "$img" "$m1"
# Killed once it serves: the mount shows in /proc/mounts before INIT is answered, and a daemon
# killed before answering it leaves ECONNREFUSED instead (fs/fuse/inode.c process_init_reply
# sets conn_error; fs/fuse/dev.c fuse_get_req refuses with it). A stat, not a listing: the
# kernel keeps a directory's listing in its readdir cache and would serve the `ls` below from it.
stat "$m1" >/dev/null
kill -KILL "${DAEMONS[-1]}"
wait "${DAEMONS[-1]}" 2>/dev/null || true
DAEMONS[-1]=""
listing=$(ls "$m1" 2>&1 || true)
# ENOTCONN; over io_uring the first request the dying ring held gets ECONNABORTED instead
# (fs/fuse/dev_uring.c ends the ring's requests with it), the next ones ENOTCONN.
[[ $listing == *"not connected"* || $listing == *"connection abort"* ]] &&
	pass "killed daemon: ENOTCONN/ECONNABORTED on the mount ($listing)" || fail "killed daemon: got '$listing'"
fusermount3 -u "$m1" && ! grep -q " $m1 " /proc/mounts && stat "$m1" >/dev/null && pass "killed daemon: fusermount3 -u clears the mount" ||
	fail "killed daemon: mount not cleared"

[ "$(sha256sum <"$img")" = "$image_hash" ] && pass "the image hashes the same after every test" || fail "the image changed"
finish
