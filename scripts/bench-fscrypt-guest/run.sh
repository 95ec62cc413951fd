# SPDX-License-Identifier: MIT
# The guest half of scripts/bench-fscrypt.sh, under Debian's kernel (scripts/kernel-vm.sh): on
# /dev/vda, one directory per policy, each with a 256 MiB file and a tree of 3000 small files;
# /out/sums holds what the kernel read back, for the benchmark to check every run against.
set -eu
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt
id=$(./fscrypt_helper add_key /mnt key)
mkdir /mnt/plain /mnt/xts /mnt/essiv
./fscrypt_helper set_policy /mnt/xts v2 "$id" 0x02 1 4
./fscrypt_helper set_policy /mnt/essiv v2 "$id" 0x02 5 6
head -c 2048 /dev/urandom >/tmp/small
for d in plain xts essiv; do
	dd if=/dev/urandom of=/mnt/$d/big bs=1M count=256 2>/dev/null
	for s in $(seq 1 30); do
		mkdir -p /mnt/$d/tree/s$s
		for i in $(seq 1 100); do head -c $((i * 97)) /tmp/small >/mnt/$d/tree/s$s/f$i; done
	done
done
sync
for d in plain xts essiv; do
	echo "$d big $(sha256sum </mnt/$d/big | cut -d' ' -f1)"
	echo "$d tree $(cd /mnt/$d/tree && find . -type f | sort | xargs cat | sha256sum | cut -d' ' -f1)"
done >/out/sums
umount /mnt
