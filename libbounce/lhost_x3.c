/*
 * lhost_x3.c - the "Delivery status notification" of an unidentified MTA
 * (Sisimai calls it X3), from "Mail Delivery System":
 *
 *     ======================================================
 *           This is an automatically generated Delivery Status
 *           Notification.
 *
 *     Delivery to the following recipients failed permanently:
 *
 *        * addr
 *
 *     ======================================================
 *                          Technical details:
 *
 *     SMTP:RCPT host 192.0.2.8: 553 5.3.0 <addr>... No such user here
 *
 * "SMTP:<verb>" names the phase; "Routing:" lines say why no host was
 * tried.  A detail line naming a recipient is that recipient's; one that
 * names none is every recipient's.
 */
#include <string.h>

#include "lhost.h"

static int
x3_detect(const struct pstate *st)
{
	return str_istarts(st->from, strlen(st->from),
	    "Mail Delivery System") &&
	    str_istarts(st->subject, strlen(st->subject),
	    "Delivery status notification");
}

static void
detail(struct pstate *st, size_t first, const char *t, size_t n,
    bounce_phase phase)
{
	bounce_recipient *rc = NULL;
	const char *a;
	size_t alen, i;

	if ((a = lhost_address(t, n, &alen)) != NULL) {
		char addr[330];

		if (alen < sizeof(addr)) {
			memcpy(addr, a, alen);
			addr[alen] = '\0';
			rc = report_find(st->r, addr);
		}
	}
	for (i = first; i < st->r->nrcpt; i++) {
		if (rc != NULL && rc != &st->r->rcpt[i])
			continue;
		if (st->r->rcpt[i].diagnostic == NULL) {
			st->r->rcpt[i].diagnostic = report_str(st->r, t, n);
			st->r->rcpt[i].phase = phase;
		}
	}
}

static int
x3_read(struct pstate *st)
{
	struct lhost_lines it;
	const char *line, *t, *a;
	size_t len, n, alen, first = st->r->nrcpt;
	int found = 0;

	lhost_lines_init(&it, st);
	while (lhost_next_line(&it, &line, &len)) {
		n = len;
		t = str_trim(line, &n);
		if (n > 2 && t[0] == '*' && t[1] == ' ') {
			if ((a = lhost_address(t + 2, n - 2, &alen)) != NULL &&
			    lhost_add(st, a, alen) != NULL)
				found++;
		} else if (n > 5 && memcmp(t, "SMTP:", 5) == 0 && found) {
			bounce_phase ph = lhost_verb_phase(t + 5, n - 5);

			/* "SMTP:RCPT host 192.0.2.8: 553 ..." */
			if (ph != BOUNCE_PHASE_NONE) {
				t += 9;
				n -= 9;
				t = str_trim(t, &n);
			}
			detail(st, first, t, n, ph);
		} else if (n > 8 && memcmp(t, "Routing:", 8) == 0 && found) {
			detail(st, first, t + 8, n - 8, BOUNCE_PHASE_NONE);
		}
	}
	return found;
}

const struct lhost lhost_x3 = { "x3", x3_detect, x3_read };
