/*
 * lhost_office365.c - Exchange Online (Office 365, Outlook.com) and
 * Exchange 2007 and later non-delivery reports that come without a
 * message/delivery-status part (those with one are read by dsn.c).
 *
 *   Delivery has failed to these recipients or groups:
 *
 *   alice@example.net<mailto:alice@example.net>
 *   The email address wasn't found at the destination domain. ...
 *
 *   Diagnostic information for administrators:
 *
 *   Generating server: AM0PR01MB0001.eurprd01.prod.outlook.com
 *
 *   alice@example.net
 *   Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound;
 *   Recipient not found by SMTP address lookup'
 *
 *   Original message headers:
 *
 * The first block gives the recipients (the mailto: address when there
 * is one) and the sentence for users; the administrators' block gives,
 * under each address, the server's words ("Remote Server returned '...'",
 * "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##", one line per
 * attempt), which are the diagnostic when present, else the sentence.
 * "Generating server" is the reporting MTA.
 *
 * Detected by Subject "Undeliverable" or X-MS-Exchange-Message-Is-Ndr,
 * with "Delivery has failed to these recipients or groups:" in the text.
 */
#include <string.h>

#include "lhost.h"

#define DIAG_LINES 12

static const char mark_users[] =
    "Delivery has failed to these recipients or groups:";
static const char mark_admin[] = "Diagnostic information for administrators:";

static int
office365_detect(const struct pstate *st)
{
	return (lhost_subject_has(st, "Undeliverable") ||
	    lhost_has_header(st, "X-MS-Exchange-Message-Is-Ndr")) &&
	    lhost_text_find(st, mark_users) >= 0;
}

/*
 * "alice@example.net<mailto:alice@example.net>", "Alice
 * (alice@example.net)<mailto:...>", "alice@example.net": the address.
 */
static const char *
users_address(const char *p, const char *eol, size_t *len)
{
	const char *m, *e, *q;
	size_t n;

	if ((m = str_ifind_z(p, (size_t)(eol - p), "<mailto:")) != NULL) {
		m += 8;
		if ((e = memchr(m, '>', (size_t)(eol - m))) == NULL ||
		    memchr(m, '@', (size_t)(e - m)) == NULL)
			return NULL;
		*len = (size_t)(e - m);
		return m;
	}
	n = (size_t)(eol - p);
	p = str_trim(p, &n);
	if (n < 3 || n > 320 || memchr(p, '@', n) == NULL)
		return NULL;
	for (q = p; q < p + n; q++)
		if (str_is_space(*q) || *q == '<' || *q == '>')
			return NULL;
	*len = n;
	return p;
}

/* The lines after p up to a blank one (at most DIAG_LINES), '#' marks
 * of Exchange's "#550 5.1.1 ... ##" taken off, into d. */
static void
block(const char *p, const char *end, struct buf *d)
{
	const char *line, *eol;
	size_t n;
	int lines = 0;

	buf_reset(d);
	for (line = p; line < end && lines < DIAG_LINES; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		if (str_blank(line, eol))
			break;
		n = (size_t)(eol - line);
		line = str_trim(line, &n);
		while (n > 0 && line[0] == '#') {
			line++;
			n--;
		}
		while (n > 0 && line[n - 1] == '#')
			n--;
		if (n > 0 && (buf_append(d, line, n) != BOUNCE_OK ||
		    buf_append_char(d, ' ') != BOUNCE_OK))
			break;
		lines++;
		if (eol == end)
			break;
	}
}

/* The administrators' text for the recipient: the lines under the line
 * that is its address, or nothing. */
static void
admin_text(const struct pstate *st, const char *admin, const char *addr,
    struct buf *d)
{
	const char *end = st->text + st->text_cut, *line, *eol, *t;
	size_t alen = strlen(addr), n;

	buf_reset(d);
	for (line = admin; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		n = (size_t)(eol - line);
		t = str_trim(line, &n);
		if (n == alen && str_istarts(t, n, addr)) {
			if (eol < end)
				block(eol + 1, end, d);
			return;
		}
		if (eol == end)
			break;
	}
}

static int
office365_read(struct pstate *st)
{
	const char *text = st->text, *end = st->text + st->text_cut;
	const char *line, *eol, *a, *admin = NULL, *g;
	bounce_recipient *rc;
	struct buf d;
	size_t alen, n;
	long at;
	int found = 0;

	if ((at = lhost_text_find(st, mark_users)) < 0)
		return 0;
	if ((g = str_ifind_z(text, st->text_cut, mark_admin)) != NULL)
		admin = g;
	buf_init(&d, 8192);
	line = memchr(text + at, '\n', (size_t)(end - text - at));
	for (line = line != NULL ? line + 1 : end; line < end &&
	    (admin == NULL || line < admin); line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		if (!str_blank(line, eol) && (a = users_address(line, eol,
		    &alen)) != NULL && (rc = report_add(st->r, a, alen, 1)) !=
		    NULL) {
			found++;
			rc->source = "text";
			rc->action = "failed";
			/* the administrators' words, else the users' */
			if (admin != NULL)
				admin_text(st, admin, rc->address, &d);
			if (d.len == 0 && eol < end)
				block(eol + 1, end, &d);
			if (rc->diagnostic == NULL && d.len > 0)
				rc->diagnostic = report_str(st->r, d.data,
				    d.len);
		}
		if (eol == end)
			break;
	}
	buf_free(&d);
	/* "Generating server: X" */
	if (admin != NULL && (g = str_ifind_z(admin, (size_t)(end - admin),
	    "Generating server:")) != NULL) {
		g += 18;
		if ((eol = memchr(g, '\n', (size_t)(end - g))) == NULL)
			eol = end;
		n = (size_t)(eol - g);
		g = str_trim(g, &n);
		if (n > 0)
			report_set_field(st->r, BOUNCE_FIELD_REPORTING_MTA, g,
			    n);
	}
	return found;
}

const struct lhost lhost_office365 = {
	"office365", office365_detect, office365_read
};
