// SPDX-License-Identifier: MIT
/*
 * options — ext4pager's command line, in mount(8) style, parsed into a plain struct.
 *
 *   ext4pager [-f] [-d] [-s] [-o opt[,opt...]]... IMAGE MOUNTPOINT
 *   ext4pager run [-d] [-s] [-o opt[,opt...]]... IMAGE -- COMMAND [ARG...]
 *   ext4pager --list-partitions IMAGE
 *   ext4pager --stats MOUNTPOINT | -h | --help | -V | --version
 *
 * The command line goes through libfuse's fuse_opt_parse with one option table (options.c), as
 * libfuse's example/passthrough_ll.c and squashfuse's ll_main.c do: -o lists are split there,
 * `\,` is a comma inside a value, and every option is matched against the table. ext4pager's
 * own options fill the struct; the FUSE mount options it accepts are collected, escaped, into
 * `fuse_opts`. Anything else is an error: a typo must not be silently ignored on a tool that
 * mounts untrusted images.
 */
#ifndef EXT4PAGER_OPTIONS_H
#define EXT4PAGER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum io_uring_mode { IO_URING_AUTO, IO_URING_ON, IO_URING_OFF };

#define OPTIONS_MAX_KEYS 16

struct options {
	const char *image;
	const char *mountpoint;
	const char *stats_mountpoint; /* --stats */
	const char *list_partitions;  /* --list-partitions IMAGE */
	bool run_mode;		      /* "run": mount, run `command`, unmount */
	char **command;		      /* run mode: argv of the command, NULL-terminated */
	int partition;		      /* -o partition=N; 0 = none */
	unsigned idle_timeout;	      /* seconds; 0 = never */
	/* int, not bool: fuse_opt_parse stores table values as int */
	int foreground, single_thread;
	bool debug, help, version;
	uint64_t offset;
	unsigned pager_threads;	 /* 0 = default */
	uint64_t readahead;	 /* 0 = default */
	uint64_t cache_size;	 /* 0 = default */
	uint64_t dir_cache_size; /* 0 = default */
	unsigned read_ahead_kb;	 /* the FUSE mount's bdi readahead; 0 = leave the kernel's */
	int fadvise;		 /* drop image ranges from the host cache after reading */
	int norecovery;
	int allow_other;
	int auto_unmount; /* unmount when the daemon dies, however (auto_unmount.h) */
	int io_uring;	  /* enum io_uring_mode */
	int noacl;	  /* ext4's noacl: POSIX ACLs are not supported (EOPNOTSUPP) */
	int nouser_xattr; /* ext4's nouser_xattr: user.* xattrs are not supported */
	unsigned timeout; /* NBD-backed images: seconds per read; 0 = default */
	unsigned connections; /* NBD connections at most; 0 = default */
	char *format;	      /* owned; -o format=, NULL = detect */
	char *keys[OPTIONS_MAX_KEYS]; /* owned; -o key= paths, read at mount */
	int nkeys;
	char *fsname;	 /* owned; NULL = the image's absolute path */
	char *fuse_opts; /* owned; escaped, comma-separated options for the FUSE mount, or NULL */
};

/* Parses argv. Returns 0, or -EINVAL (-ENOMEM) with a one-line message in `why`; call
 * options_free either way. */
int options_parse(int argc, char **argv, struct options *o, char *why, size_t why_len);
void options_free(struct options *o);

/* Parses "123", "0x1000", "64K", "16M", "2G" into bytes. Returns 0 or -EINVAL. */
int options_parse_size(const char *s, uint64_t *out);

/* The --help text. */
const char *options_usage(void);

#endif
