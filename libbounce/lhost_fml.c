/*
 * lhost_fml.c - notices of fml, the Japanese mailing list manager
 * (X-MLServer: fml [fml 4.0.3 ...]), sent back when it refuses a post:
 * "You are not a member of this mailing list <list@example.org>.",
 * "Duplicated Message-ID in <list@example.org>." (loop alert).
 *
 * The "recipient" is the list that refused the message, named in angle
 * brackets in the notice; the notice's sentence is the diagnostic.
 */
#include <string.h>

#include "hdr.h"
#include "lhost.h"

static int
fml_detect(const struct pstate *st)
{
	const char *v;
	size_t n;

	v = hdr_find(st->v->head, st->v->head_len, "X-MLServer", &n);
	return v != NULL && str_istarts(v, n, "fml");
}

static int
fml_read(struct pstate *st)
{
	const char *l, *eol, *a;
	bounce_recipient *rc;
	size_t alen;

	for (l = lhost_line(st, st->text, &eol); l != NULL;
	    l = lhost_line(st, eol + 1, &eol)) {
		if ((a = lhost_angle_addr(l, eol, &alen)) == NULL)
			continue;
		if ((rc = report_add(st->r, a, alen, 1)) == NULL)
			return 0;
		rc->source = "text";
		l = lhost_skip_blanks(l, eol);
		if (rc->diagnostic == NULL && eol > l)
			rc->diagnostic = report_str(st->r, l,
			    (size_t)(eol - l));
		return 1;
	}
	return 0;
}

const struct lhost lhost_fml = {
	"fml", fml_detect, fml_read,
};
