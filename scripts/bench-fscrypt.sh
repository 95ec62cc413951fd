#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The encryption benchmark (not a test): reading fscrypt-encrypted files with -o key=FILE, cold,
# against the kernel's own decryption of the same files on a loop mount (with the key added) and
# against unencrypted files on the same image. The image is made once by Debian's kernel in a
# virtual machine (scripts/kernel-vm.sh), since this machine's kernel cannot write
# AES-128-CBC-ESSIV: per policy (none, AES-256-XTS, AES-128-CBC-ESSIV) a 256 MiB file and a tree
# of 3000 small files. Writes docs/PERFORMANCE-fscrypt.md.
# usage: sudo scripts/bench-fscrypt.sh [--runs N] [--out REPORT.md]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "--runs --out" "$@"
"$here/scripts/deps.sh" build bench
"$here/scripts/build.sh" normal >/dev/null
dir=$here/build/bench/fscrypt
img=$dir/fscrypt.img
mkdir -p "$dir/guest"
if [ ! -f "$img.ok" ]; then
	cc -static -O2 -o "$dir/guest/fscrypt_helper" "$here/tests/integration/fscrypt_helper.c"
	cc -O2 -o "$dir/fscrypt_helper" "$here/tests/integration/fscrypt_helper.c"
	cp "$here/scripts/bench-fscrypt-guest/run.sh" "$dir/guest/run.sh"
	head -c 64 /dev/urandom >"$dir/guest/key"
	mkfs.ext4 -q -F -b 4096 -O encrypt,stable_inodes "$img" 1200M
	KERNEL_VM_TIMEOUT=1800 "$here/scripts/kernel-vm.sh" "$dir/guest" "$dir/out" "$img"
	[ "$(cat "$dir/out/rc")" = 0 ] || { cat "$dir/out/guest.log" >&2; exit 1; }
	touch "$img.ok"
fi
exec python3 "$here/scripts/bench-fscrypt.py" --ext4pager "$here/build/ext4pager" --image "$img" \
	--key "$dir/guest/key" --helper "$dir/fscrypt_helper" --sums "$dir/out/sums" \
	--out "$here/docs/PERFORMANCE-fscrypt.md" "$@"
