/*
 * lhost_exchange2003.c - Microsoft Exchange 5.5 to 2003 non-delivery
 * reports (the Internet Mail Service / Internet Mail Connector), text
 * only:
 *
 *   Your message
 *
 *     To:      alice@example.net
 *     Subject: ...
 *     Sent:    Thu, 29 Apr 2010 18:14:35 +0000
 *
 *   did not reach the following recipient(s):
 *
 *   alice@example.net on Thu, 29 Apr 2010 18:14:35 +0000
 *       The recipient name is not recognized
 *       The MTS-ID of the original message is: c=us;a= ;p=example
 *   ;l=EXCHANGE0000000000000000
 *       MSEXCH:IMS:EXAMPLE:SITE:SERVER 0 (000C05A6) Unknown Recipient
 *
 * ("The following recipient(s) could not be reached:" in the older
 * connector).  The "Your message" block names the original's To, not a
 * failed recipient.  A line "ADDRESS on DATE" (or "Name SMTP=ADDRESS on
 * DATE") opens a recipient; its indented lines, and the unindented lines
 * that continue them, up to a blank line, are the diagnostic, the MTS-ID
 * line left out.  The (000C05A6)-style code is Exchange's reason.
 *
 * Detected by the headers Exchange writes (X-MS-Embedded-Report,
 * X-Mailer "Internet Mail Service" or "...Internet Mail Connector",
 * X-MimeOLE "Produced By Microsoft Exchange"), or by a postmaster sender
 * with the marker in the text.
 */
#include <string.h>

#include "hdr.h"
#include "lhost.h"

#define DIAG_LINES 12

static const char *const markers[] = {
	"did not reach the following recipient(s):",
	"The following recipient(s) could not be reached:",
};

static int
exchange2003_detect(const struct pstate *st)
{
	const char *v;
	size_t n;

	if (lhost_has_header(st, "X-MS-Embedded-Report"))
		return 1;
	if ((v = hdr_find(st->v->head, st->v->head_len, "X-Mailer", &n)) !=
	    NULL && (str_ifind_z(v, n, "Internet Mail Service (") != NULL ||
	    str_ifind_z(v, n, "Internet Mail Connector") != NULL))
		return 1;
	if ((v = hdr_find(st->v->head, st->v->head_len, "X-MimeOLE", &n)) !=
	    NULL && str_ifind_z(v, n, "Produced By Microsoft Exchange") !=
	    NULL)
		return 1;
	return (lhost_from_has(st, "postmaster") ||
	    lhost_from_has(st, "System Administrator")) &&
	    (lhost_text_find(st, markers[0]) >= 0 ||
	    lhost_text_find(st, markers[1]) >= 0);
}

/* "alice@example.net on DATE", "Alice SMTP=alice@example.net on DATE":
 * the address, or NULL. */
static const char *
recipient_line(const char *p, const char *eol, size_t *len)
{
	const char *on, *s, *e, *q;

	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if ((on = str_ifind_z(p, (size_t)(eol - p), " on ")) == NULL)
		return NULL;
	if ((q = str_ifind_z(p, (size_t)(on - p), "SMTP=")) != NULL)
		s = q + 5;
	else
		s = p;
	for (e = s; e < on && *e != ' ' && *e != '\t'; e++)
		;
	if (e != on || e - s < 3 || e - s > 320 ||
	    memchr(s, '@', (size_t)(e - s)) == NULL)
		return NULL;
	*len = (size_t)(e - s);
	return s;
}

static void
commit(struct pstate *st, bounce_recipient *rc, struct buf *d)
{
	if (rc != NULL && rc->diagnostic == NULL && d->len > 0)
		rc->diagnostic = report_str(st->r, d->data, d->len);
	buf_reset(d);
}

static int
exchange2003_read(struct pstate *st)
{
	const char *end = st->text + st->text_cut, *line, *eol, *a;
	bounce_recipient *rc = NULL;
	struct buf d;
	size_t alen, i;
	long at = -1;
	int found = 0, lines = 0, skipping = 0;

	for (i = 0; i < sizeof(markers) / sizeof(markers[0]) && at < 0; i++)
		at = lhost_text_find(st, markers[i]);
	if (at < 0 || (line = memchr(st->text + at, '\n',
	    (size_t)(end - st->text - at))) == NULL)
		return 0;
	buf_init(&d, 4096);
	for (line++; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		if ((a = recipient_line(line, eol, &alen)) != NULL) {
			commit(st, rc, &d);
			lines = skipping = 0;
			if ((rc = report_add(st->r, a, alen, 1)) != NULL) {
				rc->source = "text";
				rc->action = "failed";
				found++;
			}
		} else if (rc != NULL) {
			size_t n = (size_t)(eol - line);
			const char *t = str_trim(line, &n);

			if (n == 0) {
				commit(st, rc, &d);
				rc = NULL;
			} else {
				/* an indented line starts a new item; an
				 * unindented one continues the last */
				if (*line == ' ' || *line == '\t')
					skipping = str_ifind_z(t, n,
					    "MTS-ID") != NULL;
				if (!skipping && lines++ < DIAG_LINES &&
				    (buf_append(&d, t, n) != BOUNCE_OK ||
				    buf_append_char(&d, ' ') != BOUNCE_OK))
					lines = DIAG_LINES;
			}
		}
		if (eol == end)
			break;
	}
	commit(st, rc, &d);
	buf_free(&d);
	return found;
}

const struct lhost lhost_exchange2003 = {
	"exchange2003", exchange2003_detect, exchange2003_read
};
