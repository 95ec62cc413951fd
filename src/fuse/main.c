// SPDX-License-Identifier: MIT
/*
 * main — command line dispatch: mount (the daemon), run mode, --list-partitions, --stats.
 * Every failure before the mount is in place prints one line on stderr and exits non-zero
 * with nothing left mounted.
 */
#include "options.h"
#include "partition.h"
#include "source.h"
#include "run_mode.h"
#include "session.h"
#include "url.h"

#include "ext4pager_version.h" /* EXT4PAGER_COMMIT, generated at build time */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int print_stats(const char *mountpoint)
{
	char buf[4096];
	ssize_t n = getxattr(mountpoint, FUSE_OPS_STATS_XATTR, buf, sizeof(buf) - 1);

	if (n < 0)
		return session_fail("%s: not an ext4pager mount (or too old to report stats)",
				    mountpoint);
	fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}

static int list_partitions(const struct options *o)
{
	struct source_options so = {
	    .format = o->format, .timeout = o->timeout, .connections = o->connections};
	struct byte_source *src;
	char why[512];
	int rc = source_open(o->list_partitions, &so, &src, why, sizeof(why));

	if (rc == 0) {
		char *shown = url_redacted(o->list_partitions); /* printed: no password */
		rc = partition_print_table(src, shown ? shown : "image", stdout, why, sizeof(why));
		free(shown);
		byte_source_close(src);
	}
	return rc ? session_fail("%s", why) : 0;
}

/* The daemon: mount, detach unless -f, serve until unmounted or signalled. */
static int daemon_mode(const struct options *o, const char *image_path)
{
	struct session s;
	int status = 1;
	struct stat st;

	if (stat(o->mountpoint, &st) != 0)
		return session_fail("mountpoint %s does not exist", o->mountpoint);
	if (!S_ISDIR(st.st_mode))
		return session_fail("mountpoint %s is not a directory", o->mountpoint);
	if (session_open(&s, o, image_path, o->mountpoint) == 0 && session_mount(&s, true) == 0) {
		if (fuse_daemonize(o->foreground) != 0)
			session_fail("%s", "cannot start the daemon");
		else if (session_start(&s) == 0)
			status = session_serve(&s);
	}
	session_close(&s);
	return status;
}

/* What the parsed command line asks for; returns the exit status. */
static int dispatch(const struct options *o)
{
	char image_path[PATH_MAX];

	if (o->help) {
		fputs(options_usage(), stdout);
		return 0;
	}
	if (o->version) {
		printf("ext4pager %s%s%s%s (libfuse %s)\n", EXT4PAGER_VERSION,
		       EXT4PAGER_COMMIT[0] ? " (git " : "", EXT4PAGER_COMMIT,
		       EXT4PAGER_COMMIT[0] ? ")" : "", fuse_pkgversion());
		return 0;
	}
	if (o->stats_mountpoint)
		return print_stats(o->stats_mountpoint);
	if (o->list_partitions)
		return list_partitions(o);
	if (source_is_remote(o->image))
		snprintf(image_path, sizeof(image_path), "%s", o->image);
	else if (!realpath(o->image, image_path)) {
		session_fail("cannot open image %s: %s", o->image, strerror(errno));
		return o->run_mode ? 125 : 1;
	}
	if (o->run_mode)
		return run_mode(o, image_path);
	return daemon_mode(o, image_path);
}

/*
 * Any user can read /proc/PID/cmdline, so a URL's password in an argument does not stay there:
 * the argument is copied for the parser (argv[i] then points at the copy) and the bytes the
 * kernel shows are overwritten with the URL without its password. Returns the copies to free.
 */
static char **hide_passwords(int argc, char **argv)
{
	char **copies = calloc((size_t)argc + 1, sizeof(*copies));

	for (int i = 1; copies && i < argc; i++) {
		char *shown = url_redacted(argv[i]);
		size_t len = strlen(argv[i]);
		if (shown && strcmp(shown, argv[i]) != 0 && (copies[i] = strdup(argv[i]))) {
			memset(argv[i], 0, len);
			memcpy(argv[i], shown, strlen(shown)); /* shorter than what it replaces */
			argv[i] = copies[i];
		}
		free(shown);
	}
	return copies;
}

int main(int argc, char **argv)
{
	struct options o;
	char why[512];
	int status;
	char **copies = hide_passwords(argc, argv);

	if (options_parse(argc, argv, &o, why, sizeof(why)) != 0)
		status = session_fail("%s", why);
	else
		status = dispatch(&o);
	options_free(&o);
	for (int i = 0; copies && i < argc; i++)
		free(copies[i]);
	free(copies);
	return status;
}
