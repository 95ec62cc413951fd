#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages of the named purposes (sections of scripts/packages.txt) that are
# missing. Idempotent; without network it still succeeds when everything is installed, and
# otherwise names what is missing.
usage() {
	cat <<'USAGE'
usage: scripts/deps.sh [PURPOSE...]     PURPOSE: build (default), test, bench, package
Installs the packages of those lists in scripts/packages.txt that are not installed yet
(as root, with apt-get). Prints nothing when all are there.
USAGE
}
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
purposes=("$@")
[ ${#purposes[@]} -gt 0 ] || purposes=(build)
sections=$(sed -n 's/^\[\([a-z]*\)\]$/\1/p' "$here/packages.txt")
for p in "${purposes[@]}"; do
	case $p in
	-h | --help) usage; exit 0 ;;
	esac
	grep -qx -- "$p" <<<"$sections" || { usage >&2; exit 2; }
done
# The packages listed under the wanted [sections].
wanted=()
for p in "${purposes[@]}"; do
	mapfile -t -O ${#wanted[@]} wanted < <(awk -v want="[$p]" '
		/^\[/ { on = ($0 == want); next }
		on && !/^[[:space:]]*(#|$)/ { print $1 }' "$here/packages.txt")
done
missing=()
for p in $(printf '%s\n' "${wanted[@]}" | sort -u); do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
	exit 1
fi
if ! apt-get update -qq || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
	echo "deps: could not install ${missing[*]} (no network or no Debian mirror?); install them and run again" >&2
	exit 1
fi
