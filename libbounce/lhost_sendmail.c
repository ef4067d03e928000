/*
 * lhost_sendmail.c - Sendmail's human-readable bounce, for the bounces
 * that carry no usable delivery-status part: Sendmail 5 and its kin
 * (V5sendmail), Sendmail 8 without MIME or with a broken one.
 *
 * Sendmail (savemail.c) writes, before the returned message:
 *
 *      ----- The following addresses had permanent fatal errors -----
 *   <alice@example.net>
 *       (reason: 550 Host unknown)
 *       (expanded from: <list@example.org>)
 *
 *      ----- Transcript of session follows -----
 *   ... while talking to mx.example.net.:     (V5: "While talking to x:")
 *   >>> RCPT To:<alice@example.net>
 *   <<< 550 5.1.1 <alice@example.net>... User unknown
 *   550 5.1.1 <alice@example.net>... User unknown
 *
 * The "<<<" lines are the remote server's replies; a line "NNN
 * <addr>... text" (or "<addr>... text") is Sendmail's verdict on one
 * recipient.  The remote reply seen since the last "while talking to" is
 * that recipient's diagnostic, the ">>>" command its phase, the host its
 * remote MTA.  A local mailer writes its complaint before the verdict,
 * which only maps the mailer's exit status (sysexits: 69 becomes "554
 * Service unavailable"):
 *
 *   mail.local: unknown user: alice
 *   554 <alice@example.net>... Service unavailable
 *
 * so such a "program: text" line is added to the verdict's diagnostic.  The list at the top fills in recipients the transcript
 * does not name (a pipe or file is replaced by the address it was
 * "expanded from").
 *
 * Delivery-status fields written into the text (the MIME structure lost
 * on the way) are read first (dsn_read_inline); the transcript then
 * fills what they lack, and the list is not read.
 *
 * Limits: the failure text up to the cut; lines as they come, no copy
 * but the diagnostic (at most DIAG_MAX bytes).
 */
#include <stdio.h>
#include <string.h>

#include "lhost.h"

#define DIAG_MAX 1024

static int
sendmail_detect(const struct pstate *st)
{
	if (!lhost_subject_has(st, "returned mail") &&
	    !lhost_subject_has(st, "could not send message") &&
	    !lhost_from_has(st, "mail delivery subsystem"))
		return 0;
	return lhost_text_find(st, "----- transcript of session follows") >=
	    0 || lhost_text_find(st, "----- the following addresses had") >= 0;
}

/* The phase a ">>> CMD" line names. */
static bounce_phase
command_phase(const char *p, const char *eol)
{
	size_t n = (size_t)(eol - p);

	if (str_istarts(p, n, "RCPT"))
		return BOUNCE_PHASE_RCPT;
	if (str_istarts(p, n, "MAIL"))
		return BOUNCE_PHASE_MAIL;
	if (str_istarts(p, n, "DATA"))
		return BOUNCE_PHASE_DATA;
	if (str_istarts(p, n, "EHLO") || str_istarts(p, n, "HELO"))
		return BOUNCE_PHASE_HELO;
	return BOUNCE_PHASE_NONE;
}

/* A 3-digit code and a blank at p: its end, else p. */
static const char *
skip_code(const char *p, const char *eol)
{
	if (eol - p >= 4 && str_is_digit(p[0]) && str_is_digit(p[1]) &&
	    str_is_digit(p[2]) && (p[3] == ' ' || p[3] == '\t')) {
		p = lhost_skip_blanks(p + 4, eol);
		/* "550 5.1.1 <x>..." */
		while (p < eol && (str_is_digit(*p) || *p == '.'))
			p++;
		return lhost_skip_blanks(p, eol);
	}
	return p;
}

struct session {
	const char *host;	/* "while talking to" */
	size_t host_len;
	const char *resp;	/* the last "<<<" reply */
	size_t resp_len;
	bounce_phase phase;	/* the last ">>>" command */
	int quit;		/* that command was QUIT */
	const char *mailer;	/* a local mailer's "program: text" */
	size_t mailer_len;
};

/*
 * "mail.local: unknown user: alice", "procmail: Quota exceeded": a
 * program name (no blank, no '<') and a colon, then text.
 */
static int
mailer_line(const char *p, const char *eol)
{
	const char *q;

	if (p >= eol || *p == '<' || *p == '.' || *p == '>' ||
	    str_is_digit(*p))
		return 0;
	for (q = p; q < eol && *q != ':'; q++)
		if (*q == ' ' || *q == '\t' || *q == '<')
			return 0;
	return q > p && eol - q > 2 && q[1] == ' ';
}

/* "NNN <addr>... text": the recipient's verdict. */
static int
verdict(struct pstate *st, struct session *s, const char *line,
    const char *eol)
{
	const char *p = skip_code(line, eol), *a, *text;
	bounce_recipient *rc;
	char diag[DIAG_MAX];
	size_t alen;
	int n;

	if (p >= eol || *p != '<' || (a = lhost_angle_addr(p, eol, &alen)) !=
	    p + 1 || (text = a + alen + 1) + 3 > eol ||
	    memcmp(text, "...", 3) != 0)
		return 0;
	text = lhost_skip_blanks(text + 3, eol);
	if ((rc = report_add(st->r, a, alen, 1)) == NULL)
		return 0;
	rc->source = "text";
	if (rc->diagnostic == NULL) {
		if (s->resp != NULL)
			n = snprintf(diag, sizeof(diag), "%.*s (%.*s)",
			    (int)s->resp_len, s->resp, (int)(eol - text), text);
		else if (skip_code(text, eol) == text && p != line)
			/* "554 5.0.0 <x>... Service unavailable" */
			n = snprintf(diag, sizeof(diag), "%.*s",
			    (int)(eol - line), line);
		else
			n = snprintf(diag, sizeof(diag), "%.*s",
			    (int)(eol - text), text);
		/* "554 <x>... Service unavailable (mail.local: unknown
		 * user: x)" */
		if (n > 0 && (size_t)n < sizeof(diag) && s->resp == NULL &&
		    s->mailer != NULL)
			n += snprintf(diag + n, sizeof(diag) - (size_t)n,
			    " (%.*s)", (int)s->mailer_len, s->mailer);
		if (n > 0)
			rc->diagnostic = report_str(st->r, diag,
			    (size_t)n < sizeof(diag) ? (size_t)n :
			    sizeof(diag) - 1);
	}
	if (rc->remote_mta == NULL && s->host != NULL && s->resp != NULL)
		rc->remote_mta = report_str(st->r, s->host, s->host_len);
	if (rc->phase == BOUNCE_PHASE_NONE && s->resp != NULL)
		rc->phase = s->phase;
	s->resp = NULL;
	s->mailer = NULL;
	return 1;
}

/* 1 when the line at p begins with the session's host name. */
static int
same_host(const struct session *s, const char *p, const char *eol)
{
	return s->host != NULL && s->host_len > 0 &&
	    (size_t)(eol - p) > s->host_len &&
	    str_ifind(p, s->host_len + 1, s->host, s->host_len) == p &&
	    (p[s->host_len] == ' ' || p[s->host_len] == '.');
}

/* "... while talking to mx.example.net.:" / "While talking to x:" */
static int
talking_to(struct session *s, const char *p, const char *eol)
{
	static const char marker[] = "while talking to ";
	const char *q = p, *h;

	while (q < eol && *q == '.')
		q++;
	q = lhost_skip_blanks(q, eol);
	if (!str_istarts(q, (size_t)(eol - q), marker))
		return 0;
	h = q + sizeof(marker) - 1;
	q = eol;
	while (q > h && (q[-1] == ':' || q[-1] == '.' || q[-1] == ' '))
		q--;
	memset(s, 0, sizeof(*s));
	s->host = h;
	s->host_len = (size_t)(q - h);
	return 1;
}

/* The fatal-error list: "<addr>" or a pipe, with "(reason: x)" and
 * "(expanded from: <addr>)" below. */
static int
read_list(struct pstate *st, const char *from)
{
	const char *l, *eol, *p, *a = NULL, *reason = NULL, *reason_end = NULL;
	bounce_recipient *rc;
	size_t alen = 0, n;
	int found = 0;

	for (l = lhost_line(st, from, &eol); l != NULL;
	    l = lhost_line(st, eol + 1, &eol)) {
		p = lhost_skip_blanks(l, eol);
		if (p == eol || *p == '-')
			break;
		if (str_istarts(p, (size_t)(eol - p), "(reason:")) {
			reason = lhost_skip_blanks(p + 8, eol);
			reason_end = eol;
			while (reason_end > reason && (reason_end[-1] == ')' ||
			    str_is_space(reason_end[-1])))
				reason_end--;
		} else if (str_istarts(p, (size_t)(eol - p),
		    "(expanded from:")) {
			a = lhost_angle_addr(p, eol, &alen);
		} else {
			if (a != NULL && (rc = report_add(st->r, a, alen,
			    1)) != NULL) {
				found++;
				if (rc->source == NULL)
					rc->source = "text";
				if (rc->diagnostic == NULL && reason != NULL &&
				    reason_end > reason)
					rc->diagnostic = report_str(st->r,
					    reason, (size_t)(reason_end -
					    reason));
			}
			a = lhost_angle_addr(p, eol, &n);
			alen = n;
			reason = NULL;
		}
	}
	if (a != NULL && (rc = report_add(st->r, a, alen, 1)) != NULL) {
		found++;
		if (rc->source == NULL)
			rc->source = "text";
		if (rc->diagnostic == NULL && reason != NULL &&
		    reason_end > reason)
			rc->diagnostic = report_str(st->r, reason,
			    (size_t)(reason_end - reason));
	}
	return found;
}

static int
sendmail_read(struct pstate *st)
{
	const char *l, *eol, *p, *list = NULL;
	struct session s;
	int found, in_transcript = 0, dsn;

	/* delivery-status fields inlined in the text (a MIME structure
	 * lost on the way) come first; the transcript completes them */
	found = dsn = dsn_read_inline(st);
	memset(&s, 0, sizeof(s));
	for (l = lhost_line(st, st->text, &eol); l != NULL;
	    l = lhost_line(st, eol + 1, &eol)) {
		while (eol > l && eol[-1] == '\r')
			eol--;
		p = lhost_skip_blanks(l, eol);
		if (str_istarts(p, (size_t)(eol - p), "----- ")) {
			if (str_ifind_z(p, (size_t)(eol - p),
			    "transcript of session") != NULL)
				in_transcript = 1;
			else if (str_ifind_z(p, (size_t)(eol - p),
			    "following addresses had") != NULL &&
			    list == NULL)
				list = eol;
			else
				in_transcript = 0;
		} else if (!in_transcript || talking_to(&s, p, eol)) {
			;
		} else if (str_istarts(p, (size_t)(eol - p), ">>>")) {
			p = lhost_skip_blanks(p + 3, eol);
			s.phase = command_phase(p, eol);
			s.quit = str_istarts(p, (size_t)(eol - p), "QUIT");
		} else if (str_istarts(p, (size_t)(eol - p), "<<<")) {
			if (!s.quit) {
				s.resp = lhost_skip_blanks(p + 3, eol);
				s.resp_len = (size_t)(eol - s.resp);
			}
		} else if (verdict(st, &s, p, eol)) {
			found++;
		} else if (mailer_line(p, eol)) {
			s.mailer = p;
			s.mailer_len = (size_t)(eol - p);
		} else if (skip_code(p, eol) != p && !same_host(&s,
		    skip_code(p, eol), eol)) {
			/* "550 example.com (smtp)... 550 Host unknown": a
			 * verdict on another host, outside the session */
			memset(&s, 0, sizeof(s));
		}
		if (eol >= st->text + st->text_cut)
			break;
		/* eol was moved back over '\r': find the line end again */
		eol = memchr(eol, '\n', (size_t)(st->text + st->text_cut -
		    eol));
		if (eol == NULL)
			break;
	}
	if (list != NULL && dsn == 0 && list < st->text + st->text_cut)
		found += read_list(st, list + 1);
	return found;
}

const struct lhost lhost_sendmail = {
	"sendmail", sendmail_detect, sendmail_read,
};
