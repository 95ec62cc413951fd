// SPDX-License-Identifier: MIT
/*
 * inoset — a set of inode numbers that only grows, read and written without a lock: one bit per
 * inode in 8 KiB leaves allocated on first use (at most inode_count / 8 bytes in all, the top
 * array inode_count / 8 KiB pointers).
 *
 * For facts about an inode that cannot change while the image is mounted (it is never written
 * and the replayed journal is fixed at open), learnt when something reads the inode under the
 * image lock and asked later without taking it. A fact that could not be recorded (no memory
 * for a leaf) is simply not known: callers fall back to reading the inode.
 */
#ifndef EXT4PAGER_INOSET_H
#define EXT4PAGER_INOSET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inoset {
	_Atomic(_Atomic uint64_t *) *leaves; /* owned; a leaf, once published, stays */
	size_t nleaves;			     /* immutable */
};

/* A set for inodes 1..max_ino. Returns 0 or -ENOMEM. */
int inoset_init(struct inoset *s, uint32_t max_ino);
void inoset_destroy(struct inoset *s);
/* Adds `ino` (best effort: without memory for its leaf, it stays out). */
void inoset_add(struct inoset *s, uint32_t ino);
bool inoset_has(const struct inoset *s, uint32_t ino);

#endif
