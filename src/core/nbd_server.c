// SPDX-License-Identifier: MIT
#include "nbd_server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How long a server has to exit after SIGTERM before it gets SIGKILL. */
#define STOP_GRACE_MS 2000
/* The fd socket activation hands over (sd_listen_fds(3): SD_LISTEN_FDS_START). */
#define LISTEN_FD 3
#define MAX_ENV	  4096

/* argv[0] found in PATH, into `out`; false when it is not there. */
static bool find_program(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/'))
		return snprintf(out, cap, "%s", name) < (int)cap && access(out, X_OK) == 0;
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");
		if (len && snprintf(out, cap, "%.*s/%s", (int)len, p, name) < (int)cap &&
		    access(out, X_OK) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

static int listen_on(struct nbd_server *srv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	snprintf(srv->dir, sizeof(srv->dir), "%s/ext4pager-XXXXXX",
		 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 32 ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(srv->dir)) {
		srv->dir[0] = '\0';
		return -errno;
	}
	snprintf(srv->socket, sizeof(srv->socket), "%s/nbd.sock", srv->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", srv->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, SOMAXCONN) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* The environment for the child: ours without LISTEN_*, plus LISTEN_FDS=1 and a LISTEN_PID
 * slot the child fills in (after fork only async-signal-safe code runs: no allocation). */
static char **activation_env(char *pid_slot)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] && n < MAX_ENV)
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LISTEN_", 7) != 0)
			env[k++] = environ[i];
	env[k++] = "LISTEN_FDS=1";
	env[k++] = pid_slot;
	return env;
}

/* In the child: decimal `v` into the slot's digits (async-signal-safe). */
static void write_pid(char *digits, size_t width, pid_t v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(tmp));
	for (size_t i = 0; i < n && i < width; i++)
		digits[i] = tmp[n - 1 - i];
	digits[n < width ? n : width] = '\0';
}

static void exec_child(const char *program, char *const argv[], char **env, char *pid_digits,
		       int listen_fd, int secret_fd)
{
	int null = open("/dev/null", O_RDONLY);
	/* out of the way of fds 3 and 4 first (F_DUPFD leaves close-on-exec off) */
	int secret = secret_fd >= 0 ? fcntl(secret_fd, F_DUPFD, 10) : -1;

	if (null >= 0 && null != STDIN_FILENO)
		dup2(null, STDIN_FILENO);
	if (listen_fd == LISTEN_FD)
		fcntl(LISTEN_FD, F_SETFD, 0);
	else if (dup2(listen_fd, LISTEN_FD) < 0)
		_exit(127);
	if (secret >= 0 && (dup2(secret, NBD_SERVER_SECRET_FD) < 0 || close(secret) != 0))
		_exit(127);
	write_pid(pid_digits, 20, getpid());
	execve(program, argv, env);
	_exit(127);
}

/*
 * Forks the server twice over, so that its parent is init (or a subreaper), not this process:
 * the daemon's own fork at mount (fuse_daemonize) ends the process that started it, and a server
 * that ties itself to its parent (PR_SET_PDEATHSIG: nbdkit does) would die with it. Returns the
 * server's pid, or -errno.
 */
static pid_t spawn_detached(const char *program, char *const argv[], char **env, char *pid_digits,
			    int listen_fd, int secret_fd)
{
	int report[2];
	pid_t mid, server = -1;

	if (pipe2(report, O_CLOEXEC) != 0)
		return -errno;
	mid = fork();
	if (mid == 0) {
		pid_t me = getpid(), grandchild = fork();
		if (grandchild == 0) {
			/* Exec only once reparented (exit_notify follows the middle's exit). */
			for (int i = 0; i < 5000 && getppid() == me; i++)
				usleep(1000);
			exec_child(program, argv, env, pid_digits, listen_fd, secret_fd);
		}
		if (write(report[1], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
			_exit(1);
		_exit(0);
	}
	close(report[1]);
	if (mid > 0) {
		if (read(report[0], &server, sizeof(server)) != sizeof(server))
			server = -1;
		waitpid(mid, NULL, 0);
	}
	close(report[0]);
	return mid < 0 ? -errno : (server > 0 ? server : -ECHILD);
}

/* A pipe holding `data` and a newline, write end closed: the server's NBD_SERVER_SECRET_FD.
 * -errno on failure (the data must fit the pipe's buffer: a password does). */
static int secret_pipe(const char *data)
{
	int fds[2];
	size_t len = strlen(data);

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	if (write(fds[1], data, len) != (ssize_t)len || write(fds[1], "\n", 1) != 1) {
		close(fds[0]);
		close(fds[1]);
		return -EIO;
	}
	close(fds[1]);
	return fds[0];
}

int nbd_server_start(struct nbd_server *srv, char *const argv[], const char *package,
		     const char *secret, char *why, size_t why_len)
{
	char program[PATH_MAX], pid_slot[32] = "LISTEN_PID=";
	char **env;
	int listen_fd, secret_fd = -1, rc = 0;
	pid_t pid;

	memset(srv, 0, sizeof(*srv));
	srv->pidfd = -1;
	snprintf(srv->program, sizeof(srv->program), "%s", argv[0]);
	if (!find_program(argv[0], program, sizeof(program))) {
		snprintf(why, why_len, "%s is not installed (Debian package %s)", argv[0], package);
		return -ENOENT;
	}
	listen_fd = listen_on(srv);
	env = activation_env(pid_slot);
	if (secret)
		secret_fd = secret_pipe(secret);
	if (listen_fd < 0 || !env || (secret && secret_fd < 0)) {
		rc = listen_fd < 0 ? listen_fd : !env ? -ENOMEM : secret_fd;
		snprintf(why, why_len, "cannot make a socket for %s: %s", argv[0], strerror(-rc));
	} else {
		pid = spawn_detached(program, argv, env, pid_slot + strlen("LISTEN_PID="),
				     listen_fd, secret_fd);
		if (pid < 0) {
			rc = pid;
			snprintf(why, why_len, "cannot start %s: %s", argv[0], strerror(-rc));
		} else {
			srv->pid = pid;
			srv->pidfd = pidfd_open(pid, 0);
		}
	}
	free(env);
	if (listen_fd >= 0)
		close(listen_fd); /* the server has its copy */
	if (secret_fd >= 0)
		close(secret_fd);
	if (rc)
		nbd_server_stop(srv);
	return rc;
}

int nbd_server_connect(struct nbd_server *srv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", srv->socket);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

void nbd_server_seal(struct nbd_server *srv)
{
	if (srv->socket[0])
		unlink(srv->socket);
	if (srv->dir[0])
		rmdir(srv->dir);
	srv->socket[0] = srv->dir[0] = '\0';
}

/* Waits up to `ms` for the server to exit; true when it has. */
static bool wait_exit(struct nbd_server *srv, int ms)
{
	struct pollfd p = {.fd = srv->pidfd, .events = POLLIN};

	if (srv->pidfd >= 0 && poll(&p, 1, ms) <= 0)
		return false;
	return true; /* not our child: init reaps it */
}

void nbd_server_explain(struct nbd_server *srv, char *why, size_t why_len)
{
	size_t len = strlen(why);

	if (srv->pid == 0)
		return;
	/* Exited: what the connection saw (a reset) says nothing; the server said why. */
	if (wait_exit(srv, STOP_GRACE_MS))
		snprintf(why, why_len, "%s refused it (its message is above)", srv->program);
	else
		snprintf(why + len, why_len > len ? why_len - len : 0, " (%s's message is above)",
			 srv->program);
}

void nbd_server_stop(struct nbd_server *srv)
{
	nbd_server_seal(srv);
	if (srv->pid > 0 && srv->pidfd >= 0) {
		if (!wait_exit(srv, 0)) {
			pidfd_send_signal(srv->pidfd, SIGTERM, NULL, 0);
			if (!wait_exit(srv, STOP_GRACE_MS)) {
				pidfd_send_signal(srv->pidfd, SIGKILL, NULL, 0);
				wait_exit(srv, STOP_GRACE_MS);
			}
		}
	}
	if (srv->pidfd >= 0)
		close(srv->pidfd);
	srv->pidfd = -1;
	srv->pid = 0;
}
