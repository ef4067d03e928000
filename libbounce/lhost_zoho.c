/*
 * lhost_zoho.c - Zoho Mail's bounces (mailer-daemon@mail.zoho.com,
 * X-ZohoMail, X-Mailer: Zoho Mail).
 *
 * A failure lists one line per recipient, the address first:
 *
 *   alice@example.net Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1
 *   <alice@example.net>... User unknown
 *
 * and a delay (Subject "Mail Delivery Status Notification (Delay)",
 * "Message will be retried for N more day(s)") writes
 *
 *   [Status: Error, Address: <bob@example.org>, ResponseCode 421, , Host
 *   not reachable.]
 *
 * The text after the address is the diagnostic (its "ResponseCode 421"
 * and "ERROR_CODE :550" carry the reply code); a delay gives kind
 * delayed.
 */
#include <string.h>

#include "hdr.h"
#include "lhost.h"

static int
zoho_detect(const struct pstate *st)
{
	const char *v;
	size_t n;

	if (lhost_has_header(st, "X-ZohoMail") ||
	    lhost_from_has(st, "mailer-daemon@mail.zoho."))
		return 1;
	return (v = hdr_find(st->v->head, st->v->head_len, "X-Mailer",
	    &n)) != NULL && str_ifind_z(v, n, "Zoho Mail") != NULL;
}

/* The address at p (bare or in <>), its length in *len, or NULL. */
static const char *
address_at(const char *p, const char *eol, size_t *len)
{
	const char *e;

	if (p < eol && *p == '<')
		p++;
	for (e = p; e < eol && *e != ' ' && *e != '>' && *e != ',' &&
	    *e != '\t'; e++)
		;
	if (e - p < 3 || e - p > 320 || memchr(p, '@', (size_t)(e - p)) ==
	    NULL)
		return NULL;
	*len = (size_t)(e - p);
	return p;
}

static int
zoho_read(struct pstate *st)
{
	const char *end = st->text + st->text_cut, *line, *eol, *a, *d;
	bounce_recipient *rc;
	size_t alen, n;
	int found = 0, delayed;

	delayed = lhost_subject_has(st, "(Delay)") ||
	    lhost_text_find(st, "Message will be retried") >= 0;
	for (line = st->text; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		n = (size_t)(eol - line);
		line = str_trim(line, &n);
		a = NULL;
		d = NULL;
		if (str_istarts(line, n, "[Status:") &&
		    (d = str_ifind_z(line, n, "Address:")) != NULL) {
			d += 8;
			while (d < line + n && *d == ' ')
				d++;
			a = address_at(d, line + n, &alen);
			/* ", ResponseCode 421, , Host not reachable.]" */
			d = a != NULL ? a + alen : NULL;
		} else if ((a = address_at(line, line + n, &alen)) != NULL &&
		    (str_ifind_z(line, n, "ERROR_CODE") != NULL)) {
			d = a + alen;
		} else {
			a = NULL;
		}
		if (a != NULL && (rc = report_add(st->r, a, alen, 1)) !=
		    NULL) {
			found++;
			rc->source = "text";
			rc->action = delayed ? "delayed" : "failed";
			rc->kind = delayed ? BOUNCE_KIND_DELAYED :
			    BOUNCE_KIND_BOUNCE;
			while (d < line + n && (*d == '>' || *d == ',' ||
			    *d == ' ' || *d == ']'))
				d++;
			if (rc->diagnostic == NULL && d < line + n) {
				size_t dn = (size_t)(line + n - d);

				if (d[dn - 1] == ']')
					dn--;
				rc->diagnostic = report_str(st->r, d, dn);
			}
		}
		if (eol == end)
			break;
	}
	return found;
}

const struct lhost lhost_zoho = {
	"zoho", zoho_detect, zoho_read
};
