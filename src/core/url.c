// SPDX-License-Identifier: MIT
#include "url.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* Where the authority's userinfo is: [*start, *at) with *at the '@', or false when none. */
static bool find_userinfo(const char *url, const char **start, const char **at)
{
	const char *auth = strstr(url, "://"), *end, *p;

	if (!auth)
		return false;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	*at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			*at = p; /* the last one: a password may hold an unescaped '@' */
	*start = auth;
	return *at != NULL;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* [s, s + len) percent-decoded into a new string (a malformed escape is kept as it is). */
static char *decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi = -1, lo = -1;
		if (s[i] == '%' && i + 2 < len) {
			hi = hex_value(s[i + 1]);
			lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
		}
		if (hi >= 0 && lo >= 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

int url_split(const char *url, struct url_parts *out)
{
	const char *start, *at, *colon;
	size_t head;

	memset(out, 0, sizeof(*out));
	if (!find_userinfo(url, &start, &at)) {
		out->bare = strdup(url);
		return out->bare ? 0 : -ENOMEM;
	}
	head = (size_t)(start - url);
	out->bare = malloc(strlen(url) + 1);
	if (out->bare) {
		memcpy(out->bare, url, head);
		strcpy(out->bare + head, at + 1);
	}
	colon = memchr(start, ':', (size_t)(at - start));
	out->user = decode(start, (size_t)((colon ? colon : at) - start));
	if (colon)
		out->password = decode(colon + 1, (size_t)(at - colon - 1));
	if (!out->bare || !out->user || (colon && !out->password)) {
		url_parts_free(out);
		return -ENOMEM;
	}
	return 0;
}

void url_parts_free(struct url_parts *p)
{
	if (p->password) {
		OPENSSL_cleanse(p->password, strlen(p->password));
		free(p->password);
	}
	free(p->bare);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

char *url_redacted(const char *url)
{
	const char *start, *at, *colon;
	char *out;

	if (!find_userinfo(url, &start, &at) || !(colon = memchr(start, ':', (size_t)(at - start))))
		return strdup(url);
	out = malloc(strlen(url) + 1);
	if (out) {
		memcpy(out, url, (size_t)(colon - url));
		strcpy(out + (colon - url), at);
	}
	return out;
}
