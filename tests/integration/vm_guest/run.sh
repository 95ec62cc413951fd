# SPDX-License-Identifier: MIT
# The guest half of test_kernel_vm.sh, run by scripts/kernel-vm.sh under Debian's kernel (busybox
# sh, in /guest, beside fscrypt_helper, the keys key1 and key2 and key1's descriptor in key1.desc).
# On /dev/vda (an empty ext4 with encrypt, casefold and stable_inodes) it makes what the host's
# kernel cannot: AES-128-CBC-ESSIV/AES-128-CTS directories (v1 and v2; the IV_INO_LBLK flags take
# AES-256-XTS only, fscrypt_supported_v2_policy), and casefolded directories, plain and
# encrypted. Then it records the kernel's own view of them with listing.sh on a read-only mount:
# with the keys (/out/withkey.txt) and, after a fresh mount, without them (/out/nokey.txt);
# lookups.txt lists the lookups tried. On /dev/vdb, Adiantum directories (below).
set -eu
trap '[ $? = 0 ] || dmesg | tail -3' EXIT
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt
id=$(./fscrypt_helper add_key /mnt key2)
desc=$(cat key1.desc)
./fscrypt_helper add_key_v1 /mnt key1 "$desc"

tree() { # DIR: the files every directory gets
	echo "secret $1" >"$1/short"
	for size in 1 15 16 17 4095 4096 4097 100000; do head -c $size /dev/urandom >"$1/data-$size"; done
	echo x >"$1/$(printf 'L%.0s' $(seq 1 200))" # > 149 bytes of ciphertext: a hashed no-key name
	mkdir "$1/sub"
	echo inner >"$1/sub/inner"
	ln -s short "$1/link"
	ln -s "$(printf 'T%.0s' $(seq 1 300))" "$1/longlink"
	mkdir "$1/big" # an htree directory
	for i in $(seq 1 300); do echo "$i" >"$1/big/File-$i"; done
}

casefold_tree() { # DIR: names whose folded forms differ from their bytes
	tree "$1"
	echo 1 >"$1/Straße"
	echo 2 >"$1/CAFÉ"
	echo 3 >"$1/MiXeD"
	mkdir "$1/ΣΊΣΥΦΟΣ"
	echo 4 >"$1/ΣΊΣΥΦΟΣ/Ǆemal"
}

# mode numbers (include/uapi/linux/fscrypt.h): 1 AES-256-XTS, 4 AES-256-CTS, 5 AES-128-CBC,
# 6 AES-128-CTS; flags: 0x00-0x03 name padding 4/8/16/32, 0x08 IV_INO_LBLK_64, 0x10 _32
policy() { # DIR VERSION FLAGS CONTENTS FILENAMES
	mkdir "/mnt/$1"
	if [ "$2" = v2 ]; then key=$id; else key=$desc; fi
	./fscrypt_helper set_policy "/mnt/$1" "$2" "$key" "$3" "$4" "$5"
}

policy essiv-v2 v2 0x03 5 6
policy essiv-v1 v1 0x00 5 6
for d in essiv-v2 essiv-v1; do tree "/mnt/$d"; done

mkdir /mnt/ci-plain
./fscrypt_helper casefold /mnt/ci-plain
casefold_tree /mnt/ci-plain
# Encrypted and casefolded: v2 only (fscrypt_prepare_setflags derives the dirhash key with
# HKDF), the policy first (the flag on an encrypted directory needs its key present).
mkdir /mnt/ci-v2
./fscrypt_helper set_policy /mnt/ci-v2 v2 "$id" 0x02
./fscrypt_helper casefold /mnt/ci-v2
casefold_tree /mnt/ci-v2
umount /mnt

for d in ci-plain ci-v2; do
	for p in STRASSE strasse straße café Café mixed ΣΊΣΥΦΟΣ/ǆEMAL σίσυφος/ǄEMAL SUB/INNER BIG/file-7 \
		big/FILE-300 Short DATA-4096 nonexistent; do
		echo "$d/$p"
	done
done >/out/lookups.txt

mount -t ext4 -o ro /dev/vda /mnt
./fscrypt_helper add_key /mnt key2 >/dev/null
./fscrypt_helper add_key_v1 /mnt key1 "$desc"
HELPER=/guest/fscrypt_helper sh ./listing.sh /mnt /out/lookups.txt >/out/withkey.txt
umount /mnt
mount -t ext4 -o ro /dev/vda /mnt # the keys went with the last mount
HELPER=/guest/fscrypt_helper sh ./listing.sh /mnt /out/lookups.txt >/out/nokey.txt
umount /mnt

# /dev/vdb: Adiantum, a mode ext4pager does not decrypt (OpenSSL has no Adiantum), with and
# without DIRECT_KEY. Only the kernel's no-key view is recorded (/out/adiantum-nokey.txt):
# ext4pager shows it with the key given too.
mount -t ext4 /dev/vdb /mnt
id=$(./fscrypt_helper add_key /mnt key2)
for d in adiantum adiantum-direct; do
	mkdir /mnt/$d
	if [ $d = adiantum ]; then flags=0x01; else flags=0x04; fi
	./fscrypt_helper set_policy /mnt/$d v2 "$id" $flags 9 9
	tree /mnt/$d
done
umount /mnt
mount -t ext4 -o ro /dev/vdb /mnt
HELPER=/guest/fscrypt_helper sh ./listing.sh /mnt >/out/adiantum-nokey.txt
umount /mnt
