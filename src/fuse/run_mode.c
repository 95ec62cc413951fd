// SPDX-License-Identifier: MIT
#include "run_mode.h"

#include "session.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATUS_MOUNT_FAILED 125
#define STATUS_CANNOT_EXEC  126
#define STATUS_NOT_FOUND    127

/* The signals the supervisor takes synchronously (sigwaitinfo) and forwards to the command. */
static void supervised_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

static void *serve_thread(void *arg)
{
	session_serve(arg);
	return NULL;
}

/* In the child: restore the signal mask and dispositions, then exec. Only async-signal-safe
 * calls here, since the parent has threads. */
static void exec_command(char **argv, const sigset_t *old_mask)
{
	static const char msg[] = "ext4pager: cannot run the command\n";
	int status;

	signal(SESSION_WAKE_SIGNAL, SIG_DFL);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	execvp(argv[0], argv);
	status = errno == ENOENT ? STATUS_NOT_FOUND : STATUS_CANNOT_EXEC;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		status = STATUS_CANNOT_EXEC;
	_exit(status);
}

/* Waits for the command, forwarding the signals the supervisor receives. Returns its status. */
static int supervise(pid_t child, const sigset_t *set)
{
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(set, &info), status;

		if (sig < 0)
			continue; /* EINTR */
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		if (waitpid(child, &status, WNOHANG) != child)
			continue;
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
	}
}

static int run_with_mount(struct session *s, const struct options *o, const sigset_t *old)
{
	sigset_t set;
	pthread_t server;
	pid_t child;
	int status;

	if (session_mount(s, false) || session_start(s))
		return STATUS_MOUNT_FAILED;
	if (pthread_create(&server, NULL, serve_thread, s) != 0) {
		fprintf(stderr, "ext4pager: cannot start serving\n");
		return STATUS_MOUNT_FAILED;
	}
	child = fork();
	if (child == 0)
		exec_command(o->command, old);
	if (child < 0) {
		fprintf(stderr, "ext4pager: cannot fork: %s\n", strerror(errno));
		status = STATUS_MOUNT_FAILED;
	} else {
		supervised_signals(&set);
		status = supervise(child, &set);
	}
	session_stop(s);
	pthread_join(server, NULL);
	return status;
}

int run_mode(const struct options *o, const char *image_path)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	sigset_t set, old;
	struct session s;
	int status;

	snprintf(dir, sizeof(dir), "%s/ext4pager.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "ext4pager: cannot create a mount directory in %s: %s\n",
			tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return STATUS_MOUNT_FAILED;
	}
	/* Before any thread exists, so every thread inherits the mask and only sigwaitinfo
	 * takes these signals. */
	supervised_signals(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	setenv("EXT4PAGER_MOUNT", dir, 1);
	if (session_open(&s, o, image_path, dir) == 0)
		status = run_with_mount(&s, o, &old);
	else
		status = STATUS_MOUNT_FAILED;
	session_close(&s);
	if (rmdir(dir) != 0)
		fprintf(stderr, "ext4pager: cannot remove %s: %s\n", dir, strerror(errno));
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
