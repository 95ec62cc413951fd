#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds images whose journal needs recovery: a read-write kernel loop mount commits several
# transactions with fsync (blocks rewritten by later transactions, files deleted and their
# blocks reused, so revoke records), and the image file is copied while those transactions
# are committed but not yet checkpointed. Cached by script hash.
# usage: scripts/make-journal-images.sh [DIR] [NAME...]    (as root)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
dir=${1:-$here/build/test-images/journal}
shift || true
mkdir -p "$dir"
version=$(sha256sum "$0" | cut -c1-16)
mnt=$(mktemp -d)
cleanup() { mountpoint -q "$mnt" && umount "$mnt"; rmdir "$mnt"; }
trap cleanup EXIT

# name | mkfs | mount options | workload
images=(
	"csum-v3-64bit|mkfs.ext4 -q -F -b 4096 -O metadata_csum,64bit|commit=600|mixed"
	"nocsum-32bit-1k|mkfs.ext4 -q -F -b 1024 -O ^metadata_csum,^64bit|commit=600|mixed"
	"ext3|mkfs.ext3 -q -F -b 4096|commit=600|mixed"
	"async-commit|mkfs.ext4 -q -F -b 4096 -O ^metadata_csum|commit=600,journal_async_commit,data=writeback|mixed"
	"data-journal|mkfs.ext4 -q -F -b 4096|commit=600,data=journal|mixed"
	"wrapped|mkfs.ext4 -q -F -b 1024 -J size=1|commit=600|wrap"
)

mixed() { # ROOT LIVE OUT: several transactions; rewrites, deletes, reuse
	local r=$1 i
	mkdir -p "$r/a/b" "$r/gone"
	for i in $(seq 1 40); do head -c $((i * 1500)) /dev/urandom >"$r/a/file$i"; done
	for i in $(seq 1 30); do echo "doomed $i" >"$r/gone/f$i"; done
	head -c 3000000 /dev/urandom >"$r/gone/big"
	sync -f "$r"                                   # transaction: first state
	for i in $(seq 1 40 ); do echo "appended $i" >>"$r/a/file$i"; done
	mkdir "$r/a/b/c"; ln -s ../file1 "$r/a/b/link"; setfattr -n user.note -v "v1" "$r/a/file2"
	sync -f "$r"                                   # transaction: rewrites
	rm -rf "$r/gone"                               # frees blocks: revoke records
	for i in $(seq 1 30); do head -c 5000 /dev/urandom >"$r/a/b/new$i"; done
	mkdir "$r/reuse"; for i in $(seq 1 300); do : >"$r/reuse/e$i"; done
	setfattr -n user.note -v "v2-after-rewrite" "$r/a/file2"
	mv "$r/a/file3" "$r/a/b/moved3"
	sync -f "$r"                                   # transaction: deletes and reuse
	chmod 600 "$r/a/file4"; touch -d '2001-01-01' "$r/a/file5"; truncate -s 100 "$r/a/file6"
	python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY|os.O_CREAT); os.write(fd, b"last"); os.fsync(fd)' "$r/last"
	cp --sparse=always "$2" "$3" # committed, not checkpointed: needs recovery
}

# Journal block where the copy's live log starts and where it ends (debugfs logdump).
log_bounds() {
	debugfs -R logdump "$1" 2>/dev/null |
		sed -nE 's/^Journal starts at block ([0-9]+).*/\1/p; s/^No magic number at block ([0-9]+).*/\1/p' | tr '\n' ' '
}

wrap() { # ROOT LIVE OUT: small transactions until a copy's live log wraps past the end
	local r=$1 live=$2 out=$3 i round bounds
	mkdir -p "$r/w"
	for round in $(seq 1 200); do
		for i in $(seq 1 7); do
			echo "entry $round.$i" >"$r/w/f$(((round * 7 + i) % 50))"
			mkdir -p "$r/w/d$(((round + i) % 13))"
			sync "$r/w/f$(((round * 7 + i) % 50))" # fsync(2) of that file: one commit
		done
		cp --sparse=always "$live" "$out"
		read -r start end <<<"$(log_bounds "$out")"
		if [ -n "${end:-}" ] && [ "$end" -lt "$start" ] && [ "$round" -gt 3 ]; then
			echo "  log wraps: starts at journal block $start, ends at $end (round $round)"
			return 0
		fi
	done
	echo "wrap: the log never wrapped" >&2
	return 1
}

for spec in "${images[@]}"; do
	IFS='|' read -r name mkfs opts workload <<<"$spec"
	if [ $# -gt 0 ] && ! grep -qx "$name" <<<"$(printf '%s\n' "$@")"; then continue; fi
	img=$dir/$name.img
	[ -f "$img" ] && [ "$(cat "$img.version" 2>/dev/null)" = "$version" ] && continue
	echo "building journal image $name"
	rm -f "$img" "$img.version" "$img.live"
	truncate -s 64M "$img.live"
	# shellcheck disable=SC2086
	$mkfs "$img.live" >/dev/null
	mount -o "loop,$opts" "$img.live" "$mnt"
	"$workload" "$mnt" "$img.live" "$img"
	umount "$mnt"
	rm -f "$img.live"
	grep -q needs_recovery <<<"$(dumpe2fs -h "$img" 2>/dev/null)" ||
		{ echo "$name: the copy does not need recovery" >&2; exit 1; }
	echo "$version" >"$img.version"
done
