// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a URL's credentials (url.c) on arbitrary strings. The bare URL and the
 * redacted one must never hold the password's bytes where they stood; the redacted URL is the
 * input without its ":password" part, so never longer; the bare one, without the userinfo and
 * its '@'. Seeds: tests/fuzz/corpus/url.
 */
#include "url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), *shown;
	struct url_parts p;

	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0'; /* an embedded NUL ends the string, as argv's would */
	shown = url_redacted(url);
	if (url_split(url, &p) == 0) {
		size_t len = strlen(url);
		if (strlen(p.bare) > len || (shown && strlen(shown) > len))
			abort();
		if (!p.user && (strcmp(p.bare, url) != 0 || (shown && strcmp(shown, url) != 0)))
			abort(); /* no userinfo: both unchanged */
		if (p.user && strlen(p.bare) >= len)
			abort(); /* the userinfo and its '@' are gone */
		url_parts_free(&p);
	}
	free(shown);
	free(url);
	return 0;
}
