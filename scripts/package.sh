#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian package (dpkg-buildpackage -us -uc -b, on a copy of the tree) into
# build/deb/, and checks it with lintian. Prints the path of the .deb last.
usage() {
	cat <<'USAGE'
usage: scripts/package.sh [--no-lintian]
Builds build/deb/ext4pager_VERSION_ARCH.deb from debian/ and checks it with lintian
(errors fail; the remaining warnings and tags are printed). VERSION is the CMake project
version, which debian/changelog must repeat.
USAGE
}
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
lint=1
case ${1:-} in
"") ;;
--no-lintian) lint=0 ;;
-h | --help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac
"$here/scripts/deps.sh" build package >&2
EXT4PAGER_FUSE_PREFIX=$("$here/scripts/libfuse.sh")
export EXT4PAGER_FUSE_PREFIX
version=$(sed -n 's/^project(ext4pager VERSION \([0-9][0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
deb_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
if [ "$version" != "$deb_version" ]; then
	echo "package: CMakeLists.txt says $version but debian/changelog says $deb_version" >&2
	exit 1
fi
out=$here/build/deb
rm -rf "$out"
mkdir -p "$out/ext4pager-$version"
# The source as committed plus local changes, without build trees.
tar -C "$here" --exclude='./build*' --exclude='./.git' --exclude='./obj-*' -cf - . |
	tar -C "$out/ext4pager-$version" -xf -
(cd "$out/ext4pager-$version" && dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1) || {
	echo "package: dpkg-buildpackage failed; the end of $out/build.log:" >&2
	tail -30 "$out/build.log" >&2
	exit 1
}
deb=$(ls "$out"/ext4pager_"$version"_*.deb)
if [ $lint -eq 1 ]; then
	# Errors fail the build; warnings and informational tags are shown for the record.
	lintian --fail-on error --display-info "$deb" >&2 || {
		echo "package: lintian found errors" >&2
		exit 1
	}
fi
echo "$deb"
