/*
 * arf.c - RFC 5965 Abuse Reporting Format: feedback loop reports sent when
 * a recipient marks a message as spam.
 *
 * A report is multipart/report; report-type=feedback-report with a
 * message/feedback-report part (Feedback-Type, User-Agent, Version,
 * Original-Rcpt-To...) and the original message or its headers.  The
 * complaining recipient is Original-Rcpt-To (RFC 6650 asks providers to
 * keep it, many redact it); else the original message's To.  Some
 * providers send the fields in a text part only (old Hotmail, AOL): those
 * are read when the bounce's own type says feedback-report.  Microsoft's
 * JMRP reports and Apple Mail's unsubscribe requests are complaints too
 * (other_complaint()).
 */
#include <string.h>

#include "hdr.h"
#include "pstate.h"

static const struct part *
feedback_part(const struct pstate *st)
{
	unsigned int i;

	for (i = 0; i < st->v->nparts; i++)
		if (st->v->parts[i].role == PART_FEEDBACK)
			return &st->v->parts[i];
	return NULL;
}

/* The first address in an address-list header value. */
static int
add_first_address(struct pstate *st, const char *p, size_t n)
{
	const char *lt = memchr(p, '<', n), *gt, *end = p + n, *q;

	if (lt != NULL && (gt = memchr(lt, '>', (size_t)(end - lt))) != NULL)
		return report_add(st->r, lt + 1, (size_t)(gt - lt - 1), 1) !=
		    NULL;
	for (q = p; q < end && *q != ','; q++)
		;
	return report_add(st->r, p, (size_t)(q - p), 1) != NULL;
}

/*
 * Complaints in other shapes than RFC 5965:
 *   - Microsoft's JMRP (Hotmail/Outlook.com feedback loop): subject
 *     "complaint about message from <IP>", the original message attached,
 *     its recipient in the original's X-HmXmrOriginalRecipient header;
 *   - Apple Mail's unsubscribe request (X-Apple-Unsubscribe: true), sent
 *     from the recipient's own address to the List-Unsubscribe mailto.
 * Returns 1 when the message is one of them (recipients added).
 */
static int
other_complaint(struct pstate *st)
{
	const char *v;
	size_t n;

	if (str_ifind_z(st->subject, strlen(st->subject),
	    "complaint about message from ") != NULL && st->orig_head !=
	    NULL && (v = hdr_find(st->orig_head, st->orig_head_len,
	    "X-HmXmrOriginalRecipient", &n)) != NULL) {
		report_set_field(st->r, BOUNCE_FIELD_FEEDBACK_TYPE, "abuse", 5);
		report_set_format(st->r, "arf-jmrp");
		add_first_address(st, v, n);
		return 1;
	}
	if ((v = hdr_find(st->v->head, st->v->head_len, "X-Apple-Unsubscribe",
	    &n)) != NULL && str_istarts(v, n, "true")) {
		report_set_field(st->r, BOUNCE_FIELD_FEEDBACK_TYPE, "opt-out",
		    7);
		report_set_format(st->r, "apple-unsubscribe");
		add_first_address(st, st->from, strlen(st->from));
		return 1;
	}
	return 0;
}

int
arf_read(struct pstate *st)
{
	const struct part *fb = feedback_part(st);
	struct hdr_iter it;
	struct hdr_field f;
	const char *to;
	size_t to_len;
	int found = 0;
	size_t i;

	if (fb == NULL && (st->v->report_type == NULL ||
	    !str_ieq(st->v->report_type, "feedback-report"))) {
		if (!other_complaint(st))
			return 0;
		st->r->kind = BOUNCE_KIND_COMPLAINT;
		for (i = 0; i < st->r->nrcpt; i++) {
			st->r->rcpt[i].kind = BOUNCE_KIND_COMPLAINT;
			st->r->rcpt[i].source = "header";
		}
		return 1;
	}
	st->r->kind = BOUNCE_KIND_COMPLAINT;
	report_set_format(st->r, "arf");
	if (fb != NULL) {
		hdr_iter_init(&it, fb->data, fb->len);
		do {
			while (hdr_next(&it, &f, 1)) {
				if (hdr_is(&f, "Feedback-Type"))
					report_set_field(st->r,
					    BOUNCE_FIELD_FEEDBACK_TYPE,
					    f.value, f.value_len);
				else if (hdr_is(&f, "User-Agent"))
					report_set_field(st->r,
					    BOUNCE_FIELD_USER_AGENT, f.value,
					    f.value_len);
				else if (hdr_is(&f, "Arrival-Date") ||
				    hdr_is(&f, "Received-Date"))
					report_set_field(st->r,
					    BOUNCE_FIELD_ARRIVAL_DATE,
					    f.value, f.value_len);
				else if (hdr_is(&f, "Reporting-MTA"))
					report_set_field(st->r,
					    BOUNCE_FIELD_REPORTING_MTA,
					    f.value, f.value_len);
				else if (hdr_is(&f, "Original-Rcpt-To") ||
				    hdr_is(&f, "Removal-Recipient"))
					found |= add_first_address(st,
					    f.value, f.value_len);
			}
		} while (hdr_skip_blank(&it));
	}
	if (!found && st->orig_head != NULL &&
	    (to = hdr_find(st->orig_head, st->orig_head_len, "To",
	    &to_len)) != NULL)
		found = add_first_address(st, to, to_len);
	for (i = 0; i < st->r->nrcpt; i++) {
		st->r->rcpt[i].kind = BOUNCE_KIND_COMPLAINT;
		if (st->r->rcpt[i].source == NULL)
			st->r->rcpt[i].source = "arf";
	}
	return 1;
}
