/*
 * options — ext4pager's command line, in mount(8) style, parsed into a plain struct.
 *
 *   ext4pager [-f] [-d] [-s] [-o opt[,opt...]]... IMAGE MOUNTPOINT
 *   ext4pager run [-d] [-s] [-o opt[,opt...]]... IMAGE -- COMMAND [ARG...]
 *   ext4pager --list-partitions IMAGE
 *   ext4pager --stats MOUNTPOINT | -h | --help | -V | --version
 *
 * ext4pager's own -o options are parsed here; the ones the FUSE mount understands are
 * collected, validated against a known list, into `fuse_opts` for the FUSE layer. Anything else
 * is an error: a typo must not be silently ignored on a tool that mounts untrusted images.
 */
#ifndef EXT4PAGER_OPTIONS_H
#define EXT4PAGER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct options {
	const char *image;
	const char *mountpoint;
	const char *stats_mountpoint; /* --stats */
	const char *list_partitions;  /* --list-partitions IMAGE */
	bool run_mode;		      /* "run": mount, run `command`, unmount */
	char **command;		      /* run mode: argv of the command, NULL-terminated */
	int partition;		      /* -o partition=N; 0 = none */
	unsigned idle_timeout;	      /* seconds; 0 = never */
	bool foreground, debug, single_thread, help, version;
	uint64_t offset;
	unsigned pager_threads;	 /* 0 = default */
	uint64_t readahead;	 /* 0 = default */
	uint64_t cache_size;	 /* 0 = default */
	uint64_t dir_cache_size; /* 0 = default */
	unsigned read_ahead_kb;	 /* the FUSE mount's bdi readahead; 0 = leave the kernel's */
	bool fadvise;		 /* drop image ranges from the host cache after reading */
	bool norecovery;
	bool allow_other;
	char fsname[4096];    /* "" = the image's absolute path */
	char fuse_opts[4096]; /* comma-separated options for the FUSE mount */
};

/* Parses argv. Returns 0, or -EINVAL with a one-line message in `why`. */
int options_parse(int argc, char **argv, struct options *o, char *why, size_t why_len);

/* Parses "123", "0x1000", "64K", "16M", "2G" into bytes. Returns 0 or -EINVAL. */
int options_parse_size(const char *s, uint64_t *out);

/* The --help text. */
const char *options_usage(void);

#endif
