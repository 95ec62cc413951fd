#include "options.h"

#include <errno.h>
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

/* FUSE/mount options passed through unchanged. */
static bool is_fuse_option(const char *opt)
{
	static const char *const names[] = {
	    "allow_root", "auto_unmount", "suid",    "nosuid", "dev",  "nodev",	 "exec",
	    "noexec",	  "atime",	  "noatime", "async",  "sync", "dirsync"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(opt, names[i]) == 0)
			return true;
	return false;
}

/* fstab and mount(8) bookkeeping that means nothing to the filesystem. */
static bool is_ignored_option(const char *opt)
{
	static const char *const names[] = {
	    "defaults", "auto",	   "noauto", "user", "nouser",
	    "users",	"_netdev", "nofail", "ro",   "default_permissions"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(opt, names[i]) == 0)
			return true;
	return strncmp(opt, "x-", 2) == 0 || strncmp(opt, "comment=", 8) == 0;
}

static int append(char *buf, size_t cap, const char *opt)
{
	size_t len = strlen(buf), n = strlen(opt);

	if (len + n + 2 > cap)
		return -EINVAL;
	if (len)
		buf[len++] = ',';
	memcpy(buf + len, opt, n + 1);
	return 0;
}

static int parse_number(const char *opt, const char *value, uint64_t min, uint64_t max,
			uint64_t *out, char *why, size_t why_len)
{
	if (options_parse_size(value, out) || *out < min || *out > max) {
		snprintf(why, why_len, "bad value in -o %s (expected %llu..%llu)", opt,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

static int parse_one(struct options *o, char *opt, char *why, size_t why_len)
{
	char *eq = strchr(opt, '=');
	const char *value = eq ? eq + 1 : NULL;
	uint64_t v;
	size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);

#define KEY(k) (klen == strlen(k) && strncmp(opt, k, klen) == 0)
	if (!value && is_ignored_option(opt))
		return 0;
	if (!value && is_fuse_option(opt))
		return append(o->fuse_opts, sizeof(o->fuse_opts), opt);
	if (!value && strcmp(opt, "rw") == 0) {
		snprintf(why, why_len, "ext4pager mounts read-only: -o rw is not supported");
		return -EINVAL;
	}
	if (!value && strcmp(opt, "allow_other") == 0) {
		o->allow_other = true;
		return 0;
	}
	if (!value && (strcmp(opt, "norecovery") == 0 || strcmp(opt, "noload") == 0)) {
		o->norecovery = true;
		return 0;
	}
	if (!value && (strcmp(opt, "fadvise") == 0 || strcmp(opt, "nofadvise") == 0)) {
		o->fadvise = opt[0] == 'f';
		return 0;
	}
	if (value && KEY("offset"))
		return parse_number(opt, value, 0, UINT64_MAX >> 1, &o->offset, why, why_len);
	if (value && KEY("partition")) {
		int rc = parse_number(opt, value, 1, 4096, &v, why, why_len);
		o->partition = (int)v;
		return rc;
	}
	if (value && KEY("idle_timeout")) {
		int rc = parse_number(opt, value, 1, 1u << 30, &v, why, why_len);
		o->idle_timeout = (unsigned)v;
		return rc;
	}
	if (value && KEY("pager_threads")) {
		int rc = parse_number(opt, value, 1, 64, &v, why, why_len);
		o->pager_threads = (unsigned)v;
		return rc;
	}
	if (value && KEY("readahead"))
		return parse_number(opt, value, 4096, 64u << 20, &o->readahead, why, why_len);
	if (value && KEY("cache_size"))
		return parse_number(opt, value, 1u << 20, 1ull << 40, &o->cache_size, why, why_len);
	if (value && KEY("dir_cache_size"))
		return parse_number(opt, value, 1u << 20, 1ull << 40, &o->dir_cache_size, why,
				    why_len);
	if (value && KEY("read_ahead_kb")) {
		int rc = parse_number(opt, value, 0, 1u << 20, &v, why, why_len);
		o->read_ahead_kb = (unsigned)v;
		return rc;
	}
	if (value && KEY("fsname")) {
		if (!*value || strlen(value) >= sizeof(o->fsname)) {
			snprintf(why, why_len, "bad value in -o fsname=");
			return -EINVAL;
		}
		strcpy(o->fsname, value);
		return 0;
	}
#undef KEY
	snprintf(why, why_len, "unknown mount option '%s' (see --help)", opt);
	return -EINVAL;
}

static int parse_option_list(struct options *o, const char *list, char *why, size_t why_len)
{
	char *copy = strdup(list), *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (char *opt = strtok_r(copy, ",", &save); opt && rc == 0;
	     opt = strtok_r(NULL, ",", &save))
		rc = parse_one(o, opt, why, why_len);
	free(copy);
	return rc;
}

int options_parse(int argc, char **argv, struct options *o, char *why, size_t why_len)
{
	const char *positional[2];
	int npos = 0, first = 1, want = 2;

	memset(o, 0, sizeof(*o));
	o->fadvise = true;
	o->read_ahead_kb =
	    1024; /* DESIGN.md: cut streaming READs by ~40% against the default 128 */
	why[0] = '\0';
	if (argc > 1 && strcmp(argv[1], "run") == 0) {
		o->run_mode = true;
		first = 2;
		want = 1;
	}
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		int rc = 0;
		if (o->run_mode && strcmp(a, "--") == 0) {
			o->command = argv + i + 1;
			break;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			o->help = true;
		else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)
			o->version = true;
		else if (strcmp(a, "-f") == 0)
			o->foreground = true;
		else if (strcmp(a, "-d") == 0)
			o->debug = o->foreground = true;
		else if (strcmp(a, "-s") == 0)
			o->single_thread = true;
		else if (strcmp(a, "--stats") == 0 && i + 1 < argc && !o->run_mode)
			o->stats_mountpoint = argv[++i];
		else if (strcmp(a, "--list-partitions") == 0 && i + 1 < argc && !o->run_mode)
			o->list_partitions = argv[++i];
		else if (strcmp(a, "-o") == 0 && i + 1 < argc)
			rc = parse_option_list(o, argv[++i], why, why_len);
		else if (strncmp(a, "-o", 2) == 0 && a[2])
			rc = parse_option_list(o, a + 2, why, why_len);
		else if (a[0] == '-' && a[1]) {
			snprintf(why, why_len, "unknown or incomplete option '%s' (see --help)", a);
			return -EINVAL;
		} else if (npos < want)
			positional[npos++] = a;
		else {
			snprintf(why, why_len, "unexpected argument '%s' (see --help)", a);
			return -EINVAL;
		}
		if (rc)
			return rc;
	}
	if (o->partition && o->offset) {
		snprintf(why, why_len, "-o partition= and -o offset= cannot be combined");
		return -EINVAL;
	}
	if (o->help || o->version || o->stats_mountpoint || o->list_partitions)
		return 0;
	if (o->run_mode) {
		if (npos < 1 || !o->command || !o->command[0]) {
			snprintf(why, why_len,
				 "usage: ext4pager run [options] IMAGE -- COMMAND "
				 "[ARG...] (see --help)");
			return -EINVAL;
		}
		o->image = positional[0];
		return 0;
	}
	if (npos < 2) {
		snprintf(why, why_len, "need an IMAGE and a MOUNTPOINT (see --help)");
		return -EINVAL;
	}
	o->image = positional[0];
	o->mountpoint = positional[1];
	return 0;
}
