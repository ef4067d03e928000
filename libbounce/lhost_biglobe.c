/*
 * lhost_biglobe.c - bounces of BIGLOBE (biglobe.ne.jp) and the cable
 * providers on its mail system (inacatv.ne.jp, tmtv.ne.jp, ttv.ne.jp):
 * "Returned mail: ..." from postmaster@<provider>, in two sections:
 *
 *        ----- The following addresses had delivery problems -----
 *     addr
 *
 *        ----- Non-delivered information -----
 *     The number of messages in recipient's mailbox exceeded the local
 *     limit.
 *
 * The addresses are listed bare, postmaster@ included (the generic reader
 * never takes postmaster), and the reason follows them for all.
 */
#include <string.h>

#include "lhost.h"

static int
biglobe_detect(const struct pstate *st)
{
	static const char *const senders[] = {
		"postmaster@biglobe.ne.jp", "postmaster@inacatv.ne.jp",
		"postmaster@tmtv.ne.jp", "postmaster@ttv.ne.jp",
	};
	size_t i;

	if (!lhost_subject_has(st, "Returned mail:"))
		return 0;
	for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		if (lhost_from_has(st, senders[i]))
			return 1;
	return 0;
}

static int
biglobe_read(struct pstate *st)
{
	enum { NONE, ADDRS, INFO } section = NONE;
	struct lhost_diag why;
	struct lhost_lines it;
	const char *t, *a;
	size_t n, alen, i, first = st->r->nrcpt;
	int found = 0;

	memset(&why, 0, sizeof(why));
	lhost_lines_init(&it, st);
	while (lhost_next_text(&it, &t, &n)) {
		if (n > 5 && memcmp(t, "-----", 5) == 0) {
			if (str_ifind_z(t, n, "had delivery problems") != NULL)
				section = ADDRS;
			else if (str_ifind_z(t, n, "Non-delivered information")
			    != NULL)
				section = INFO;
			else
				section = NONE;
			continue;
		}
		if (section == ADDRS && (a = lhost_address(t, n, &alen)) ==
		    t && alen == n && lhost_add(st, a, alen) != NULL)
			found++;
		else if (section == INFO)
			lhost_diag_add(&why, t, n);
	}
	for (i = first; i < st->r->nrcpt; i++)
		if (st->r->rcpt[i].diagnostic == NULL)
			st->r->rcpt[i].diagnostic = lhost_diag_str(st, &why);
	return found;
}

const struct lhost lhost_biglobe = { "biglobe", biglobe_detect,
	biglobe_read };
