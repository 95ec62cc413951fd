// SPDX-License-Identifier: MIT
#include "options.h"

#include "source.h"

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <fuse_opt.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ext4pager [options] IMAGE MOUNTPOINT\n"
    "       ext4pager run [options] IMAGE -- COMMAND [ARG...]\n"
    "       ext4pager --list-partitions IMAGE\n"
    "       ext4pager --stats MOUNTPOINT\n"
    "\n"
    "Mounts an ext2/ext3/ext4 image read-only through FUSE. The run form mounts it on a\n"
    "private temporary directory, runs COMMAND with $EXT4PAGER_MOUNT set to it, unmounts,\n"
    "and exits with COMMAND's status.\n"
    "\n"
    "IMAGE is a raw image or block device, an Android sparse image, a qcow2, qcow, QED,\n"
    "VMDK, VHDX, VHD or VDI disk (served by qemu-nbd), an NBD URI (nbd://HOST[:PORT]/EXPORT,\n"
    "nbds://..., nbd+unix:///EXPORT?socket=PATH) or an http:// or https:// URL (served by\n"
    "nbdkit's curl plugin). Only the blocks that are read are fetched.\n"
    "\n"
    "  -f                     stay in the foreground\n"
    "  -d                     debug: foreground, FUSE request log, pager stats at unmount\n"
    "  -s                     single-threaded FUSE session\n"
    "  -o OPT[,OPT...]        mount options (below)\n"
    "  --stats MOUNTPOINT     print the pager counters of a live mount\n"
    "  --list-partitions IMAGE  print the partition table of a disk image\n"
    "  -h, --help             this text\n"
    "  -V, --version          version\n"
    "\n"
    "mount options:\n"
    "  ro                     always implied; rw is refused\n"
    "  offset=BYTES           the filesystem starts BYTES into IMAGE\n"
    "  partition=N            mount partition N of an MBR or GPT disk image\n"
    "  format=FMT             the image's format instead of detecting it: raw, sparse,\n"
    "                         qcow2, qcow, qed, vmdk, vhdx, vpc (vhd) or vdi\n"
    "  timeout=SECONDS        NBD, VM disk and URL images: a read (or the connect) that\n"
    "                         takes longer fails with EIO and drops its connection (30)\n"
    "  connections=N          NBD connections to open when the server allows several (4)\n"
    "  key=FILE               a raw fscrypt master key (16-64 bytes) for encrypted\n"
    "                         directories; repeatable. Without one they show their\n"
    "                         no-key names, as the kernel does\n"
    "  idle_timeout=SECONDS   unmount after SECONDS with no open files and no requests\n"
    "  allow_other            let other users see the mount (implies default_permissions)\n"
    "  allow_root             let root see the mount\n"
    "  default_permissions    the kernel checks the image's modes (always on)\n"
    "  fsname=NAME            source shown in /proc/mounts (default: the image path)\n"
    "  suid, dev, exec, noexec, nosuid, nodev, atime, noatime, auto_unmount\n"
    "                         as for mount(8) and FUSE (nosuid,nodev are the defaults)\n"
    "  norecovery, noload     do not replay a journal that needs recovery (it is replayed\n"
    "                         in memory by default); show the last checkpointed state\n"
    "  pager_threads=N        pager threads serving page requests (default: CPUs, 2..8)\n"
    "  readahead=BYTES        page requests are extended to a multiple of this (128K)\n"
    "  cache_size=BYTES       budget for the daemon's page cache (64M)\n"
    "  dir_cache_size=BYTES   budget for cached directory listings (64M)\n"
    "  read_ahead_kb=N        the mount's kernel readahead window, set when root (1024;\n"
    "                         0 keeps the kernel's default)\n"
    "  fadvise, nofadvise     drop image data from the host cache after reading it (on)\n"
    "  io_uring=auto|on|off   carry FUSE requests over io_uring (auto: when the kernel\n"
    "                         offers it; as root, auto and on switch the kernel's\n"
    "                         fuse.enable_uring on; on fails where it cannot be had)\n"
    "  noacl, acl             POSIX ACLs: not shown, as ext4's noacl (EOPNOTSUPP), or shown\n"
    "  nouser_xattr, user_xattr  user.* xattrs: not shown (EOPNOTSUPP), or shown\n"
    "\n"
    "Sizes take K, M and G suffixes. Stop with SIGTERM/SIGINT or fusermount3 -u MOUNTPOINT.\n";

const char *options_usage(void)
{
	return usage;
}

int options_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* What the option table's keys ask of opt_proc. */
enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_DEBUG,
	KEY_FUSE,   /* a FUSE mount option: passed to the mount unchanged */
	KEY_IGNORE, /* fstab and mount(8) bookkeeping that means nothing to the filesystem */
	KEY_RW,
	KEY_NUMBER, /* one of NUMERIC_OPTIONS: "name=value" */
	KEY_IO_URING,
	KEY_KEY, /* key=FILE, repeatable */
};

/*
 * The options with a number, declared once: X(name, field, min, max). Sizes take K/M/G.
 * Fields are uint64_t, unsigned or int; number_fields below stores each in its width.
 */
#define NUMERIC_OPTIONS(X)                                                                         \
	X(offset, offset, 0, UINT64_MAX >> 1)                                                      \
	X(partition, partition, 1, 4096)                                                           \
	X(idle_timeout, idle_timeout, 1, 1u << 30)                                                 \
	X(pager_threads, pager_threads, 1, 64)                                                     \
	X(readahead, readahead, 4096, 64u << 20)                                                   \
	X(cache_size, cache_size, 1u << 20, 1ull << 40)                                            \
	X(dir_cache_size, dir_cache_size, 1u << 20, 1ull << 40)                                    \
	X(read_ahead_kb, read_ahead_kb, 0, 1u << 20)                                               \
	X(timeout, timeout, 1, 3600)                                                               \
	X(connections, connections, 1, 16)

struct numeric_option {
	const char *name;
	size_t offset, width;
	uint64_t min, max;
};

static const struct numeric_option numeric_options[] = {
#define NUMERIC_ROW(n, f, lo, hi)                                                                  \
	{#n, offsetof(struct options, f), sizeof(((struct options *)0)->f), lo, hi},
    NUMERIC_OPTIONS(NUMERIC_ROW)
#undef NUMERIC_ROW
};

#define OPT(templ, field, value)                                                                   \
	{                                                                                          \
		templ, offsetof(struct options, field), value                                      \
	}

static const struct fuse_opt option_table[] = {
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    OPT("-f", foreground, 1),
    FUSE_OPT_KEY("-d", KEY_DEBUG),
    OPT("-s", single_thread, 1),
    OPT("--stats %s", stats_mountpoint, 0),
    OPT("--list-partitions %s", list_partitions, 0),
    /* -o options */
    OPT("allow_other", allow_other, 1),
    OPT("norecovery", norecovery, 1),
    OPT("noload", norecovery, 1),
    OPT("fadvise", fadvise, 1),
    OPT("nofadvise", fadvise, 0),
    OPT("fsname=%s", fsname, 0),
    OPT("format=%s", format, 0),
    OPT("acl", noacl, 0),
    OPT("noacl", noacl, 1),
    OPT("user_xattr", nouser_xattr, 0),
    OPT("nouser_xattr", nouser_xattr, 1),
    FUSE_OPT_KEY("io_uring", KEY_IO_URING),
    FUSE_OPT_KEY("io_uring=", KEY_IO_URING),
    FUSE_OPT_KEY("rw", KEY_RW),
    FUSE_OPT_KEY("key=", KEY_KEY),
#define NUMERIC_KEY(n, f, lo, hi) FUSE_OPT_KEY(#n "=", KEY_NUMBER),
    NUMERIC_OPTIONS(NUMERIC_KEY)
#undef NUMERIC_KEY
	FUSE_OPT_KEY("allow_root", KEY_FUSE),
    OPT("auto_unmount", auto_unmount, 1),
    FUSE_OPT_KEY("suid", KEY_FUSE),
    FUSE_OPT_KEY("nosuid", KEY_FUSE),
    FUSE_OPT_KEY("dev", KEY_FUSE),
    FUSE_OPT_KEY("nodev", KEY_FUSE),
    FUSE_OPT_KEY("exec", KEY_FUSE),
    FUSE_OPT_KEY("noexec", KEY_FUSE),
    FUSE_OPT_KEY("atime", KEY_FUSE),
    FUSE_OPT_KEY("noatime", KEY_FUSE),
    FUSE_OPT_KEY("async", KEY_FUSE),
    FUSE_OPT_KEY("sync", KEY_FUSE),
    FUSE_OPT_KEY("dirsync", KEY_FUSE),
    FUSE_OPT_KEY("defaults", KEY_IGNORE),
    FUSE_OPT_KEY("auto", KEY_IGNORE),
    FUSE_OPT_KEY("noauto", KEY_IGNORE),
    FUSE_OPT_KEY("user", KEY_IGNORE),
    FUSE_OPT_KEY("nouser", KEY_IGNORE),
    FUSE_OPT_KEY("users", KEY_IGNORE),
    FUSE_OPT_KEY("_netdev", KEY_IGNORE),
    FUSE_OPT_KEY("nofail", KEY_IGNORE),
    FUSE_OPT_KEY("ro", KEY_IGNORE),
    FUSE_OPT_KEY("default_permissions", KEY_IGNORE),
    FUSE_OPT_KEY("comment=", KEY_IGNORE),
    FUSE_OPT_END,
};

/* Parsing state that opt_proc sees through fuse_opt_parse's `data`. The options come first:
 * fuse_opt_parse stores table values at their offsets from `data`. */
struct parse_state {
	struct options o;
	const char *positional[2];
	int npos, want;
	char *why;
	size_t why_len;
};

static int refuse(struct parse_state *ps, const char *fmt, const char *arg)
{
	if (!ps->why[0])
		snprintf(ps->why, ps->why_len, fmt, arg);
	return -1;
}

static void store_number(struct options *o, const struct numeric_option *n, uint64_t v)
{
	char *field = (char *)o + n->offset;

	unsigned u = (unsigned)v; /* int and unsigned fields: every range fits both */

	if (n->width == sizeof(uint64_t))
		memcpy(field, &v, sizeof(v));
	else
		memcpy(field, &u, sizeof(u));
}

static int parse_numeric(struct parse_state *ps, const char *arg)
{
	const char *eq = strchr(arg, '=');
	uint64_t v;

	for (size_t i = 0; i < sizeof(numeric_options) / sizeof(numeric_options[0]); i++) {
		const struct numeric_option *n = &numeric_options[i];
		if (strlen(n->name) != (size_t)(eq - arg) ||
		    strncmp(arg, n->name, (size_t)(eq - arg)) != 0)
			continue;
		if (options_parse_size(eq + 1, &v) || v < n->min || v > n->max) {
			snprintf(ps->why, ps->why_len, "bad value in -o %s (expected %llu..%llu)",
				 arg, (unsigned long long)n->min, (unsigned long long)n->max);
			return -1;
		}
		store_number(&ps->o, n, v);
		return 0;
	}
	return refuse(ps, "unknown mount option '%s' (see --help)", arg);
}

/* "io_uring" (= on) or "io_uring=auto|on|off". */
static int parse_io_uring(struct parse_state *ps, const char *arg)
{
	static const char *const names[] = {[IO_URING_AUTO] = "auto", [IO_URING_ON] = "on",
					    [IO_URING_OFF] = "off"};
	const char *value = strchr(arg, '=');

	if (!value) {
		ps->o.io_uring = IO_URING_ON;
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(value + 1, names[i]) == 0) {
			ps->o.io_uring = (int)i;
			return 0;
		}
	return refuse(ps, "bad value in -o %s (expected auto, on or off)", arg);
}

/* key=FILE: the path only; the file is read at mount (the key never passes through argv). */
static int add_key_file(struct parse_state *ps, const char *path)
{
	if (!*path)
		return refuse(ps, "%s", "-o key= needs a file");
	if (ps->o.nkeys >= OPTIONS_MAX_KEYS)
		return refuse(ps, "%s", "at most 16 -o key= files");
	ps->o.keys[ps->o.nkeys] = strdup(path);
	if (!ps->o.keys[ps->o.nkeys])
		return refuse(ps, "%s", "out of memory");
	ps->o.nkeys++;
	return 0;
}

static int take_positional(struct parse_state *ps, const char *arg)
{
	if (ps->npos >= ps->want)
		return refuse(ps, "unexpected argument '%s' (see --help)", arg);
	ps->positional[ps->npos++] = arg;
	return 0;
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct parse_state *ps = data;
	struct options *o = &ps->o;

	(void)outargs;
	switch (key) {
	case KEY_HELP:
		o->help = true;
		return 0;
	case KEY_VERSION:
		o->version = true;
		return 0;
	case KEY_DEBUG:
		o->debug = true;
		o->foreground = 1;
		return 0;
	case KEY_IGNORE:
		return 0;
	case KEY_RW:
		return refuse(ps, "%s", "ext4pager mounts read-only: -o rw is not supported");
	case KEY_NUMBER:
		return parse_numeric(ps, arg);
	case KEY_IO_URING:
		return parse_io_uring(ps, arg);
	case KEY_KEY:
		return add_key_file(ps, arg + strlen("key="));
	case KEY_FUSE:
		return fuse_opt_add_opt_escaped(&o->fuse_opts, arg)
			   ? refuse(ps, "%s", "out of memory")
			   : 0;
	case FUSE_OPT_KEY_NONOPT:
		return take_positional(ps, arg);
	default: /* FUSE_OPT_KEY_OPT: matched nothing in the table */
		if (strncmp(arg, "x-", 2) == 0)
			return 0; /* mount(8)'s x-* options are for userspace helpers */
		if (arg[0] == '-')
			return refuse(ps, "unknown or incomplete option '%s' (see --help)", arg);
		return refuse(ps, "unknown mount option '%s' (see --help)", arg);
	}
}

/* libfuse's own complaints while parsing ("missing argument after ...") become `why`. */
static _Thread_local struct parse_state *logging_for;

static void log_into_why(enum fuse_log_level level, const char *fmt, va_list ap)
{
	struct parse_state *ps = logging_for;
	size_t n;

	(void)level;
	if (!ps || ps->why[0])
		return;
	vsnprintf(ps->why, ps->why_len, fmt, ap);
	n = strlen(ps->why);
	while (n && ps->why[n - 1] == '\n')
		ps->why[--n] = '\0';
}

static int check_combination(struct parse_state *ps)
{
	struct options *o = &ps->o;

	if (o->partition && o->offset)
		return refuse(ps, "%s", "-o partition= and -o offset= cannot be combined");
	if (o->format && !source_format_known(o->format))
		return refuse(ps,
			      "unknown format=%s (raw, sparse, qcow2, qcow, qed, vmdk, vhdx, vpc, "
			      "vdi)",
			      o->format);
	if (o->run_mode && (o->stats_mountpoint || o->list_partitions))
		return refuse(ps, "%s", "--stats and --list-partitions are not run options");
	if (o->help || o->version || o->stats_mountpoint || o->list_partitions)
		return 0;
	if (o->run_mode) {
		if (ps->npos < 1 || !o->command || !o->command[0])
			return refuse(ps, "%s",
				      "usage: ext4pager run [options] IMAGE -- COMMAND [ARG...] "
				      "(see --help)");
		o->image = ps->positional[0];
		return 0;
	}
	if (ps->npos < 2)
		return refuse(ps, "%s", "need an IMAGE and a MOUNTPOINT (see --help)");
	o->image = ps->positional[0];
	o->mountpoint = ps->positional[1];
	return 0;
}

/* The arguments fuse_opt_parse sees: argv[0], then argv[first..end). */
static int parse_argv(struct parse_state *ps, char **argv, int first, int end)
{
	char **v = calloc((size_t)(end - first) + 2, sizeof(*v));
	struct fuse_args args;
	int rc;

	if (!v)
		return refuse(ps, "%s", "out of memory");
	v[0] = argv[0];
	memcpy(v + 1, argv + first, sizeof(*v) * (size_t)(end - first));
	args = (struct fuse_args)FUSE_ARGS_INIT(end - first + 1, v);
	logging_for = ps;
	fuse_set_log_func(log_into_why);
	rc = fuse_opt_parse(&args, ps, option_table, opt_proc);
	fuse_set_log_func(NULL);
	logging_for = NULL;
	fuse_opt_free_args(&args);
	free(v);
	if (rc != 0 && !ps->why[0])
		snprintf(ps->why, ps->why_len, "bad command line (see --help)");
	return rc;
}

int options_parse(int argc, char **argv, struct options *out, char *why, size_t why_len)
{
	struct parse_state ps = {.want = 2, .why = why, .why_len = why_len};
	struct options *o = &ps.o;
	int first = 1, end = argc, rc = 0;

	o->fadvise = 1;
	o->read_ahead_kb = 1024; /* cut streaming READs by ~40% against the kernel's 128 */
	why[0] = '\0';
	if (argc > 1 && strcmp(argv[1], "run") == 0) {
		o->run_mode = true;
		first = 2;
		ps.want = 1;
		for (end = first; end < argc && strcmp(argv[end], "--") != 0; end++)
			;
		if (end < argc)
			o->command = argv + end + 1;
	}
	if (parse_argv(&ps, argv, first, end) != 0 || check_combination(&ps) != 0)
		rc = -EINVAL;
	*out = ps.o;
	return rc;
}

void options_free(struct options *o)
{
	for (int i = 0; i < o->nkeys; i++)
		free(o->keys[i]);
	o->nkeys = 0;
	free(o->fsname);
	free(o->format);
	free(o->fuse_opts);
	free((char *)o->stats_mountpoint);
	free((char *)o->list_partitions);
	o->fsname = o->format = o->fuse_opts = NULL;
	o->stats_mountpoint = o->list_partitions = NULL;
}
