# SPDX-License-Identifier: MIT
"""ext4meta — just enough of the on-disk ext2/3/4 format to find and rewrite what a reader
parses, and to recompute the checksums over it (so that a corruption reaches the parsers and
is not only caught by a checksum). Used by the corruption generator (corrupt.py).

Everything works on a bytearray holding the whole image. Checksum formulas follow the
kernel's fs/ext4 (ext4_superblock_csum, ext4_group_desc_csum, ext4_inode_csum,
ext4_extent_block_csum, ext4_dirblock_csum, ext4_dx_csum, ext4_xattr_block_csum).
"""
import struct

SB = 1024
INCOMPAT_EXTENTS, INCOMPAT_64BIT, INCOMPAT_CSUM_SEED = 0x40, 0x80, 0x2000
INCOMPAT_INLINE_DATA = 0x8000
RO_COMPAT_GDT_CSUM, RO_COMPAT_METADATA_CSUM = 0x10, 0x400
EXTENTS_FL, INDEX_FL, INLINE_DATA_FL = 0x80000, 0x1000, 0x10000000
EXT_MAGIC = 0xF30A


def _table(poly):
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        out.append(c)
    return out


_CRC32C, _CRC16 = _table(0x82F63B78), _table(0xA001)


def crc32c(crc, data):
    """The kernel's crc32c_le: no inversion at either end."""
    t = _CRC32C
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def crc16(crc, data):
    t = _CRC16
    for b in data:
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc


def u16(buf, off):
    return struct.unpack_from("<H", buf, off)[0]


def u32(buf, off):
    return struct.unpack_from("<I", buf, off)[0]


class Fs:
    def __init__(self, img):
        self.img = img
        g = lambda o: u32(img, SB + o)  # noqa: E731
        self.inodes_count = g(0x0)
        self.first_data_block = g(0x14)
        self.block_size = 1024 << g(0x18)
        self.blocks_per_group = g(0x20)
        self.inodes_per_group = g(0x28)
        self.inode_size = u16(img, SB + 0x58)
        self.incompat, self.ro_compat = g(0x60), g(0x64)
        self.uuid = bytes(img[SB + 0x68:SB + 0x78])
        self.desc_size = u16(img, SB + 0xFE) if self.incompat & INCOMPAT_64BIT else 32
        self.csum = bool(self.ro_compat & RO_COMPAT_METADATA_CSUM)
        if self.incompat & INCOMPAT_CSUM_SEED:
            self.seed = g(0x270)
        else:
            self.seed = crc32c(0xFFFFFFFF, self.uuid)
        self.groups = -(-(self.blocks_count() - self.first_data_block) // self.blocks_per_group)

    def blocks_count(self):
        lo = u32(self.img, SB + 0x4)
        hi = u32(self.img, SB + 0x150) if self.incompat & INCOMPAT_64BIT else 0
        return lo | hi << 32

    # --- superblock and group descriptors -------------------------------------------------
    def fix_superblock(self):
        if self.csum:
            struct.pack_into("<I", self.img, SB + 0x3FC,
                             crc32c(0xFFFFFFFF, self.img[SB:SB + 0x3FC]))

    def gd_offset(self, group):
        return (self.first_data_block + 1) * self.block_size + group * self.desc_size

    def fix_group_desc(self, group):
        off, n = self.gd_offset(group), self.desc_size
        d = self.img[off:off + n]
        le = struct.pack("<I", group)
        if self.csum:
            c = crc32c(self.seed, le)
            c = crc32c(c, d[:0x1E] + b"\0\0" + d[0x20:])
            struct.pack_into("<H", self.img, off + 0x1E, c & 0xFFFF)
        elif self.ro_compat & RO_COMPAT_GDT_CSUM:
            c = crc16(crc16(crc16(0xFFFF, self.uuid), le), d[:0x1E])
            if n > 0x20:
                c = crc16(c, d[0x20:])
            struct.pack_into("<H", self.img, off + 0x1E, c)

    def inode_table(self, group):
        off = self.gd_offset(group)
        lo = u32(self.img, off + 0x8)
        hi = u32(self.img, off + 0x28) if self.desc_size >= 64 else 0
        return lo | hi << 32

    # --- inodes ---------------------------------------------------------------------------
    def inode_offset(self, ino):
        group, index = divmod(ino - 1, self.inodes_per_group)
        return self.inode_table(group) * self.block_size + index * self.inode_size

    def inode(self, ino):
        off = self.inode_offset(ino)
        return self.img[off:off + self.inode_size]

    def inode_seed(self, ino):
        gen = u32(self.img, self.inode_offset(ino) + 0x64)
        return crc32c(crc32c(self.seed, struct.pack("<I", ino)), struct.pack("<I", gen))

    def fix_inode(self, ino):
        if not self.csum:
            return
        off, n = self.inode_offset(ino), self.inode_size
        raw = self.img[off:off + n]
        c = crc32c(self.inode_seed(ino), raw[:0x7C] + b"\0\0" + raw[0x7E:128])
        has_hi = n > 128 and u16(raw, 0x80) >= 4
        if n > 128:
            c = crc32c(c, raw[128:0x82])
            c = crc32c(c, b"\0\0" + raw[0x84:] if has_hi else raw[0x82:])
        struct.pack_into("<H", self.img, off + 0x7C, c & 0xFFFF)
        if has_hi:
            struct.pack_into("<H", self.img, off + 0x82, c >> 16)

    def mode(self, ino):
        return u16(self.img, self.inode_offset(ino))

    def flags(self, ino):
        return u32(self.img, self.inode_offset(ino) + 0x20)

    def size(self, ino):
        off = self.inode_offset(ino)
        return u32(self.img, off + 0x4) | u32(self.img, off + 0x6C) << 32

    def xattr_block(self, ino):
        off = self.inode_offset(ino)
        return u32(self.img, off + 0x68) | u16(self.img, off + 0x76) << 32

    # --- block maps -------------------------------------------------------------------------
    def block_offset(self, blk):
        return blk * self.block_size

    def extent_tree(self, ino):
        """(leaves, tree_blocks): leaves = [(lblk, pblk, len)], tree_blocks = [block numbers]."""
        leaves, tree = [], []
        ioff = self.inode_offset(ino) + 0x28

        def walk(off, depth_left, budget=[2000]):
            if u16(self.img, off) != EXT_MAGIC or budget[0] <= 0:
                return
            budget[0] -= 1
            entries, depth = u16(self.img, off + 2), u16(self.img, off + 6)
            for i in range(min(entries, 340)):
                e = off + 12 + 12 * i
                if depth == 0:
                    n = u16(self.img, e + 4)
                    pblk = u32(self.img, e + 8) | u16(self.img, e + 6) << 32
                    leaves.append((u32(self.img, e), pblk, n & 0x7FFF if n > 0x8000 else n))
                elif depth_left > 0:
                    child = u32(self.img, e + 4) | u16(self.img, e + 8) << 32
                    if child < self.blocks_count():
                        tree.append(child)
                        walk(self.block_offset(child), depth_left - 1)

        walk(ioff, 5)
        return leaves, tree

    def block_map(self, ino):
        """(data_blocks, indirect_blocks) of an ext2/3 block-mapped inode, in file order."""
        off = self.inode_offset(ino) + 0x28
        ptrs = [u32(self.img, off + 4 * i) for i in range(15)]
        data, indirect = [p for p in ptrs[:12] if p], []
        per = self.block_size // 4

        def walk(blk, level):
            if not blk or blk >= self.blocks_count() or len(indirect) > 4096:
                return
            indirect.append(blk)
            base = self.block_offset(blk)
            for i in range(per):
                p = u32(self.img, base + 4 * i)
                if level == 0:
                    if p:
                        data.append(p)
                else:
                    walk(p, level - 1)

        for level, p in enumerate(ptrs[12:]):
            walk(p, level)
        return data, indirect

    def data_blocks(self, ino):
        """The physical blocks holding the inode's contents (for a directory: its blocks)."""
        if self.flags(ino) & INLINE_DATA_FL:
            return []
        if self.flags(ino) & EXTENTS_FL:
            out = []
            for _, pblk, n in self.extent_tree(ino)[0]:
                out.extend(range(pblk, pblk + min(n, 4096)))
            return out
        return self.block_map(ino)[0]

    # --- directory, extent and xattr blocks -------------------------------------------------
    def fix_dir_block(self, ino, blk):
        if not self.csum:
            return
        bs, off = self.block_size, self.block_offset(blk)
        b = self.img[off:off + bs]
        blocks = self.data_blocks(ino)
        if self.flags(ino) & INDEX_FL and blocks and blk == blocks[0]:
            self._fix_dx(ino, off, 32)  # the htree root
        elif u32(b, 0) == 0 and u16(b, 4) == bs:  # an htree interior node
            self._fix_dx(ino, off, 8)
        elif u32(b, bs - 12) == 0 and u16(b, bs - 8) == 12 and b[bs - 5] == 0xDE:
            struct.pack_into("<I", self.img, off + bs - 4,
                             crc32c(self.inode_seed(ino), b[:bs - 12]))

    def _fix_dx(self, ino, off, count_offset):
        limit, count = u16(self.img, off + count_offset), u16(self.img, off + count_offset + 2)
        tail = off + count_offset + 8 * limit
        if limit == 0 or tail + 8 > off + self.block_size or count > limit:
            return
        c = crc32c(self.inode_seed(ino), self.img[off:off + count_offset + 8 * count])
        c = crc32c(crc32c(c, self.img[tail:tail + 4]), b"\0\0\0\0")
        struct.pack_into("<I", self.img, tail + 4, c)

    def fix_extent_block(self, ino, blk):
        if not self.csum:
            return
        off = self.block_offset(blk)
        end = off + 12 + 12 * u16(self.img, off + 4)
        if end + 4 <= off + self.block_size:
            struct.pack_into("<I", self.img, end, crc32c(self.inode_seed(ino), self.img[off:end]))

    def fix_xattr_block(self, blk):
        if not self.csum:
            return
        off, bs = self.block_offset(blk), self.block_size
        c = crc32c(self.seed, struct.pack("<Q", blk))
        c = crc32c(c, self.img[off:off + 0x10] + b"\0\0\0\0" + self.img[off + 0x14:off + bs])
        struct.pack_into("<I", self.img, off + 0x10, c)


def refix_everything(fs):
    """Recomputes every checksum this module knows. On an intact image it must change nothing:
    that is the self-test of the formulas (corrupt.py --self-test)."""
    fs.fix_superblock()
    for g in range(fs.groups):
        fs.fix_group_desc(g)
    for ino in range(1, fs.inodes_count + 1):
        if fs.mode(ino) == 0:
            continue
        fs.fix_inode(ino)
        if u16(fs.img, fs.inode_offset(ino) + 0x1A) == 0:
            continue  # deleted: only its inode checksum is kept right
        if fs.flags(ino) & EXTENTS_FL:
            for blk in fs.extent_tree(ino)[1]:
                fs.fix_extent_block(ino, blk)
        if fs.mode(ino) & 0xF000 == 0x4000:
            for blk in fs.data_blocks(ino):
                fs.fix_dir_block(ino, blk)
        if fs.xattr_block(ino):
            fs.fix_xattr_block(fs.xattr_block(ino))
