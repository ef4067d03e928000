/*
 * lhost_gmx.c - the bounces of United Internet's mail systems, GMX
 * (mail.com, gmx.net) and 1&1 / IONOS (kundenserver.de): one software,
 * two signatures, so two table entries sharing one reader.
 *
 * The layout, after "This message was created automatically by mail
 * delivery software" and a sentence that ends "The following address(es)
 * failed:":
 *
 *   "alice@example.net":                    or <alice@example.net>
 *   SMTP error from remote server after RCPT command:
 *   host: mx.example.net
 *   5.1.1 <alice@example.net>... User unknown
 *
 *   bob@example.org:
 *   SMTP error from remote server for TEXT command, host: mx.example.org
 *   (192.0.2.1) reason: 550 5.7.1 Mail rejected
 *
 *   carol@example.com
 *
 *   For the following reason:               or "Reason:"
 *
 *   Mail size limit exceeded. For explanation visit ...
 *
 * then "--- The header of the original message is following. ---".  A
 * line that is only an address opens a recipient; the lines after it,
 * blank ones included, up to the next address, are its diagnostic, the
 * "Reason:" labels left out.  "host: X" names the remote MTA.
 *
 * Limits: reads the failure text only (up to the cut); a diagnostic is at
 * most DIAG_LINES lines.
 */
#include <string.h>

#include "lhost.h"

#define DIAG_LINES 16

static int
gmx_subject(const struct pstate *st)
{
	return lhost_subject_has(st, "Mail delivery failed");
}

static int
gmx_detect(const struct pstate *st)
{
	return gmx_subject(st) && (lhost_has_header(st, "X-GMX-Antispam") ||
	    lhost_from_has(st, "@gmx.") || lhost_from_has(st, "@mail.com"));
}

static int
einsundeins_detect(const struct pstate *st)
{
	return gmx_subject(st) && (lhost_has_header(st,
	    "X-UI-Out-Filterresults") || lhost_from_has(st,
	    "@kundenserver.de") || lhost_from_has(st, "@1and1.") ||
	    lhost_from_has(st, "@1und1.") || lhost_from_has(st, "@ionos."));
}

/*
 * The address when the line is one and nothing else: alice@example.net,
 * "alice@example.net":, <alice@example.net>.  Sets *len.
 */
static const char *
only_address(const char *p, const char *eol, size_t *len)
{
	const char *s, *e, *q;

	while (p < eol && str_is_space(*p))
		p++;
	while (eol > p && (str_is_space(eol[-1]) || eol[-1] == ':'))
		eol--;
	if (p < eol && (*p == '"' || *p == '<'))
		p++;
	if (eol > p && (eol[-1] == '"' || eol[-1] == '>'))
		eol--;
	s = p;
	e = eol;
	if (e - s < 3 || e - s > 320 || memchr(s, '@', (size_t)(e - s)) ==
	    NULL)
		return NULL;
	for (q = s; q < e; q++)
		if (str_is_space(*q) || *q == '<' || *q == '>' || *q == '"' ||
		    *q == ',' || *q == '(')
			return NULL;
	*len = (size_t)(e - s);
	return s;
}

/* A label that only announces the reason. */
static int
reason_label(const char *p, const char *eol)
{
	size_t n = (size_t)(eol - p);

	p = str_trim(p, &n);
	return (n == 7 && str_istarts(p, n, "Reason:")) ||
	    (n == 25 && str_istarts(p, n, "For the following reason:"));
}

/* "host: mx.example.net" in the diagnostic: the remote MTA. */
static void
set_remote(struct pstate *st, bounce_recipient *rc)
{
	const char *d = rc->diagnostic, *h, *e;

	if (d == NULL || rc->remote_mta != NULL ||
	    (h = str_ifind_z(d, strlen(d), "host: ")) == NULL)
		return;
	h += 6;
	for (e = h; *e != '\0' && *e != ' ' && *e != ',' && *e != '('; e++)
		;
	if (e > h)
		rc->remote_mta = report_str(st->r, h, (size_t)(e - h));
}

static void
commit(struct pstate *st, bounce_recipient *rc, const char *d,
    const char *d_end)
{
	if (rc == NULL)
		return;
	if (d != NULL && d_end > d && rc->diagnostic == NULL)
		rc->diagnostic = report_str(st->r, d, (size_t)(d_end - d));
	set_remote(st, rc);
}

static int
gmx_read(struct pstate *st)
{
	const char *text = st->text, *end = st->text + st->text_cut;
	const char *line, *eol, *a, *d = NULL, *d_end = NULL;
	bounce_recipient *rc = NULL;
	size_t alen;
	long at;
	int found = 0, lines = 0;

	if ((at = lhost_text_find(st, "failed:")) < 0)
		return 0;
	/* the line after the one that ends with "failed:" */
	line = memchr(text + at, '\n', (size_t)(end - (text + at)));
	for (line = line != NULL ? line + 1 : end; line < end;
	    line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		if ((a = only_address(line, eol, &alen)) != NULL) {
			commit(st, rc, d, d_end);
			d = d_end = NULL;
			lines = 0;
			if ((rc = report_add(st->r, a, alen, 1)) != NULL) {
				rc->source = "text";
				found++;
			}
		} else if (rc != NULL && !reason_label(line, eol) &&
		    lines < DIAG_LINES) {
			size_t n = (size_t)(eol - line);

			(void)str_trim(line, &n);
			if (n > 0) {
				if (d == NULL)
					d = line;
				d_end = eol;
				lines++;
			}
		}
		if (eol == end)
			break;
	}
	commit(st, rc, d, d_end);
	return found;
}

const struct lhost lhost_gmx = {
	"gmx", gmx_detect, gmx_read
};

const struct lhost lhost_einsundeins = {
	"einsundeins", einsundeins_detect, gmx_read
};
