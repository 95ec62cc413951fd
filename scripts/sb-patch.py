#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Patches 32-bit fields of an ext2/3/4 superblock and recomputes its metadata_csum checksum.

usage: sb-patch.py IMAGE [--offset BYTES] (set|or|andnot) FIELD_OFFSET VALUE ...
  e.g. sb-patch.py img set 0x30 1767268800      (s_wtime)
       sb-patch.py img or 0x60 0x4              (s_feature_incompat |= RECOVER)
"""
import struct
import sys


def crc32c(data, crc=0xFFFFFFFF):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def usage(status):
    (sys.stdout if status == 0 else sys.stderr).write(__doc__)
    sys.exit(status)


def main():
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        usage(0)
    if len(args) < 4 or args[0].startswith("-"):
        usage(2)
    path, base = args.pop(0), 0
    if args and args[0] == "--offset":
        base = int(args[1], 0)
        args = args[2:]
    with open(path, "r+b") as f:
        f.seek(base + 1024)
        sb = bytearray(f.read(1024))
        while args:
            op, off, val = args[0], int(args[1], 0), int(args[2], 0)
            args = args[3:]
            cur = struct.unpack_from("<I", sb, off)[0]
            new = {"set": val, "or": cur | val, "andnot": cur & ~val}[op]
            struct.pack_into("<I", sb, off, new & 0xFFFFFFFF)
        if struct.unpack_from("<I", sb, 0x64)[0] & 0x400:  # metadata_csum
            struct.pack_into("<I", sb, 0x3FC, crc32c(bytes(sb[:0x3FC])))
        f.seek(base + 1024)
        f.write(sb)


if __name__ == "__main__":
    main()
