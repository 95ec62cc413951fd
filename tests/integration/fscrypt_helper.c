// SPDX-License-Identifier: MIT
/*
 * Test helper: makes encrypted directories on a read-write kernel mount, as fscryptctl does,
 * with the kernel's own ioctls (include/uapi/linux/fscrypt.h).
 *
 *   fscrypt_helper add_key MOUNTPOINT KEYFILE           v2 key: prints its identifier (hex)
 *   fscrypt_helper add_key_v1 MOUNTPOINT KEYFILE DESC   v1 key under descriptor DESC (16 hex)
 *   fscrypt_helper set_policy DIR v2 IDENTIFIER [FLAGS [CONTENTS FILENAMES]]
 *                                                       an empty DIR gets a v2 policy
 *   fscrypt_helper set_policy DIR v1 DESC [FLAGS [CONTENTS FILENAMES]]
 *                                                       ... or a v1 one; modes default to
 *                                                       AES-256-XTS and AES-256-CTS
 *   fscrypt_helper casefold DIR                         sets an empty DIR's casefold flag
 *                                                       (chattr +F, for a busybox guest)
 *   fscrypt_helper readdir DIR                          prints DIR's names in the order
 *                                                       getdents gives them, "." and ".."
 *                                                       included, one line
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int die(const char *what)
{
	perror(what);
	return 1;
}

static int hex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return strlen(s) == 2 * n ? 0 : -1;
}

static int add_key(const char *mnt, const char *keyfile, const char *desc)
{
	unsigned char raw[FSCRYPT_MAX_KEY_SIZE];
	struct fscrypt_add_key_arg *arg = calloc(1, sizeof(*arg) + sizeof(raw));
	int fd = open(keyfile, O_RDONLY), dir;
	ssize_t n = fd < 0 ? -1 : read(fd, raw, sizeof(raw));

	if (n <= 0)
		return die(keyfile);
	arg->raw_size = (unsigned)n;
	memcpy(arg->raw, raw, (size_t)n);
	if (desc) {
		arg->key_spec.type = FSCRYPT_KEY_SPEC_TYPE_DESCRIPTOR;
		if (hex(desc, arg->key_spec.u.descriptor, FSCRYPT_KEY_DESCRIPTOR_SIZE))
			return die("descriptor");
	} else {
		arg->key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	}
	dir = open(mnt, O_RDONLY | O_DIRECTORY);
	if (dir < 0 || ioctl(dir, FS_IOC_ADD_ENCRYPTION_KEY, arg) != 0)
		return die("FS_IOC_ADD_ENCRYPTION_KEY");
	if (!desc) {
		for (int i = 0; i < FSCRYPT_KEY_IDENTIFIER_SIZE; i++)
			printf("%02x", arg->key_spec.u.identifier[i]);
		printf("\n");
	}
	return 0;
}

static int set_policy(const char *path, const char *version, const char *key, const char *flags,
		      const char *contents, const char *names)
{
	int dir = open(path, O_RDONLY | O_DIRECTORY), rc;
	unsigned char f =
	    flags ? (unsigned char)strtoul(flags, NULL, 0) : FSCRYPT_POLICY_FLAGS_PAD_32;
	unsigned char cm = contents ? (unsigned char)atoi(contents) : FSCRYPT_MODE_AES_256_XTS;
	unsigned char fm = names ? (unsigned char)atoi(names) : FSCRYPT_MODE_AES_256_CTS;

	if (dir < 0)
		return die(path);
	if (strcmp(version, "v2") == 0) {
		struct fscrypt_policy_v2 p = {.version = FSCRYPT_POLICY_V2,
					      .contents_encryption_mode = cm,
					      .filenames_encryption_mode = fm,
					      .flags = f};
		if (hex(key, p.master_key_identifier, FSCRYPT_KEY_IDENTIFIER_SIZE))
			return die("identifier");
		rc = ioctl(dir, FS_IOC_SET_ENCRYPTION_POLICY, &p);
	} else {
		struct fscrypt_policy_v1 p = {.version = FSCRYPT_POLICY_V1,
					      .contents_encryption_mode = cm,
					      .filenames_encryption_mode = fm,
					      .flags = f};
		if (hex(key, p.master_key_descriptor, FSCRYPT_KEY_DESCRIPTOR_SIZE))
			return die("descriptor");
		rc = ioctl(dir, FS_IOC_SET_ENCRYPTION_POLICY, &p);
	}
	return rc ? die("FS_IOC_SET_ENCRYPTION_POLICY") : 0;
}

static int casefold(const char *path)
{
	int dir = open(path, O_RDONLY | O_DIRECTORY), flags = 0;

	if (dir < 0 || ioctl(dir, FS_IOC_GETFLAGS, &flags) != 0)
		return die(path);
	flags |= FS_CASEFOLD_FL;
	return ioctl(dir, FS_IOC_SETFLAGS, &flags) != 0 ? die("FS_IOC_SETFLAGS") : 0;
}

static int list(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return die(path);
	while ((e = readdir(d)))
		printf("%s/", e->d_name);
	printf("\n");
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "readdir") == 0)
		return list(argv[2]);
	if (argc == 3 && strcmp(argv[1], "casefold") == 0)
		return casefold(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "add_key") == 0)
		return add_key(argv[2], argv[3], NULL);
	if (argc >= 5 && strcmp(argv[1], "add_key_v1") == 0)
		return add_key(argv[2], argv[3], argv[4]);
	if (argc >= 5 && strcmp(argv[1], "set_policy") == 0)
		return set_policy(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL,
				  argc > 7 ? argv[6] : NULL, argc > 7 ? argv[7] : NULL);
	fprintf(stderr, "usage: see the header of fscrypt_helper.c\n");
	return 2;
}
