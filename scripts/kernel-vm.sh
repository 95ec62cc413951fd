#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a script under Debian 12's own kernel (linux-image-amd64) in a throwaway virtual machine:
# a second kernel oracle for what the host's kernel cannot show — it is built with
# CONFIG_UNICODE (casefold) and CONFIG_CRYPTO_ESSIV (fscrypt's AES-128-CBC-ESSIV) as modules or
# built in, where the test machine's kernel may lack them.
#
# usage: scripts/kernel-vm.sh GUEST_DIR OUT_DIR [DISK...]
#   GUEST_DIR  a directory copied into the guest as /guest; the guest runs `sh /guest/run.sh`
#              with busybox's applets, the disks as /dev/vda, /dev/vdb ... in the order given,
#              and /out as its output directory
#   OUT_DIR    receives what the guest left in /out, plus guest.log (its output) and rc (its
#              exit status)
#   DISK       raw image files, read-write
# The exit status is 0 when the guest ran to its end (whatever run.sh's own status), 1 when the
# machine could not be made or did not finish within KERNEL_VM_TIMEOUT seconds (default 600).
# The kernel package is fetched once with apt-get download into KERNEL_VM_CACHE (default
# build/kernel-vm); qemu-system-x86 and busybox-static come from scripts/packages.txt [test].
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/usage.sh"
check_args "" "$@"
[ $# -ge 2 ] || { show_usage >&2; exit 2; }
guest=$(realpath "$1") out=$2
shift 2
[ -f "$guest/run.sh" ] || { echo "kernel-vm: $guest/run.sh: no such file" >&2; exit 2; }
cache=${KERNEL_VM_CACHE:-$here/build/kernel-vm}
timeout=${KERNEL_VM_TIMEOUT:-600}
# The modules the guest loads, with their dependencies: the disks, ext4, and every crypto
# template fscrypt asks for (the kernel's own request_module works too, but loading them first
# keeps a missing one a clear failure here).
modules="virtio_pci virtio_blk crc32c_generic ext4 essiv cts xts ecb sha512_generic chacha_generic nhpoly1305 adiantum"

die() { echo "kernel-vm: $*" >&2; exit 1; }

# fetch_kernel: the newest Debian kernel linux-image-amd64 names, unpacked into $cache/root.
fetch_kernel() {
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
	[ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
	if [ ! -f "$cache/$pkg.ok" ]; then
		rm -rf "$cache" && mkdir -p "$cache"
		(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>&1) || die "cannot download $pkg"
		dpkg-deb -x "$cache"/"$pkg"_*.deb "$cache/root" && rm -f "$cache"/"$pkg"_*.deb
		# modules.dep is made by the package's postinst, which an unpacked copy never runs
		/bin/busybox depmod -b "$cache/root" "${pkg#linux-image-}" || die "depmod failed"
		touch "$cache/$pkg.ok"
	fi
	kver=${pkg#linux-image-}
	[ -f "$cache/root/boot/vmlinuz-$kver" ] || die "$pkg has no kernel image"
}

# module_closure NAME...: the modules' paths relative to the module tree, dependencies first.
module_closure() {
	local dep=$cache/root/lib/modules/$kver/modules.dep
	python3 - "$dep" "$@" <<'EOF'
import os, sys
deps = {}
for line in open(sys.argv[1]):
    path, _, rest = line.partition(":")
    deps[path] = rest.split()
byname = {os.path.basename(p).split(".ko")[0].replace("-", "_"): p for p in deps}
seen, order = set(), []
def visit(p):
    if p in seen:
        return
    seen.add(p)
    for d in deps[p]:
        visit(d)
    order.append(p)
for name in sys.argv[2:]:
    if name not in byname:
        sys.exit(f"kernel-vm: no module {name}")
    visit(byname[name])
print("\n".join(order))
EOF
}

make_initramfs() { # DIR
	local root=$1 mods=$cache/root/lib/modules/$kver p
	mkdir -p "$root"/{bin,proc,sys,dev,out,tmp,lib/modules/"$kver"}
	cp /bin/busybox "$root/bin/busybox"
	cp -r "$guest" "$root/guest"
	cp "$mods"/modules.{dep,alias,builtin} "$root/lib/modules/$kver/" 2>/dev/null || true
	module_closure $modules >"$root/modules.list"
	while read -r p; do
		mkdir -p "$root/lib/modules/$kver/$(dirname "$p")"
		cp "$mods/$p" "$root/lib/modules/$kver/$p"
	done <"$root/modules.list"
	cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo /bin/modprobe >/proc/sys/kernel/modprobe
for m in \$(cat /modules.list); do insmod /lib/modules/$kver/\$m || echo "insmod \$m failed"; done >/out/modules.log 2>&1
cd /guest && sh /guest/run.sh >/out/guest.log 2>&1
echo \$? >/out/rc
cd / && tar -cf /dev/$outdev -C /out . && sync
echo KERNEL-VM-DONE
poweroff -f
EOF
	chmod +x "$root/init"
	(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd"
}

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (Debian package qemu-system-x86)"
[ -x /bin/busybox ] || die "/bin/busybox missing (Debian package busybox-static)"
fetch_kernel
work=$(mktemp -d /tmp/kernel-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
drives=()
letters=(a b c d e f g h)
for disk in "$@"; do
	[ -f "$disk" ] || die "$disk: no such file"
	drives+=(-drive "file=$disk,format=raw,if=virtio,cache=unsafe")
done
[ $# -lt 8 ] || die "at most 7 disks"
outdev=vd${letters[$#]}
truncate -s 64M "$work/out.img"
drives+=(-drive "file=$work/out.img,format=raw,if=virtio")
make_initramfs "$work/root"
# qemu's emulation (TCG), never KVM: on these machines KVM is nested, and a guest under it hung
# before its first console line (the host refuses MSR 0x10a with -cpu host or max; with kvm64
# the guest spun without output). Emulated, the kernel boots in about 3 s.
timeout "$timeout" qemu-system-x86_64 -machine accel=tcg -cpu max -m 768 -smp 1 \
	-nographic -no-reboot -kernel "$cache/root/boot/vmlinuz-$kver" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet rdinit=/init" "${drives[@]}" </dev/null >"$work/console" 2>&1 ||
	{ tail -20 "$work/console" >&2; die "the machine did not finish within ${timeout}s"; }
grep -q KERNEL-VM-DONE "$work/console" || { tail -20 "$work/console" >&2; die "the guest did not reach its end"; }
mkdir -p "$out"
tar -xf "$work/out.img" -C "$out" || die "cannot read the guest's output"
