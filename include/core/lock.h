// SPDX-License-Identifier: MIT
/*
 * lock — pthread mutexes with clang's thread-safety annotations.
 *
 * `struct mutex` is a capability: a function that must be called with a lock held says so with
 * REQUIRES(lock), and clang's -Wthread-safety (the TSan and fuzz flavours build with clang)
 * checks every caller. clang 14 cannot name a sibling field in a C struct's GUARDED_BY, so
 * fields keep their `guarded by:` comment and the functions that touch them carry REQUIRES.
 * With gcc the annotations expand to nothing.
 */
#ifndef EXT4PAGER_LOCK_H
#define EXT4PAGER_LOCK_H

#include <pthread.h>

#if defined(__clang__)
#define TSA(x) __attribute__((x))
#else
#define TSA(x)
#endif
#define CAPABILITY(name) TSA(capability(name))
#define ACQUIRE(...)	 TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...)	 TSA(release_capability(__VA_ARGS__))
#define REQUIRES(...)	 TSA(requires_capability(__VA_ARGS__))
#define EXCLUDES(...)	 TSA(locks_excluded(__VA_ARGS__))
#define ASSERT_HELD(...) TSA(assert_capability(__VA_ARGS__))
#define NO_TSA		 TSA(no_thread_safety_analysis)

struct CAPABILITY("mutex") mutex {
	pthread_mutex_t m;
};

static inline void mutex_init(struct mutex *l)
{
	pthread_mutex_init(&l->m, NULL);
}

static inline void mutex_destroy(struct mutex *l)
{
	pthread_mutex_destroy(&l->m);
}

static inline void mutex_lock(struct mutex *l) ACQUIRE(*l) NO_TSA
{
	pthread_mutex_lock(&l->m);
}

static inline void mutex_unlock(struct mutex *l) RELEASE(*l) NO_TSA
{
	pthread_mutex_unlock(&l->m);
}

static inline int mutex_trylock(struct mutex *l) NO_TSA
{
	return pthread_mutex_trylock(&l->m);
}

/* Waits on `cv`; `l` is released while waiting and held again on return. */
static inline void mutex_wait(pthread_cond_t *cv, struct mutex *l) REQUIRES(*l) NO_TSA
{
	pthread_cond_wait(cv, &l->m);
}

#endif
