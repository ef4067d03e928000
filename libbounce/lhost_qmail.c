/*
 * lhost_qmail.c - qmail-send's bounce (and its descendants: netqmail,
 * notqmail, indimail, s/qmail).
 *
 * qmail-send (qmail-send.c, qsutil) writes:
 *
 *   Hi. This is the qmail-send program at host.example.org.
 *   I'm afraid I wasn't able to deliver your message to the following
 *   addresses.  This is a permanent error; I've given up. ...
 *
 *   <alice@example.net>:
 *   192.0.2.25 does not like recipient.
 *   Remote host said: 550 5.1.1 <alice@example.net>: User unknown
 *   Giving up on 192.0.2.25.
 *
 *   --- Below this line is a copy of the message.
 *
 * A line that is only "<addr>:" opens a recipient and the lines up to
 * the next blank line are its diagnostic.  These lines name the failed
 * recipient on purpose, so the generic reader's exclusions (the
 * bounce's own To, role addresses) do not apply.  indimail prefixes the
 * diagnostic with "From: <sender> RCPT: <addr>"; that is dropped.
 */
#include <string.h>

#include "hdr.h"
#include "lhost.h"

#define DIAG_LINES 12

static int
qmail_detect(const struct pstate *st)
{
	const char *v;
	size_t n;

	if (lhost_text_find(st, "this is the qmail-send program") >= 0)
		return 1;
	/* "Received: (qmail 7120 invoked for bounce)" */
	v = hdr_find(st->v->head, st->v->head_len, "Received", &n);
	return v != NULL && str_ifind_z(v, n, "invoked for bounce") != NULL;
}

/* "<addr>:" alone on the line: the address, else NULL. */
static const char *
recipient_line(const char *p, const char *eol, size_t *len)
{
	const char *a;

	p = lhost_skip_blanks(p, eol);
	while (eol > p && str_is_space(eol[-1]))
		eol--;
	if (eol - p < 4 || *p != '<' || eol[-1] != ':' || eol[-2] != '>')
		return NULL;
	a = lhost_angle_addr(p, eol, len);
	return a == p + 1 && a + *len == eol - 2 ? a : NULL;
}

static void
commit(struct pstate *st, bounce_recipient *rc, const char *d,
    const char *e)
{
	const char *q;
	size_t n;

	if (rc == NULL || d == NULL || rc->diagnostic != NULL)
		return;
	while (e > d && str_is_space(e[-1]))
		e--;
	/* indimail: "From: <x> RCPT: <y> 192.0.2.1 does not like..." */
	if (str_istarts(d, (size_t)(e - d), "From: <") &&
	    (q = str_ifind_z(d, (size_t)(e - d), "RCPT: <")) != NULL &&
	    lhost_angle_addr(q, e, &n) != NULL)
		d = lhost_skip_blanks(q + 7 + n + 1, e);
	if (e > d)
		rc->diagnostic = report_str(st->r, d, (size_t)(e - d));
}

static int
qmail_read(struct pstate *st)
{
	const char *l, *eol, *a, *d = NULL, *de = NULL;
	bounce_recipient *rc = NULL;
	size_t alen;
	int found = 0, lines = 0;

	for (l = lhost_line(st, st->text, &eol); l != NULL;
	    l = lhost_line(st, eol + 1, &eol)) {
		if ((a = recipient_line(l, eol, &alen)) != NULL) {
			commit(st, rc, d, de);
			d = de = NULL;
			lines = 0;
			if ((rc = report_add(st->r, a, alen, 1)) != NULL) {
				if (rc->source == NULL)
					rc->source = "text";
				found++;
			}
		} else if (rc != NULL && d == NULL) {
			if (lhost_skip_blanks(l, eol) < eol) {
				d = l;
				de = eol;
				lines = 1;
			}
		} else if (rc != NULL) {
			if (lhost_skip_blanks(l, eol) == eol ||
			    lines >= DIAG_LINES) {
				commit(st, rc, d, de);
				rc = NULL;
				d = de = NULL;
			} else {
				de = eol;
				lines++;
			}
		}
	}
	commit(st, rc, d, de);
	return found;
}

const struct lhost lhost_qmail = {
	"qmail", qmail_detect, qmail_read,
};
