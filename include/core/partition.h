// SPDX-License-Identifier: MIT
/*
 * partition — finding filesystems inside a partitioned disk image (MBR or GPT), with libblkid's
 * partition probing. Partitions are numbered as the kernel (and `losetup -P`, lsblk) numbers
 * them: 1..4 primary, 5.. logical for MBR; 1.. in table order for GPT.
 *
 * Nothing here keeps state: each call probes the source it is given (a plain file directly;
 * any other source through a sparse copy of what the probe reads: partition.c shadow_of).
 * `name` only appears in messages.
 */
#ifndef EXT4PAGER_PARTITION_H
#define EXT4PAGER_PARTITION_H

#include "byte_source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct partition_info {
	int number;	  /* as the kernel numbers it */
	uint64_t start;	  /* bytes from the start of the image */
	uint64_t size;	  /* bytes */
	char type[40];	  /* MBR "0x83", or the GPT type GUID */
	char fs_type[16]; /* what blkid finds inside: "ext4", "vfat", ... or "" */
	char label[64];	  /* filesystem label, or "" */
	char uuid[40];	  /* filesystem UUID, or "" */
};

/*
 * Reads the partition table of `src`. On success *out is a malloc'd array of *count entries
 * (sorted by number) and *table_type is "dos" or "gpt". Returns 0, -ENOENT if the image has no
 * partition table, or another negative errno with a one-line reason in `why`.
 */
int partition_table_read(struct byte_source *src, const char *name, struct partition_info **out,
			 size_t *count, char *table_type, size_t table_type_len, char *why,
			 size_t why_len);

/* Finds partition `number`: 0 and its offset and size, or -ENOENT/-EINVAL with a reason. */
int partition_find(struct byte_source *src, const char *name, int number, uint64_t *start,
		   uint64_t *size, char *why, size_t why_len);

/* True when blkid calls the filesystem type one ext4pager mounts. */
bool partition_is_ext(const struct partition_info *p);

/* Prints the table for --list-partitions. Returns 0, or a negative errno with `why`. */
int partition_print_table(struct byte_source *src, const char *name, FILE *out, char *why,
			  size_t why_len);

/* Appends ", ext partitions: 1 (ext4, 'root'), 3 (ext2)" style hints to `why` when `src` is a
 * partitioned disk; leaves `why` alone otherwise. Returns true if a table was found. */
bool partition_explain_disk(struct byte_source *src, const char *name, char *why, size_t why_len);

#endif
