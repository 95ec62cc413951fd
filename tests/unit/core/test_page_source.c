// SPDX-License-Identifier: MIT
/* Page requests: page_source alone (a lock and a fake provider), then through a VMO's fault
 * path (vmo_get_pages_locked) with the test playing the provider's part — supplying pages and
 * completing requests. Readers that must block run on threads; the test waits for them with
 * the source's own waiter count, never sleeps. */
#include "page_source.h"
#include "vmo.h"
#include "check_main.h"
#include "testimg.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define MAX_SENT 16

struct fake_provider {
	struct page_provider base;
	pthread_mutex_t lock;
	struct page_request *sent[MAX_SENT]; /* guarded by: lock */
	int nsent;			     /* guarded by: lock */
};

static struct fake_provider prov;
static struct vmo_cache cache;
static size_t ps;

static void fake_send(struct page_provider *base, struct page_request *req)
{
	struct fake_provider *f = (struct fake_provider *)base;
	pthread_mutex_lock(&f->lock);
	ck_assert_int_lt(f->nsent, MAX_SENT);
	f->sent[f->nsent++] = req;
	pthread_mutex_unlock(&f->lock);
}

static int sent_count(void)
{
	pthread_mutex_lock(&prov.lock);
	int n = prov.nsent;
	pthread_mutex_unlock(&prov.lock);
	return n;
}

static int sent_at_least(void *want)
{
	return sent_count() >= *(int *)want;
}

static struct page_request *sent(int i)
{
	pthread_mutex_lock(&prov.lock);
	struct page_request *r = prov.sent[i];
	pthread_mutex_unlock(&prov.lock);
	return r;
}

/* A VMO of `pages` pages with no map (pages are supplied by the test). */
static struct vmo *setup(uint64_t pages)
{
	struct extmap map = {0};
	ck_assert_int_eq(vmo_cache_init(&cache, 64u << 20), 0);
	ps = cache.pool.page_size;
	prov = (struct fake_provider){.base.send = fake_send};
	pthread_mutex_init(&prov.lock, NULL);
	map.block_size = 4096;
	struct vmo *v = vmo_create(&cache, pages * ps, &map);
	ck_assert_ptr_nonnull(v);
	return v;
}

static void teardown(struct vmo *v)
{
	vmo_put(v);
	vmo_cache_destroy(&cache);
	pthread_mutex_destroy(&prov.lock);
}

/* Completes `req` as a provider does, and drops the VMO reference the provider was given. */
static void complete(struct page_request *req, int status, uint64_t fail_from)
{
	struct vmo *v = req->vmo;
	page_source_complete(req, status, fail_from);
	vmo_put(v);
}

/* Supplies pages [first, end) as zero pages, as a provider would. */
static void supply_zeros(struct vmo *v, uint64_t first, uint64_t end)
{
	void *frames[64] = {0};
	ck_assert_uint_le(end - first, 64);
	ck_assert_int_eq(vmo_supply(v, first, frames, end - first), 0);
}

struct reader {
	struct vmo *vmo;
	uint64_t first, last, ra_end;
	struct page_source_result res;
	int rc;
	pthread_t thread;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct vmo_view view;
	mutex_lock(&r->vmo->lock);
	r->rc = vmo_pin_locked(r->vmo, r->first, r->last, &view);
	if (r->rc == 0) {
		r->rc =
		    vmo_get_pages_locked(r->vmo, &prov.base, r->first, r->last, r->ra_end, &r->res,
					 NULL);
		vmo_unpin_locked(r->vmo, &view);
	}
	mutex_unlock(&r->vmo->lock);
	return NULL;
}

static void reader_start(struct reader *r, struct vmo *v, uint64_t first, uint64_t last,
			 uint64_t ra_end)
{
	*r = (struct reader){.vmo = v, .first = first, .last = last, .ra_end = ra_end};
	ck_assert_int_eq(pthread_create(&r->thread, NULL, reader_main, r), 0);
}

struct waiters_arg {
	struct vmo *vmo;
	unsigned want;
};

static int waiters_reached(void *arg)
{
	struct waiters_arg *w = arg;
	struct page_source *src = &w->vmo->source;
	mutex_lock(src->lock); /* the VMO's */
	unsigned n = page_source_waiters(src);
	mutex_unlock(src->lock);
	return n >= w->want;
}

static void wait_waiters(struct vmo *v, unsigned want)
{
	struct waiters_arg w = {v, want};
	testimg_wait_for(waiters_reached, &w, "readers asleep on a request");
}

/* page_source on its own: no VMO, only the lock its owner would hold. */
START_TEST(requests_are_found_by_page_and_completed_once)
{
	struct mutex lock;
	struct page_source src;
	mutex_init(&lock);
	prov = (struct fake_provider){.base.send = fake_send};
	pthread_mutex_init(&prov.lock, NULL);
	page_source_init(&src, &lock);
	mutex_lock(src.lock);
	ck_assert_int_eq(page_source_send(&src, &prov.base, NULL, 10, 20, &src), 0);
	ck_assert_int_eq(page_source_send(&src, &prov.base, NULL, 30, 32, &src), 0);
	ck_assert_ptr_eq(page_source_covering(&src, 15), sent(0));
	ck_assert_ptr_null(page_source_covering(&src, 20));
	ck_assert_uint_eq(page_source_next_covered(&src, 0), 10);
	ck_assert_uint_eq(page_source_next_covered(&src, 12), 12);
	ck_assert_uint_eq(page_source_next_covered(&src, 20), 30);
	ck_assert_uint_eq(page_source_next_covered(&src, 32), UINT64_MAX);
	ck_assert_uint_eq(page_source_outstanding(&src), 2);
	mutex_unlock(src.lock);
	page_source_complete(sent(0), -EIO, 14);
	mutex_lock(src.lock);
	ck_assert_ptr_null(page_source_covering(&src, 15));
	ck_assert_uint_eq(page_source_outstanding(&src), 1);
	mutex_unlock(src.lock);
	page_source_complete(sent(1), 0, 32);
	mutex_lock(src.lock);
	ck_assert_uint_eq(page_source_outstanding(&src), 0);
	mutex_unlock(src.lock);
	page_source_destroy(&src);
	mutex_destroy(&lock);
	pthread_mutex_destroy(&prov.lock);
}
END_TEST

START_TEST(missing_pages_become_one_request_to_the_readahead_end)
{
	struct vmo *v = setup(40);
	struct reader r;
	reader_start(&r, v, 2, 3, 32);
	wait_waiters(v, 1);
	ck_assert_int_eq(sent_count(), 1);
	struct page_request *req = sent(0);
	ck_assert_uint_eq(req->first, 2);
	ck_assert_uint_eq(req->end, 32);
	supply_zeros(v, 2, 32);
	complete(req, 0, 32);
	pthread_join(r.thread, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.res.requests_sent, 1);
	ck_assert_uint_eq(r.res.coalesced_waits, 0);
	mutex_lock(v->source.lock);
	ck_assert_uint_eq(page_source_outstanding(&v->source), 0);
	mutex_unlock(v->source.lock);
	teardown(v);
}
END_TEST

START_TEST(readahead_stops_at_eof_and_at_present_pages)
{
	struct vmo *v = setup(10);
	struct reader r;
	supply_zeros(v, 6, 7); /* page 6 present: a request must not cover it */
	reader_start(&r, v, 0, 1, 64);
	wait_waiters(v, 1);
	struct page_request *req = sent(0);
	ck_assert_uint_eq(req->first, 0);
	ck_assert_uint_eq(req->end, 6);
	supply_zeros(v, 0, 6);
	complete(req, 0, 6);
	pthread_join(r.thread, NULL);
	ck_assert_int_eq(r.rc, 0);
	/* Past the present page, up to EOF (10 pages), not to the readahead end (64). */
	reader_start(&r, v, 7, 7, 64);
	wait_waiters(v, 1);
	req = sent(1);
	ck_assert_uint_eq(req->first, 7);
	ck_assert_uint_eq(req->end, 10);
	supply_zeros(v, 7, 10);
	complete(req, 0, 10);
	pthread_join(r.thread, NULL);
	ck_assert_int_eq(r.rc, 0);
	teardown(v);
}
END_TEST

START_TEST(a_second_reader_waits_on_the_first_request)
{
	struct vmo *v = setup(32);
	struct reader a, b;
	reader_start(&a, v, 0, 3, 32);
	wait_waiters(v, 1);
	reader_start(&b, v, 4, 5, 32); /* inside a's readahead: no request of its own */
	wait_waiters(v, 2);
	ck_assert_int_eq(sent_count(), 1);
	supply_zeros(v, 0, 32);
	complete(sent(0), 0, 32);
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_uint_eq(b.res.requests_sent, 0);
	ck_assert_uint_eq(b.res.coalesced_waits, 1);
	teardown(v);
}
END_TEST

START_TEST(a_failure_in_range_is_the_readers_error)
{
	struct vmo *v = setup(32);
	struct reader r;
	reader_start(&r, v, 0, 7, 32);
	wait_waiters(v, 1);
	supply_zeros(v, 0, 4);
	complete(sent(0), -EIO, 4); /* pages 0-3 supplied, 4.. failed */
	pthread_join(r.thread, NULL);
	ck_assert_int_eq(r.rc, -EIO);
	teardown(v);
}
END_TEST

START_TEST(a_failure_before_the_range_gets_the_reader_its_own_request)
{
	struct vmo *v = setup(32);
	struct reader a, b;
	reader_start(&a, v, 0, 0, 32);
	wait_waiters(v, 1);
	reader_start(&b, v, 20, 20, 32);
	wait_waiters(v, 2);
	complete(sent(0), -EIO, 0); /* failed at page 0: nothing supplied */
	pthread_join(a.thread, NULL);
	ck_assert_int_eq(a.rc, -EIO);
	int two = 2;
	testimg_wait_for(sent_at_least, &two, "b's own request");
	struct page_request *mine = sent(1);
	ck_assert_uint_eq(mine->first, 20);
	ck_assert_uint_eq(mine->end, 32);
	supply_zeros(v, 20, 32);
	complete(mine, 0, 32);
	pthread_join(b.thread, NULL);
	ck_assert_int_eq(b.rc, 0);
	teardown(v);
}
END_TEST

START_TEST(a_reclaimed_vmo_fails_without_a_request)
{
	struct vmo *v = setup(8);
	struct reader r;
	vmo_reclaim(v);
	reader_start(&r, v, 0, 0, 8);
	pthread_join(r.thread, NULL);
	ck_assert_int_eq(r.rc, -EIO);
	ck_assert_int_eq(sent_count(), 0);
	teardown(v);
}
END_TEST

START_TEST(present_pages_need_no_request)
{
	struct vmo *v = setup(8);
	struct reader r;
	supply_zeros(v, 0, 8);
	reader_start(&r, v, 0, 7, 8);
	pthread_join(r.thread, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(sent_count(), 0);
	teardown(v);
}
END_TEST

CHECK_MAIN("page_source", requests_are_found_by_page_and_completed_once,
	   missing_pages_become_one_request_to_the_readahead_end,
	   readahead_stops_at_eof_and_at_present_pages, a_second_reader_waits_on_the_first_request,
	   a_failure_in_range_is_the_readers_error,
	   a_failure_before_the_range_gets_the_reader_its_own_request,
	   a_reclaimed_vmo_fails_without_a_request, present_pages_need_no_request)
