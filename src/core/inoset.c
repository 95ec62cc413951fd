// SPDX-License-Identifier: MIT
#include "inoset.h"

#include <errno.h>
#include <stdlib.h>

#define LEAF_BITS  (8u << 13) /* 8 KiB of bits */
#define LEAF_WORDS (LEAF_BITS / 64)

int inoset_init(struct inoset *s, uint32_t max_ino)
{
	s->nleaves = (size_t)max_ino / LEAF_BITS + 1;
	s->leaves = calloc(s->nleaves, sizeof(*s->leaves));
	return s->leaves ? 0 : -ENOMEM;
}

void inoset_destroy(struct inoset *s)
{
	for (size_t i = 0; s->leaves && i < s->nleaves; i++)
		free((void *)atomic_load(&s->leaves[i]));
	free(s->leaves);
	s->leaves = NULL;
}

/* The leaf holding `ino`, made if `make`; NULL when there is none. */
static _Atomic uint64_t *leaf_of(const struct inoset *s, uint32_t ino, bool make)
{
	size_t i = ino / LEAF_BITS;
	_Atomic uint64_t *leaf, *expected = NULL;

	if (!s->leaves || i >= s->nleaves)
		return NULL;
	leaf = atomic_load_explicit(&s->leaves[i], memory_order_acquire);
	if (leaf || !make)
		return leaf;
	leaf = calloc(LEAF_WORDS, sizeof(*leaf));
	if (!leaf)
		return NULL;
	/* Another thread may publish its leaf first: then use that one. */
	if (!atomic_compare_exchange_strong_explicit(&s->leaves[i], &expected, leaf,
						     memory_order_acq_rel, memory_order_acquire)) {
		free((void *)leaf);
		leaf = expected;
	}
	return leaf;
}

void inoset_add(struct inoset *s, uint32_t ino)
{
	_Atomic uint64_t *leaf = leaf_of(s, ino, true);
	uint32_t bit = ino % LEAF_BITS;

	if (leaf)
		atomic_fetch_or_explicit(&leaf[bit / 64], 1ull << (bit % 64), memory_order_release);
}

bool inoset_has(const struct inoset *s, uint32_t ino)
{
	_Atomic uint64_t *leaf = leaf_of(s, ino, false);
	uint32_t bit = ino % LEAF_BITS;

	return leaf &&
	       (atomic_load_explicit(&leaf[bit / 64], memory_order_acquire) >> (bit % 64)) & 1;
}
