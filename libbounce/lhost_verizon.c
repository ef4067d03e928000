/*
 * lhost_verizon.c - Verizon Wireless' email-to-SMS/MMS gateways.
 *
 * vtext.com (SMS), from post_master@vtext.com:
 *
 *   Error: Invalid user address
 *
 *   Error message below:
 *   550 - Requested action not taken: no such user here
 *
 *   Message details:
 *     Subject: ...
 *     MAIL FROM: sender@example.org
 *     RCPT TO: 2015550100@vtext.com
 *
 * vzwpix.com (MMS), from an "MMSC NDR Administrator" at *.vzwpix.com:
 *
 *   Message could not be delivered to mobile.
 *   Error: No valid recipients for this MM
 *
 *   Original Message:
 *   From: ...
 *   To: 2015550100@vzwpix.com
 *
 * The recipient is the RCPT TO, or the To of the copy; the diagnostic is
 * the quoted reply, else the sentences before the copy.
 */
#include <string.h>

#include "lhost.h"

static int
verizon_detect(const struct pstate *st)
{
	return lhost_from_has(st, "post_master@vtext.com") ||
	    (lhost_from_has(st, "sysadmin@") &&
	    lhost_from_has(st, ".vzwpix.com"));
}

/* Find label at the start of a line (after blanks) in [p, end); the
 * value after it, up to the line's end, in *v and *n. */
static int
labelled(const char *p, const char *end, const char *label, const char **v,
    size_t *n)
{
	const char *line, *eol, *s;
	size_t ll = strlen(label);

	for (line = p; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		for (s = line; s < eol && (*s == ' ' || *s == '\t'); s++)
			;
		if (str_istarts(s, (size_t)(eol - s), label)) {
			*v = s + ll;
			*n = (size_t)(eol - s) - ll;
			*v = str_trim(*v, n);
			return *n > 0;
		}
		if (eol == end)
			break;
	}
	return 0;
}

/* The first address in [p, p + n), bare or in <>. */
static bounce_recipient *
add_address(struct pstate *st, const char *p, size_t n)
{
	const char *lt = memchr(p, '<', n), *gt;

	if (lt != NULL && (gt = memchr(lt, '>', n - (size_t)(lt - p))) !=
	    NULL)
		return report_add(st->r, lt + 1, (size_t)(gt - lt - 1), 1);
	return report_add(st->r, p, n, 1);
}

static int
verizon_read(struct pstate *st)
{
	const char *text = st->text, *end = st->text + st->text_len;
	const char *v, *d = NULL, *d_end = NULL, *nl;
	bounce_recipient *rc;
	size_t n, dn;
	long at;

	/* the copy of the original is part of the report here: read the
	 * whole text, not only up to the cut */
	if (labelled(text, end, "RCPT TO:", &v, &n)) {
		if ((at = lhost_text_find(st, "Error message below:")) >= 0 &&
		    (nl = memchr(text + at, '\n', (size_t)(end - text - at))) !=
		    NULL) {
			d = nl + 1;
			d_end = memchr(d, '\n', (size_t)(end - d));
		} else if (labelled(text, end, "Error:", &d, &dn)) {
			d_end = d + dn;
		}
	} else if (labelled(text, end, "To:", &v, &n)) {
		if ((at = lhost_text_find(st,
		    "Message could not be delivered")) >= 0 &&
		    labelled(text + at, end, "Error:", &d, &dn)) {
			d_end = d + dn;
			d = text + at;
		}
	} else {
		return 0;
	}
	if ((rc = add_address(st, v, n)) == NULL)
		return 0;
	rc->source = "text";
	rc->action = "failed";
	if (d != NULL) {
		if (d_end == NULL)
			d_end = end;
		if (d_end > d && rc->diagnostic == NULL)
			rc->diagnostic = report_str(st->r, d,
			    (size_t)(d_end - d));
	}
	return 1;
}

const struct lhost lhost_verizon = {
	"verizon", verizon_detect, verizon_read
};
