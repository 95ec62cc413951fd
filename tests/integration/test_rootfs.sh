#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real programs run chrooted in an ext4pager mount, so every executable and shared library is
# mmapped through the pager; their output must equal the same commands on the kernel's mount,
# and `tar cf - .` of both mounts must hash the same.
#   - always: the programs image (busybox-static, dynamically linked ls/find/sort/sha256sum/perl);
#   - a Debian minbase root filesystem (scripts/make-rootfs-image.sh, debootstrap from the
#     machine's Debian mirror, ~40 s, cached; ROOTFS_IMAGE=PATH uses another), running sh,
#     ls -R /usr, dpkg -l, perl -e and apt-cache policy. EXT4PAGER_NO_DEBOOTSTRAP=1 leaves it
#     out (for machines without the mirror; scripts/test-rootfs.sh runs it alone).
source "$(dirname "$0")/lib.sh"
need_root
set +e # each command reports its own result
CHROOT=$(command -v chroot)

commands_programs=(
	"/bin/sh -c 'echo hello from busybox; ls /data | wc -l'"
	"/usr/bin/ls -lR --time-style=full-iso /data/tree"
	"/usr/bin/find / -xdev -name 'e1*' -type d"
	"/usr/bin/sort -rn /data/numbers.txt | /bin/head -3"
	"/usr/bin/sha256sum /data/random.bin /usr/bin/perl /bin/busybox"
	"/usr/bin/perl -e 'my \$s = 0; \$s += \$_ for 1..100000; print \"sum \$s\\n\"'"
	"/bin/sh -c 'cat /data/random.bin | gzip -1 | wc -c'"
	"/bin/sh -c 'tar cf - /data/tree | md5sum'"
)
commands_debian=(
	"/bin/sh -c 'echo \$((6 * 7)); ls /'"
	"ls -R /usr"
	"dpkg -l"
	"perl -e 'use strict; use POSIX qw(floor); print floor(7.5), \" \", join(\",\", sort { \$a <=> \$b } (3, 1, 2)), \"\\n\"'"
	"apt-cache policy"
	"/bin/sh -c 'sha256sum /usr/bin/* | sha256sum'"
)

# run_all KERNEL FUSE LABEL COMMAND... : runs each command chrooted in both, compares.
run_all() {
	local k=$1 f=$2 label=$3 cmd ko fo ks fs
	shift 3
	for cmd in "$@"; do
		ko=$(env -i PATH=/usr/bin:/bin LANG=C "$CHROOT" "$k" /bin/sh -c "$cmd" 2>&1); ks=$?
		fo=$(env -i PATH=/usr/bin:/bin LANG=C "$CHROOT" "$f" /bin/sh -c "$cmd" 2>&1); fs=$?
		if [ "$ks" = 0 ] && [ "$fs" = 0 ] && [ "$ko" = "$fo" ] && [ -n "$fo" ]; then
			pass "$label: '$cmd' ($(echo "$fo" | wc -l) lines) identical"
		else
			fail "$label: '$cmd' differs: kernel status $ks, ext4pager status $fs"
			diff <(echo "$ko") <(echo "$fo") | head -10
		fi
	done
	ko=$(cd "$k" && tar --numeric-owner --one-file-system -cf - . | sha256sum)
	fo=$(cd "$f" && tar --numeric-owner --one-file-system -cf - . | sha256sum)
	[ "$ko" = "$fo" ] && pass "$label: tar cf - . hashes the same (${fo%% *})" || fail "$label: tar streams differ"
}

# True when the mirror in apt's sources answers for this release (what debootstrap needs).
mirror_reachable() {
	python3 - <<'PY'
import glob, re, sys, urllib.request
text = "".join(open(f).read() for f in glob.glob("/etc/apt/sources.list.d/*.sources") + glob.glob("/etc/apt/sources.list"))
urls = [u for u in re.findall(r"(?:URIs:\s*|deb\s+)(\w+://\S+)", text) if "security" not in u]
suite = [l.split("=")[1].strip() for l in open("/etc/os-release") if l.startswith("VERSION_CODENAME=")][0]
try:
    urllib.request.urlopen(f"{urls[0].rstrip('/')}/dists/{suite}/Release", timeout=10).read(100)
except Exception:
    sys.exit(1)
PY
}

check_image() { # IMAGE LABEL COMMANDS...
	local img=$1 label=$2 sum k f
	shift 2
	sum=$(sha256sum <"$img")
	k=$WORK/k-$label f=$WORK/f-$label
	mount_kernel "$img" "$k"
	mount_fuse "$img" "$f" -o dev # the kernel's mount has dev too: /dev/null must open
	# apt writes temporary files: give both a scratch /tmp.
	mount -t tmpfs -o size=16m tmpfs "$k/tmp" && MOUNTS=("$k/tmp" "${MOUNTS[@]}")
	mount -t tmpfs -o size=16m tmpfs "$f/tmp" && MOUNTS=("$f/tmp" "${MOUNTS[@]}")
	run_all "$k" "$f" "$label" "$@"
	umount "$k/tmp" "$f/tmp"
	stats=$("$EXT4PAGER" --stats "$f" | tr '\n' ' ')
	echo "   pager stats: $stats" | cut -c1-300
	unmount_fuse "$f"
	umount "$k"
	[ "$(sha256sum <"$img")" = "$sum" ] && pass "$label: image unchanged" || fail "$label: image changed"
}

"$REPO/scripts/make-programs-image.sh" "$IMAGES/programs.img"
check_image "$IMAGES/programs.img" programs "${commands_programs[@]}"
if [ "${EXT4PAGER_NO_DEBOOTSTRAP:-0}" != 1 ]; then
	ROOTFS_IMAGE=${ROOTFS_IMAGE:-$REPO/build/rootfs/debian-minbase.img}
	if "$REPO/scripts/make-rootfs-image.sh" "$ROOTFS_IMAGE"; then
		check_image "$ROOTFS_IMAGE" debian "${commands_debian[@]}"
	elif ! mirror_reachable; then
		# A machine that gets Debian's packages some other way than the mirror apt names.
		echo "skip: the Debian mirror is not reachable for debootstrap; the programs image ran" \
			"above, and scripts/test-rootfs.sh runs the Debian part where it is"
	else
		fail "could not build the Debian root filesystem image (debootstrap; see above)"
	fi
fi
finish
