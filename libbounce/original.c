/*
 * original.c - what the bounce tells about the message that failed: its
 * Message-ID, List-Id, From, To, Subject and the campaign headers list
 * managers add, read from the returned message or headers part
 * (message/rfc822, text/rfc822-headers, message/global-headers) or from
 * the copy inlined after the human-readable text.
 *
 * These tie a bounce to the list and the mailing that caused it, so
 * headers naming a campaign are read too: X-Campaign-Id, X-Campaign,
 * X-Listmonk-Campaign, X-Mailgun-Campaign-Id, X-Mailchimp-Campaign,
 * X-Newsletter-Id, X-Mailer-Campaign and the List-* family.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "hdr.h"
#include "pstate.h"

static const char *const campaign_headers[] = {
	"X-Campaign-Id", "X-Campaign", "X-Listmonk-Campaign",
	"X-Mailgun-Campaign-Id", "X-Mailchimp-Campaign", "X-MC-Campaign",
	"X-Newsletter-Id", "X-Mailer-Campaign", "X-Campaign-ID",
	"X-CampaignID", "X-Mailing-Id", "X-Job",
};

/* The header block of the inline copy after the cut, if it looks like
 * one: the first line after the marker and blank lines must be a field. */
static void
find_inline_head(struct pstate *st)
{
	const char *p = st->text + st->text_cut, *end = st->text + st->text_len;
	const char *nl;
	struct hdr_iter it;
	struct hdr_field f;

	if (st->text_cut >= st->text_len)
		return;
	/* skip the marker line itself */
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return;
	p = nl + 1;
	while (p < end && (*p == '\n' || *p == '\r' || *p == ' ' ||
	    *p == '\t'))
		p++;
	/* a rule line under the marker ("-----", Exim's header copy) */
	if (p < end && (*p == '-' || *p == '=') &&
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		const char *q = p;

		while (q < nl && (*q == *p || *q == '\r'))
			q++;
		if (q == nl)
			p = nl + 1;
	}
	hdr_iter_init(&it, p, (size_t)(end - p));
	if (!hdr_next(&it, &f, 0))
		return;
	st->orig_head = p;
	st->orig_head_len = (size_t)(end - p);
}

static void
set_list_id(struct pstate *st, const char *v, size_t n)
{
	/* RFC 2919: "phrase <list-id>"; the id is what names a list */
	const char *lt = memchr(v, '<', n), *gt;

	if (lt != NULL && (gt = memchr(lt, '>', n - (size_t)(lt - v))) !=
	    NULL && gt > lt + 1)
		report_set_field(st->r, BOUNCE_FIELD_LIST_ID, lt + 1,
		    (size_t)(gt - lt - 1));
	else
		report_set_field(st->r, BOUNCE_FIELD_LIST_ID, v, n);
}

static void
set_subject(struct pstate *st, const char *v, size_t n)
{
	/* RFC 2047 encoded words */
	char *raw = g_strndup(v, n);
	char *dec = g_mime_utils_header_decode_text(NULL, raw);
	const char *s = dec != NULL ? dec : raw;

	report_set_field(st->r, BOUNCE_FIELD_ORIGINAL_SUBJECT, s, strlen(s));
	g_free(dec);
	g_free(raw);
}

static int
is_campaign_header(const struct hdr_field *f)
{
	size_t i;

	if (f->name_len < 5 || str_lc(f->name[0]) != 'x')
		return 0;
	for (i = 0; i < sizeof(campaign_headers) / sizeof(campaign_headers[0]);
	    i++)
		if (hdr_is(f, campaign_headers[i]))
			return 1;
	return 0;
}

void
original_read(struct pstate *st)
{
	struct hdr_iter it;
	struct hdr_field f;
	size_t i;

	for (i = 0; i < st->v->nparts && st->orig_head == NULL; i++)
		if (st->v->parts[i].role == PART_HEADERS) {
			st->orig_head = st->v->parts[i].data;
			st->orig_head_len = st->v->parts[i].len;
		}
	if (st->orig_head == NULL)
		find_inline_head(st);
	if (st->orig_head == NULL)
		return;
	/* one pass over the header block; the first of each field wins */
	hdr_iter_init(&it, st->orig_head, st->orig_head_len);
	while (hdr_next(&it, &f, 1)) {
		if (hdr_is(&f, "Message-ID"))
			report_set_field(st->r, BOUNCE_FIELD_MESSAGE_ID,
			    f.value, f.value_len);
		else if (hdr_is(&f, "List-Id"))
			set_list_id(st, f.value, f.value_len);
		else if (hdr_is(&f, "From"))
			report_set_field(st->r, BOUNCE_FIELD_ORIGINAL_FROM,
			    f.value, f.value_len);
		else if (hdr_is(&f, "To"))
			report_set_field(st->r, BOUNCE_FIELD_ORIGINAL_TO,
			    f.value, f.value_len);
		else if (hdr_is(&f, "Subject") &&
		    st->r->fields[BOUNCE_FIELD_ORIGINAL_SUBJECT] == NULL)
			set_subject(st, f.value, f.value_len);
		else if (is_campaign_header(&f))
			report_set_field(st->r, BOUNCE_FIELD_CAMPAIGN_ID,
			    f.value, f.value_len);
	}
}
