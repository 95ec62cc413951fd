#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Workflows: partitioned disk images (MBR and GPT), the run mode, auto_unmount,
# idle_timeout and SEEK_DATA/SEEK_HOLE against the kernel.
source "$(dirname "$0")/lib.sh"
need_root
set +e # every step reports its own failure and the test goes on
HERE=$(dirname "$0")
mkdir -p "$WORK/nomount"

sanitizer_clean() { ! grep -qE "ERROR: (Address|Thread|Leak)Sanitizer|runtime error:" "$1"; }

# --- Partitioned disks --------------------------------------------------------------------
# make_disk FILE dos|gpt: three partitions: 1 ext4 (label root, with files), 2 vfat-typed but
# empty, 3 ext2 (label small). Prints nothing; fills $WORK/part-src first.
src=$WORK/part-src
mkdir -p "$src/dir"
head -c 300000 /dev/urandom >"$src/dir/random.bin"
echo "partition one" >"$src/hello.txt"
ln -s hello.txt "$src/link"
make_disk() {
	local disk=$1 label=$2
	truncate -s 72M "$disk"
	printf 'label: %s\nstart=2048, size=40960, type=%s\nstart=43008, size=20480, type=%s\nstart=63488, size=69632, type=%s\n' \
		"$label" "$([ "$label" = gpt ] && echo 0FC63DAF-8483-4772-8E79-3D69D8477DE4 || echo 83)" \
		"$([ "$label" = gpt ] && echo EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 || echo c)" \
		"$([ "$label" = gpt ] && echo 0FC63DAF-8483-4772-8E79-3D69D8477DE4 || echo 83)" | sfdisk -q "$disk"
	mkfs.ext4 -q -F -L root -d "$src" -E offset=$((2048 * 512)) "$disk" 20M
	mkfs.ext2 -q -F -L small -E offset=$((63488 * 512)) "$disk" 34816k
}

for label in dos gpt; do
	disk=$WORK/disk-$label.img
	make_disk "$disk" "$label"
	sum_before=$(sha256sum <"$disk")
	table=$("$EXT4PAGER" --list-partitions "$disk")
	if grep -q "$label partition table, 3 partitions" <<<"$table" &&
		grep -qE "^1 +1048576 +20971520 .* ext4 +root " <<<"$table" &&
		grep -qE "^3 +32505856 +35651584 .* ext2 +small " <<<"$table"; then
		pass "$label: --list-partitions"
	else
		fail "$label: --list-partitions printed: $table"
	fi
	out=$("$EXT4PAGER" "$disk" "$WORK/nomount" 2>&1) && fail "$label: whole disk mounted" ||
		{ grep -q "partition table.*1 (ext4 'root'), 3 (ext2 'small').*-o partition=N" <<<"$out" &&
			pass "$label: whole disk refused with a hint" || fail "$label: whole-disk message: $out"; }
	out=$("$EXT4PAGER" -o partition=2 "$disk" "$WORK/nomount" 2>&1) && fail "$label: partition 2 mounted" ||
		{ grep -q "partition 2 .*not an ext2/ext3/ext4" <<<"$out" && pass "$label: non-ext partition refused" ||
			fail "$label: partition 2 message: $out"; }
	out=$("$EXT4PAGER" -o partition=7 "$disk" "$WORK/nomount" 2>&1) && fail "$label: partition 7 mounted" ||
		{ grep -q "no partition 7" <<<"$out" && pass "$label: missing partition refused" ||
			fail "$label: partition 7 message: $out"; }
	for n in 1 3; do
		start=$(echo "$table" | awk -v n=$n '$1 == n { print $2 }')
		size=$(echo "$table" | awk -v n=$n '$1 == n { print $3 }')
		kdir=$WORK/k-$label-$n fdir=$WORK/f-$label-$n
		mount_kernel "$disk" "$kdir" "offset=$start,sizelimit=$size"
		mount_fuse "$disk" "$fdir" -o "partition=$n"
		if python3 "$HERE/compare.py" --label "$label-p$n" "$kdir" "$fdir" >"$WORK/cmp.txt" 2>&1; then
			pass "$label partition $n matches the kernel ($(tail -1 "$WORK/cmp.txt"))"
		else
			fail "$label partition $n differs:"; tail -20 "$WORK/cmp.txt"
		fi
		umount "$kdir"
		unmount_fuse "$fdir"
	done
	[ "$(sha256sum <"$disk")" = "$sum_before" ] && pass "$label: disk image unchanged" || fail "$label: disk image changed"
done

# A partition whose filesystem claims more blocks than the partition has: refused, never read
# past the partition's end.
disk=$WORK/disk-dos.img
python3 "$REPO/scripts/sb-patch.py" "$disk" --offset $((63488 * 512)) set 4 $((34816 + 4096)) >/dev/null
out=$("$EXT4PAGER" -o partition=3 "$disk" "$WORK/nomount" 2>&1) && fail "oversized partition fs mounted" ||
	{ grep -q "truncated.*the partition has" <<<"$out" && pass "filesystem larger than its partition refused" ||
		fail "oversized message: $out"; }

# --- Run mode -----------------------------------------------------------------------------
img=$REPO/images/sample.img
log=$WORK/run.log
leftover() { ls -d "${TMPDIR:-/tmp}"/ext4pager.?????? 2>/dev/null | while read -r d; do grep -q " $d " /proc/mounts && echo "$d"; done; }
before=$(ls -d /tmp/ext4pager.?????? 2>/dev/null | wc -l)

out=$("$EXT4PAGER" run "$img" -- sh -c 'head -1 "$EXT4PAGER_MOUNT/README.txt"; grep " $EXT4PAGER_MOUNT " /proc/mounts | cut -d" " -f3; echo "$EXT4PAGER_MOUNT" > '"$WORK/runmnt"'; exit 3' 2>"$log")
status=$?
mnt=$(cat "$WORK/runmnt")
if [ $status -eq 3 ] && [ "$out" = "This is the ext4pager sample image.
fuse.ext4pager" ]; then
	pass "run: command sees the mount, its exit status (3) is returned"
else
	fail "run: status $status, output '$out'"
fi
[ ! -e "$mnt" ] && ! grep -q " $mnt " /proc/mounts && pass "run: mount and directory gone after the command" ||
	fail "run: $mnt left behind"
sanitizer_clean "$log" || fail "run: sanitizer report: $(cat "$log")"

"$EXT4PAGER" run "$img" -- true && pass "run: status 0" || fail "run: true failed"
"$EXT4PAGER" run "$img" -- sh -c 'kill -9 $$'; status=$?
[ $status -eq 137 ] && pass "run: command killed by SIGKILL → 137" || fail "run: SIGKILL status $status"
"$EXT4PAGER" run "$img" -- /nonexistent/command 2>/dev/null; status=$?
[ $status -eq 127 ] && pass "run: missing command → 127" || fail "run: missing command status $status"
"$EXT4PAGER" run "$WORK/missing.img" -- true 2>"$log"; status=$?
[ $status -eq 125 ] && grep -q "cannot open image" "$log" && pass "run: missing image → 125 with a message" ||
	fail "run: missing image status $status: $(cat "$log")"
"$EXT4PAGER" run -o partition=1 "$img" -- true 2>"$log"; status=$?
[ $status -eq 125 ] && grep -q "no partition table" "$log" && pass "run: failed mount → 125 with a message" ||
	fail "run: failed mount status $status: $(cat "$log")"
"$EXT4PAGER" run "$img" 2>"$log"; status=$?
[ $status -ne 0 ] && grep -q "usage: ext4pager run" "$log" && pass "run: no command → usage" || fail "run: no command: $status"

# SIGTERM to ext4pager run: forwarded to the command, which dies; everything is cleaned up,
# even with a file open on the mount.
# The command opens the file first, then says where the mount is: once the path is written,
# the file is open.
"$EXT4PAGER" run "$img" -- sh -c 'exec 3<"$EXT4PAGER_MOUNT/README.txt"; echo "$EXT4PAGER_MOUNT" > '"$WORK/runmnt2"'; exec sleep 30' 2>"$log" &
runpid=$!
wait_until 30 test -s "$WORK/runmnt2" || fail "run: the command did not start"
kill -TERM $runpid
wait $runpid; status=$?
mnt=$(cat "$WORK/runmnt2")
[ $status -eq 143 ] && pass "run: SIGTERM → command terminated, status 143" || fail "run: SIGTERM status $status"
[ -n "$mnt" ] && [ ! -e "$mnt" ] && ! grep -q " $mnt " /proc/mounts && pass "run: cleaned up after SIGTERM" ||
	fail "run: $mnt left after SIGTERM"
sanitizer_clean "$log" || fail "run: sanitizer report after SIGTERM: $(cat "$log")"
after=$(ls -d /tmp/ext4pager.?????? 2>/dev/null | wc -l)
[ "$after" -le "$before" ] && pass "run: no temporary directories left" || fail "run: $((after - before)) directories left"
[ -z "$(leftover)" ] || fail "run: mounts left: $(leftover)"

# --- auto_unmount and idle_timeout --------------------------------------------------------
mnt=$WORK/auto
mount_fuse "$img" "$mnt" -o auto_unmount
kill -KILL "${DAEMONS[-1]}"
# fusermount3 notices the death once the kernel has closed the daemon's /dev/fuse; a sanitizer
# build on a loaded machine takes a long time to die (a 20 s window was missed under stress-ng).
not_mounted() { ! grep -q " $1 " /proc/mounts; }
wait_until 120 not_mounted "$mnt" && pass "auto_unmount: gone after SIGKILL of the daemon" ||
	fail "auto_unmount: mount left 120 s after SIGKILL"
DAEMONS[-1]=""

mnt=$WORK/idle
mount_fuse "$img" "$mnt" -o idle_timeout=2
idle_pid=${DAEMONS[-1]}
exec 7<"$mnt/README.txt"
sleep 3.5
grep -q " $mnt " /proc/mounts && pass "idle_timeout: stays mounted while a file is open" || fail "idle_timeout: unmounted with a file open"
exec 7<&-
t0=$(date +%s.%N)
for _ in $(seq 1 600); do grep -q " $mnt " /proc/mounts || break; sleep 0.1; done
t1=$(date +%s.%N)
if grep -q " $mnt " /proc/mounts; then
	fail "idle_timeout: still mounted 60 s after the last close"
else
	pass "idle_timeout: unmounted $(python3 -c "print(round($t1 - $t0, 1))") s after the last close"
	wait "$idle_pid"; status=$?
	[ $status -eq 0 ] && pass "idle_timeout: daemon exited 0" || fail "idle_timeout: daemon exit $status"
	sanitizer_clean "$WORK/daemon-$((${#DAEMONS[@]} - 1)).log" || fail "idle_timeout: sanitizer report"
	DAEMONS[-1]=""
fi

# --- SEEK_DATA / SEEK_HOLE against the kernel (fresh mounts: see seekmap.py) ----------------
# EXT4PAGER_SEEK_IMAGES="a b": only these (the sanitizer run skips the 50k-file image).
for name in ${EXT4PAGER_SEEK_IMAGES:-ext4-4k ext4-1k ext2-1k ext3-1k ext4-inline ext4-bigalloc}; do
	timg=$IMAGES/$name.img
	[ -f "$timg" ] || { fail "missing test image $timg"; continue; }
	mount_kernel "$timg" "$WORK/sk-$name"
	mount_fuse "$timg" "$WORK/sf-$name"
	python3 "$HERE/seekmap.py" "$WORK/sk-$name" >"$WORK/seek-k.txt"
	python3 "$HERE/seekmap.py" "$WORK/sf-$name" >"$WORK/seek-f.txt"
	if cmp -s "$WORK/seek-k.txt" "$WORK/seek-f.txt"; then
		pass "$name: SEEK_DATA/SEEK_HOLE identical on $(grep -c '' "$WORK/seek-k.txt") files ($(grep -vc 'data=\[0-[0-9]* *\]\|data=\[\]' "$WORK/seek-k.txt") with holes)"
	else
		fail "$name: SEEK_DATA/SEEK_HOLE differ:"; diff "$WORK/seek-k.txt" "$WORK/seek-f.txt" | head -10
	fi
	# cp --sparse=always keeps a sparse file sparse.
	if [ -f "$WORK/sf-$name/sparse/holes" ]; then
		cp --sparse=auto "$WORK/sf-$name/sparse/holes" "$WORK/copy"
		used=$(du -k "$WORK/copy" | cut -f1)
		cmp -s "$WORK/copy" "$WORK/sk-$name/sparse/holes" && [ "$used" -lt 1024 ] &&
			pass "$name: cp --sparse=auto copy is identical and sparse (${used} KiB used)" ||
			fail "$name: sparse copy uses ${used} KiB or differs"
		rm -f "$WORK/copy"
	fi
	umount "$WORK/sk-$name"
	unmount_fuse "$WORK/sf-$name"
done

[ "$FAILURES" -eq 0 ] || { echo "test_workflows.sh: $FAILURES failure(s)"; exit 1; }
echo "test_workflows.sh: all passed"
