#include "page_source.h"

#include <stdlib.h>

struct page_request *page_source_covering(struct page_source *src, uint64_t page)
{
	for (struct page_request *r = src->outstanding; r; r = r->next)
		if (r->first <= page && page < r->end)
			return r;
	return NULL;
}

uint64_t page_source_next_covered(struct page_source *src, uint64_t page)
{
	uint64_t best = UINT64_MAX;

	for (struct page_request *r = src->outstanding; r; r = r->next) {
		if (r->end <= page)
			continue;
		uint64_t start = r->first > page ? r->first : page;
		if (start < best)
			best = start;
	}
	return best;
}

struct page_request *page_source_add(struct page_source *src, uint64_t first, uint64_t end)
{
	struct page_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->first = first;
	r->end = end;
	r->refs = 1;
	r->next = src->outstanding;
	src->outstanding = r;
	src->count++;
	return r;
}

void page_source_complete(struct page_source *src, struct page_request *req, int status,
			  uint64_t fail_from)
{
	for (struct page_request **p = &src->outstanding; *p; p = &(*p)->next) {
		if (*p == req) {
			*p = req->next;
			src->count--;
			break;
		}
	}
	req->next = NULL;
	req->status = status;
	req->fail_from = fail_from;
	req->done = true;
}

void page_request_get(struct page_request *req)
{
	req->refs++;
}

void page_request_put(struct page_request *req)
{
	if (--req->refs == 0)
		free(req);
}
