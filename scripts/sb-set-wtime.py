#!/usr/bin/env python3
"""Sets s_wtime of an ext4 superblock and recomputes its metadata_csum checksum (crc32c)."""
import struct
import sys


def crc32c(data, crc=0xFFFFFFFF):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def main():
    path, epoch = sys.argv[1], int(sys.argv[2])
    with open(path, "r+b") as f:
        f.seek(1024)
        sb = bytearray(f.read(1024))
        struct.pack_into("<I", sb, 0x30, epoch)  # s_wtime
        ro_compat = struct.unpack_from("<I", sb, 0x64)[0]
        if ro_compat & 0x400:  # metadata_csum
            struct.pack_into("<I", sb, 0x3FC, crc32c(bytes(sb[:0x3FC])))
        f.seek(1024)
        f.write(sb)


if __name__ == "__main__":
    main()
