/*
 * lhost_ezweb.c - bounces of au by KDDI mobile mail (EZweb: ezweb.ne.jp,
 * au.com), "Mail System Error - Returned Mail" from Postmaster@ezweb.ne.jp.
 *
 * The notice is Japanese boilerplate (the same for every reason), an
 * English sentence saying why ("The user(s) account is disabled.", "Your
 * message was not delivered within 0 days and 1 hours.", "Each of the
 * following recipients was rejected by a remote mail server."), and the
 * recipients, as "<addr>", "<addr>: 550 reply" or a session transcript:
 *
 *     Recipient: <addr>
 *     >>> RCPT TO:<addr>
 *     <<< 550 <addr>: User unknown
 *
 * The sentence comes before the addresses, which the generic reader does
 * not expect.  A recipient's own reply is its diagnostic, else the
 * sentence.  A line of dashes ends the notice: the returned message
 * follows it inline.  Bounces with a delivery-status part never get here.
 */
#include <string.h>

#include "lhost.h"

static int
ezweb_detect(const struct pstate *st)
{
	return lhost_from_has(st, "postmaster@ezweb.ne.jp") ||
	    lhost_from_has(st, "postmaster@au.com");
}

static int
ascii_only(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 0;
	return 1;
}

static int
dashes_only(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != '-')
			return 0;
	return n >= 20;
}

/* The reply lines gathered for recipient i become its diagnostic. */
static void
flush_reply(struct pstate *st, size_t i, struct lhost_diag *reply)
{
	if (i < st->r->nrcpt && reply->len > 0 &&
	    st->r->rcpt[i].diagnostic == NULL)
		st->r->rcpt[i].diagnostic = lhost_diag_str(st, reply);
	memset(reply, 0, sizeof(*reply));
}

static int
ezweb_read(struct pstate *st)
{
	struct lhost_diag msg, reply;
	struct lhost_lines it;
	bounce_recipient *rc;
	const char *t, *a, *rest;
	size_t n, alen, i, first = st->r->nrcpt, cur = (size_t)-1;
	int found = 0;

	memset(&msg, 0, sizeof(msg));
	memset(&reply, 0, sizeof(reply));
	lhost_lines_init(&it, st);
	while (lhost_next_text(&it, &t, &n)) {
		if (dashes_only(t, n))
			break;
		a = NULL;
		if (t[0] == '<')
			a = lhost_address(t, n, &alen);
		else if (str_istarts(t, n, "Recipient:"))
			a = lhost_address(t + 10, n - 10, &alen);
		if (a != NULL && (t[0] != '<' || (a == t + 1 &&
		    a + alen < t + n && a[alen] == '>'))) {
			flush_reply(st, cur, &reply);
			if ((rc = lhost_add(st, a, alen)) == NULL)
				continue;
			cur = (size_t)(rc - st->r->rcpt);
			found++;
			/* "<addr>: 550 user unknown (in reply to RCPT TO)" */
			rest = a + alen + 1;
			while (rest < t + n && (*rest == ':' || *rest == ' '))
				rest++;
			if (t[0] == '<' && rest < t + n)
				lhost_diag_add(&reply, rest,
				    (size_t)(t + n - rest));
			continue;
		}
		if (n >= 3 && memcmp(t, ">>>", 3) == 0) {
			rest = t + 3;
			while (rest < t + n && *rest == ' ')
				rest++;
			if (cur < st->r->nrcpt)
				st->r->rcpt[cur].phase = lhost_verb_phase(rest,
				    (size_t)(t + n - rest));
			continue;
		}
		if (n >= 3 && memcmp(t, "<<<", 3) == 0) {
			if (cur < st->r->nrcpt)
				lhost_diag_add(&reply, t + 3, n - 3);
			continue;
		}
		/* the English sentence; not the Japanese boilerplate, not
		 * "The following recipients did not receive this message:" */
		if (ascii_only(t, n) && t[n - 1] != ':' && t[0] != '<' &&
		    t[0] != '>' && !str_istarts(t, n, "Recipient:"))
			lhost_diag_add(&msg, t, n);
	}
	flush_reply(st, cur, &reply);
	for (i = first; i < st->r->nrcpt; i++)
		if (st->r->rcpt[i].diagnostic == NULL)
			st->r->rcpt[i].diagnostic = lhost_diag_str(st, &msg);
	return found;
}

const struct lhost lhost_ezweb = { "ezweb", ezweb_detect, ezweb_read };
