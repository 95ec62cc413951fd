// SPDX-License-Identifier: MIT
#include "auto_unmount.h"

#include "fuse_ops.h" /* libfuse's version macros */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

bool auto_unmount_by_daemon(void)
{
	return FUSE_VERSION >= FUSE_MAKE_VERSION(3, 18) && geteuid() == 0;
}

/* Undoes mountinfo's octal escapes (\040 for a space ...) in place. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/*
 * Walks /proc/self/mountinfo. With `dev` empty: the device of the last fuse.ext4pager mount at
 * `path` (mounts stack) goes to `dev`. With `dev` set: the path of the mount with that device
 * goes to `path`. Returns whether one was found.
 */
static bool mountinfo_find(char *path, size_t path_len, char *dev, size_t dev_len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	bool by_dev = dev[0] != '\0', found = false;
	char line[8192];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char mdev[64], mpath[PATH_MAX], *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*u %*u %63s %*s %4095s", mdev, mpath) != 2)
			continue;
		unescape(mpath);
		if (by_dev && strcmp(mdev, dev) == 0) {
			snprintf(path, path_len, "%s", mpath);
			found = true;
			break;
		}
		if (!by_dev && strcmp(mpath, path) == 0 &&
		    strncmp(sep + 3, "fuse.ext4pager ", 15) == 0) {
			snprintf(dev, dev_len, "%s", mdev);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* The watcher: waits for the daemon's end of the pipe (fd 3) to close, then unmounts. */
static void __attribute__((noreturn)) watch(char *dev)
{
	char path[PATH_MAX] = "", c;

	while (read(3, &c, 1) < 0 && errno == EINTR)
		;
	if (mountinfo_find(path, sizeof(path), dev, strlen(dev) + 1))
		umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
	_exit(0);
}

int auto_unmount_start(const char *mountpoint)
{
	char path[PATH_MAX], dev[64] = "";
	int fds[2];
	pid_t pid;

	if (!realpath(mountpoint, path))
		snprintf(path, sizeof(path), "%s", mountpoint);
	/* The connection's device: the mount at the path is the one just made. */
	mountinfo_find(path, sizeof(path), dev, sizeof(dev));
	if (!dev[0]) {
		fprintf(stderr, "ext4pager: auto_unmount: %s is not in /proc/self/mountinfo\n", path);
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		perror("ext4pager: auto_unmount");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("ext4pager: auto_unmount");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* Outlives the daemon: no terminal signal may take it first. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		setsid();
		/* Nothing of the daemon's but the pipe: a /dev/fuse descriptor held here would
		 * keep the dead daemon's connection up. */
		if (dup2(fds[0], 3) != 3)
			_exit(1);
		close_range(4, ~0u, 0);
		/* Nor the daemon's stdio: `out=$(ext4pager ...)` would wait for it. */
		int null = open("/dev/null", O_RDWR);
		for (int fd = 0; null >= 0 && fd < 3; fd++)
			dup2(null, fd);
		watch(dev);
	}
	close(fds[0]); /* fds[1] stays open for the daemon's life (and across its daemonize) */
	return 0;
}
