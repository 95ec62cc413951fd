// SPDX-License-Identifier: MIT
/* The pager without FUSE, in the spirit of the Starnix test_pager: a backing file, registered
 * extents, and reads through pager_read. Concurrent cases synchronize with a gate in the
 * backing source and the pager's counters, never with sleeps. */
#include "byte_source.h"
#include "pager.h"
#include "supply.h"
#include "testimg.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BS 1024u

static struct pager *pg;
static int backing_fd;

/* A byte source that counts reads and holds each one until the gate opens. */
struct gated_source {
	struct byte_source base;
	struct byte_source *inner;
	pthread_mutex_t lock;
	pthread_cond_t opened;
	bool gate_closed; /* guarded by: lock */
	_Atomic int reads;
};

static struct gated_source gated;

static int gated_preadv(struct byte_source *src, const struct iovec *iov, int iovcnt, size_t len,
			uint64_t pos)
{
	struct gated_source *g = (struct gated_source *)src;

	atomic_fetch_add(&g->reads, 1);
	pthread_mutex_lock(&g->lock);
	while (g->gate_closed)
		pthread_cond_wait(&g->opened, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return byte_source_preadv(g->inner, iov, iovcnt, len, pos);
}

static void gated_close(struct byte_source *src)
{
	(void)src;
}

static const struct byte_source_ops gated_ops = {.preadv = gated_preadv, .close = gated_close};

static void gate_open(void)
{
	pthread_mutex_lock(&gated.lock);
	gated.gate_closed = false;
	pthread_cond_broadcast(&gated.opened);
	pthread_mutex_unlock(&gated.lock);
}

static void fill_zero(uint8_t *b, size_t n)
{
	memset(b, 0, n);
}

static void fill_pattern(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + (i >> 10));
}

/* A pager over a backing file of `backing` bytes; with `gate`, every read waits for
 * gate_open(). */
static void start_with(void (*fill)(uint8_t *, size_t), size_t backing, uint64_t cache, bool gate)
{
	struct pager_config cfg = {.threads = 2, .cache_bytes = cache};
	struct pager_backing b = {0};

	gated.base.ops = &gated_ops;
	gated.inner = testimg_backing(backing, fill, &backing_fd);
	gated.base.size = UINT64_MAX / 2; /* the inner source bounds reads: count them all here */
	gated.gate_closed = gate;
	atomic_store(&gated.reads, 0);
	pthread_mutex_init(&gated.lock, NULL);
	pthread_cond_init(&gated.opened, NULL);
	b.data = &gated.base;
	ck_assert_int_eq(pager_create(&b, &cfg, &pg), 0);
	ck_assert_int_eq(pager_start(pg), 0);
}

static void start(void (*fill)(uint8_t *, size_t), size_t backing, uint64_t cache)
{
	start_with(fill, backing, cache, false);
}

static void stop(void)
{
	gate_open();
	pager_destroy(pg);
	byte_source_close(gated.inner);
	close(backing_fd);
	pthread_cond_destroy(&gated.opened);
	pthread_mutex_destroy(&gated.lock);
}

static void pwrite_backing(const void *data, size_t n, off_t off)
{
	ck_assert_int_eq(pwrite(backing_fd, data, n, off), (ssize_t)n);
}

static struct pager_handle *reg(uint32_t ino, uint64_t size, const struct extent *ext, size_t n)
{
	struct extmap map;
	struct pager_handle *h;
	ck_assert_int_eq(extmap_from_array(ext, n, BS, 1u << 30, &map), 0);
	ck_assert_int_eq(pager_register_map(pg, ino, size, &map, &h), 0);
	return h;
}

/* Reads [off, off+len) through the pager into `out`; returns pager_read's result. */
static int read_into(struct pager_handle *h, uint64_t off, size_t len, uint8_t *out, size_t *got)
{
	struct vmo_view view;
	int rc = pager_read(pg, h, off, len, &view);
	size_t pos = 0;

	if (rc)
		return rc;
	for (int i = 0; i < view.iovcnt; i++) {
		memcpy(out + pos, view.iov[i].iov_base, view.iov[i].iov_len);
		pos += view.iov[i].iov_len;
	}
	ck_assert_uint_eq(pos, view.len);
	if (got)
		*got = pos;
	pager_view_release(pg, &view);
	return 0;
}

static void read_all(struct pager_handle *h, uint64_t off, size_t len, uint8_t *out)
{
	for (size_t done = 0; done < len;) {
		size_t n = len - done < VMO_READ_MAX ? len - done : VMO_READ_MAX, got = 0;
		ck_assert_int_eq(read_into(h, off + done, n, out + done, &got), 0);
		ck_assert_uint_eq(got, n);
		done += n;
	}
}

static int reclaimed_at_least(void *want)
{
	struct pager_stats s;
	pager_get_stats(pg, &s);
	return s.vmos_reclaimed >= *(uint64_t *)want;
}

static void wait_reclaimed(uint64_t want)
{
	testimg_wait_for(reclaimed_at_least, &want, "the zero-children reclaim");
}

static int backing_reads_at_least(void *want)
{
	return atomic_load(&gated.reads) >= *(int *)want;
}

/* Until `want` readers are asleep on page requests of `h`'s VMO. */
static int waiters_at_least(void *arg)
{
	struct {
		struct pager_handle *h;
		unsigned want;
	} *a = arg;
	struct vmo *v = pager_handle_vmo(a->h);
	unsigned n;
	mutex_lock(v->source.lock); /* the VMO's */
	n = page_source_waiters(&v->source);
	mutex_unlock(v->source.lock);
	return n >= a->want;
}

/* Gate closed: waits until the first backing read is held at the gate and `waiters` readers
 * wait on requests of `h`'s file, then opens the gate. */
static void release_gate_when(struct pager_handle *h, unsigned waiters)
{
	int one = 1;
	struct {
		struct pager_handle *h;
		unsigned want;
	} w = {h, waiters};
	testimg_wait_for(backing_reads_at_least, &one, "the first backing read");
	testimg_wait_for(waiters_at_least, &w, "readers waiting on the request");
	gate_open();
}

START_TEST(empty_file_reads_zeros)
{
	uint8_t buf[5];
	size_t got;
	start(fill_pattern, 1 << 20, 0);
	struct pager_handle *h = reg(1, 5, NULL, 0);
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(read_into(h, 0, 5, buf, &got), 0);
	ck_assert_uint_eq(got, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(buf[i], 0);
	pager_release(pg, h);
	stop();
}
END_TEST

START_TEST(one_extent_reads_its_bytes)
{
	struct extent e = {.lblk = 0, .pblk = 0, .len = 1};
	uint8_t buf[5];
	start(fill_zero, 1 << 20, 0);
	pwrite_backing("hello", 5, 0);
	struct pager_handle *h = reg(2, 5, &e, 1);
	ck_assert_int_eq(read_into(h, 0, 5, buf, NULL), 0);
	ck_assert_mem_eq(buf, "hello", 5);
	pager_release(pg, h);
	stop();
}
END_TEST

static const uint64_t hole_file_size = (6 + 1 + 5 + 4) * 1024 + 100;
static const struct extent hole_extents[] = {{6, 0, 1, false}, {12, 1, 1, false}};

static uint8_t *hole_expected(void)
{
	uint8_t *exp = calloc(1, hole_file_size);
	memcpy(exp + 6 * 1024, "hello", 5);
	memcpy(exp + 12 * 1024, "there", 5);
	return exp;
}

START_TEST(holes_between_extents)
{
	uint8_t *buf = malloc(hole_file_size), *exp = hole_expected();
	start(fill_zero, 1 << 20, 0);
	pwrite_backing("hello", 5, 0);
	pwrite_backing("there", 5, 1024);
	struct pager_handle *h = reg(3, hole_file_size, hole_extents, 2);
	memset(buf, 1, hole_file_size);
	read_all(h, 0, hole_file_size, buf);
	ck_assert_mem_eq(buf, exp, hole_file_size);
	pager_release(pg, h);
	stop();
	free(buf);
	free(exp);
}
END_TEST

START_TEST(read_starting_at_9000)
{
	uint8_t *buf = malloc(hole_file_size), *exp = hole_expected();
	size_t got;
	start(fill_zero, 1 << 20, 0);
	pwrite_backing("hello", 5, 0);
	pwrite_backing("there", 5, 1024);
	struct pager_handle *h = reg(4, hole_file_size, hole_extents, 2);
	ck_assert_int_eq(read_into(h, 9000, hole_file_size - 9000, buf, &got), 0);
	ck_assert_uint_eq(got, hole_file_size - 9000);
	ck_assert_mem_eq(buf, exp + 9000, hole_file_size - 9000);
	pager_release(pg, h);
	stop();
	free(buf);
	free(exp);
}
END_TEST

START_TEST(unwritten_extent_reads_zeros)
{
	struct extent e[] = {{0, 0, 2, false}, {2, 2, 2, true}};
	uint8_t buf[4096];
	start(fill_pattern, 1 << 20, 0);
	struct pager_handle *h = reg(5, 4096, e, 2);
	ck_assert_int_eq(read_into(h, 0, 4096, buf, NULL), 0);
	for (size_t i = 0; i < 2048; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 31 + (i >> 10)));
	for (size_t i = 2048; i < 4096; i++)
		ck_assert_uint_eq(buf[i], 0);
	pager_release(pg, h);
	stop();
}
END_TEST

START_TEST(tail_past_eof_is_zero_filled)
{
	struct extent e = {0, 0, 8, false};
	struct vmo_view view;
	start(fill_pattern, 1 << 20, 0);
	struct pager_handle *h = reg(6, 100, &e, 1);
	ck_assert_int_eq(pager_read(pg, h, 0, 4096, &view), 0);
	ck_assert_uint_eq(view.len, 100); /* clamped to EOF */
	/* The page behind the view is whole, and zero past EOF (what an mmap would show). */
	const uint8_t *page = view.iov[0].iov_base;
	for (size_t i = 100; i < (size_t)sysconf(_SC_PAGESIZE); i++)
		ck_assert_uint_eq(page[i], 0);
	pager_view_release(pg, &view);
	ck_assert_int_eq(pager_read(pg, h, 100, 10, &view), 0);
	ck_assert_uint_eq(view.len, 0);
	pager_release(pg, h);
	stop();
}
END_TEST

START_TEST(extent_beyond_backing_fails_only_its_range)
{
	/* 256 KiB of file: the first 128 KiB are backed, the second 128 KiB point past the file. */
	struct extent e[] = {{0, 0, 128, false}, {128, 100000, 128, false}};
	uint8_t *buf = malloc(256 << 10);
	struct pager_stats s;
	start(fill_pattern, 1 << 20, 0);
	struct pager_handle *h = reg(7, 256 << 10, e, 2);
	ck_assert_int_eq(read_into(h, 200 << 10, 4096, buf, NULL), -EIO);
	ck_assert_int_eq(read_into(h, 0, 128 << 10, buf, NULL), 0);
	for (size_t i = 0; i < (128 << 10); i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 31 + (i >> 10)));
	ck_assert_int_eq(read_into(h, 128 << 10, 10, buf, NULL), -EIO);
	pager_get_stats(pg, &s);
	ck_assert_uint_ge(s.failed_ranges, 2);
	pager_release(pg, h);
	stop();
	free(buf);
}
END_TEST

struct reader_arg {
	struct pager_handle *h;
	int rc;
	uint8_t buf[64 << 10];
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	a->rc = read_into(a->h, 0, sizeof(a->buf), a->buf, NULL);
	return NULL;
}

START_TEST(two_readers_one_backing_read)
{
	struct extent e = {0, 0, 512, false};
	static struct reader_arg a1, a2;
	pthread_t t1, t2;
	struct pager_stats s;
	int one = 1;
	start_with(fill_pattern, 1 << 20, 0, true);
	struct pager_handle *h = reg(8, 512 << 10, &e, 1);
	a1.h = a2.h = h;
	pthread_create(&t1, NULL, reader, &a1);
	testimg_wait_for(backing_reads_at_least, &one, "the first reader's backing read");
	pthread_create(&t2, NULL, reader, &a2);
	release_gate_when(h, 2); /* both readers asleep on the one request */
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	ck_assert_int_eq(a1.rc, 0);
	ck_assert_int_eq(a2.rc, 0);
	ck_assert_mem_eq(a1.buf, a2.buf, sizeof(a1.buf));
	ck_assert_int_eq(atomic_load(&gated.reads), 1);
	pager_get_stats(pg, &s);
	ck_assert_uint_eq(s.page_requests, 1);
	ck_assert_uint_eq(s.coalesced_waits, 1);
	ck_assert_uint_eq(s.bytes_read, 128 << 10); /* one readahead window */
	pager_release(pg, h);
	stop();
}
END_TEST

struct range_reader {
	struct pager_handle *h;
	uint64_t off;
	int rc;
	uint8_t buf[4096];
};

static void *read_range_thread(void *p)
{
	struct range_reader *a = p;
	a->rc = read_into(a->h, a->off, sizeof(a->buf), a->buf, NULL);
	return NULL;
}

/* An asynchronous read (pager_read_start) as the FUSE layer makes one. */
struct async_read {
	struct pager_read r; /* first */
	struct vmo_view view;
	_Atomic int done;
	int rc;
	pthread_t done_on;
	char data[8];
};

static void async_done(struct pager_read *r, int rc)
{
	struct async_read *a = (struct async_read *)r;
	size_t n = 0;

	a->rc = rc;
	a->done_on = pthread_self();
	for (int i = 0; rc == 0 && i < a->view.iovcnt && n < sizeof(a->data); i++) {
		size_t k = a->view.iov[i].iov_len;
		if (k > sizeof(a->data) - n)
			k = sizeof(a->data) - n;
		memcpy(a->data + n, a->view.iov[i].iov_base, k);
		n += k;
	}
	if (rc == 0)
		pager_view_release(pg, &a->view);
	atomic_store(&a->done, 1);
}

static void async_start(struct async_read *a, struct pager_handle *h, uint64_t off, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->r = (struct pager_read){.h = h, .off = off, .len = len, .view = &a->view,
				   .done = async_done};
	pager_read_start(pg, &a->r);
}

static int async_finished(void *arg)
{
	return atomic_load(&((struct async_read *)arg)->done);
}

/* A read that may supply on its own thread, started on a thread of its own (it may block). */
struct reader_thread {
	struct async_read a;
	struct pager_handle *h;
	uint64_t off;
	size_t len;
	pthread_t self;
};

static void *supply_here_thread(void *arg)
{
	struct reader_thread *t = arg;

	t->self = pthread_self();
	memset(&t->a, 0, sizeof(t->a));
	t->a.r = (struct pager_read){.h = t->h, .off = t->off, .len = t->len, .view = &t->a.view,
				     .done = async_done, .supply_here = true};
	pager_read_start(pg, &t->a.r);
	return NULL;
}

/* Nobody sleeps: both readers return at once, the pager thread that completes the one request
 * answers both, and a read of present pages is answered before pager_read_start returns. */
START_TEST(async_reads_are_answered_by_the_completing_thread)
{
	struct extent e = {.lblk = 0, .pblk = 0, .len = 1};
	struct async_read a, b, c;
	struct pager_stats st;
	start_with(fill_zero, 1 << 20, 0, true);
	pwrite_backing("hello!!", 8, 0);
	struct pager_handle *h = reg(20, 8, &e, 1);
	async_start(&a, h, 0, 8);
	async_start(&b, h, 2, 5);
	ck_assert_int_eq(atomic_load(&a.done) + atomic_load(&b.done), 0); /* the gate is shut */
	release_gate_when(h, 2); /* a waits on its own request, b on a's (coalesced) */
	testimg_wait_for(async_finished, &a, "the first read's answer");
	testimg_wait_for(async_finished, &b, "the second read's answer");
	ck_assert_int_eq(a.rc, 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_mem_eq(a.data, "hello!!", 8);
	ck_assert_mem_eq(b.data, "llo!!", 5);
	ck_assert(!pthread_equal(a.done_on, pthread_self()));
	ck_assert(!pthread_equal(b.done_on, pthread_self()));
	ck_assert_int_eq(atomic_load(&gated.reads), 1);
	async_start(&c, h, 1, 3);
	ck_assert_int_eq(atomic_load(&c.done), 1); /* present: answered on this thread */
	ck_assert(pthread_equal(c.done_on, pthread_self()));
	ck_assert_mem_eq(c.data, "ell", 3);
	pager_get_stats(pg, &st);
	ck_assert_uint_eq(st.page_requests, 1);
	ck_assert_uint_eq(st.coalesced_waits, 1);
	ck_assert_uint_eq(st.read_hits, 1);
	pager_release(pg, h);
	stop();
}
END_TEST

/* A read allowed to supply on its own thread reads its small request there and is answered
 * before pager_read_start returns; another reader waiting on that request is answered by a
 * pager thread (never by the supplying reader's thread). */
START_TEST(small_request_is_supplied_on_the_readers_thread)
{
	struct extent e = {.lblk = 0, .pblk = 0, .len = 1};
	static struct reader_thread t;
	struct async_read b;
	struct pager_stats st;
	pthread_t tid;
	int one = 1;
	start_with(fill_zero, 1 << 20, 0, true);
	pwrite_backing("hello!!", 8, 0);
	struct pager_handle *h = reg(22, 8, &e, 1);
	t = (struct reader_thread){.h = h, .off = 0, .len = 8};
	pthread_create(&tid, NULL, supply_here_thread, &t);
	testimg_wait_for(backing_reads_at_least, &one, "the reader's own backing read");
	async_start(&b, h, 2, 5);
	release_gate_when(h, 2); /* t waits on its own request, b on t's (coalesced) */
	pthread_join(tid, NULL);
	ck_assert_int_eq(atomic_load(&t.a.done), 1); /* answered before pager_read_start returned */
	ck_assert(pthread_equal(t.a.done_on, t.self));
	testimg_wait_for(async_finished, &b, "the coalesced read's answer");
	ck_assert(!pthread_equal(b.done_on, t.self));
	ck_assert(!pthread_equal(b.done_on, pthread_self()));
	ck_assert_int_eq(t.a.rc, 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_mem_eq(t.a.data, "hello!!", 8);
	ck_assert_mem_eq(b.data, "llo!!", 5);
	pager_get_stats(pg, &st);
	ck_assert_uint_eq(st.page_requests, 1);
	ck_assert_uint_eq(st.inline_supplies, 1);
	ck_assert_uint_eq(st.coalesced_waits, 1);
	ck_assert_int_eq(atomic_load(&gated.reads), 1);
	pager_release(pg, h);
	stop();
}
END_TEST

/* A request larger than the readahead window goes to a pager thread even when the reader may
 * supply: a large read is where the pager threads' parallelism pays. */
START_TEST(large_request_goes_to_a_pager_thread)
{
	struct extent e = {.lblk = 0, .pblk = 0, .len = 512};
	static struct reader_thread t;
	struct pager_stats st;
	pthread_t tid;
	start(fill_pattern, 1 << 20, 0);
	struct pager_handle *h = reg(23, 512 << 10, &e, 1);
	t = (struct reader_thread){.h = h, .off = 0, .len = 256 << 10};
	pthread_create(&tid, NULL, supply_here_thread, &t);
	pthread_join(tid, NULL);
	testimg_wait_for(async_finished, &t.a, "the large read's answer");
	ck_assert_int_eq(t.a.rc, 0);
	ck_assert(!pthread_equal(t.a.done_on, t.self));
	pager_get_stats(pg, &st);
	ck_assert_uint_eq(st.inline_supplies, 0);
	ck_assert_uint_ge(st.page_requests, 1);
	pager_release(pg, h);
	stop();
}
END_TEST

/* A request that fails answers its asynchronous waiters with the error, on the pager thread. */
START_TEST(async_read_gets_the_failure)
{
	struct extent e = {.lblk = 0, .pblk = 4096, .len = 1}; /* past the 1 MiB backing */
	struct async_read a;
	start_with(fill_zero, 1 << 20, 0, true);
	struct pager_handle *h = reg(21, 100, &e, 1);
	async_start(&a, h, 0, 100);
	release_gate_when(h, 1);
	testimg_wait_for(async_finished, &a, "the read's answer");
	ck_assert_int_eq(a.rc, -EIO);
	ck_assert(!pthread_equal(a.done_on, pthread_self()));
	pager_release(pg, h);
	stop();
}
END_TEST

START_TEST(reader_behind_a_failed_readahead_gets_its_own_pages)
{
	/* Page 0 points past the backing file; pages 1.. are fine. The first reader's request
	 * covers the whole 128 KiB window and fails at page 0; the second reader, waiting on that
	 * request for page 5, must not inherit the error but read page 5 itself. */
	struct extent e[] = {{0, 100000, 4, false}, {4, 4, 124, false}};
	static struct range_reader bad, good;
	pthread_t t1, t2;
	int one = 1;
	start_with(fill_pattern, 1 << 20, 0, true);
	struct pager_handle *h = reg(13, 128 << 10, e, 2);
	bad = (struct range_reader){.h = h, .off = 0};
	good = (struct range_reader){.h = h, .off = 5 * 4096};
	pthread_create(&t1, NULL, read_range_thread, &bad);
	testimg_wait_for(backing_reads_at_least, &one, "the first reader's backing read");
	pthread_create(&t2, NULL, read_range_thread, &good);
	release_gate_when(h, 2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	ck_assert_int_eq(bad.rc, -EIO);
	ck_assert_int_eq(good.rc, 0);
	/* Page 5 is file block 20, backing block 20. */
	for (size_t i = 0; i < sizeof(good.buf); i++)
		ck_assert_uint_eq(good.buf[i], (uint8_t)((20480 + i) * 31 + ((20480 + i) >> 10)));
	pager_release(pg, h);
	stop();
}
END_TEST

START_TEST(second_open_reuses_vmo_and_reclaim_after_last_child)
{
	struct extent e = {0, 0, 64, false};
	uint8_t buf[4096];
	struct pager_stats s;
	start(fill_pattern, 1 << 20, 0);
	struct pager_handle *h1 = reg(9, 64 << 10, &e, 1);
	struct pager_handle *h2 = reg(9, 64 << 10, &e, 1);
	ck_assert_ptr_eq(pager_handle_vmo(h1), pager_handle_vmo(h2));
	ck_assert_int_eq(read_into(h1, 0, sizeof(buf), buf, NULL), 0);
	pager_release(pg, h1); /* one child left: no zero-children packet is even queued */
	pager_get_stats(pg, &s);
	ck_assert_uint_eq(s.vmos_reclaimed, 0);
	ck_assert_uint_eq(s.vmos_live, 1);
	ck_assert_uint_gt(s.cache_bytes, 0);
	pager_release(pg, h2);
	wait_reclaimed(1);
	pager_get_stats(pg, &s);
	ck_assert_uint_eq(s.vmos_live, 0);
	ck_assert_uint_eq(s.cache_bytes, 0);
	stop();
}
END_TEST

/* The kernel may send RELEASE as soon as a READ's reply reaches it, before the replying thread
 * has released its view: reclaim must leave the pinned pages to the view. */
START_TEST(release_and_reclaim_before_view_release)
{
	struct extent e = {0, 0, 64, false};
	struct vmo_view view;
	uint8_t first;
	start(fill_pattern, 1 << 20, 0);
	struct pager_handle *h = reg(12, 64 << 10, &e, 1);
	ck_assert_int_eq(pager_read(pg, h, 0, 8192, &view), 0);
	pager_release(pg, h);
	wait_reclaimed(1);
	first = ((const uint8_t *)view.iov[0].iov_base)[0];
	ck_assert_uint_eq(first, 0);
	pager_view_release(pg, &view);
	stop();
}
END_TEST

START_TEST(eviction_under_tiny_budget)
{
	const size_t size = 8 << 20;
	struct extent e = {0, 0, (uint32_t)(size / BS), false};
	uint8_t *buf = malloc(size), *exp = malloc(size);
	struct pager_stats s;
	start(fill_pattern, size, 1 << 20);
	fill_pattern(exp, size);
	struct pager_handle *h = reg(11, size, &e, 1);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t off = 0; off < size; off += 128 << 10)
			read_all(h, off, 128 << 10, buf + off);
		ck_assert_mem_eq(buf, exp, size);
	}
	pager_get_stats(pg, &s);
	ck_assert_uint_gt(s.pages_evicted, 0);
	ck_assert_uint_le(s.cache_bytes, s.cache_budget + SUPPLY_BUFFER_BYTES * 2);
	pager_release(pg, h);
	stop();
	free(buf);
	free(exp);
}
END_TEST

/* Many threads reading random overlapping ranges of two files while opening and closing them,
 * with a budget small enough that eviction races with the reads. Run under TSan in CI. */
struct stress_arg {
	unsigned seed;
	const uint8_t *exp;
	size_t size;
	int errors;
};

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	struct extent e = {0, 0, (uint32_t)(a->size / BS), false};
	uint8_t *buf = malloc(VMO_READ_MAX);

	for (int round = 0; round < 40; round++) {
		uint32_t ino = 20 + (rand_r(&a->seed) % 2);
		struct pager_handle *h = reg(ino, a->size, &e, 1);
		for (int i = 0; i < 10; i++) {
			size_t off = rand_r(&a->seed) % a->size;
			size_t len = 1 + rand_r(&a->seed) % VMO_READ_MAX, got = 0;
			if (read_into(h, off, len, buf, &got) != 0 ||
			    got != (len < a->size - off ? len : a->size - off) ||
			    memcmp(buf, a->exp + off, got) != 0)
				a->errors++;
		}
		pager_release(pg, h);
	}
	free(buf);
	return NULL;
}

START_TEST(concurrent_readers_opens_and_eviction)
{
	const size_t size = 4 << 20;
	uint8_t *exp = malloc(size);
	struct stress_arg args[6];
	pthread_t t[6];
	start(fill_pattern, size, 1 << 20);
	fill_pattern(exp, size);
	for (int i = 0; i < 6; i++) {
		args[i] =
		    (struct stress_arg){.seed = 1234u + (unsigned)i, .exp = exp, .size = size};
		pthread_create(&t[i], NULL, stress_thread, &args[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(args[i].errors, 0);
	}
	stop();
	free(exp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pager");
	TCase *tc = tcase_create("pager");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty_file_reads_zeros);
	tcase_add_test(tc, one_extent_reads_its_bytes);
	tcase_add_test(tc, holes_between_extents);
	tcase_add_test(tc, read_starting_at_9000);
	tcase_add_test(tc, unwritten_extent_reads_zeros);
	tcase_add_test(tc, tail_past_eof_is_zero_filled);
	tcase_add_test(tc, extent_beyond_backing_fails_only_its_range);
	tcase_add_test(tc, two_readers_one_backing_read);
	tcase_add_test(tc, async_reads_are_answered_by_the_completing_thread);
	tcase_add_test(tc, async_read_gets_the_failure);
	tcase_add_test(tc, reader_behind_a_failed_readahead_gets_its_own_pages);
	tcase_add_test(tc, small_request_is_supplied_on_the_readers_thread);
	tcase_add_test(tc, large_request_goes_to_a_pager_thread);
	tcase_add_test(tc, second_open_reuses_vmo_and_reclaim_after_last_child);
	tcase_add_test(tc, release_and_reclaim_before_view_release);
	tcase_add_test(tc, eviction_under_tiny_budget);
	tcase_add_test(tc, concurrent_readers_opens_and_eviction);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
