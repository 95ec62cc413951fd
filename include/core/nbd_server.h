// SPDX-License-Identifier: MIT
/*
 * nbd_server — an NBD server ext4pager starts for itself: qemu-nbd for VM disk formats, nbdkit
 * for HTTP(S) URLs. Each gets a listening unix socket by systemd socket activation (LISTEN_FDS,
 * as qemu-nbd(8) and nbdkit(1) accept it and libnbd's
 * nbd_connect_systemd_socket_activation passes it), in a private 0700 directory that is removed
 * as soon as the connections are made: nothing else can reach the server, and nothing is left
 * on disk.
 *
 * Lifetime: started at mount, before the daemon detaches, as a grandchild handed to init (it
 * outlives that fork: the server is watched and signalled through a pidfd, not a parent link);
 * stopped at unmount, or it exits by itself when
 * its last connection closes (qemu-nbd without --persistent, nbdkit's exitlast filter), so a
 * killed daemon does not leave it behind. The server only ever reads the image.
 */
#ifndef EXT4PAGER_NBD_SERVER_H
#define EXT4PAGER_NBD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The fd a server reads nbd_server_start's secret on (fd 3 is the listening socket). */
#define NBD_SERVER_SECRET_FD 4

struct nbd_server {
	pid_t pid;	  /* the server; 0 when none */
	int pidfd;	  /* readable once it has exited; -1 when none */
	char dir[64];	  /* the private directory ("" once removed) */
	char socket[100]; /* its socket's path in `dir` */
	char program[32]; /* "qemu-nbd", "nbdkit": messages */
};

/*
 * Starts argv[0] (searched in PATH) with a listening socket. `package` names the Debian
 * package that provides it, for the refusal when it is missing. `secret`, when not NULL, is
 * readable (with a newline) on the server's fd NBD_SERVER_SECRET_FD, a pipe: kept off its
 * command line (nbdkit's password=-4). Returns 0, or a negative errno with a one-line reason.
 */
int nbd_server_start(struct nbd_server *srv, char *const argv[], const char *package,
		     const char *secret, char *why, size_t why_len);
/* A new connection to the server (a socket the caller owns), or a negative errno. */
int nbd_server_connect(struct nbd_server *srv);
/* Removes the socket and its directory: no further connections. */
void nbd_server_seal(struct nbd_server *srv);
/* Rewrites `why` (what libnbd saw) for a server that failed its first connection: "qemu-nbd
 * refused it (its message is above)" once it has exited, else the reason plus that hint. */
void nbd_server_explain(struct nbd_server *srv, char *why, size_t why_len);
/* Stops the server (SIGTERM, then SIGKILL after a grace period) and reaps it. Idempotent. */
void nbd_server_stop(struct nbd_server *srv);

#endif
