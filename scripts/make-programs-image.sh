#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a small image of real programs for the chroot test: busybox-static (with its applet
# links), and dynamically linked programs (ls, find, sort, sha256sum, perl) with every shared
# library and the dynamic loader they need, at their real paths. Cached by script hash.
# usage: scripts/make-programs-image.sh [IMAGE]   (default build/test-images/programs.img)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
img=${1:-$here/build/test-images/programs.img}
version=$(sha256sum "$0" | cut -c1-16)
if [ -f "$img" ] && [ "$(cat "$img.version" 2>/dev/null)" = "$version" ]; then
	exit 0
fi
[ -x /bin/busybox ] || "$here/scripts/deps.sh" test
mkdir -p "$(dirname "$img")"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/usr/bin" "$root/etc" "$root/tmp" "$root/data"
cp /bin/busybox "$root/bin/busybox"
for applet in sh ls cat wc sort find md5sum sha256sum tar gzip grep sed awk head tail du; do
	ln -s busybox "$root/bin/$applet"
done
copy_with_libs() { # PROGRAM DEST
	install -D -m 755 "$1" "$root$2"
	ldd "$1" | grep -oE '/[^ ]+' | while read -r lib; do
		[ -e "$root$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
	done
}
copy_with_libs /bin/ls /usr/bin/ls
copy_with_libs /usr/bin/find /usr/bin/find
copy_with_libs /usr/bin/sort /usr/bin/sort
copy_with_libs /usr/bin/sha256sum /usr/bin/sha256sum
copy_with_libs /usr/bin/perl /usr/bin/perl
# Data for the programs to chew on: text, a few MiB of binary, a deep tree.
seq 1 200000 >"$root/data/numbers.txt"
head -c $((6 << 20)) /dev/urandom >"$root/data/random.bin"
for i in $(seq 1 30); do mkdir -p "$root/data/tree/d$((i % 5))/e$i"; echo "$i" >"$root/data/tree/d$((i % 5))/e$i/f"; done
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
mkdir -p "$root/dev" && mknod -m 666 "$root/dev/null" c 1 3
rm -f "$img" "$img.version"
mkfs.ext4 -q -F -L programs -d "$root" "$img" 96M >/dev/null 2>&1
e2fsck -fn "$img" >/dev/null 2>&1
echo "$version" >"$img.version"
