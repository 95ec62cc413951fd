// SPDX-License-Identifier: MIT
/*
 * bench-floor — the FUSE floor of scripts/bench.py: the cheapest libfuse server that shows the
 * same tree as an ext4 image. It copies a directory tree (the kernel's mount of the image) into
 * memory at start — every entry's attributes, every file's bytes, every symlink's target — and
 * then answers from RAM only: no image, no parsing, no page cache of its own. Whatever a real
 * server costs above this is the server's; what this costs is FUSE's.
 *
 * It faces the kernel as ext4pager does (src/fuse/fuse_ops.c op_init): the same capabilities
 * (POSIX ACLs asked for, readdirplus, async reads, 1 MiB max_readahead), attribute and entry
 * timeouts of a day, kept page and readdir caches, the multithreaded loop with clone_fd, and
 * FUSE over io_uring with -o io_uring. getxattr answers ENODATA and listxattr nothing, as a
 * real server must for an inode without xattrs. Not part of the product: the bench builds it.
 *
 * usage: bench-floor [-o io_uring] [-o dev] SOURCE MOUNTPOINT   (stays in the foreground)
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 318
#include <fuse_lowlevel.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIMEOUT 86400.0

struct node {
	struct stat st;
	char *name;	/* within the parent; "" for the root */
	char *data;	/* a regular file's bytes, a symlink's target */
	uint32_t *kids; /* a directory's children, as node ids, in readdir order */
	uint32_t nkids, cap;
	uint32_t parent;
	uint32_t hash_next; /* chain of the (parent, name) hash table */
};

/* Node id n is nodes[n]; id 1 is the root (FUSE_ROOT_ID), id 0 unused. Built before the mount,
 * read-only afterwards: no locks. */
static struct node *nodes;
static uint32_t nnodes, nodes_cap;
static uint32_t *buckets;
static uint32_t nbuckets;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("realloc");
	return p;
}

static uint32_t hash_of(uint32_t parent, const char *name)
{
	uint32_t h = 2166136261u ^ parent;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

static uint32_t add_node(uint32_t parent, const char *name, const struct stat *st)
{
	struct node *n;

	if (nnodes == nodes_cap) {
		nodes_cap = nodes_cap ? nodes_cap * 2 : 1024;
		nodes = xrealloc(nodes, nodes_cap * sizeof(*nodes));
	}
	n = &nodes[nnodes];
	memset(n, 0, sizeof(*n));
	n->st = *st;
	n->name = strdup(name);
	n->parent = parent;
	if (parent) {
		struct node *p = &nodes[parent];
		if (p->nkids == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 8;
			p->kids = xrealloc(p->kids, p->cap * sizeof(*p->kids));
		}
		p->kids[p->nkids++] = nnodes;
	}
	return nnodes++;
}

static void load_data(struct node *n, int dirfd, const char *name)
{
	if (S_ISLNK(n->st.st_mode)) {
		n->data = calloc(1, (size_t)n->st.st_size + 1);
		if (!n->data || readlinkat(dirfd, name, n->data, (size_t)n->st.st_size) < 0)
			die(name);
	} else if (S_ISREG(n->st.st_mode) && n->st.st_size > 0) {
		int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW);
		size_t got = 0;
		n->data = malloc((size_t)n->st.st_size);
		if (fd < 0 || !n->data)
			die(name);
		while (got < (size_t)n->st.st_size) {
			ssize_t r = read(fd, n->data + got, (size_t)n->st.st_size - got);
			if (r <= 0)
				die(name);
			got += (size_t)r;
		}
		close(fd);
	}
}

/* Copies the directory open as dirfd (node id `self`) in readdir order, depth first. */
static void load_dir(int dirfd, uint32_t self)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d)
		die("fdopendir");
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		uint32_t id;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			die(e->d_name);
		id = add_node(self, e->d_name, &st);
		load_data(&nodes[id], dirfd, e->d_name);
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (fd < 0)
				die(e->d_name);
			load_dir(fd, id);
		}
	}
	closedir(d);
}

static void build_hash(void)
{
	nbuckets = 1;
	while (nbuckets < nnodes * 2)
		nbuckets <<= 1;
	buckets = calloc(nbuckets, sizeof(*buckets));
	if (!buckets)
		die("calloc");
	for (uint32_t i = 2; i < nnodes; i++) {
		uint32_t b = hash_of(nodes[i].parent, nodes[i].name) & (nbuckets - 1);
		nodes[i].hash_next = buckets[b];
		buckets[b] = i;
	}
}

static uint32_t find_child(uint32_t parent, const char *name)
{
	for (uint32_t i = buckets[hash_of(parent, name) & (nbuckets - 1)]; i;
	     i = nodes[i].hash_next)
		if (nodes[i].parent == parent && strcmp(nodes[i].name, name) == 0)
			return i;
	return 0;
}

static bool valid(fuse_ino_t id)
{
	return id >= 1 && id < nnodes;
}

static void fill_entry(uint32_t id, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = id;
	e->attr = nodes[id].st;
	e->attr.st_ino = id;
	e->attr_timeout = TIMEOUT;
	e->entry_timeout = TIMEOUT;
}

static void floor_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want |=
	    conn->capable & (FUSE_CAP_EXPORT_SUPPORT | FUSE_CAP_CACHE_SYMLINKS |
			     FUSE_CAP_POSIX_ACL | FUSE_CAP_ASYNC_READ | FUSE_CAP_READDIRPLUS |
			     FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_PARALLEL_DIROPS);
	conn->want &= ~(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_WRITEBACK_CACHE);
	conn->max_readahead = 1u << 20;
}

static void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	uint32_t id = valid(parent) ? find_child((uint32_t)parent, name) : 0;

	if (id) {
		fill_entry(id, &e);
	} else {
		memset(&e, 0, sizeof(e)); /* a negative entry, kept a day */
		e.entry_timeout = TIMEOUT;
	}
	fuse_reply_entry(req, &e);
}

static void floor_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino, (void)nlookup;
	fuse_reply_none(req);
}

static void floor_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	(void)count, (void)f;
	fuse_reply_none(req);
}

static void floor_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (!valid(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	st = nodes[ino].st;
	st.st_ino = ino;
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void floor_readlink(fuse_req_t req, fuse_ino_t ino)
{
	if (valid(ino) && S_ISLNK(nodes[ino].st.st_mode))
		fuse_reply_readlink(req, nodes[ino].data);
	else
		fuse_reply_err(req, EINVAL);
}

static void floor_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!valid(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void floor_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fi->cache_readdir = 1;
	floor_open(req, ino, fi);
}

static void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	const struct node *n = &nodes[ino];

	(void)fi;
	if (off >= n->st.st_size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if ((off_t)size > n->st.st_size - off)
		size = (size_t)(n->st.st_size - off);
	fuse_reply_buf(req, n->data + off, size);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	const struct node *d = &nodes[ino];
	char *buf = malloc(size);
	size_t used = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Offsets 0 and 1 are "." and ".."; children follow. Fills all of `size`. */
	for (size_t i = off < 0 ? 0 : (size_t)off; i < (size_t)d->nkids + 2; i++) {
		uint32_t id = i == 0   ? (uint32_t)ino
			      : i == 1 ? (d->parent ? d->parent : 1)
				       : d->kids[i - 2];
		const char *name = i == 0 ? "." : i == 1 ? ".." : nodes[id].name;
		struct fuse_entry_param e;
		size_t n;
		fill_entry(id, &e);
		if (plus && i < 2) { /* no lookup is counted for "." and ".." */
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = id;
			e.attr.st_mode = nodes[id].st.st_mode;
		}
		n = plus ? fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
						  (off_t)i + 1)
			 : fuse_add_direntry(req, buf + used, size - used, name, &e.attr,
					     (off_t)i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void floor_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, false);
}

static void floor_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, true);
}

static void floor_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino, (void)fi;
	fuse_reply_err(req, 0);
}

static void floor_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = {.f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255};

	(void)ino;
	fuse_reply_statfs(req, &sv);
}

static void floor_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino, (void)name, (void)size;
	fuse_reply_err(req, ENODATA);
}

static void floor_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	if (size == 0)
		fuse_reply_xattr(req, 0);
	else
		fuse_reply_buf(req, NULL, 0);
}

static const struct fuse_lowlevel_ops floor_ops = {
    .init = floor_init,
    .lookup = floor_lookup,
    .forget = floor_forget,
    .forget_multi = floor_forget_multi,
    .getattr = floor_getattr,
    .readlink = floor_readlink,
    .open = floor_open,
    .read = floor_read,
    .release = floor_release,
    .opendir = floor_opendir,
    .readdir = floor_readdir,
    .readdirplus = floor_readdirplus,
    .releasedir = floor_release,
    .statfs = floor_statfs,
    .getxattr = floor_getxattr,
    .listxattr = floor_listxattr,
};

int main(int argc, char **argv)
{
	char opts[256] = "ro,default_permissions,fsname=floor,subtype=floor";
	char *fargv[] = {argv[0], "-o", opts, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_loop_config *cfg;
	struct fuse_session *se;
	struct stat st;
	int c, fd, rc;

	while ((c = getopt(argc, argv, "o:")) != -1) {
		if (c != 'o' || strlen(opts) + strlen(optarg) + 2 > sizeof(opts)) {
			fprintf(stderr, "usage: %s [-o io_uring] [-o dev] SOURCE MOUNTPOINT\n",
				argv[0]);
			return 2;
		}
		strcat(strcat(opts, ","), optarg);
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: %s [-o io_uring] [-o dev] SOURCE MOUNTPOINT\n", argv[0]);
		return 2;
	}
	fd = open(argv[optind], O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fstat(fd, &st) != 0)
		die(argv[optind]);
	add_node(0, "", &st); /* id 0: unused */
	add_node(0, "", &st); /* id 1: the root */
	load_dir(fd, 1);
	build_hash();
	se = fuse_session_new(&args, &floor_ops, sizeof(floor_ops), NULL);
	if (!se || fuse_session_mount(se, argv[optind + 1]) != 0)
		return 1;
	fuse_set_signal_handlers(se);
	cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, 16);
	fuse_loop_cfg_set_idle_threads(cfg, 8);
	fprintf(stderr, "floor: %u nodes in memory, serving %s\n", nnodes - 1, argv[optind + 1]);
	rc = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	return rc ? 1 : 0;
}
