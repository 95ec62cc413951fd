// SPDX-License-Identifier: MIT
#include "session.h"

#include "inode.h"
#include "auto_unmount.h"
#include "partition.h"
#include "source.h"
#include "transport.h"
#include "url.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int session_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ext4pager: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
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

static void build_fuse_options(const struct options *o, const char *image_path, bool uring,
			       char *buf, size_t cap)
{
	char *shown = url_redacted(image_path); /* /proc/mounts is world-readable */

	snprintf(buf, cap, "ro,default_permissions,%ssubtype=ext4pager,fsname=",
		 uring ? "io_uring," : "");
	append_escaped(buf, cap, o->fsname ? o->fsname : shown ? shown : "ext4pager");
	free(shown);
	if (o->allow_other)
		strncat(buf, ",allow_other", cap - strlen(buf) - 1);
	if (o->auto_unmount && !auto_unmount_by_daemon())
		strncat(buf, ",auto_unmount", cap - strlen(buf) - 1);
	if (o->fuse_opts) {
		strncat(buf, ",", cap - strlen(buf) - 1);
		strncat(buf, o->fuse_opts, cap - strlen(buf) - 1);
	}
}

/* The source, with the window offset= or partition= asks for; `io` learns the window. */
static int open_window(const struct options *o, const char *name, const char *shown,
		       struct image_open_options *io, struct byte_source **src, char *why,
		       size_t why_len)
{
	struct source_options so = {.format = o->format,
				    .drop_cache = o->fadvise,
				    .timeout = o->timeout,
				    .connections = o->connections};
	int rc = source_open(name, &so, src, why, why_len);

	if (rc == 0 && o->partition) {
		rc = partition_find(*src, shown, o->partition, &io->offset, &io->size_limit, why,
				    why_len);
		if (rc)
			byte_source_close(*src);
	}
	if (rc == 0 && (io->offset || io->size_limit))
		rc = byte_source_window(*src, io->offset, io->size_limit, src, why, why_len);
	return rc;
}

/* Appends the partitions of a whole-disk image to a refusal (opened again: the failed open
 * closed its source). */
static void explain_disk(const struct options *o, const char *name, const char *shown, char *why,
			 size_t why_len)
{
	struct source_options so = {.format = o->format, .timeout = o->timeout, .connections = 1};
	struct byte_source *src;
	char ignored[256];

	if (source_open(name, &so, &src, ignored, sizeof(ignored)) != 0)
		return;
	partition_explain_disk(src, shown, why, why_len);
	byte_source_close(src);
}

static int open_image(struct session *s, const struct options *o, const char *name)
{
	struct image_open_options io = {
	    .offset = o->offset, .norecovery = o->norecovery, .keep_host_cache = !o->fadvise};
	struct byte_source *src;
	char why[1024];
	char *shown = url_redacted(name); /* `name` in messages: a URL's password left out */
	int rc;

	if (!shown)
		return session_fail("%s", "out of memory");
	rc = open_window(o, name, shown, &io, &src, why, sizeof(why));
	if (rc) {
		free(shown);
		return session_fail("%s", why);
	}
	rc = image_open_source(src, shown, &io, &s->ctx.img, why, sizeof(why));
	if (rc == -EINVAL && !o->partition && !o->offset)
		explain_disk(o, name, shown, why, sizeof(why));
	free(shown);
	for (int i = 0; rc == 0 && i < o->nkeys; i++)
		rc = image_add_key_file(s->ctx.img, o->keys[i], why, sizeof(why));
	if (rc)
		return session_fail("%s", why);
	return 0;
}

/* pager_backing.load: a file's size and map come from its inode. */
static int load_file_map(void *img, uint32_t ino, uint64_t *size, struct extmap *map,
			 struct supply_transform **transform)
{
	return inode_file_map(img, ino, size, map, transform);
}

int session_open(struct session *s, const struct options *o, const char *image_path,
		 const char *mountpoint)
{
	struct pager_config pc = {
	    .threads = o->pager_threads, .readahead = o->readahead, .cache_bytes = o->cache_size};
	struct pager_backing backing = {.load = load_file_map};
	char why[512];

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->idle_lock, NULL);
	pthread_cond_init(&s->idle_wake, NULL);
	snprintf(s->mountpoint, sizeof(s->mountpoint), "%s", mountpoint);
	s->ctx.mountpoint = s->mountpoint;
	s->ctx.read_ahead_kb = o->read_ahead_kb;
	s->ctx.idle_timeout = o->idle_timeout;
	s->single_thread = o->single_thread;
	s->auto_unmount = o->auto_unmount;
	s->debug = o->debug;
	dircache_init(&s->ctx.dirs, o->dir_cache_size ? o->dir_cache_size : (64u << 20));
	fuse_ops_context_init(&s->ctx);
	if (open_image(s, o, o->image))
		return 1;
	backing.data = image_data(s->ctx.img);
	backing.ctx = s->ctx.img;
	if (statfs_compute(s->ctx.img, &s->ctx.totals) != 0 ||
	    pager_create(&backing, &pc, &s->ctx.pager))
		return session_fail("%s: cannot set up the filesystem", o->image);
	if (transport_choose(o->io_uring, o->debug, &s->ctx.want_uring, why, sizeof(why)))
		return session_fail("%s", why);
	s->ctx.noacl = o->noacl;
	s->ctx.nouser_xattr = o->nouser_xattr;
	build_fuse_options(o, image_path, s->ctx.want_uring, s->fuse_opts, sizeof(s->fuse_opts));
	s->fargv[0] = "ext4pager";
	s->fargv[1] = "-o";
	s->fargv[2] = s->fuse_opts;
	s->fargv[3] = o->debug ? "-d" : NULL;
	s->args = (struct fuse_args)FUSE_ARGS_INIT(o->debug ? 4 : 3, s->fargv);
	s->se =
	    fuse_session_new(&s->args, fuse_ops_table(), sizeof(struct fuse_lowlevel_ops), &s->ctx);
	if (!s->se)
		return session_fail("bad FUSE options: %s", s->fuse_opts);
	return 0;
}

static void wake_handler(int sig)
{
	(void)sig;
}

int session_mount(struct session *s, bool signals)
{
	struct sigaction sa = {.sa_handler = wake_handler};

	sigemptyset(&sa.sa_mask);
	sigaction(SESSION_WAKE_SIGNAL, &sa, NULL);
	if (signals) {
		/* libfuse only hooks signals left at their default: one started in the
		 * background by a script inherits SIGINT ignored, and must still unmount. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (fuse_set_signal_handlers(s->se) != 0)
			return session_fail("%s", "cannot install signal handlers");
		s->handlers = true;
	}
	if (fuse_session_mount(s->se, s->mountpoint) != 0)
		return session_fail(
		    "cannot mount on %s (is /dev/fuse there, and are you allowed to mount?)",
		    s->mountpoint);
	s->mounted = true;
	if (s->auto_unmount && auto_unmount_by_daemon() && auto_unmount_start(s->mountpoint) != 0)
		return 1;
	return 0;
}

/* Stops the session once nothing has been open or requested for idle_timeout seconds. */
static void *idle_watcher(void *arg)
{
	struct session *s = arg;
	uint64_t limit_ms = (uint64_t)s->ctx.idle_timeout * 1000u;
	bool quit = false;

	while (!quit) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&s->idle_lock);
		if (!s->idle_quit)
			pthread_cond_timedwait(&s->idle_wake, &s->idle_lock, &until);
		quit = s->idle_quit;
		pthread_mutex_unlock(&s->idle_lock);
		if (!quit && fuse_ops_idle_ms(&s->ctx) >= limit_ms) {
			fprintf(stderr, "ext4pager: idle for %us, unmounting %s\n",
				s->ctx.idle_timeout, s->mountpoint);
			session_stop(s);
			quit = true;
		}
	}
	return NULL;
}

int session_start(struct session *s)
{
	sigset_t all, old;
	int rc;

	if (pager_start(s->ctx.pager) != 0)
		return session_fail("%s", "cannot start the pager threads");
	image_relock_keys(s->ctx.img); /* after the daemon's fork, which drops memory locks */
	if (!s->ctx.idle_timeout)
		return 0;
	fuse_ops_touch(&s->ctx); /* the idle time counts from the mount */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals are for the loop thread */
	rc = pthread_create(&s->idle_thread, NULL, idle_watcher, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return session_fail("%s", "cannot start the idle watcher");
	s->idle_started = true;
	return 0;
}

static int run_loop(struct session *s)
{
	struct fuse_loop_config *cfg;
	int rc;

	if (s->single_thread)
		return fuse_session_loop(s->se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, 16);
	fuse_loop_cfg_set_idle_threads(cfg, 8);
	rc = fuse_session_loop_mt(s->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return rc;
}

int session_serve(struct session *s)
{
	int rc;

	s->loop_thread = pthread_self();
	atomic_store(&s->loop_running, true);
	rc = run_loop(s);
	atomic_store(&s->loop_running, false);
	/* libfuse returns the number of the signal that ended the loop: a clean stop. */
	return (rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP) ? 0 : 1;
}

void session_stop(struct session *s)
{
	fuse_session_exit(s->se);
	/* The loop may be between its exit check and its wait when the first signal lands:
	 * repeat until it has returned. */
	for (int i = 0; i < 200 && atomic_load(&s->loop_running); i++) {
		pthread_kill(s->loop_thread, SESSION_WAKE_SIGNAL);
		usleep(10000);
	}
}

static void stop_idle_watcher(struct session *s)
{
	if (!s->idle_started)
		return;
	pthread_mutex_lock(&s->idle_lock);
	s->idle_quit = true;
	pthread_cond_signal(&s->idle_wake);
	pthread_mutex_unlock(&s->idle_lock);
	pthread_join(s->idle_thread, NULL);
	s->idle_started = false;
}

void session_close(struct session *s)
{
	stop_idle_watcher(s);
	if (s->mounted)
		fuse_session_unmount(s->se);
	if (s->handlers)
		fuse_remove_signal_handlers(s->se);
	/* READs still waiting for pages are answered by the pager threads: before the session
	 * they answer on goes. */
	if (s->ctx.pager)
		fuse_ops_drain_reads(&s->ctx);
	if (s->se)
		fuse_session_destroy(s->se);
	if (s->debug && s->ctx.pager) {
		struct pager_stats st;
		char buf[1024];
		pager_get_stats(s->ctx.pager, &st);
		pager_format_stats(&st, buf, sizeof(buf));
		fprintf(stderr, "ext4pager: stats at unmount:\n%s", buf);
	}
	if (s->ctx.pager)
		pager_destroy(s->ctx.pager);
	dircache_destroy(&s->ctx.dirs);
	fuse_ops_context_destroy(&s->ctx);
	image_close(s->ctx.img);
	fuse_opt_free_args(&s->args);
	pthread_cond_destroy(&s->idle_wake);
	pthread_mutex_destroy(&s->idle_lock);
}
