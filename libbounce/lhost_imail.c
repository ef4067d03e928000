/*
 * lhost_imail.c - bounces of Ipswitch IMail Server (X-Mailer: <SMTP32
 * vN>, "Undeliverable Mail" from "Postmaster").  One line per recipient,
 * the reason before the address:
 *
 *     Unknown user: addr
 *     User mailbox exceeds allowed size: addr
 *     Delivery failed 20 attempts: addr
 *
 * or "undeliverable to addr" followed by the remote server's reply:
 *
 *     Body of message generated response:
 *     550-REJECTED - Blacklisted URL in message ...
 *     550 ...
 *
 * where the heading names the SMTP phase ("Additional RCPT TO generated
 * following response:", "DATA command generated response:", "Server
 * response to MAIL FROM:", "SMTP connection failed,", "Unexpected
 * response to EHLO/HELO:").  "Original message follows." ends the notice.
 */
#include <string.h>

#include "lhost.h"

static const struct {
	const char *text;
	bounce_phase phase;
} headings[] = {
	{ "Body of message generated response:", BOUNCE_PHASE_EOD },
	{ "Additional RCPT TO generated following response:",
	    BOUNCE_PHASE_RCPT },
	{ "DATA command generated response:", BOUNCE_PHASE_DATA },
	{ "Server response to MAIL FROM:", BOUNCE_PHASE_MAIL },
	{ "Unexpected response to EHLO/HELO:", BOUNCE_PHASE_HELO },
	{ "Unexpected connection response from server:",
	    BOUNCE_PHASE_CONNECT },
	{ "SMTP connection failed,", BOUNCE_PHASE_CONNECT },
};

static int
imail_detect(const struct pstate *st)
{
	const char *v;
	size_t n;

	v = lhost_header(st, "X-Mailer", &n);
	if (v != NULL && str_istarts(v, n, "<SMTP32 v"))
		return 1;
	/* the subject exactly: other MTAs' "Undeliverable mail: ..." are
	 * not IMail's */
	n = strlen(st->subject);
	v = str_trim(st->subject, &n);
	return n == 18 && str_istarts(v, n, "Undeliverable Mail") &&
	    lhost_from_has(st, "postmaster");
}

/* The heading that introduces a reply, or -1. */
static int
heading(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(headings) / sizeof(headings[0]); i++)
		if (str_istarts(t, n, headings[i].text))
			return (int)i;
	return -1;
}

/* A multi-line reply as one: "550-text" "550 more" -> "550 text more". */
static void
reply_add(struct lhost_diag *d, const char *t, size_t n)
{
	if (n > 4 && str_is_digit(t[0]) && str_is_digit(t[1]) &&
	    str_is_digit(t[2]) && (t[3] == '-' || t[3] == ' ')) {
		if (d->len == 0)
			lhost_diag_add(d, t, 3);
		t += 4;
		n -= 4;
	}
	lhost_diag_add(d, t, n);
}

static void
flush(struct pstate *st, size_t i, struct lhost_diag *reply,
    bounce_phase phase)
{
	bounce_recipient *rc;

	if (i < st->r->nrcpt && reply->len > 0) {
		rc = &st->r->rcpt[i];
		rc->diagnostic = lhost_diag_str(st, reply);
		if (phase != BOUNCE_PHASE_NONE)
			rc->phase = phase;
	}
	/* a reply before any recipient belongs to none */
	memset(reply, 0, sizeof(*reply));
}

static int
imail_read(struct pstate *st)
{
	struct lhost_diag reply;
	struct lhost_lines it;
	bounce_recipient *rc;
	bounce_phase phase = BOUNCE_PHASE_NONE;
	const char *line, *a, *colon;
	size_t len, alen, cur = (size_t)-1;
	int found = 0, h, in_reply = 0;

	memset(&reply, 0, sizeof(reply));
	lhost_lines_init(&it, st);
	while (lhost_next_line(&it, &line, &len)) {
		if (len == 0 || str_is_space(line[0])) {
			if (in_reply && reply.len > 0)
				in_reply = 0;
			continue;
		}
		if ((h = heading(line, len)) >= 0) {
			in_reply = 1;
			phase = headings[h].phase;
			continue;
		}
		if (in_reply) {
			reply_add(&reply, line, len);
			continue;
		}
		a = NULL;
		if (str_istarts(line, len, "undeliverable to ")) {
			a = lhost_address(line + 17, len - 17, &alen);
			colon = NULL;
		} else if ((colon = memchr(line, ':', len)) != NULL &&
		    memchr(line, ' ', (size_t)(colon - line)) != NULL) {
			/* "Reason words: addr" with the address last */
			a = lhost_address(colon + 1, len - (size_t)(colon + 1 -
			    line), &alen);
			if (a != NULL && a + alen != line + len)
				a = NULL;
		}
		if (a == NULL)
			continue;
		flush(st, cur, &reply, phase);
		if ((rc = lhost_add(st, a, alen)) == NULL)
			continue;
		cur = (size_t)(rc - st->r->rcpt);
		found++;
		if (colon != NULL && rc->diagnostic == NULL)
			rc->diagnostic = report_str(st->r, line,
			    (size_t)(colon - line));
	}
	flush(st, cur, &reply, phase);
	return found;
}

const struct lhost lhost_imail = { "imail", imail_detect, imail_read };
