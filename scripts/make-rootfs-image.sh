#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a Debian minimal root filesystem image (debootstrap --variant=minbase) from the Debian
# archive this machine's apt uses, cached: rebuilt only when this script changes.
# usage: scripts/make-rootfs-image.sh [IMAGE]   (default build/rootfs/debian-minbase.img)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
img=${1:-$here/build/rootfs/debian-minbase.img}
version=$(sha256sum "$0" | cut -c1-16)
if [ -f "$img" ] && [ "$(cat "$img.version" 2>/dev/null)" = "$version" ]; then
	exit 0
fi
command -v debootstrap >/dev/null || "$here/scripts/deps.sh" test
mkdir -p "$(dirname "$img")"
# The mirror and suite apt is configured with (deb822 or one-line sources).
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
	grep -oE '^(URIs:[[:space:]]*|deb[[:space:]]+)[a-z]+://[^[:space:]]+' | grep -v security |
	grep -oE '[a-z]+://[^[:space:]]+' | head -1 || true)
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
root=$(mktemp -d "$(dirname "$img")/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
echo "debootstrap --variant=minbase $suite from ${mirror:-http://deb.debian.org/debian}"
debootstrap --variant=minbase "$suite" "$root" "${mirror:-http://deb.debian.org/debian}" >"$root.log" 2>&1 ||
	{ tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
rm -rf "$root/var/cache/apt/archives/"*.deb
size_mb=$(($(du -sm "$root" | cut -f1) * 3 / 2 + 64))
rm -f "$img" "$img.version"
mkfs.ext4 -q -F -L debian-root -d "$root" "$img" "${size_mb}M" >/dev/null 2>&1
e2fsck -fn "$img" >/dev/null 2>&1
echo "$version" >"$img.version"
echo "built $img (${size_mb} MiB)"
