# SPDX-License-Identifier: MIT
# Shared helpers for the integration tests. Source it; it sets a trap that unmounts whatever the
# test mounted and stops every daemon it started, even when the test fails.
set -euo pipefail
EXT4PAGER=${1:-${EXT4PAGER:-}}
[ -x "$EXT4PAGER" ] || { echo "usage: $0 PATH-TO-ext4pager" >&2; exit 2; }
EXT4PAGER=$(realpath "$EXT4PAGER")
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/ext4pager-test.XXXXXX)
IMAGES=${EXT4PAGER_TEST_IMAGES:-$REPO/build/test-images}
MOUNTS=()
DAEMONS=()
DAEMON_DIRS=() # DAEMON_DIRS[i]: the mount point of DAEMONS[i]
FAILURES=0

cleanup() {
	local status=$? m p log
	if [ "$status" -ne 0 ] || [ "$FAILURES" -gt 0 ]; then
		for log in "$WORK"/daemon-*.log; do
			[ -s "$log" ] && { echo "--- $log"; cat "$log"; }
		done
	fi
	for m in "${MOUNTS[@]}"; do
		if mountpoint -q "$m" 2>/dev/null; then
			umount "$m" 2>/dev/null || fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		fi
	done
	for p in "${DAEMONS[@]}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
pass() { echo "ok: $*"; }

# wait_until SECONDS CMD [ARG...]: polls CMD until it succeeds (0) or SECONDS pass (1). For a
# state another process reaches in its own time; never a fixed sleep.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

# stats_show MOUNTPOINT PATTERN: the mount's pager stats have a line matching PATTERN.
stats_show() { grep -q "$2" <<<"$("$EXT4PAGER" --stats "$1")"; }

# uring_possible: this kernel has FUSE over io_uring (its switch exists) and the daemon's libfuse
# carries it (3.18 or later).
URING_SWITCH=/sys/module/fuse/parameters/enable_uring
uring_possible() {
	[ -e "$URING_SWITCH" ] && [[ $("$EXT4PAGER" --version) =~ libfuse\ 3\.(1[89]|[2-9][0-9]) ]]
}

need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "FAIL: integration tests need root (loop and FUSE mounts)"; exit 1; }
	[ -e /dev/fuse ] || { echo "FAIL: /dev/fuse is missing"; exit 1; }
}

# mount_kernel IMAGE DIR [extra mount options]
mount_kernel() {
	mkdir -p "$2"
	mount -o "loop,ro${3:+,$3}" "$1" "$2" || { echo "FAIL: kernel loop mount of $1 failed: a loop mount is required"; exit 1; }
	MOUNTS+=("$2")
}

# mount_fuse IMAGE DIR [ext4pager args...]: runs the daemon in the foreground (so its stderr and
# sanitizer reports land in $WORK/daemon-N.log) and waits until the mount is up.
mount_fuse() {
	local img=$1 dir=$2 log
	shift 2
	mkdir -p "$dir"
	log=$WORK/daemon-${#DAEMONS[@]}.log
	"$EXT4PAGER" -f "$img" "$dir" "$@" >"$log" 2>&1 &
	DAEMON_DIRS[${#DAEMONS[@]}]=$dir
	DAEMONS+=($!)
	MOUNTS+=("$dir")
	for _ in $(seq 1 1200); do # 60 s: a sanitizer build on a loaded machine starts slowly
		if grep -q " $dir fuse.ext4pager " /proc/mounts; then
			return 0
		fi
		if ! kill -0 "${DAEMONS[-1]}" 2>/dev/null; then
			echo "FAIL: ext4pager exited before mounting $img:"; cat "$log"
			return 1
		fi
		sleep 0.05
	done
	echo "FAIL: ext4pager did not mount $img in 60 s"; cat "$log"
	return 1
}

# unmount_fuse DIR: unmounts and checks that the daemon exited cleanly (sanitizers included).
unmount_fuse() {
	local dir=$1 i pid log
	fusermount3 -u "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null || true
	for i in "${!DAEMONS[@]}"; do
		pid=${DAEMONS[$i]}
		[ -n "$pid" ] && [ "${DAEMON_DIRS[$i]:-}" = "$dir" ] || continue
		log=$WORK/daemon-$i.log
		grep -q " $dir fuse.ext4pager " /proc/mounts && continue
		if ! wait "$pid"; then
			fail "daemon for $dir exited with an error"
			cat "$log"
		elif grep -q "ERROR: \(Address\|Leak\|Thread\)Sanitizer\|runtime error:" "$log"; then
			fail "sanitizer report from the daemon for $dir"
			cat "$log"
		fi
		DAEMONS[$i]=""
	done
}

unmount_kernel() { umount "$1"; }

finish() {
	if [ "$FAILURES" -gt 0 ]; then
		echo "$(basename "$0"): $FAILURES failure(s)"
		exit 1
	fi
	echo "$(basename "$0"): all passed"
}
