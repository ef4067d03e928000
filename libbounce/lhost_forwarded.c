/*
 * lhost_forwarded.c - a notice that forwards a whole bounce as an
 * attachment: Trend Micro's mail gateways (To: "NotificationRecipients",
 * X-TM-AS-MML) send "Mail Delivery Subsystem" notices whose own text
 * lists no address, with the MTA's RFC 3464 bounce attached as
 * message/rfc822 (Sisimai calls the layout X5).  When the outer message
 * looks like a bounce and its attached message is a delivery-status
 * report, that report's recipients are the failed ones.
 *
 * Tried last: a bounce that returns the original message carries no
 * report inside it, and every other reader has had its chance.
 */
#include <string.h>

#include "lhost.h"

static int
forwarded_detect(const struct pstate *st)
{
	const struct part *p;
	unsigned int i;

	if (!st->v->multipart || !text_looks_like_bounce(st))
		return 0;
	for (i = 0; i < st->v->nparts; i++) {
		p = &st->v->parts[i];
		if (p->role == PART_HEADERS && p->depth == 1 &&
		    str_ifind_z(p->data, p->len, "multipart/report") != NULL &&
		    str_ifind_z(p->data, p->len, "delivery-status") != NULL)
			return 1;
	}
	return 0;
}

/*
 * The original message's fields were read from the attached bounce's own
 * headers; read them again from the headers the attached bounce returns.
 */
static void
reread_original(struct pstate *st, struct msgview *inner)
{
	static const bounce_field fields[] = {
		BOUNCE_FIELD_MESSAGE_ID, BOUNCE_FIELD_LIST_ID,
		BOUNCE_FIELD_ORIGINAL_FROM, BOUNCE_FIELD_ORIGINAL_TO,
		BOUNCE_FIELD_ORIGINAL_SUBJECT, BOUNCE_FIELD_CAMPAIGN_ID,
	};
	struct pstate sub = *st;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		st->r->fields[fields[i]] = NULL;
	sub.v = inner;
	sub.text = "";
	sub.lower = "";
	sub.text_len = sub.text_cut = 0;
	sub.orig_head = NULL;
	sub.orig_head_len = 0;
	/* sub.orig_head points into the inner view, closed after this:
	 * st keeps its own */
	original_read(&sub);
}

static int
forwarded_read(struct pstate *st)
{
	struct msgview inner;
	unsigned int i;
	int n = 0;

	if (mime_view_open_attached(&inner, st->v, st->ctx) == BOUNCE_OK) {
		for (i = 0; i < inner.nparts; i++)
			if (inner.parts[i].role == PART_DSN ||
			    inner.parts[i].role == PART_GLOBAL_DSN)
				n += dsn_read(st, inner.parts[i].data,
				    inner.parts[i].len);
		if (n > 0)
			reread_original(st, &inner);
	}
	mime_view_close(&inner);
	return n;
}

const struct lhost lhost_forwarded = { "forwarded", forwarded_detect,
	forwarded_read };
