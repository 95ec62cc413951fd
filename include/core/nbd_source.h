// SPDX-License-Identifier: MIT
/*
 * nbd_source — an NBD export as a byte source, through libnbd: a URI the user names
 * (nbd://, nbds://, nbd+unix://, nbds+unix://), or a server ext4pager started itself
 * (nbd_server.h: qemu-nbd for VM disk formats, nbdkit for HTTP(S)).
 *
 * Concurrency: a small pool of connections, each used by one reader at a time (libnbd's
 * synchronous calls hold the handle's lock for the whole request). Readers take any idle
 * connection, so the pager threads each have a request in flight. A server that does not
 * advertise multi-conn (NBD_FLAG_CAN_MULTI_CONN: several connections see the same bytes) gets
 * one connection; servers ext4pager started serve a read-only file and get the pool.
 *
 * Bounded time: the reader waits for its request itself (libnbd's aio calls and nbd_poll on the
 * connection it holds), and past the timeout shuts the socket down, as the kernel's nbd driver
 * does in drivers/block/nbd.c nbd_xmit_timeout. libnbd then fails the request and the
 * connection is dead: it and every later read on it give EIO at once. The connect and
 * handshake have the same bound. No thread of its own: the source survives the daemon's fork.
 *
 * Reads that the pager scatters over several pages go through a per-connection bounce buffer
 * (libnbd has no vectored read): one NBD request per read, never one per page.
 */
#ifndef EXT4PAGER_NBD_SOURCE_H
#define EXT4PAGER_NBD_SOURCE_H

#include "byte_source.h"
#include "nbd_server.h"

#include <stdbool.h>
#include <stddef.h>

struct nbd_source_options {
	unsigned timeout;     /* seconds a request or the connect may take; 0 = 30 */
	unsigned connections; /* connections at most; 0 = 4 */
};

/* Whether `name` is an NBD URI (nbd://, nbds://, nbd+unix://, ...). */
bool nbd_source_is_uri(const char *name);

/* Connects to the export at `uri`. Returns 0, or a negative errno with a one-line reason. */
int nbd_source_open_uri(const char *uri, const struct nbd_source_options *opts,
			struct byte_source **out, char *why, size_t why_len);

/*
 * Connects to a server ext4pager started, which the source takes over (stopped with it, or at
 * once on failure). `kind` names the source in --stats ("qcow2 via qemu-nbd").
 */
int nbd_source_open_server(struct nbd_server *srv, const char *kind,
			   const struct nbd_source_options *opts, struct byte_source **out,
			   char *why, size_t why_len);

#endif
