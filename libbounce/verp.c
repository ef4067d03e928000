/*
 * verp.c - Variable Envelope Return Paths: the bounce address carries the
 * recipient ("list-bounces+alice=example.net@lists.example.org").
 *
 * The VERP data is what follows the first separator in the local part;
 * its last equals sign stands for the '@' (local parts may contain '='
 * themselves, domains may not).  Mailman's form with the list name in
 * front, Postfix's and Exim's with a configurable separator, all decode
 * the same way.
 */
#include <string.h>

#include "internal.h"

int
bounce_verp_decode(char *out, size_t outlen, const char *address,
    const bounce_verp_options *opts)
{
	static const bounce_verp_options defaults = BOUNCE_VERP_OPTIONS_INIT;
	const char *at, *sep, *eq, *p;
	size_t local_len, domain_len;
	size_t len;

	if (out == NULL || outlen == 0 || address == NULL)
		return BOUNCE_EINVAL;
	if (opts == NULL)
		opts = &defaults;
	if (opts->version != BOUNCE_VERP_OPTIONS_VERSION)
		return BOUNCE_EVERSION;
	out[0] = '\0';
	len = strlen(address);
	address = str_trim(address, &len);
	if (len >= 2 && address[0] == '<' && address[len - 1] == '>') {
		address++;
		len -= 2;
	}
	/* the '@' of the bounce address itself is the last one */
	for (at = NULL, p = address; p < address + len; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		at = address + len;	/* a bare local part, as $extension */
	sep = memchr(address, opts->separator, (size_t)(at - address));
	if (sep == NULL)
		return BOUNCE_ENOTFOUND;
	sep++;
	for (eq = NULL, p = sep; p < at; p++)
		if (*p == opts->equals)
			eq = p;
	if (eq == NULL || eq == sep || eq + 1 == at)
		return BOUNCE_ENOTFOUND;
	local_len = (size_t)(eq - sep);
	domain_len = (size_t)(at - eq - 1);
	if (local_len + 1 + domain_len + 1 > outlen)
		return BOUNCE_ELIMIT;
	memcpy(out, sep, local_len);
	out[local_len] = '@';
	memcpy(out + local_len + 1, eq + 1, domain_len);
	out[local_len + 1 + domain_len] = '\0';
	/* a domain with no dot is no domain: "list+x=y@host" is not VERP
	 * unless y looks like one */
	if (memchr(eq + 1, '.', domain_len) == NULL) {
		out[0] = '\0';
		return BOUNCE_ENOTFOUND;
	}
	return BOUNCE_OK;
}
