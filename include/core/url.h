// SPDX-License-Identifier: MIT
/*
 * url — the credentials an http(s) URL may carry (scheme://USER:PASSWORD@HOST/…, RFC 3986
 * userinfo), kept out of what others can read: the server's command line (nbdkit gets the bare
 * URL, the user name, and the password on its stdin), /proc/mounts (fsname) and messages.
 */
#ifndef EXT4PAGER_URL_H
#define EXT4PAGER_URL_H

struct url_parts {
	char *bare;	/* the URL without its userinfo */
	char *user;	/* percent-decoded; NULL when the URL has no userinfo */
	char *password; /* percent-decoded; NULL when the userinfo has no ':' */
};

/* Splits `url` (scheme://…). Returns 0 or -ENOMEM; `out` is then freed by url_parts_free. */
int url_split(const char *url, struct url_parts *out);
/* Frees the parts, wiping the password first. */
void url_parts_free(struct url_parts *p);
/* `url` with its password, if any, left out (scheme://USER@HOST/…): a new string, or NULL. */
char *url_redacted(const char *url);

#endif
