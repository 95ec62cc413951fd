// SPDX-License-Identifier: MIT
#include "partition.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* More partitions than any real table holds (GPT's usual maximum is 128). */
#define MAX_PARTITIONS 256

static void copy_value(blkid_probe pr, const char *name, char *dst, size_t cap)
{
	const char *v = NULL;

	dst[0] = '\0';
	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
		snprintf(dst, cap, "%s", v);
}

/* Probes the filesystem inside one partition: type, label, UUID (empty when none is found). */
static void probe_contents(int fd, struct partition_info *p)
{
	blkid_probe pr = blkid_new_probe();

	p->fs_type[0] = p->label[0] = p->uuid[0] = '\0';
	if (!pr)
		return;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)p->start, (blkid_loff_t)p->size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
							  BLKID_SUBLKS_UUID);
		blkid_probe_enable_partitions(pr, 0);
		if (blkid_do_safeprobe(pr) == 0) {
			copy_value(pr, "TYPE", p->fs_type, sizeof(p->fs_type));
			copy_value(pr, "LABEL", p->label, sizeof(p->label));
			copy_value(pr, "UUID", p->uuid, sizeof(p->uuid));
		}
	}
	blkid_free_probe(pr);
}

static void describe(blkid_partition part, int fd, struct partition_info *p)
{
	const char *type_string = blkid_partition_get_type_string(part);

	p->number = blkid_partition_get_partno(part);
	p->start = (uint64_t)blkid_partition_get_start(part) * 512u;
	p->size = (uint64_t)blkid_partition_get_size(part) * 512u;
	if (type_string)
		snprintf(p->type, sizeof(p->type), "%s", type_string);
	else
		snprintf(p->type, sizeof(p->type), "0x%02x", blkid_partition_get_type(part));
	probe_contents(fd, p);
}

static int by_number(const void *a, const void *b)
{
	const struct partition_info *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

static int read_list(blkid_probe pr, int fd, struct partition_info **out, size_t *count,
		     char *table_type, size_t table_type_len)
{
	blkid_partlist list = blkid_probe_get_partitions(pr);
	int n = list ? blkid_partlist_numof_partitions(list) : -1;
	struct partition_info *parts;

	if (!list || n < 0)
		return -ENOENT;
	if (n > MAX_PARTITIONS)
		n = MAX_PARTITIONS;
	snprintf(table_type, table_type_len, "%s",
		 blkid_parttable_get_type(blkid_partlist_get_table(list)) ?: "unknown");
	parts = calloc((size_t)n + 1, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		describe(blkid_partlist_get_partition(list, i), fd, &parts[i]);
	qsort(parts, (size_t)n, sizeof(*parts), by_number);
	*out = parts;
	*count = (size_t)n;
	return 0;
}

/* Copies [pos, pos + len) of the source into the same place of the shadow (clipped). */
static void shadow_copy(int shadow, struct byte_source *src, uint64_t pos, uint64_t len)
{
	char buf[64 * 1024];

	if (pos >= src->size)
		return;
	if (len > src->size - pos)
		len = src->size - pos;
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		if (byte_source_pread(src, buf, n, pos + done) != 0 ||
		    pwrite(shadow, buf, n, (off_t)(pos + done)) != (ssize_t)n)
			return; /* a hole: blkid sees zeros there, as for a torn image */
		done += n;
	}
}

/* Copies the extended boot records of an MBR extended partition at `start` (each one's second
 * entry links the next, relative to `start`: the layout blkid's dos.c parse_dos_extended
 * follows). */
static void shadow_copy_ebr_chain(int shadow, struct byte_source *src, uint64_t start)
{
	uint64_t ebr = start;

	for (int i = 0; i < MAX_PARTITIONS && ebr < src->size; i++) {
		uint8_t sector[512];
		const uint8_t *link = sector + 446 + 16;
		uint32_t lba;

		if (byte_source_pread(src, sector, sizeof(sector), ebr) != 0)
			return;
		shadow_copy(shadow, src, ebr, sizeof(sector));
		lba = (uint32_t)link[8] | (uint32_t)link[9] << 8 | (uint32_t)link[10] << 16 |
		      (uint32_t)link[11] << 24;
		if (lba == 0 || (link[4] != 0x05 && link[4] != 0x0f && link[4] != 0x85))
			return;
		ebr = start + (uint64_t)lba * 512;
	}
}

static bool is_extended(const struct partition_info *p)
{
	return strcmp(p->type, "0x05") == 0 || strcmp(p->type, "0x0f") == 0 ||
	       strcmp(p->type, "0x85") == 0;
}

/*
 * libblkid probes file descriptors only. A source that is not a plain file (a sparse image,
 * an NBD export) is shown to it through a sparse memfd holding just what a partition probe
 * reads: the first and last MiB (MBR, GPT and its backup), the extended boot records, and the
 * first 256 KiB of each partition (filesystem superblocks). The rest reads as zeros.
 */
#define SHADOW_EDGE (1u << 20)
#define SHADOW_HEAD (256u << 10)

static int shadow_of(struct byte_source *src)
{
	int fd = memfd_create("ext4pager-partitions", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)src->size) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	shadow_copy(fd, src, 0, SHADOW_EDGE);
	if (src->size > SHADOW_EDGE)
		shadow_copy(fd, src, src->size - SHADOW_EDGE, SHADOW_EDGE);
	return fd;
}

static int probe_table(int fd, struct partition_info **out, size_t *count, char *table_type,
		       size_t table_type_len)
{
	blkid_probe pr = blkid_new_probe();
	int rc;

	if (!pr || blkid_probe_set_device(pr, fd, 0, 0) != 0) {
		rc = -EIO;
	} else {
		blkid_probe_enable_superblocks(pr, 0);
		blkid_probe_enable_partitions(pr, 1);
		blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
		rc = read_list(pr, fd, out, count, table_type, table_type_len);
	}
	if (pr)
		blkid_free_probe(pr);
	return rc;
}

/* The table read through a shadow: once for the primary table, and again when extended
 * partitions (whose boot records are copied in between) add logical ones. */
static int probe_shadow(struct byte_source *src, struct partition_info **out, size_t *count,
			char *table_type, size_t table_type_len)
{
	int fd = shadow_of(src), rc;
	bool extended = false;

	if (fd < 0)
		return fd;
	rc = probe_table(fd, out, count, table_type, table_type_len);
	for (size_t i = 0; rc == 0 && i < *count; i++) {
		if (is_extended(&(*out)[i])) {
			shadow_copy_ebr_chain(fd, src, (*out)[i].start);
			extended = true;
		}
	}
	if (rc == 0 && extended) {
		free(*out);
		rc = probe_table(fd, out, count, table_type, table_type_len);
	}
	for (size_t i = 0; rc == 0 && i < *count; i++) {
		struct partition_info *p = &(*out)[i];
		shadow_copy(fd, src, p->start, p->size < SHADOW_HEAD ? p->size : SHADOW_HEAD);
		probe_contents(fd, p);
	}
	close(fd);
	return rc;
}

int partition_table_read(struct byte_source *src, const char *name, struct partition_info **out,
			 size_t *count, char *table_type, size_t table_type_len, char *why,
			 size_t why_len)
{
	int fd = byte_source_file_fd(src), rc;

	*out = NULL;
	*count = 0;
	if (fd >= 0)
		rc = probe_table(fd, out, count, table_type, table_type_len);
	else
		rc = probe_shadow(src, out, count, table_type, table_type_len);
	if (rc == -ENOENT)
		snprintf(why, why_len, "%s has no partition table", name);
	else if (rc < 0)
		snprintf(why, why_len, "%s: cannot probe the image: %s", name, strerror(-rc));
	return rc;
}

bool partition_is_ext(const struct partition_info *p)
{
	return strcmp(p->fs_type, "ext2") == 0 || strcmp(p->fs_type, "ext3") == 0 ||
	       strcmp(p->fs_type, "ext4") == 0 || strcmp(p->fs_type, "ext4dev") == 0;
}

/* "1 (ext4 'root'), 3 (ext2)" into `buf`; "none" when no partition holds ext2/3/4. */
static void list_ext(const struct partition_info *parts, size_t n, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len + 1 < cap; i++) {
		if (!partition_is_ext(&parts[i]))
			continue;
		len += (size_t)snprintf(buf + len, cap - len, "%s%d (%s%s%s%s)", len ? ", " : "",
					parts[i].number, parts[i].fs_type,
					parts[i].label[0] ? " '" : "", parts[i].label,
					parts[i].label[0] ? "'" : "");
	}
	if (!buf[0])
		snprintf(buf, cap, "none");
}

int partition_find(struct byte_source *src, const char *path, int number, uint64_t *start,
		   uint64_t *size, char *why, size_t why_len)
{
	struct partition_info *parts;
	char table[16], ext[256];
	size_t n;
	int rc = partition_table_read(src, path, &parts, &n, table, sizeof(table), why, why_len);

	if (rc == -ENOENT)
		snprintf(why, why_len, "%s has no partition table: drop -o partition=%d", path,
			 number);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (parts[i].number != number)
			continue;
		if (partition_is_ext(&parts[i])) {
			*start = parts[i].start;
			*size = parts[i].size;
			rc = 0;
		} else {
			list_ext(parts, n, ext, sizeof(ext));
			snprintf(why, why_len,
				 "%s: partition %d (%s) is not an ext2/ext3/ext4 filesystem "
				 "(ext partitions: %s)",
				 path, number,
				 parts[i].fs_type[0] ? parts[i].fs_type : "no known filesystem",
				 ext);
			rc = -EINVAL;
		}
	}
	if (rc == -ENOENT) {
		list_ext(parts, n, ext, sizeof(ext));
		snprintf(why, why_len, "%s: no partition %d in its %s table (ext partitions: %s)",
			 path, number, table, ext);
	}
	free(parts);
	return rc;
}

int partition_print_table(struct byte_source *src, const char *path, FILE *out, char *why,
			  size_t why_len)
{
	struct partition_info *parts;
	char table[16];
	size_t n;
	int rc = partition_table_read(src, path, &parts, &n, table, sizeof(table), why, why_len);

	if (rc < 0)
		return rc;
	fprintf(out, "%s: %s partition table, %zu partitions\n", path, table, n);
	fprintf(out, "%-3s %14s %14s  %-36s  %-6s  %-16s  %s\n", "NR", "START", "SIZE", "TYPE",
		"FSTYPE", "LABEL", "UUID");
	for (size_t i = 0; i < n; i++) {
		const struct partition_info *p = &parts[i];
		fprintf(out, "%-3d %14llu %14llu  %-36s  %-6s  %-16s  %s\n", p->number,
			(unsigned long long)p->start, (unsigned long long)p->size, p->type,
			p->fs_type[0] ? p->fs_type : "-", p->label[0] ? p->label : "-",
			p->uuid[0] ? p->uuid : "-");
	}
	free(parts);
	return 0;
}

bool partition_explain_disk(struct byte_source *src, const char *path, char *why, size_t why_len)
{
	struct partition_info *parts;
	char table[16], ext[256], ignored[256];
	size_t n, len = strlen(why);

	if (partition_table_read(src, path, &parts, &n, table, sizeof(table), ignored,
				 sizeof(ignored)) != 0)
		return false;
	list_ext(parts, n, ext, sizeof(ext));
	snprintf(why + len, why_len > len ? why_len - len : 0,
		 "; it is a disk image with a %s partition table (ext partitions: %s): "
		 "choose one with -o partition=N (see --list-partitions)",
		 table, ext);
	free(parts);
	return true;
}
