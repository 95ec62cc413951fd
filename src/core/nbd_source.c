// SPDX-License-Identifier: MIT
#include "nbd_source.h"

#include "lock.h"

#include <errno.h>
#include <libnbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT	    30
#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS	    16
/* The NBD protocol's default largest request (doc/proto.md: 32 MiB) when none is advertised. */
#define DEFAULT_MAX_REQUEST (32u << 20)
/* After a timeout's shutdown, how long libnbd gets to fail the request itself. */
#define GIVE_UP_NS (5 * 1000000000LL)

struct nbd_conn {
	struct mutex lock;    /* held for a whole request */
	struct nbd_handle *h; /* guarded by: lock; NULL once closed */
	int fd;		      /* immutable after connect: shut down at a timeout */
	atomic_bool dead;     /* a failed connection is not used again */
	char *bounce;	      /* guarded by: lock */
	size_t bounce_cap;    /* guarded by: lock */
};

struct nbd_source {
	struct byte_source base;
	struct nbd_conn conns[MAX_CONNECTIONS];
	unsigned count;	      /* immutable after open */
	uint64_t max_request; /* immutable after open */
	uint64_t alignment;   /* immutable after open: the server's minimum block size */
	long long timeout_ns; /* immutable */
	atomic_uint next;     /* where the next reader starts looking for an idle connection */
	atomic_uint_fast64_t requests, timeouts, bounced;
	struct nbd_server server; /* owned; pid 0 for a URI */
	char kind[48];
};

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

bool nbd_source_is_uri(const char *name)
{
	static const char *const schemes[] = {"nbd://",	      "nbds://",      "nbd+unix://",
					      "nbds+unix://", "nbd+vsock://", "nbds+vsock://"};

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(name, schemes[i], strlen(schemes[i])) == 0)
			return true;
	return false;
}

/* ---- reads ---- */

/* take_conn's result is locked: tells clang's analysis, which cannot follow a chosen lock. */
static void conn_is_locked(struct nbd_conn *c) ASSERT_HELD(c->lock) NO_TSA
{
	(void)c;
}

/* An idle live connection if there is one, else the next one in turn; returned locked. */
static struct nbd_conn *take_conn(struct nbd_source *s) NO_TSA
{
	unsigned start = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);

	for (unsigned i = 0; i < s->count; i++) {
		struct nbd_conn *c = &s->conns[(start + i) % s->count];
		if (!atomic_load(&c->dead) && mutex_trylock(&c->lock) == 0)
			return c;
	}
	for (unsigned i = 0; i < s->count; i++) {
		struct nbd_conn *c = &s->conns[(start + i) % s->count];
		if (!atomic_load(&c->dead)) {
			mutex_lock(&c->lock);
			return c;
		}
	}
	mutex_lock(&s->conns[0].lock);
	return &s->conns[0];
}

/*
 * One NBD read, waited for on this thread (it holds the connection) until the deadline. Past
 * it the socket is shut down: libnbd then fails every command in flight on that connection
 * (the handle goes dead and retires them), so the buffer is no longer referenced once this
 * returns, whatever happened.
 */
static int wait_read(struct nbd_source *s, struct nbd_conn *c, void *buf, uint64_t n, uint64_t pos)
    REQUIRES(c->lock)
{
	long long deadline = now_ns() + s->timeout_ns;
	int64_t cookie = nbd_aio_pread(c->h, buf, n, pos, (nbd_completion_callback){0}, 0);
	bool shut = false;

	if (cookie == -1)
		return -EIO;
	for (;;) {
		int done = nbd_aio_command_completed(c->h, cookie);
		long long left = deadline - now_ns();
		if (done == 1)
			return 0;
		if (done == -1)
			return -EIO;
		if (left <= 0 && !shut) {
			shutdown(c->fd, SHUT_RDWR);
			atomic_fetch_add_explicit(&s->timeouts, 1, memory_order_relaxed);
			shut = true;
		} else if (shut && left < -GIVE_UP_NS) {
			/* libnbd never retired it: the connection is never polled again, so
			 * nothing more is read into the buffer */
			atomic_store(&c->dead, true);
			return -EIO;
		}
		if (nbd_poll(c->h, shut ? 1000 : (int)(left / 1000000 + 1)) == -1 &&
		    nbd_aio_command_completed(c->h, cookie) != 1)
			return -EIO;
	}
}

/* One read of [pos, pos + len) into buf, split at the server's largest request. */
static int conn_read(struct nbd_source *s, struct nbd_conn *c, void *buf, uint64_t len,
		     uint64_t pos) REQUIRES(c->lock)
{
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < s->max_request ? len - done : s->max_request;
		int rc;

		if (atomic_load(&c->dead) || !c->h)
			return -EIO;
		rc = wait_read(s, c, (char *)buf + done, n, pos + done);
		atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
		if (rc) {
			if (!nbd_aio_is_ready(c->h))
				atomic_store(&c->dead, true);
			return rc;
		}
		done += n;
	}
	return 0;
}

static int ensure_bounce(struct nbd_conn *c, size_t len) REQUIRES(c->lock)
{
	char *p;

	if (c->bounce_cap >= len)
		return 0;
	p = realloc(c->bounce, len);
	if (!p)
		return -ENOMEM;
	c->bounce = p;
	c->bounce_cap = len;
	return 0;
}

static int nbd_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
		      uint64_t pos)
{
	struct nbd_source *s = (struct nbd_source *)src;
	uint64_t start = pos / s->alignment * s->alignment;
	uint64_t end = (pos + len + s->alignment - 1) / s->alignment * s->alignment;
	struct nbd_conn *c = take_conn(s);
	int rc;

	conn_is_locked(c);
	if (end > src->size)
		end = src->size; /* the export's size need not be a multiple of the block size */
	if (iovcnt == 1 && start == pos && end == pos + len) {
		rc = conn_read(s, c, iov[0].iov_base, len, pos);
	} else {
		atomic_fetch_add_explicit(&s->bounced, 1, memory_order_relaxed);
		rc = ensure_bounce(c, end - start);
		if (rc == 0)
			rc = conn_read(s, c, c->bounce, end - start, start);
		if (rc == 0)
			byte_source_iov_fill(iov, iovcnt, 0, c->bounce + (pos - start), len);
	}
	mutex_unlock(&c->lock);
	return rc;
}

/* ---- open and close ---- */

static void close_conns(struct nbd_source *s) NO_TSA
{
	for (unsigned i = 0; i < MAX_CONNECTIONS; i++) {
		struct nbd_conn *c = &s->conns[i];
		if (c->h) {
			if (nbd_aio_is_ready(c->h))
				nbd_aio_disconnect(c->h, 0);
			nbd_close(c->h);
		}
		c->h = NULL;
		free(c->bounce);
		c->bounce = NULL;
		mutex_destroy(&c->lock);
	}
}

static void nbd_close_source(struct byte_source *src)
{
	struct nbd_source *s = (struct nbd_source *)src;

	close_conns(s);
	nbd_server_stop(&s->server);
	free(s);
}

static int nbd_format_stats(const struct byte_source *src, char *buf, size_t len)
{
	const struct nbd_source *s = (const struct nbd_source *)src;
	unsigned live = 0;
	int n;

	for (unsigned i = 0; i < s->count; i++)
		live += !atomic_load(&s->conns[i].dead);
	n = snprintf(buf, len,
		     "nbd_connections %u\nnbd_connections_live %u\nnbd_requests %llu\n"
		     "nbd_timeouts %llu\nnbd_bounced %llu\n",
		     s->count, live,
		     (unsigned long long)atomic_load_explicit(&s->requests, memory_order_relaxed),
		     (unsigned long long)atomic_load_explicit(&s->timeouts, memory_order_relaxed),
		     (unsigned long long)atomic_load_explicit(&s->bounced, memory_order_relaxed));
	return n < 0 ? 0 : (n < (int)len ? n : (int)len - 1);
}

static const struct byte_source_ops nbd_ops = {
    .preadv = nbd_preadv, .close = nbd_close_source, .format_stats = nbd_format_stats};

/* Drives an asynchronous connect to the ready state, or fails at the deadline. */
static int finish_connect(struct nbd_handle *h, long long deadline, char *why, size_t why_len)
{
	while (!nbd_aio_is_ready(h)) {
		long long left = deadline - now_ns();
		if (nbd_aio_is_dead(h) || nbd_aio_is_closed(h)) {
			snprintf(why, why_len, "%s", nbd_get_error() ?: "the connection failed");
			return -EIO;
		}
		if (left <= 0) {
			snprintf(why, why_len, "no answer within the timeout");
			return -ETIMEDOUT;
		}
		if (nbd_poll(h, (int)(left / 1000000 + 1)) == -1) {
			snprintf(why, why_len, "%s", nbd_get_error() ?: "the connection failed");
			return -EIO;
		}
	}
	return 0;
}

/* Opens connection `i`: to `uri`, or to the started server when uri is NULL. */
static int open_conn(struct nbd_source *s, unsigned i, const char *uri, char *why,
		     size_t why_len) NO_TSA
{
	struct nbd_conn *c = &s->conns[i];
	long long deadline = now_ns() + s->timeout_ns;
	int rc, fd;

	c->h = nbd_create();
	if (!c->h) {
		snprintf(why, why_len, "%s", nbd_get_error() ?: "libnbd failed");
		return -ENOMEM;
	}
	nbd_set_handle_name(c->h, "ext4pager");
	if (uri) {
		/* The user named the URI: its tls-psk-file= may name a local file. */
		nbd_set_uri_allow_local_file(c->h, true);
		rc = nbd_aio_connect_uri(c->h, uri);
	} else {
		fd = nbd_server_connect(&s->server);
		if (fd < 0) {
			snprintf(why, why_len, "cannot connect to %s: %s", s->server.program,
				 strerror(-fd));
			return fd;
		}
		rc = nbd_aio_connect_socket(c->h, fd); /* libnbd owns fd from here */
	}
	if (rc == -1) {
		snprintf(why, why_len, "%s", nbd_get_error() ?: "cannot connect");
		return -EINVAL;
	}
	rc = finish_connect(c->h, deadline, why, why_len);
	if (rc == 0)
		c->fd = nbd_aio_get_fd(c->h);
	return rc;
}

/* The export's size and request limits, from the first connection. */
static int read_geometry(struct nbd_source *s, char *why, size_t why_len)
{
	struct nbd_handle *h = s->conns[0].h;
	int64_t size = nbd_get_size(h), max = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
	int64_t min = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);

	if (size <= 0) {
		snprintf(why, why_len, "the export is empty or its size is unknown");
		return -EINVAL;
	}
	s->base.size = (uint64_t)size;
	s->max_request = max > 0 && max < DEFAULT_MAX_REQUEST ? (uint64_t)max : DEFAULT_MAX_REQUEST;
	s->alignment = min > 0 && min <= 65536 ? (uint64_t)min : 1;
	s->max_request = s->max_request / s->alignment * s->alignment;
	return 0;
}

static int open_pool(struct nbd_source *s, const char *uri, const struct nbd_source_options *o,
		     char *why, size_t why_len)
{
	unsigned want = o->connections ? o->connections : DEFAULT_CONNECTIONS;
	int rc = open_conn(s, 0, uri, why, why_len);

	s->count = 1;
	if (rc == 0)
		rc = read_geometry(s, why, why_len);
	if (rc)
		return rc;
	if (want > MAX_CONNECTIONS)
		want = MAX_CONNECTIONS;
	if (uri && nbd_can_multi_conn(s->conns[0].h) != 1)
		want = 1;
	for (unsigned i = 1; i < want && rc == 0; i++) {
		rc = open_conn(s, i, uri, why, why_len);
		if (rc == 0 && nbd_get_size(s->conns[i].h) != (int64_t)s->base.size) {
			snprintf(why, why_len, "the export changed size between connections");
			rc = -EIO;
		}
		s->count = i + 1;
	}
	return rc;
}

static struct nbd_source *new_source(const struct nbd_source_options *o)
{
	struct nbd_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.ops = &nbd_ops;
	s->base.kind = s->kind;
	s->timeout_ns = (long long)(o->timeout ? o->timeout : DEFAULT_TIMEOUT) * 1000000000LL;
	s->server.pidfd = -1;
	for (unsigned i = 0; i < MAX_CONNECTIONS; i++) {
		mutex_init(&s->conns[i].lock);
		s->conns[i].fd = -1;
	}
	return s;
}

int nbd_source_open_uri(const char *uri, const struct nbd_source_options *opts,
			struct byte_source **out, char *why, size_t why_len)
{
	struct nbd_source *s = new_source(opts);
	char reason[384];
	int rc;

	if (!s) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->kind, sizeof(s->kind), "nbd");
	rc = open_pool(s, uri, opts, reason, sizeof(reason));
	if (rc) {
		snprintf(why, why_len, "cannot use NBD export %s: %s", uri, reason);
		nbd_close_source(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

int nbd_source_open_server(struct nbd_server *srv, const char *kind,
			   const struct nbd_source_options *opts, struct byte_source **out,
			   char *why, size_t why_len)
{
	struct nbd_source *s = new_source(opts);
	char reason[384];
	int rc;

	if (!s) {
		nbd_server_stop(srv);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	s->server = *srv;
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	rc = open_pool(s, NULL, opts, reason, sizeof(reason));
	nbd_server_seal(&s->server);
	if (rc) {
		nbd_server_explain(&s->server, reason, sizeof(reason));
		snprintf(why, why_len, "%s", reason);
		nbd_close_source(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
