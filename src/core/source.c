// SPDX-License-Identifier: MIT
#include "source.h"

#include "nbd_server.h"
#include "nbd_source.h"
#include "sparse_source.h"
#include "url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The formats qemu-nbd serves for us, by qemu's block driver names. */
static const char *const qemu_formats[] = {"qcow2", "qcow", "qed", "vmdk", "vhdx", "vpc", "vdi"};

bool source_is_remote(const char *name)
{
	return nbd_source_is_uri(name) || strncmp(name, "http://", 7) == 0 ||
	       strncmp(name, "https://", 8) == 0;
}

static const char *qemu_format(const char *format)
{
	if (strcmp(format, "vhd") == 0)
		return "vpc";
	for (size_t i = 0; i < sizeof(qemu_formats) / sizeof(qemu_formats[0]); i++)
		if (strcmp(format, qemu_formats[i]) == 0)
			return qemu_formats[i];
	return NULL;
}

bool source_format_known(const char *format)
{
	return strcmp(format, "raw") == 0 || strcmp(format, "sparse") == 0 || qemu_format(format);
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The format a file's first bytes (and, for a fixed VHD, its last 512) announce; "raw" when
 * none. Magic numbers from qemu's block drivers: block/qcow2.c, qcow.c, qed.h, vmdk.c,
 * vhdx.h, vpc.c, vdi.c.
 */
static const char *detect(struct byte_source *file)
{
	uint8_t head[512] = {0}, tail[8] = {0};
	size_t n = file->size < sizeof(head) ? (size_t)file->size : sizeof(head);

	if (byte_source_pread(file, head, n, 0) != 0)
		return "raw";
	if (sparse_source_detect(head, n))
		return "sparse";
	if (memcmp(head, "QFI\xfb", 4) == 0)
		return be32_at(head + 4) == 1 ? "qcow" : "qcow2";
	if (memcmp(head, "QED\0", 4) == 0)
		return "qed";
	if (memcmp(head, "KDMV", 4) == 0 || memcmp(head, "# Disk DescriptorFile", 21) == 0)
		return "vmdk";
	if (memcmp(head, "vhdxfile", 8) == 0)
		return "vhdx";
	if (memcmp(head + 0x40, "\x7f\x10\xda\xbe", 4) == 0)
		return "vdi";
	if (memcmp(head, "conectix", 8) == 0)
		return "vpc";
	if (file->size >= 512 && byte_source_pread(file, tail, 8, file->size - 512) == 0 &&
	    memcmp(tail, "conectix", 8) == 0)
		return "vpc";
	return "raw";
}

/* Starts a server for `argv` (with `secret` on its stdin, or none) and connects to it. */
static int open_served(char *const argv[], const char *package, const char *secret,
		       const char *kind, const char *name, const struct source_options *o,
		       struct byte_source **out, char *why, size_t why_len)
{
	struct nbd_source_options no = {.timeout = o->timeout, .connections = o->connections};
	struct nbd_server srv;
	char reason[384];
	int rc = nbd_server_start(&srv, argv, package, secret, reason, sizeof(reason));

	if (rc == 0)
		rc = nbd_source_open_server(&srv, kind, &no, out, reason, sizeof(reason));
	if (rc)
		snprintf(why, why_len, "cannot open %s as %s: %s", name, kind, reason);
	return rc;
}

static int open_qemu(const char *path, const char *format, const struct source_options *o,
		     struct byte_source **out, char *why, size_t why_len)
{
	char fmt[32], shared[32], kind[48];
	unsigned conns = o->connections ? o->connections : 4;
	char *argv[] = {"qemu-nbd", "--read-only", fmt, shared, "--", (char *)path, NULL};

	snprintf(fmt, sizeof(fmt), "--format=%s", format);
	snprintf(shared, sizeof(shared), "--shared=%u", conns);
	snprintf(kind, sizeof(kind), "%s via qemu-nbd", format);
	return open_served(argv, "qemu-utils", NULL, kind, path, o, out, why, why_len);
}

/* nbdkit's curl plugin on `url`. Credentials in the URL go to it as user= and, for the
 * password, password=-FD on a pipe: neither its command line nor a message shows them. */
static int open_http(const char *url, const char *shown, const struct source_options *o,
		     struct byte_source **out, char *why, size_t why_len)
{
	struct url_parts parts;
	char timeout[32], secret_param[32], *url_param = NULL, *user_param = NULL;
	int rc = url_split(url, &parts);
	/* exitlast: the server leaves with its last connection, even if the daemon is killed;
	 * protocols: a redirect cannot turn the URL into file:// on this machine. */
	char *argv[11] = {"nbdkit", "--readonly",    "--foreground",	     "--filter=exitlast",
			  "curl",   NULL /* url= */, "protocols=http,https", timeout};
	size_t n = 8;

	if (rc == 0 && asprintf(&url_param, "url=%s", parts.bare) >= 0 &&
	    (!parts.user || asprintf(&user_param, "user=%s", parts.user) >= 0)) {
		argv[5] = url_param;
		snprintf(timeout, sizeof(timeout), "timeout=%u", o->timeout ? o->timeout : 30);
		if (user_param)
			argv[n++] = user_param;
		if (parts.password) {
			snprintf(secret_param, sizeof(secret_param), "password=-%d",
				 NBD_SERVER_SECRET_FD);
			argv[n++] = secret_param;
		}
		rc = open_served(argv, "nbdkit", parts.password, "http via nbdkit curl", shown, o,
				 out, why, why_len);
	} else {
		rc = -ENOMEM;
		snprintf(why, why_len, "out of memory");
	}
	free(url_param);
	free(user_param);
	url_parts_free(&parts);
	return rc;
}

static int open_file(const char *path, const struct source_options *o, struct byte_source **out,
		     char *why, size_t why_len)
{
	struct byte_source *file;
	const char *format = o->format;
	int rc = byte_source_open_file(path, 0, 0, o->drop_cache, &file, why, why_len);

	if (rc)
		return rc;
	if (!format)
		format = detect(file);
	if (strcmp(format, "raw") == 0) {
		*out = file;
		return 0;
	}
	if (strcmp(format, "sparse") == 0) {
		char reason[256];
		rc = sparse_source_open(file, out, reason, sizeof(reason));
		if (rc)
			snprintf(why, why_len, "%s: %s", path, reason);
		return rc;
	}
	byte_source_close(file);
	return open_qemu(path, qemu_format(format), o, out, why, why_len);
}

/*
 * An export or a URL holds a file's bytes: an Android sparse image there (by its magic, or
 * format=sparse) is read through its index as a local one is. A VM disk format is refused:
 * qemu-nbd is given local files only.
 */
static int layer_remote(const char *shown, const struct source_options *o, struct byte_source **src,
			char *why, size_t why_len)
{
	uint8_t head[4];
	char reason[256];
	bool sparse = o->format && strcmp(o->format, "sparse") == 0;
	int rc = 0;

	if (o->format && qemu_format(o->format)) {
		byte_source_close(*src);
		snprintf(
		    why, why_len,
		    "%s: format=%s is read from local files only (convert it, or serve it with "
		    "qemu-nbd and give its nbd:// URI)",
		    shown, o->format);
		return -EINVAL;
	}
	if (!o->format && byte_source_pread(*src, head, sizeof(head), 0) == 0)
		sparse = sparse_source_detect(head, sizeof(head));
	if (sparse)
		rc = sparse_source_open(*src, src, reason, sizeof(reason));
	if (rc)
		snprintf(why, why_len, "%s: %s", shown, reason);
	return rc;
}

int source_open(const char *name, const struct source_options *opts, struct byte_source **out,
		char *why, size_t why_len)
{
	struct nbd_source_options no = {.timeout = opts->timeout, .connections = opts->connections};
	char *shown; /* `name` as messages give it: a URL's password left out */
	int rc;

	why[0] = '\0';
	if (opts->format && !source_format_known(opts->format)) {
		snprintf(why, why_len,
			 "unknown format=%s (raw, sparse, qcow2, qcow, qed, vmdk, vhdx, vpc, vdi)",
			 opts->format);
		return -EINVAL;
	}
	if (!source_is_remote(name))
		return open_file(name, opts, out, why, why_len);
	shown = url_redacted(name);
	if (!shown) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	if (nbd_source_is_uri(name))
		rc = nbd_source_open_uri(name, &no, out, why, why_len);
	else
		rc = open_http(name, shown, opts, out, why, why_len);
	if (rc == 0)
		rc = layer_remote(shown, opts, out, why, why_len);
	free(shown);
	return rc;
}
