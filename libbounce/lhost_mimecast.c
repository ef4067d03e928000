/*
 * lhost_mimecast.c - bounces of Mimecast, "[Postmaster] Email Delivery
 * Failure".  Values are written on lines of their own after "-- ":
 *
 *     An email that you attempted to send to the following address could
 *     not be delivered:
 *     -- addr
 *
 *     The problem appears to be :
 *     -- Recipient email address is possibly incorrect
 *
 *     Additional information follows :
 *     -- 5.4.1 Recipient address rejected: Access denied. [...]
 *
 * "The problem appears to be" is Mimecast's guess; the additional
 * information is the remote server's reply, the diagnostic when present.
 * Newer notices also carry a delivery-status part, read before this.
 */
#include <string.h>

#include "lhost.h"

static int
mimecast_detect(const struct pstate *st)
{
	return lhost_subject_has(st, "[Postmaster] Email Delivery Failure") ||
	    (lhost_from_has(st, "postmaster") &&
	    lhost_text_find(st, "The problem appears to be :") >= 0);
}

static int
mimecast_read(struct pstate *st)
{
	enum { ADDRS, PROBLEM, INFO, OTHER } section = OTHER;
	struct lhost_diag problem, info;
	struct lhost_lines it;
	bounce_recipient *rc;
	const char *t, *a;
	size_t n, alen, i, first = st->r->nrcpt;
	int found = 0;

	memset(&problem, 0, sizeof(problem));
	memset(&info, 0, sizeof(info));
	lhost_lines_init(&it, st);
	while (lhost_next_text(&it, &t, &n)) {
		if (n < 3 || memcmp(t, "-- ", 3) != 0) {
			if (str_ifind_z(t, n, "problem appears to be") != NULL)
				section = PROBLEM;
			else if (str_ifind_z(t, n, "Additional information") !=
			    NULL)
				section = INFO;
			else if (str_ifind_z(t, n, "address") != NULL)
				section = ADDRS;
			else
				section = OTHER;
			continue;
		}
		t += 3;
		n -= 3;
		if (section == ADDRS &&
		    (a = lhost_address(t, n, &alen)) != NULL &&
		    (rc = lhost_add(st, a, alen)) != NULL)
			found++;
		else if (section == PROBLEM)
			lhost_diag_add(&problem, t, n);
		else if (section == INFO)
			lhost_diag_add(&info, t, n);
	}
	for (i = first; i < st->r->nrcpt; i++)
		if (st->r->rcpt[i].diagnostic == NULL)
			st->r->rcpt[i].diagnostic = lhost_diag_str(st,
			    info.len > 0 ? &info : &problem);
	return found;
}

const struct lhost lhost_mimecast = { "mimecast", mimecast_detect,
	mimecast_read };
