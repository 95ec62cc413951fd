// SPDX-License-Identifier: MIT
#include "fuse_ops.h"
#include "fh_handoff.h"
#include "transport.h"

#include "inode.h"
#include "xattr.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h> /* FS_IOC_GETFLAGS, struct fsxattr */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The image cannot change under a mount: let the kernel cache everything for a long time. */
#define CACHE_TIMEOUT 86400.0

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void fuse_ops_touch(struct fs_context *c)
{
	atomic_store_explicit(&c->last_activity_ms, now_ms(), memory_order_relaxed);
}

/* Every request handler starts here, which makes it the place to note activity for
 * idle_timeout. */
static struct fs_context *ctx_of(fuse_req_t req)
{
	struct fs_context *c = fuse_req_userdata(req);

	if (atomic_load_explicit(&c->on_uring, memory_order_relaxed))
		transport_ring_thread_yields();
	if (c->idle_timeout)
		fuse_ops_touch(c);
	return c;
}

uint64_t fuse_ops_idle_ms(struct fs_context *c)
{
	uint64_t last = atomic_load_explicit(&c->last_activity_ms, memory_order_relaxed);
	uint64_t now = now_ms();

	if (atomic_load(&c->open_files) > 0)
		return 0;
	return now > last ? now - last : 0;
}

static uint32_t ino_of(fuse_ino_t node)
{
	return node == FUSE_ROOT_ID ? INODE_ROOT : (uint32_t)node;
}

static fuse_ino_t node_of(uint32_t ino)
{
	return ino == INODE_ROOT ? FUSE_ROOT_ID : ino;
}

/* Node ids above 32 bits or inode 1 (ext4's bad-blocks inode, which collides with the FUSE
 * root id) never come from us. */
static bool valid_node(fuse_ino_t node)
{
	return node == FUSE_ROOT_ID || (node > 2 && node <= UINT32_MAX);
}

/* What the readahead thread needs, copied so it outlives nothing it points at. */
struct ra_job {
	char mountpoint[4096];
	unsigned read_ahead_kb;
};

static void *ra_thread(void *arg)
{
	struct ra_job *job = arg;
	struct stat st;
	char path[64];
	FILE *f;

	if (stat(job->mountpoint, &st) == 0) {
		snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
			 minor(st.st_dev));
		f = fopen(path, "w");
		if (f) {
			fprintf(f, "%u\n", job->read_ahead_kb);
			fclose(f);
		}
	}
	free(job);
	return NULL;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs_context *c = userdata;
	struct ra_job *job;
	pthread_t t;

	conn->want |=
	    conn->capable & (FUSE_CAP_EXPORT_SUPPORT | FUSE_CAP_CACHE_SYMLINKS |
			     FUSE_CAP_POSIX_ACL | FUSE_CAP_ASYNC_READ | FUSE_CAP_READDIRPLUS |
			     FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_PARALLEL_DIROPS);
	conn->want &= ~(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_WRITEBACK_CACHE);
	if (c->noacl) /* the kernel then never asks: ACL checks fall back to the mode */
		conn->want &= ~FUSE_CAP_POSIX_ACL;
	/* idle_timeout counts open directories, which it could not see without OPENDIR. */
	c->zero_opendir = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) && c->idle_timeout == 0;
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18)
	atomic_store(&c->on_uring, c->want_uring && (conn->capable_ext & FUSE_CAP_OVER_IO_URING));
#endif
	conn->max_readahead = VMO_READ_MAX;
	/* The mount is not visible until init returns; set its readahead from another thread. */
	if (c->read_ahead_kb && geteuid() == 0 && (job = calloc(1, sizeof(*job)))) {
		sigset_t all, old;
		snprintf(job->mountpoint, sizeof(job->mountpoint), "%s", c->mountpoint);
		job->read_ahead_kb = c->read_ahead_kb;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old); /* see pager_start */
		if (pthread_create(&t, NULL, ra_thread, job) == 0)
			pthread_detach(t);
		else
			free(job);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}

static int entry_for(struct fs_context *c, uint32_t ino, struct fuse_entry_param *e)
{
	uint64_t gen = 0;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = inode_stat(c->img, ino, &e->attr, &gen);
	if (rc)
		return rc;
	e->ino = node_of(ino);
	e->generation = gen;
	e->attr_timeout = CACHE_TIMEOUT;
	e->entry_timeout = CACHE_TIMEOUT;
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_context *c = ctx_of(req);
	struct fuse_entry_param e;
	struct dir_listing *l;
	const struct dir_entry *d;
	int rc;

	if (!valid_node(parent)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	rc = dircache_get(&c->dirs, c->img, ino_of(parent), &l);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = dir_check_name(l, name, strlen(name));
	d = rc ? NULL : dir_lookup(l, name, strlen(name));
	if (rc) {
		fuse_reply_err(req, -rc);
	} else if (!d) {
		/* A negative entry: the kernel remembers that the name does not exist. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = CACHE_TIMEOUT;
		fuse_reply_entry(req, &e);
	} else if (d->ino == 1 || d->ino > image_inode_count(c->img)) {
		fuse_reply_err(req, EUCLEAN); /* "bad inode number": the kernel's EFSCORRUPTED */
	} else if ((rc = entry_for(c, d->ino, &e)) != 0) {
		/* An entry naming a deleted inode: "deleted inode referenced", EFSCORRUPTED. */
		fuse_reply_err(req, rc == -ENOENT ? EUCLEAN : -rc);
	} else {
		fuse_reply_entry(req, &e);
	}
	dircache_put(&c->dirs, l);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req); /* node ids are inode numbers: nothing is kept per node */
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct stat st;
	int rc = valid_node(node) ? inode_stat(ctx_of(req)->img, ino_of(node), &st, NULL) : -ENOENT;

	(void)fi;
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, CACHE_TIMEOUT);
}

#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18)
/* statx: what getattr answers plus the birth time (stat -c %W) and attribute flags. */
static void op_statx(fuse_req_t req, fuse_ino_t node, int flags, int mask,
		     struct fuse_file_info *fi)
{
	struct statx stx;
	int rc = valid_node(node) ? inode_statx(ctx_of(req)->img, ino_of(node), &stx) : -ENOENT;

	(void)flags, (void)mask, (void)fi;
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_statx(req, 0, &stx, CACHE_TIMEOUT);
}
#endif

/*
 * FS_IOC_GETFLAGS and FS_IOC_FSGETXATTR: what lsattr asks. The kernel's fuse_fileattr_get
 * (fs/fuse/ioctl.c) sends them for files and directories, 4 bytes and a struct fsxattr. Setting
 * never gets here on a read-only mount; anything else is ENOTTY, as ext4_ioctl answers.
 */
static void op_ioctl(fuse_req_t req, fuse_ino_t node, unsigned cmd, void *arg,
		     struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
		     size_t out_bufsz)
{
	struct inode_fileattr fa;
	struct fsxattr fsx = {0};
	int rc;

	(void)arg, (void)fi, (void)flags, (void)in_buf, (void)in_bufsz;
	if (cmd == (unsigned)FS_IOC_SETFLAGS || cmd == (unsigned)FS_IOC_FSSETXATTR) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (cmd != (unsigned)FS_IOC_GETFLAGS && cmd != (unsigned)FS_IOC_FSGETXATTR) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	rc = valid_node(node) ? inode_fileattr(ctx_of(req)->img, ino_of(node), &fa) : -ENOENT;
	if (rc) {
		fuse_reply_err(req, -rc);
	} else if (cmd == (unsigned)FS_IOC_GETFLAGS) {
		if (out_bufsz < sizeof(fa.flags))
			fuse_reply_err(req, EINVAL);
		else
			fuse_reply_ioctl(req, 0, &fa.flags, sizeof(fa.flags));
	} else if (out_bufsz < sizeof(fsx)) {
		fuse_reply_err(req, EINVAL);
	} else {
		fsx.fsx_xflags = fa.xflags;
		fsx.fsx_projid = fa.projid;
		fuse_reply_ioctl(req, 0, &fsx, sizeof(fsx));
	}
}

static void op_readlink(fuse_req_t req, fuse_ino_t node)
{
	char *target = NULL;
	size_t len;
	int rc = valid_node(node) ? inode_readlink(ctx_of(req)->img, ino_of(node), &target, &len)
				  : -ENOENT;

	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
	free(target);
}

/* The listing OPENDIR handed out, as a later request brings it back (fh_handoff.h). */
static struct dir_listing *listing_of(const struct fuse_file_info *fi)
{
	struct dir_listing *l = (struct dir_listing *)(uintptr_t)fi->fh;

	fh_receive(l);
	return l;
}

/* The pager handle OPEN handed out, as a later request brings it back. */
static struct pager_handle *handle_of(const struct fuse_file_info *fi)
{
	struct pager_handle *h = (struct pager_handle *)(uintptr_t)fi->fh;

	fh_receive(h);
	return h;
}

/*
 * The first OPENDIR is answered ENOSYS when the kernel supports going without: from then on it
 * opens directories itself, with the readdir cache kept (fs/fuse/file.c fuse_do_open: no_opendir
 * defaults to FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR), and sends no RELEASEDIR. A walk of a tree
 * then costs two messages less per directory; READDIR finds the listing in the dircache by the
 * directory's node instead of by handle (do_readdir).
 */
static void op_opendir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct fs_context *c = ctx_of(req);
	struct dir_listing *l;
	int rc;

	if (c->zero_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	rc = valid_node(node) ? dircache_get(&c->dirs, c->img, ino_of(node), &l) : -ENOENT;
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)l;
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	atomic_fetch_add(&c->open_files, 1);
	fh_publish(l);
	if (fuse_reply_open(req, fi) != 0) {
		atomic_fetch_sub(&c->open_files, 1);
		dircache_put(&c->dirs, l);
	}
}

static size_t add_plain(fuse_req_t req, char *buf, size_t left, const struct dir_listing *l,
			const struct dir_entry *d, off_t next)
{
	struct stat st = {.st_ino = d->ino, .st_mode = (mode_t)d->type << 12};
	return fuse_add_direntry(req, buf, left, l->names + d->name_off, &st, next);
}

static size_t add_plus(fuse_req_t req, struct fs_context *c, char *buf, size_t left,
		       const struct dir_listing *l, const struct dir_entry *d, off_t next)
{
	const char *name = l->names + d->name_off;
	struct fuse_entry_param e;
	bool dot = name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));

	/* "." and "..", and entries we cannot stat, go without a node: no lookup is counted. */
	if (dot || d->ino == 1 || entry_for(c, d->ino, &e) != 0) {
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = d->ino;
		e.attr.st_mode = (mode_t)d->type << 12;
	}
	return fuse_add_direntry_plus(req, buf, left, name, &e, next);
}

/* One READDIR(PLUS) reply: the entries of `l` from `off` on, as many as fit in `size`. */
static void reply_entries(fuse_req_t req, struct fs_context *c, const struct dir_listing *l,
			  size_t size, off_t off, bool plus)
{
	char *buf = malloc(size);
	size_t used = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = off < 0 ? 0 : (size_t)off; i < l->count; i++) {
		const struct dir_entry *d = &l->entries[i];
		size_t n = plus ? add_plus(req, c, buf + used, size - used, l, d, (off_t)i + 1)
				: add_plain(req, buf + used, size - used, l, d, (off_t)i + 1);
		if (n > size - used)
			break; /* did not fit: the next call resumes at this entry */
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void do_readdir(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct fs_context *c = ctx_of(req);
	struct dir_listing *cached;
	int rc;

	if (fi->fh) {
		reply_entries(req, c, listing_of(fi), size, off, plus);
		return;
	}
	/* Opened without OPENDIR: the listing is the cache's, for this call. */
	rc = valid_node(node) ? dircache_get(&c->dirs, c->img, ino_of(node), &cached) : -ENOENT;
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_entries(req, c, cached, size, off, plus);
	dircache_put(&c->dirs, cached);
}

static void op_readdir(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, node, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, node, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	(void)node;
	dircache_put(&ctx_of(req)->dirs, listing_of(fi));
	atomic_fetch_sub(&ctx_of(req)->open_files, 1);
	fuse_reply_err(req, 0);
}

static void op_open(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct fs_context *c = ctx_of(req);
	struct pager_handle *h;
	struct stat st;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	rc = valid_node(node) ? inode_stat(c->img, ino_of(node), &st, NULL) : -ENOENT;
	if (rc == 0 && !S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (rc == 0)
		rc = pager_register(c->pager, ino_of(node), &h);
	if (rc) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 1; /* the image is immutable: the kernel's cache stays valid */
	atomic_fetch_add(&c->open_files, 1);
	fh_publish(h);
	if (fuse_reply_open(req, fi) != 0) {
		atomic_fetch_sub(&c->open_files, 1);
		pager_release(c->pager, h);
	}
}

void fuse_ops_context_init(struct fs_context *c)
{
	pthread_mutex_init(&c->reads_lock, NULL);
	pthread_cond_init(&c->reads_drained, NULL);
	atomic_init(&c->reads_in_flight, 0);
	atomic_init(&c->reads_closed, false);
}

void fuse_ops_drain_reads(struct fs_context *c)
{
	pthread_mutex_lock(&c->reads_lock);
	atomic_store(&c->reads_closed, true);
	while (atomic_load(&c->reads_in_flight) > 0)
		pthread_cond_wait(&c->reads_drained, &c->reads_lock);
	pthread_mutex_unlock(&c->reads_lock);
}

void fuse_ops_context_destroy(struct fs_context *c)
{
	pthread_cond_destroy(&c->reads_drained);
	pthread_mutex_destroy(&c->reads_lock);
}

static void read_end(struct fs_context *c)
{
	if (atomic_fetch_sub(&c->reads_in_flight, 1) == 1 && atomic_load(&c->reads_closed)) {
		pthread_mutex_lock(&c->reads_lock); /* the drain is in its wait, or not yet checking */
		pthread_cond_broadcast(&c->reads_drained);
		pthread_mutex_unlock(&c->reads_lock);
	}
}

/* Counts `n` holds on the session for a READ, unless it is closing. */
static bool read_begin(struct fs_context *c, unsigned n)
{
	atomic_fetch_add(&c->reads_in_flight, n);
	if (!atomic_load(&c->reads_closed))
		return true;
	while (n--)
		read_end(c);
	return false;
}

/* One READ: heap-allocated because it may be answered on a pager thread after the handler has
 * returned (a handler on an io_uring queue must not wait). */
struct fuse_read {
	struct pager_read pr; /* first: done gets &pr */
	struct vmo_view view;
	fuse_req_t req;
	struct fs_context *c;
};

/* pager_read.done: on the handler's thread when the pages were present, else on the pager
 * thread that supplied the last of them. */
static void read_done(struct pager_read *pr, int rc)
{
	struct fuse_read *fr = (struct fuse_read *)pr;
	struct fs_context *c = fr->c;

	if (rc)
		fuse_reply_err(fr->req, -rc);
	else if (fr->view.len == 0)
		fuse_reply_buf(fr->req, NULL, 0);
	else
		fuse_reply_iov(fr->req, fr->view.iov, fr->view.iovcnt); /* from the VMO's pages */
	if (rc == 0)
		pager_view_release(c->pager, &fr->view);
	free(fr);
	read_end(c); /* last: the session may be destroyed once the count drops to zero */
}

static void op_read(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs_context *c = ctx_of(req);
	struct fuse_read *fr;

	(void)node;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fr = malloc(sizeof(*fr));
	if (!fr) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Two holds: the answer's (read_done drops it) and this handler's, which may still be in
	 * the pager after answering (a supply on this thread). */
	if (!read_begin(c, 2)) {
		free(fr);
		fuse_reply_err(req, EIO); /* the session is closing */
		return;
	}
	fr->req = req;
	fr->c = c;
	fr->pr = (struct pager_read){
	    .h = handle_of(fi),
	    .off = (uint64_t)off,
	    .len = size > VMO_READ_MAX ? VMO_READ_MAX : size, /* never more, as negotiated */
	    .view = &fr->view,
	    .done = read_done,
	    /* A small request is cheaper read here than handed to a pager thread and back; it
	     * blocks this queue only for that read, never on another reader's request. */
	    .supply_here = true,
	};
	pager_read_start(c->pager, &fr->pr);
	read_end(c);
}

static void op_release(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	(void)node;
	pager_release(ctx_of(req)->pager, handle_of(fi));
	atomic_fetch_sub(&ctx_of(req)->open_files, 1);
	fuse_reply_err(req, 0);
}

static void op_lseek(fuse_req_t req, fuse_ino_t node, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct pager_handle *h = handle_of(fi);
	uint64_t pos;
	int rc;

	(void)node, (void)ctx_of(req);
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fuse_reply_err(req, EINVAL); /* the kernel answers SEEK_SET/CUR/END itself */
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, ENXIO);
		return;
	}
	rc = pager_seek(h, (uint64_t)off, whence == SEEK_DATA, &pos);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_lseek(req, (off_t)pos);
}

static void op_statfs(fuse_req_t req, fuse_ino_t node)
{
	const struct fs_totals *t = &ctx_of(req)->totals;
	struct statvfs sv = {0};

	(void)node;
	sv.f_bsize = t->bsize;
	sv.f_frsize = t->bsize;
	sv.f_blocks = t->blocks;
	sv.f_bfree = t->bfree;
	sv.f_bavail = t->bavail;
	sv.f_files = t->files;
	sv.f_ffree = t->ffree;
	sv.f_favail = t->ffree;
	sv.f_namemax = t->namemax;
	fuse_reply_statfs(req, &sv);
}

/* Replies to a getxattr/listxattr: size probe, ERANGE, or the bytes. */
static void reply_xattr_bytes(fuse_req_t req, const void *data, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

static void reply_stats(fuse_req_t req, size_t size)
{
	struct pager_stats s;
	char buf[2048];
	int n;

	pager_get_stats(ctx_of(req)->pager, &s);
	n = pager_format_stats(&s, buf, sizeof(buf));
	if (n >= 0 && (size_t)n < sizeof(buf))
		n += image_format_stats(ctx_of(req)->img, buf + n, sizeof(buf) - (size_t)n);
	if (n >= 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "fuse_io_uring %d\n",
			      atomic_load(&ctx_of(req)->on_uring) ? 1 : 0);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	reply_xattr_bytes(req, buf, n < 0 ? 0 : (size_t)n, size);
}

/* An xattr the mount options take away, as ext4's noacl and nouser_xattr do
 * (fs/ext4/xattr.c: the handlers' list() is false, get() EOPNOTSUPP). */
static bool xattr_switched_off(const struct fs_context *c, const char *name)
{
	if (c->noacl && (strcmp(name, "system.posix_acl_access") == 0 ||
			 strcmp(name, "system.posix_acl_default") == 0))
		return true;
	return c->nouser_xattr && strncmp(name, "user.", 5) == 0;
}

/* Drops the switched-off names from a listxattr buffer (NUL-terminated names). */
static size_t xattr_filter_list(const struct fs_context *c, char *names, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		size_t n = strnlen(names + in, len - in) + 1;
		if (!xattr_switched_off(c, names + in)) {
			memmove(names + out, names + in, n);
			out += n;
		}
		in += n;
	}
	return out > len ? len : out;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t node, const char *name, size_t size)
{
	struct fs_context *c = ctx_of(req);
	void *value = NULL;
	size_t len = 0;
	int rc;

	if (node == FUSE_ROOT_ID && strcmp(name, FUSE_OPS_STATS_XATTR) == 0) {
		reply_stats(req, size);
		return;
	}
	if (xattr_switched_off(c, name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	rc = valid_node(node) ? xattr_get(c->img, ino_of(node), name, &value, &len) : -ENOENT;
	if (rc)
		fuse_reply_err(req, -rc);
	else
		reply_xattr_bytes(req, value, len, size);
	free(value);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t node, size_t size)
{
	char *names = NULL;
	size_t len = 0;
	int rc =
	    valid_node(node) ? xattr_list(ctx_of(req)->img, ino_of(node), &names, &len) : -ENOENT;

	if (rc == 0 && (ctx_of(req)->noacl || ctx_of(req)->nouser_xattr))
		len = xattr_filter_list(ctx_of(req), names, len);
	if (rc)
		fuse_reply_err(req, -rc);
	else
		reply_xattr_bytes(req, names, len, size);
	free(names);
}

static void op_access(fuse_req_t req, fuse_ino_t node, int mask)
{
	(void)node;
	fuse_reply_err(req, (mask & W_OK) ? EROFS : 0);
}

/*
 * No handler changes anything: the mount is always `ro`, so the kernel's VFS refuses every
 * change with EROFS before a request is sent (mnt_want_write in fs/namespace.c), and the
 * write-side operations are simply absent here.
 */
static const struct fuse_lowlevel_ops ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
#if FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18)
    .statx = op_statx,
#endif
    .readlink = op_readlink,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_releasedir,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .lseek = op_lseek,
    .statfs = op_statfs,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .access = op_access,
    .ioctl = op_ioctl,
};

const struct fuse_lowlevel_ops *fuse_ops_table(void)
{
	return &ops;
}
