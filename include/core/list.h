// SPDX-License-Identifier: MIT
/*
 * list — one intrusive doubly linked list for the whole tree (the shape of the kernel's
 * include/linux/list.h). A `struct list_node` lives inside the object it links, so linking
 * never allocates; an unlinked node points at itself, so list_linked() tells whether an object
 * is on a list and list_remove() of an unlinked node is harmless.
 *
 * A list is a `struct list_node` head; nothing here locks: the owner's lock guards the head and
 * every node on it.
 */
#ifndef EXT4PAGER_LIST_H
#define EXT4PAGER_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
	struct list_node *prev, *next;
};

#define list_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

static inline void list_init(struct list_node *n)
{
	n->prev = n->next = n;
}

static inline bool list_empty(const struct list_node *head)
{
	return head->next == head;
}

static inline bool list_linked(const struct list_node *n)
{
	return n->next != n;
}

static inline void list_insert_between(struct list_node *n, struct list_node *prev,
				       struct list_node *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

static inline void list_push_back(struct list_node *head, struct list_node *n)
{
	list_insert_between(n, head->prev, head);
}

static inline void list_push_front(struct list_node *head, struct list_node *n)
{
	list_insert_between(n, head, head->next);
}

static inline void list_remove(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* The first node, unlinked, or NULL when the list is empty. */
static inline struct list_node *list_pop_front(struct list_node *head)
{
	struct list_node *n = head->next;

	if (n == head)
		return NULL;
	list_remove(n);
	return n;
}

#define list_for_each(pos, head)                                                                   \
	for (struct list_node *pos = (head)->next; pos != (head); pos = pos->next)
/* Safe against removal of `pos` inside the loop. */
#define list_for_each_safe(pos, head)                                                              \
	for (struct list_node *pos = (head)->next, *pos##_next = pos->next; pos != (head);         \
	     pos = pos##_next, pos##_next = pos->next)

#endif
