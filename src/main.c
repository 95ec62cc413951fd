/*
 * main — command line, mount, serve, clean unmount. Every failure before the mount is in place
 * prints one line on stderr and exits non-zero with nothing left mounted.
 */
#include "fuse_ops.h"
#include "options.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Prints one "ext4pager: ..." line on stderr; returns the exit status for a failure. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ext4pager: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int print_stats(const char *mountpoint)
{
	char buf[4096];
	ssize_t n = getxattr(mountpoint, FUSE_OPS_STATS_XATTR, buf, sizeof(buf) - 1);

	if (n < 0)
		return fail("%s: not an ext4pager mount (or too old to report stats)", mountpoint);
	fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}

/* Appends `s` to `dst` with commas and backslashes escaped, as fuse_opt_parse expects. */
static void append_escaped(char *dst, size_t cap, const char *s)
{
	size_t len = strlen(dst);

	for (; *s && len + 3 < cap; s++) {
		if (*s == ',' || *s == '\\')
			dst[len++] = '\\';
		dst[len++] = *s;
	}
	dst[len] = '\0';
}

static void build_fuse_options(const struct options *o, const char *image_path, char *buf,
			       size_t cap)
{
	snprintf(buf, cap, "ro,default_permissions,subtype=ext4pager,fsname=");
	append_escaped(buf, cap, o->fsname[0] ? o->fsname : image_path);
	if (o->allow_other)
		strncat(buf, ",allow_other", cap - strlen(buf) - 1);
	if (o->fuse_opts[0]) {
		strncat(buf, ",", cap - strlen(buf) - 1);
		strncat(buf, o->fuse_opts, cap - strlen(buf) - 1);
	}
}

static int serve(struct fuse_session *se, const struct options *o)
{
	struct fuse_loop_config *cfg;
	int rc;

	if (o->single_thread)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, 16);
	fuse_loop_cfg_set_idle_threads(cfg, 8);
	rc = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return rc;
}

static int run(const struct options *o, const char *image_path)
{
	struct fs_context ctx = {.mountpoint = o->mountpoint, .read_ahead_kb = o->read_ahead_kb};
	struct image_open_options io = {.offset = o->offset, .norecovery = o->norecovery};
	struct pager_config pc = {
	    .threads = o->pager_threads, .readahead = o->readahead, .cache_bytes = o->cache_size};
	char why[512], fuse_opts[8192];
	char *fargv[] = {"ext4pager", "-o", fuse_opts, o->debug ? "-d" : NULL, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(o->debug ? 4 : 3, fargv);
	struct fuse_session *se = NULL;
	int rc, status = 1;

	rc = image_open(o->image, &io, &ctx.img, why, sizeof(why));
	if (rc)
		return fail("%s", why);
	ctx.img->fadvise_dontneed = o->fadvise;
	if (statfs_compute(ctx.img, &ctx.totals) != 0 || pager_create(ctx.img, &pc, &ctx.pager)) {
		image_close(ctx.img);
		return fail("%s: cannot set up the filesystem", o->image);
	}
	dircache_init(&ctx.dirs, o->dir_cache_size ? o->dir_cache_size : (64u << 20));
	build_fuse_options(o, image_path, fuse_opts, sizeof(fuse_opts));
	se = fuse_session_new(&args, fuse_ops_table(), sizeof(struct fuse_lowlevel_ops), &ctx);
	if (!se) {
		fail("bad FUSE options: %s", fuse_opts);
		goto out;
	}
	/* libfuse only hooks signals left at their default: one started in the background by a
	 * script inherits SIGINT ignored, and must still unmount on it. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(se) != 0) {
		fail("%s", "cannot install signal handlers");
		goto out;
	}
	if (fuse_session_mount(se, o->mountpoint) != 0) {
		fail("cannot mount on %s (is /dev/fuse there, and are you allowed to mount?)",
		     o->mountpoint);
		goto out_signals;
	}
	if (fuse_daemonize(o->foreground) != 0 || pager_start(ctx.pager) != 0) {
		fail("%s", "cannot start the daemon");
		goto out_unmount;
	}
	rc = serve(se, o);
	/* libfuse returns the number of the signal that ended the loop: a clean stop. */
	status = (rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP) ? 0 : 1;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	if (o->debug) {
		struct pager_stats s;
		char buf[1024];
		pager_get_stats(ctx.pager, &s);
		pager_format_stats(&s, buf, sizeof(buf));
		fprintf(stderr, "ext4pager: stats at unmount:\n%s", buf);
	}
	pager_destroy(ctx.pager);
	dircache_destroy(&ctx.dirs);
	image_close(ctx.img);
	fuse_opt_free_args(&args);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	char why[512], image_path[PATH_MAX];
	struct stat st;

	if (options_parse(argc, argv, &o, why, sizeof(why)) != 0)
		return fail("%s", why);
	if (o.help) {
		fputs(options_usage(), stdout);
		return 0;
	}
	if (o.version) {
		printf("ext4pager %s (libfuse %s)\n", EXT4PAGER_VERSION, fuse_pkgversion());
		return 0;
	}
	if (o.stats_mountpoint)
		return print_stats(o.stats_mountpoint);
	if (!realpath(o.image, image_path))
		return fail("cannot open image %s: %s", o.image, strerror(errno));
	if (stat(o.mountpoint, &st) != 0)
		return fail("mountpoint %s does not exist", o.mountpoint);
	if (!S_ISDIR(st.st_mode))
		return fail("mountpoint %s is not a directory", o.mountpoint);
	return run(&o, image_path);
}
