#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Images wherever they live: an Android sparse image, qcow2 (plain, compressed, over a backing
# file), VMDK, VHDX, VHD and VDI disks, NBD exports on a unix socket and on 127.0.0.1, and an
# http:// URL — each mounted directly and compared with the raw image's kernel mount
# (compare.py). Then partitions inside a qcow2 disk, a server killed mid-walk, a server that
# stalls, and every kind of bad input: one line and a non-zero exit at mount, EIO after.
source "$(dirname "$0")/lib.sh"
need_root
set +e # every step reports its own failure and the test goes on
HERE=$(dirname "$0")
"$REPO/scripts/make-test-images.sh" "$IMAGES"
raw=$IMAGES/ext4-4k.img
k=$WORK/kernel
mkdir -p "$WORK/nomount"
mount_kernel "$raw" "$k"
SERVERS=()
stop_servers() { for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; done; }
trap 'stop_servers; cleanup' EXIT

# stats_value MOUNTPOINT NAME: one counter of --stats.
stats_value() { "$EXT4PAGER" --stats "$1" | awk -v n="$2" '$1 == n { $1 = ""; sub(/^ /, ""); print }'; }

# check_source NAME KIND SOURCE [ext4pager args...]: mounts SOURCE, compares it with the kernel's
# mount of the raw image, and checks --stats names the source KIND.
check_source() {
	local name=$1 kind=$2 source=$3 f=$WORK/f-$1
	shift 3
	mount_fuse "$source" "$f" "$@" || { fail "$name: mount"; return; }
	if python3 "$HERE/compare.py" --label "$name" --quick-content $((64 << 20)) "$k" "$f" >"$WORK/cmp.txt" 2>&1; then
		pass "$name matches the kernel's mount of the raw image ($(tail -1 "$WORK/cmp.txt"))"
	else
		fail "$name differs:"; tail -20 "$WORK/cmp.txt"
	fi
	got=$(stats_value "$f" source_kind)
	[ "$got" = "$kind" ] && pass "$name: --stats source_kind $got" || fail "$name: source_kind '$got', want '$kind'"
	[ "$(stats_value "$f" source_errors)" = 0 ] || fail "$name: source errors: $(stats_value "$f" source_errors)"
	echo "   $name: $(stats_value "$f" source_reads) reads, mean $(stats_value "$f" source_mean_read) bytes"
	unmount_fuse "$f"
}

# --- Containers, made from the raw image by the real tools ---------------------------------
c=$WORK/containers
mkdir -p "$c"
img2simg "$raw" "$c/android.simg"
qemu-img convert -O qcow2 "$raw" "$c/plain.qcow2"
qemu-img convert -c -O qcow2 "$raw" "$c/compressed.qcow2"
# A backing chain: the overlay holds nothing, every read falls through to the base.
qemu-img create -q -f qcow2 -b "$c/plain.qcow2" -F qcow2 "$c/overlay.qcow2"
qemu-img convert -O vmdk "$raw" "$c/disk.vmdk"
qemu-img convert -O vhdx "$raw" "$c/disk.vhdx"
qemu-img convert -O vpc -o force_size=on "$raw" "$c/disk.vhd"
qemu-img convert -O vdi "$raw" "$c/disk.vdi"
sums_before=$(cd "$c" && sha256sum *)

check_source sparse android-sparse "$c/android.simg"
mean=$(mount_fuse "$c/android.simg" "$WORK/f-mean" && cat "$WORK/f-mean"/* >/dev/null 2>&1; stats_value "$WORK/f-mean" sparse_chunks)
unmount_fuse "$WORK/f-mean"
[ "${mean:-0}" -gt 1 ] && pass "sparse: indexed $mean chunks" || fail "sparse: chunk count '$mean'"
check_source qcow2 "qcow2 via qemu-nbd" "$c/plain.qcow2"
# The other VM formats take ext4pager's same path (qemu-nbd over a unix socket) and differ only
# in qemu's parsing: EXT4PAGER_SOURCES_QUICK (the sanitizer run, scripts/test.sh) leaves them
# to the normal build.
if [ -z "${EXT4PAGER_SOURCES_QUICK:-}" ]; then
	check_source qcow2-compressed "qcow2 via qemu-nbd" "$c/compressed.qcow2"
	check_source qcow2-backing "qcow2 via qemu-nbd" "$c/overlay.qcow2"
	check_source vmdk "vmdk via qemu-nbd" "$c/disk.vmdk"
	check_source vhdx "vhdx via qemu-nbd" "$c/disk.vhdx"
	check_source vhd "vpc via qemu-nbd" "$c/disk.vhd"
	check_source vdi "vdi via qemu-nbd" "$c/disk.vdi"
	check_source qcow2-format-option "qcow2 via qemu-nbd" "$c/plain.qcow2" -o format=qcow2,connections=2
fi
# The raw bytes of a sparse image, when the user says so.
out=$("$EXT4PAGER" -o format=raw "$c/android.simg" "$WORK/nomount" 2>&1) && fail "format=raw mounted a sparse file" ||
	{ [[ $out == *"not a valid ext2/ext3/ext4"* ]] && pass "format=raw reads the sparse file as bytes" || fail "format=raw: $out"; }
[ "$(cd "$c" && sha256sum *)" = "$sums_before" ] && pass "containers unchanged" || fail "a container changed"
# Running or sleeping ones only: an exited server stays a zombie until init reaps it.
wait_until 10 bash -c "! pgrep -x qemu-nbd --runstates D,R,S,T >/dev/null" &&
	pass "no qemu-nbd left behind" || fail "a qemu-nbd outlived its mount: $(pgrep -ax qemu-nbd)"

# The run mode reads through any source.
got=$("$EXT4PAGER" run "$c/android.simg" -- sh -c 'cat "$EXT4PAGER_MOUNT/$1"' sh "$(cd "$k" && find . -type f -size +10k | sort | head -1)" | sha256sum)
want=$(cat "$k/$(cd "$k" && find . -type f -size +10k | sort | head -1)" | sha256sum)
[ "$got" = "$want" ] && pass "run mode on a sparse image" || fail "run mode on a sparse image: $got vs $want"

# --- NBD exports ---------------------------------------------------------------------------
# A unix socket (qemu-nbd, persistent, 4 clients) and TCP on 127.0.0.1 (nbdkit).
sock=$WORK/qemu-nbd.sock
qemu-nbd --read-only --persistent --shared=4 --format=raw --socket="$sock" "$raw" &
SERVERS+=($!)
wait_until 20 test -S "$sock" || fail "qemu-nbd did not start"
check_source nbd-unix nbd "nbd+unix:///?socket=$sock"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nbdkit --readonly --foreground --ipaddr=127.0.0.1 --port="$port" file "$raw" &
SERVERS+=($!)
wait_until 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null || fail "nbdkit did not start"
check_source nbd-tcp nbd "nbd://127.0.0.1:$port"
f=$WORK/f-conns
mount_fuse "nbd://127.0.0.1:$port" "$f" && {
	conns=$(stats_value "$f" nbd_connections)
	[ "${conns:-0}" -ge 2 ] && pass "nbd: $conns connections to a multi-conn server" || fail "nbd: $conns connections"
	unmount_fuse "$f"
}

# TLS (nbds://) with a pre-shared key: the URI names the key file, as libnbd's URIs do.
printf 'alice:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$WORK/keys.psk"
chmod 600 "$WORK/keys.psk"
tsock=$WORK/tls.sock
nbdkit --readonly --foreground --tls=require --tls-psk="$WORK/keys.psk" --unix="$tsock" file "$raw" &
SERVERS+=($!)
wait_until 20 test -S "$tsock" || fail "nbdkit (TLS) did not start"
check_source nbd-tls nbd "nbds+unix://alice@/?socket=$tsock&tls-psk-file=$WORK/keys.psk"
out=$("$EXT4PAGER" "nbd+unix:///?socket=$tsock" "$WORK/nomount" 2>&1) && fail "plain NBD to a TLS-only server mounted" ||
	{ [[ $out == *"requires TLS"* ]] && pass "plain NBD to a TLS-only server refused" || fail "TLS refusal: $out"; }

# A server killed mid-walk: the reads it would serve fail with EIO, the unmount is clean.
ksock=$WORK/killed.sock
nbdkit --readonly --foreground --unix="$ksock" file "$raw" &
killed=$!
SERVERS+=($killed)
wait_until 20 test -S "$ksock" || fail "nbdkit (to be killed) did not start"
f=$WORK/f-killed
mount_fuse "nbd+unix:///?socket=$ksock" "$f" -o timeout=5 && {
	first=$(cd "$k" && find . -type f -size +100k | sort | head -1)
	second=$(cd "$k" && find . -type f -size +100k | sort | tail -1)
	cmp -s "$k/$first" "$f/$first" && pass "nbd: a file read before the kill" || fail "nbd: $first differs"
	kill -9 "$killed"
	wait "$killed" 2>/dev/null
	start=$SECONDS
	out=$(cat "$f/$second" 2>&1 >/dev/null)
	[[ $out == *"Input/output error"* ]] && pass "nbd: server killed: EIO in $((SECONDS - start)) s" ||
		fail "nbd: server killed: '$out'"
	unmount_fuse "$f"
}

# A server that stalls (nbdkit's pause filter holds every request): EIO after the timeout.
psock=$WORK/paused.sock ctl=$WORK/pause.ctl
nbdkit --readonly --foreground --unix="$psock" --filter=pause file "$raw" pause-control="$ctl" &
SERVERS+=($!)
wait_until 20 test -S "$psock" || fail "nbdkit (to be paused) did not start"
wait_until 20 test -S "$ctl"
pause() { python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.send(sys.argv[2].encode()); print(s.recv(1).decode())' "$ctl" "$1"; }
f=$WORK/f-paused
mount_fuse "nbd+unix:///?socket=$psock" "$f" -o timeout=2 && {
	target=$(cd "$k" && find . -type f -size +100k | sort | sed -n 2p)
	[ "$(pause p)" = P ] || fail "pause filter did not pause"
	start=$SECONDS
	out=$(cat "$f/$target" 2>&1 >/dev/null)
	took=$((SECONDS - start))
	[[ $out == *"Input/output error"* ]] && [ $took -lt 30 ] && pass "nbd: stalled server: EIO after $took s (timeout=2)" ||
		fail "nbd: stalled server: '$out' after $took s"
	timeouts=$(stats_value "$f" nbd_timeouts)
	[ "${timeouts:-0}" -ge 1 ] && pass "nbd: $timeouts request(s) timed out" || fail "nbd: nbd_timeouts '$timeouts'"
	pause r >/dev/null
	unmount_fuse "$f"
}

# --- HTTP ----------------------------------------------------------------------------------
web=$WORK/web
mkdir -p "$web"
ln -s "$raw" "$web/disk.img"
mkdir -p "$web/private"
ln -s "$raw" "$web/private/disk.img"
HTTP_RANGE_AUTH='alice:Sekr@t-42' python3 "$HERE/http_range.py" "$web" "$WORK/http.port" &
SERVERS+=($!)
wait_until 20 test -s "$WORK/http.port" || fail "http server did not start"
hport=$(cat "$WORK/http.port")
check_source http "http via nbdkit curl" "http://127.0.0.1:$hport/disk.img"
# Credentials in the URL (the password percent-encoded) reach the server, and only the server:
# not /proc/mounts, any command line (ext4pager overwrites its own argument; nbdkit gets user=
# and password=-FD on a pipe), or messages.
f=$WORK/f-auth
if mount_fuse "http://alice:Sekr%40t-42@127.0.0.1:$hport/private/disk.img" "$f"; then
	first=$(cd "$k" && find . -type f -size +10k | sort | head -1)
	cmp -s "$k/$first" "$f/$first" && pass "http with credentials: $first reads" || fail "http with credentials: $first differs"
	mounts=$(cat /proc/mounts)
	procs=$(ps -eo args)
	[[ $mounts == *"alice@127.0.0.1:$hport/private/disk.img"* && $mounts != *Sekr* ]] &&
		pass "http with credentials: /proc/mounts shows the URL without the password" ||
		fail "http with credentials: /proc/mounts: $(grep -F "$f" <<<"$mounts")"
	[[ $procs == *"user=alice"* && $procs != *Sekr* ]] &&
		pass "http with credentials: the password is on no command line (ext4pager's, nbdkit's)" ||
		fail "http with credentials: $(grep -e Sekr -e nbdkit <<<"$procs")"
	unmount_fuse "$f"
else
	fail "http with credentials: not mounted"
fi
out=$("$EXT4PAGER" "http://alice:wrong@127.0.0.1:$hport/private/disk.img" "$WORK/nomount" 2>&1) &&
	fail "a wrong password mounted" ||
	{ [[ $out == *"cannot open http://alice@127.0.0.1:$hport/private/disk.img"* && $out != *wrong@* ]] &&
		pass "wrong password refused, the password not printed: ${out##*$'\n'}" || fail "wrong password: $out"; }
# A sparse image behind a URL (a factory image's system.img on a web server): its index is
# built over HTTP, and only the chunks read are fetched.
ln -s "$c/android.simg" "$web/system.simg"
check_source http-sparse android-sparse "http://127.0.0.1:$hport/system.simg"
out=$("$EXT4PAGER" -o format=qcow2 "http://127.0.0.1:$hport/disk.img" "$WORK/nomount" 2>&1) && fail "format=qcow2 over http mounted" ||
	{ [[ $out == *"read from local files only"* ]] && pass "format=qcow2 over http refused with a hint" || fail "qcow2 over http: $out"; }
out=$("$EXT4PAGER" "http://127.0.0.1:$hport/missing.img" "$WORK/nomount" 2>&1) && fail "a 404 URL mounted" ||
	{ [[ $out == *"cannot open http://127.0.0.1:$hport/missing.img"* ]] && pass "404 refused: ${out##*$'\n'}" || fail "404: $out"; }
wait_until 10 bash -c "! pgrep -f 'nbdkit --readonly --foreground --filter=exitlas[t] curl' --runstates D,R,S,T >/dev/null" &&
	pass "no nbdkit curl left behind" || fail "an nbdkit curl outlived its mount: $(pgrep -af nbdkit)"

# --- Partitions inside a VM disk -----------------------------------------------------------
# An MBR disk with a primary ext4 (1) and, inside an extended partition, a logical ext2 (5).
disk=$WORK/disk.img
psrc=$WORK/psrc
mkdir -p "$psrc/d"
head -c 200000 /dev/urandom >"$psrc/d/blob"
echo "inside a qcow2" >"$psrc/hello"
truncate -s 80M "$disk"
printf 'label: dos\nstart=2048, size=40960, type=83\nstart=43008, size=118784, type=5\nstart=45056, size=40960, type=83\n' | sfdisk -q "$disk"
mkfs.ext4 -q -F -L prim -d "$psrc" -E offset=$((2048 * 512)) "$disk" 20M
mkfs.ext2 -q -F -L logical -d "$psrc" -E offset=$((45056 * 512)) "$disk" 20M
qemu-img convert -O qcow2 "$disk" "$c/disk.qcow2"
table=$("$EXT4PAGER" --list-partitions "$c/disk.qcow2" 2>&1)
if grep -qE "^1 +1048576 +20971520 .* ext4 +prim " <<<"$table" && grep -qE "^5 +23068672 +20971520 .* ext2 +logical " <<<"$table"; then
	pass "qcow2 disk: --list-partitions (primary and logical)"
else
	fail "qcow2 disk: --list-partitions printed: $table"
fi
for n in 1 5; do
	start=$(awk -v n=$n '$1 == n { print $2 }' <<<"$table")
	kd=$WORK/kp-$n fd=$WORK/fp-$n
	mount_kernel "$disk" "$kd" "offset=$start,sizelimit=20971520"
	mount_fuse "$c/disk.qcow2" "$fd" -o partition=$n
	python3 "$HERE/compare.py" --label "qcow2-p$n" "$kd" "$fd" >"$WORK/cmp.txt" 2>&1 &&
		pass "qcow2 disk partition $n matches the kernel" || { fail "qcow2 disk partition $n differs"; tail "$WORK/cmp.txt"; }
	unmount_fuse "$fd"
	umount "$kd"
done
out=$("$EXT4PAGER" "$c/disk.qcow2" "$WORK/nomount" 2>&1) && fail "whole qcow2 disk mounted" ||
	{ [[ $out == *"-o partition=N"* ]] && pass "whole qcow2 disk refused with the partition hint" || fail "whole disk: $out"; }

# --- Bad input: one line, non-zero exit, nothing mounted ------------------------------------
refused() { # NAME PATTERN SOURCE [args...]
	local name=$1 pattern=$2 out lines
	shift 2
	out=$(timeout 60 "$EXT4PAGER" "$@" "$WORK/nomount" 2>&1)
	status=$?
	lines=$(grep -c '^ext4pager:' <<<"$out")
	if [ $status -ne 0 ] && [ $status -ne 124 ] && [[ $out =~ $pattern ]] && [ "$lines" -eq 1 ] &&
		! mountpoint -q "$WORK/nomount"; then
		pass "$name refused: $(grep '^ext4pager:' <<<"$out")"
	else
		fail "$name: status $status, output: $out"
	fi
}
head -c 5000 "$c/android.simg" >"$c/truncated.simg"
refused "truncated sparse image" "corrupt Android sparse image" "$c/truncated.simg"
cp "$c/android.simg" "$c/badchunk.simg"
printf '\x99\x99' | dd of="$c/badchunk.simg" bs=1 seek=28 conv=notrunc 2>/dev/null
refused "sparse chunk of unknown type" "unknown type" "$c/badchunk.simg"
cp "$c/plain.qcow2" "$c/bad.qcow2"
printf '\0\0\0\1' | dd of="$c/bad.qcow2" bs=1 seek=20 conv=notrunc 2>/dev/null # cluster_bits 1
refused "qcow2 qemu-nbd refuses" "qemu-nbd refused it" "$c/bad.qcow2"
refused "unreachable NBD server" "cannot use NBD export.*refused" "nbd://127.0.0.1:1/x"
refused "missing NBD socket" "cannot use NBD export" "nbd+unix:///?socket=$WORK/absent.sock"
refused "unknown format" "unknown format=qcow9" -o format=qcow9 "$raw"
# A helper that is not installed: named with its Debian package.
mkdir -p "$WORK/emptypath"
out=$(PATH=$WORK/emptypath "$EXT4PAGER" "$c/plain.qcow2" "$WORK/nomount" 2>&1) && fail "qcow2 mounted without qemu-nbd" ||
	{ [[ $out == *"qemu-nbd is not installed (Debian package qemu-utils)"* ]] && pass "missing qemu-nbd named with its package" || fail "missing helper: $out"; }

stop_servers
finish
