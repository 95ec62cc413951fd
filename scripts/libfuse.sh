#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches and builds the project's libfuse: 3.18.3, Debian's own fuse3 source package (suite
# forky), as a static library with FUSE over io_uring, into build/deps/fuse3 (or $1). Done once:
# a later run finds it built and only prints the prefix. apt fetches the source from a private
# sources list (the system's apt configuration is left alone) and checks it against the
# archive's signed index; dpkg-source checks the .dsc's checksums. Without network and without
# a cached build it fails with one line naming what is missing. Prints the prefix last.
# usage: scripts/libfuse.sh [PREFIX]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
version=3.18.3
debian_version=$version-1
prefix=${1:-$here/build/deps/fuse3}
stamp=$prefix/.built-$debian_version

if [ -f "$stamp" ]; then
	echo "$prefix"
	exit 0
fi
"$here/scripts/deps.sh" build >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian forky main" \
	>"$work/sources.list"
apt_opts=(-o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=-
	-o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root -qq)
echo "libfuse: fetching Debian's fuse3 $debian_version source" >&2
if ! apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1 ||
	! (cd "$work" && apt-get "${apt_opts[@]}" source --download-only "fuse3=$debian_version" >>"$work/apt.log" 2>&1); then
	echo "libfuse: cannot fetch fuse3 $debian_version from deb.debian.org (no network?); it is needed once, then cached in $prefix" >&2
	tail -3 "$work/apt.log" >&2
	exit 1
fi
(cd "$work" && dpkg-source -x "fuse3_$debian_version.dsc" src >"$work/unpack.log" 2>&1) || {
	echo "libfuse: the fuse3 $debian_version source does not unpack (checksums?):" >&2
	tail -3 "$work/unpack.log" >&2
	exit 1
}
echo "libfuse: building $version (static, io_uring)" >&2
meson setup "$work/build" "$work/src" --prefix="$prefix" --libdir=lib --buildtype=release \
	-Ddefault_library=static -Dexamples=false -Dutils=false -Dtests=false \
	-Denable-io-uring=true -Dinitscriptdir= -Duseroot=false >"$work/meson.log" 2>&1 || {
	tail -20 "$work/meson.log" >&2
	exit 1
}
# meson quietly leaves io_uring out when liburing or libnuma is missing: insist on it.
grep -q '^#define HAVE_URING' "$work/build/fuse_config.h" || {
	echo "libfuse: io_uring support was not configured (liburing-dev with SQE128, libnuma-dev?)" >&2
	exit 1
}
rm -rf "$prefix"
ninja -C "$work/build" install >"$work/ninja.log" 2>&1 || {
	tail -20 "$work/ninja.log" >&2
	exit 1
}
install -m 644 "$work/src/LGPL2.txt" "$prefix/LGPL2.txt"
touch "$stamp"
echo "$prefix"
