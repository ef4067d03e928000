/*
 * lhost_gmail.c - Gmail's bounces that carry no delivery-status fields
 * (those that do are read by dsn.c), and Google Groups' rejections.
 * All come from mailer-daemon@googlemail.com (or @google.com), Subject
 * "Delivery Status Notification (Failure|Delay)".
 *
 * The older text layout (to about 2016):
 *
 *   Delivery to the following recipient failed permanently:
 *        alice@example.net
 *   Technical details of permanent failure:
 *   Google tried to deliver your message, but it was rejected by the
 *   recipient domain. ... The error that the other server returned was:
 *   550 550 5.1.1 <alice@example.net>... User unknown (state 14).
 *
 * or "... has been delayed:" with "Technical details of temporary
 * failure:" (kind delayed).  The quoted reply is the diagnostic; Gmail's
 * "(state N)" says where its SMTP client was: 13 MAIL, 14 RCPT, 15 DATA,
 * 17 and 18 after the body, below 13 the greeting, STARTTLS and AUTH.
 *
 * The newer layout names the recipients only in X-Failed-Recipients:
 *
 *   ** Address not found **   (or "** Message not delivered **")
 *   Your message wasn't delivered to alice@example.net because ...
 *   The response from the remote server was:    ("The response was:")
 *   550 5.1.1 The email account that you tried to reach does not exist.
 *
 * Google Groups (lhost_googlegroups) answers a post to a group that does
 * not exist or does not accept the sender with a localised letter
 * ("We're writing to let you know that the group you tried to contact
 * (name) may not exist, or you may not have permission to post messages
 * to the group...") that links groups.google.com; the group's address is
 * in X-Failed-Recipients.
 *
 * Limits: the failure text only (up to the cut); diagnostics of at most
 * DIAG_LINES lines.
 */
#include <string.h>

#include "hdr.h"
#include "lhost.h"

#define DIAG_LINES 24

static int
google_sender(const struct pstate *st)
{
	return (lhost_from_has(st, "mailer-daemon@googlemail.com") ||
	    lhost_from_has(st, "mailer-daemon@google.com")) &&
	    lhost_subject_has(st, "Delivery Status Notification");
}

static int
gmail_detect(const struct pstate *st)
{
	return google_sender(st);
}

static int
googlegroups_detect(const struct pstate *st)
{
	return google_sender(st) && lhost_has_header(st,
	    "X-Failed-Recipients") && lhost_text_find(st,
	    "groups.google.com") >= 0 && lhost_text_find(st,
	    "Delivery to the following recipient") < 0;
}

static const char *
next_line(const char *line, const char *end, const char **eol)
{
	const char *nl = memchr(line, '\n', (size_t)(end - line));

	*eol = nl != NULL ? nl : end;
	return line;
}

/* The line (trimmed) is one address and nothing else. */
static const char *
line_address(const char *p, const char *eol, size_t *len)
{
	const char *q;
	size_t n = (size_t)(eol - p);

	p = str_trim(p, &n);
	if (n < 3 || n > 320 || memchr(p, '@', n) == NULL)
		return NULL;
	for (q = p; q < p + n; q++)
		if (str_is_space(*q) || *q == '<' || *q == '>' || *q == ',')
			return NULL;
	*len = n;
	return p;
}

/* "(state 14)": the SMTP phase Gmail's client was in. */
static bounce_phase
state_phase(const char *d)
{
	const char *s = str_ifind_z(d, strlen(d), "(state ");
	int n = 0;

	if (s == NULL)
		return BOUNCE_PHASE_NONE;
	for (s += 7; str_is_digit(*s) && n < 100; s++)
		n = n * 10 + (*s - '0');
	if (*s != ')' || n == 0)
		return BOUNCE_PHASE_NONE;
	if (n < 13)
		return BOUNCE_PHASE_HELO;
	if (n == 13)
		return BOUNCE_PHASE_MAIL;
	if (n == 14)
		return BOUNCE_PHASE_RCPT;
	if (n == 15)
		return BOUNCE_PHASE_DATA;
	return BOUNCE_PHASE_EOD;
}

/*
 * "rejected by the server for the recipient domain example.net by
 * mx.example.net. [192.0.2.1].": the remote MTA, or NULL.
 */
static const char *
remote_host(const char *p, const char *end, size_t *len)
{
	const char *r, *h, *e;

	if ((r = str_ifind_z(p, (size_t)(end - p), "recipient domain ")) ==
	    NULL)
		return NULL;
	if ((r = memchr(r + 17, ' ', (size_t)(end - r - 17))) == NULL ||
	    !str_istarts(r, (size_t)(end - r), " by "))
		return NULL;
	h = r + 4;
	for (e = h; e < end && !str_is_space(*e) && *e != '['; e++)
		;
	while (e > h && e[-1] == '.')
		e--;
	*len = (size_t)(e - h);
	return e > h ? h : NULL;
}

/*
 * The older layout.  Returns the number of recipients, 0 when the text is
 * not of that layout.
 */
static int
read_old(struct pstate *st)
{
	const char *text = st->text, *end = st->text + st->text_cut;
	const char *line, *eol, *a, *d, *d_end = NULL, *r, *rmta, *tail;
	bounce_recipient *rc;
	size_t alen, first, i, rmta_len = 0;
	long at;
	int delayed, found = 0, lines = 0;

	if ((at = lhost_text_find(st, "Delivery to the following recipient")) <
	    0)
		return 0;
	line = next_line(text + at, end, &eol);
	delayed = str_ifind_z(line, (size_t)(eol - line), "delayed") != NULL;
	first = st->r->nrcpt;
	/* the recipients: indented addresses, one a line */
	for (line = eol + 1; line < end; line = eol + 1) {
		next_line(line, end, &eol);
		if (str_blank(line, eol)) {
			if (found > 0)
				break;
		} else if ((a = line_address(line, eol, &alen)) != NULL) {
			if ((rc = report_add(st->r, a, alen, 1)) != NULL) {
				rc->source = "text";
				found++;
			}
		} else {
			break;
		}
		if (eol == end)
			break;
	}
	if (found == 0)
		return 0;
	tail = line;
	/* the failure text: the quoted reply, else the technical details,
	 * else what follows the recipients */
	if ((r = str_ifind_z(line, (size_t)(end - line),
	    "The error that the other server returned was:")) != NULL)
		d = r + 45;
	else if ((r = str_ifind_z(line, (size_t)(end - line),
	    "Technical details of")) != NULL)
		d = (r = memchr(r, '\n', (size_t)(end - r))) != NULL ? r + 1 :
		    end;
	else
		d = line;
	for (line = d; line < end && lines < DIAG_LINES; line = eol + 1) {
		next_line(line, end, &eol);
		if (str_blank(line, eol) && d_end != NULL)
			break;
		if (!str_blank(line, eol))
			d_end = eol;
		lines++;
		if (eol == end)
			break;
	}
	rmta = remote_host(tail, end, &rmta_len);
	for (i = first; i < st->r->nrcpt; i++) {
		rc = &st->r->rcpt[i];
		if (rmta != NULL && rc->remote_mta == NULL)
			rc->remote_mta = report_str(st->r, rmta, rmta_len);
		rc->action = delayed ? "delayed" : "failed";
		rc->kind = delayed ? BOUNCE_KIND_DELAYED : BOUNCE_KIND_BOUNCE;
		if (rc->diagnostic == NULL && d_end != NULL && d_end > d)
			rc->diagnostic = report_str(st->r, d,
			    (size_t)(d_end - d));
		if (rc->diagnostic != NULL && rc->phase == BOUNCE_PHASE_NONE)
			rc->phase = state_phase(rc->diagnostic);
	}
	return found;
}

/* X-Failed-Recipients, each address with the given diagnostic. */
static int
add_failed(struct pstate *st, const char *d, const char *d_end)
{
	const char *v, *p, *end, *comma;
	bounce_recipient *rc;
	size_t n;
	int found = 0;

	if ((v = hdr_find(st->v->head, st->v->head_len, "X-Failed-Recipients",
	    &n)) == NULL)
		return 0;
	for (p = v, end = v + n; p < end; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if ((rc = report_add(st->r, p, (size_t)(comma - p), 1)) !=
		    NULL) {
			found++;
			rc->source = "header";
			rc->action = "failed";
			if (rc->diagnostic == NULL && d != NULL && d_end > d)
				rc->diagnostic = report_str(st->r, d,
				    (size_t)(d_end - d));
		}
		if (comma == end)
			break;
	}
	return found;
}

/*
 * Up to max paragraphs of the failure text from p, the first one skipped
 * when skip_greeting and it is a one-line greeting naming an address
 * ("Hello alice@example.net,").  Sets *d_end.
 */
static const char *
paragraphs(const struct pstate *st, const char *p, int max,
    int skip_greeting, const char **d_end)
{
	const char *end = st->text + st->text_cut, *line, *eol;
	const char *start = NULL, *para = NULL;
	int paras = 0, lines = 0, para_lines = 0;

	*d_end = NULL;
	for (line = p; line < end && lines < DIAG_LINES; line = eol + 1) {
		next_line(line, end, &eol);
		if (!str_blank(line, eol)) {
			if (para == NULL) {
				para = line;
				para_lines = 0;
			}
			para_lines++;
			lines++;
			if (start == NULL)
				start = line;
			*d_end = eol;
		} else if (para != NULL) {
			/* a paragraph ends */
			if (skip_greeting && paras == 0 && para_lines == 1 &&
			    memchr(para, '@', (size_t)(*d_end - para)) !=
			    NULL) {
				start = NULL;
				*d_end = NULL;
				lines = 0;
			} else if (++paras >= max) {
				break;
			}
			skip_greeting = 0;
			para = NULL;
		}
		if (eol == end)
			break;
	}
	return start;
}

/* The newer layout: recipients from X-Failed-Recipients. */
static int
read_new(struct pstate *st)
{
	const char *text = st->text, *end = st->text + st->text_cut;
	const char *d, *d_end, *r, *h;
	long at;

	/* after the "** Address not found **" heading when there is one */
	h = text;
	if ((at = lhost_text_find(st, "**")) >= 0 && (h = memchr(text + at,
	    '\n', (size_t)(end - text - at))) == NULL)
		h = end;
	d = paragraphs(st, h, 1, 0, &d_end);
	if ((r = str_ifind_z(text, st->text_cut, "The response")) != NULL &&
	    (r = memchr(r, '\n', (size_t)(end - r))) != NULL) {
		const char *rd, *rd_end;

		/* the reply, joined to the sentence when both fit */
		rd = paragraphs(st, r + 1, 1, 0, &rd_end);
		if (rd != NULL && (d == NULL || d_end > r ||
		    rd_end - d > 2048)) {
			d = rd;
			d_end = rd_end;
		} else if (rd != NULL) {
			d_end = rd_end;
		}
	}
	return add_failed(st, d, d_end);
}

static int
gmail_read(struct pstate *st)
{
	int n = read_old(st);

	return n > 0 ? n : read_new(st);
}

static int
googlegroups_read(struct pstate *st)
{
	const char *d, *d_end;

	/* the greeting, then the explanation, its list of reasons and the
	 * paragraph that links groups.google.com: the one part of the
	 * localised text that says the same in every language */
	d = paragraphs(st, st->text, 3, 1, &d_end);
	return add_failed(st, d, d_end);
}

const struct lhost lhost_googlegroups = {
	"googlegroups", googlegroups_detect, googlegroups_read
};

const struct lhost lhost_gmail = {
	"gmail", gmail_detect, gmail_read
};
