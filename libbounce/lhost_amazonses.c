/*
 * lhost_amazonses.c - Amazon SES notifications mailed as JSON: an SNS
 * topic's email subscription ("AWS Notification Message" from
 * no-reply@sns.amazonaws.com, header x-amz-sns-message-id) whose body is
 * the SNS envelope ({"Type":"Notification","Message":"<escaped JSON>"})
 * or, with raw message delivery, the SES record itself.
 *
 * The record (docs.aws.amazon.com/ses/latest/dg/notification-contents.html
 * and event-publishing-retrieving-sns-contents.html) names its kind in
 * notificationType, or eventType for configuration-set events:
 *   Bounce         bounce.bouncedRecipients[] {emailAddress, action,
 *                  status, diagnosticCode}, bounceType/bounceSubType,
 *                  reportingMTA, remoteMtaIp, timestamp
 *   Complaint      complaint.complainedRecipients[] {emailAddress},
 *                  complaintFeedbackType, userAgent
 *   Delivery       delivery.recipients[] (strings), smtpResponse,
 *                  reportingMTA
 *   DeliveryDelay  deliveryDelay.delayedRecipients[] {emailAddress,
 *                  status, diagnosticCode}, delayType, reportingMTA
 * and mail.headers[] {name, value} carries the original's headers.
 * Other event types (Send, Open, Click...) say nothing about delivery
 * failures and are left alone.
 *
 * SES's bounces in MIME form (multipart/report from MAILER-DAEMON@
 * amazonses.com) are plain RFC 3464 and need no module.
 *
 * Limits: the JSON reader is bounded (json.c); at most the text part is
 * copied once, to undo Sendmail's "!" line splitting.
 */
#include <string.h>

#include "json.h"
#include "lhost.h"

static int
amazonses_detect(const struct pstate *st)
{
	const char *p = json_ws(st->text, st->text + st->text_len);

	if (p >= st->text + st->text_len || *p != '{')
		return 0;
	return lhost_has_header(st, "x-amz-sns-message-id") ||
	    lhost_from_has(st, "@sns.amazonaws.com") ||
	    lhost_subject_has(st, "AWS Notification Message");
}

/*
 * Sendmail splits lines longer than its limit with "!" and a newline, and
 * the copy here carries them inside the JSON ("...\"name\":\"!\n
 * Content-Transfer-Encoding\"..."); JSON has no raw line breaks in
 * strings, so "!" at a line's end is always such a split.  Returns the
 * text, copied and repaired only when needed.
 */
static const char *
unsplit(struct pstate *st, size_t *len)
{
	const char *p = st->text, *end = st->text + st->text_len;
	char *out, *o;

	if (str_ifind_z(p, st->text_len, "!\n") == NULL &&
	    str_ifind_z(p, st->text_len, "!\r\n") == NULL) {
		*len = st->text_len;
		return st->text;
	}
	if ((out = arena_alloc(&st->r->arena, st->text_len + 1)) == NULL)
		return NULL;
	for (o = out; p < end; p++) {
		if (*p == '!' && (end - p > 1 && (p[1] == '\n' ||
		    (p[1] == '\r' && end - p > 2 && p[2] == '\n')))) {
			p += p[1] == '\n' ? 1 : 2;
			/* the continuation may be indented by one blank */
			if (end - p > 1 && (p[1] == ' ' || p[1] == '\t'))
				p++;
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

/* A string member of obj, unescaped into the report, or NULL. */
static char *
member(struct pstate *st, const char *obj, const char *end, const char *key)
{
	return json_string(&st->r->arena, json_get(obj, end, key), end);
}

/* "smtp; 550 5.1.1 user unknown": the type and the text. */
static void
set_diagnostic(struct pstate *st, bounce_recipient *rc, const char *d)
{
	const char *semi;
	size_t n;

	if (d == NULL || d[0] == '\0' || rc->diagnostic != NULL)
		return;
	semi = strchr(d, ';');
	if (semi != NULL && semi - d < 24 && semi > d) {
		char *t = (char *)report_str(st->r, d, (size_t)(semi - d));

		if (t != NULL)
			str_lower(t, strlen(t));
		rc->diagnostic_type = t;
		d = semi + 1;
	}
	n = strlen(d);
	d = str_trim(d, &n);
	if (n > 0)
		rc->diagnostic = report_str(st->r, d, n);
}

static void
set_status(struct pstate *st, bounce_recipient *rc, const char *s)
{
	char code[16];

	if (s != NULL && rc->dsn_status == NULL &&
	    bounce_esc_find(code, sizeof(code), s, strlen(s)) >= 0)
		rc->dsn_status = report_strz(st->r, code);
}

/* "dsn; a27-23.smtp-out.us-west-2.amazonses.com" */
static void
set_reporting_mta(struct pstate *st, const char *m)
{
	const char *semi;

	if (m == NULL)
		return;
	if ((semi = strchr(m, ';')) != NULL)
		m = semi + 1;
	while (*m == ' ')
		m++;
	report_set_field(st->r, BOUNCE_FIELD_REPORTING_MTA, m, strlen(m));
}

/*
 * The original's headers, mail.headers[] {name, value}, written out as a
 * header block for original.c (Message-ID, List-Id, campaign headers).
 */
static void
read_mail_headers(struct pstate *st, const char *payload, const char *end)
{
	const char *hs = json_get(json_get(payload, end, "mail"), end,
	    "headers"), *pos = NULL, *e;
	struct buf b;
	char *name, *value;
	int n = 0;

	if (hs == NULL || st->orig_head != NULL)
		return;
	buf_init(&b, 64 * 1024);
	while ((e = json_next(hs, end, &pos)) != NULL && n++ < 200) {
		name = member(st, e, end, "name");
		value = member(st, e, end, "value");
		if (name == NULL || value == NULL || strchr(name, '\n') ||
		    strchr(name, ':'))
			continue;
		if (buf_append(&b, name, strlen(name)) != BOUNCE_OK ||
		    buf_append(&b, ": ", 2) != BOUNCE_OK ||
		    buf_append(&b, value, strlen(value)) != BOUNCE_OK ||
		    buf_append_char(&b, '\n') != BOUNCE_OK)
			break;
	}
	if (b.len > 0) {
		st->orig_head = arena_strndup(&st->r->arena, b.data, b.len);
		st->orig_head_len = st->orig_head != NULL ? b.len : 0;
		if (st->orig_head != NULL)
			original_read(st);
	}
	buf_free(&b);
}

/*
 * No reply quoted (the address is on a suppression list, a bounce SES
 * made itself, a complaint): SES's own words are the text, "Amazon SES
 * Permanent bounce (Suppressed)", "Amazon SES Complaint (abuse)".
 */
static void
set_fallback(struct pstate *st, bounce_recipient *rc, const char *type,
    const char *what, const char *sub)
{
	struct buf b;

	buf_init(&b, 256);
	if (buf_printf(&b, "Amazon SES %s%s%s", type, what != NULL ? " " : "",
	    what != NULL ? what : "") == BOUNCE_OK &&
	    (sub == NULL || buf_printf(&b, " (%s)", sub) == BOUNCE_OK))
		rc->diagnostic = report_str(st->r, b.data, b.len);
	buf_free(&b);
}

/* Recipients of a Bounce or a DeliveryDelay: objects with emailAddress,
 * action, status, diagnosticCode. */
static int
read_failed(struct pstate *st, const char *o, const char *end,
    const char *list, const char *action, bounce_kind kind)
{
	const char *pos = NULL, *e;
	bounce_recipient *rc;
	char *addr, *btype, *bsub, *date, *rmta;
	int found = 0;

	btype = member(st, o, end, "bounceType");
	bsub = member(st, o, end, "bounceSubType");
	if (btype == NULL)
		btype = member(st, o, end, "delayType");
	date = member(st, o, end, "timestamp");
	rmta = member(st, o, end, "remoteMtaIp");
	set_reporting_mta(st, member(st, o, end, "reportingMTA"));
	while ((e = json_next(json_get(o, end, list), end, &pos)) != NULL) {
		if ((addr = member(st, e, end, "emailAddress")) == NULL ||
		    (rc = report_add(st->r, addr, strlen(addr), 1)) == NULL)
			continue;
		found++;
		rc->source = "json";
		rc->kind = kind;
		if (rc->action == NULL) {
			char *a = member(st, e, end, "action");

			if (a != NULL)
				str_lower(a, strlen(a));
			rc->action = a != NULL ? a : action;
		}
		set_status(st, rc, member(st, e, end, "status"));
		set_diagnostic(st, rc, member(st, e, end, "diagnosticCode"));
		if (rc->diagnostic == NULL && btype != NULL)
			set_fallback(st, rc, btype, kind ==
			    BOUNCE_KIND_DELAYED ? "delay" : "bounce", bsub);
		if (rc->remote_mta == NULL && rmta != NULL)
			rc->remote_mta = rmta;
		if (rc->last_attempt_date == NULL)
			rc->last_attempt_date = date;
	}
	return found;
}

static int
read_complaint(struct pstate *st, const char *o, const char *end)
{
	const char *pos = NULL, *e;
	bounce_recipient *rc;
	char *addr, *v, *ftype;
	int found = 0;

	if ((ftype = member(st, o, end, "complaintFeedbackType")) != NULL)
		report_set_field(st->r, BOUNCE_FIELD_FEEDBACK_TYPE, ftype,
		    strlen(ftype));
	if ((v = member(st, o, end, "userAgent")) != NULL)
		report_set_field(st->r, BOUNCE_FIELD_USER_AGENT, v, strlen(v));
	if ((v = member(st, o, end, "arrivalDate")) != NULL)
		report_set_field(st->r, BOUNCE_FIELD_ARRIVAL_DATE, v,
		    strlen(v));
	while ((e = json_next(json_get(o, end, "complainedRecipients"), end,
	    &pos)) != NULL) {
		if ((addr = member(st, e, end, "emailAddress")) == NULL ||
		    (rc = report_add(st->r, addr, strlen(addr), 1)) == NULL)
			continue;
		found++;
		rc->source = "json";
		rc->kind = BOUNCE_KIND_COMPLAINT;
		/* what SES knows of it; keeps the text reader's guess out */
		if (rc->diagnostic == NULL)
			set_fallback(st, rc, "Complaint", NULL, ftype);
	}
	if (found > 0)
		st->r->kind = BOUNCE_KIND_COMPLAINT;
	return found;
}

static int
read_delivery(struct pstate *st, const char *o, const char *end)
{
	const char *pos = NULL, *e;
	bounce_recipient *rc;
	char *addr, *resp, *date;
	int found = 0;

	resp = member(st, o, end, "smtpResponse");
	date = member(st, o, end, "timestamp");
	set_reporting_mta(st, member(st, o, end, "reportingMTA"));
	while ((e = json_next(json_get(o, end, "recipients"), end, &pos)) !=
	    NULL) {
		if ((addr = json_string(&st->r->arena, e, end)) == NULL ||
		    (rc = report_add(st->r, addr, strlen(addr), 1)) == NULL)
			continue;
		found++;
		rc->source = "json";
		rc->kind = BOUNCE_KIND_DELIVERED;
		rc->action = "delivered";
		if (resp != NULL && rc->diagnostic == NULL)
			rc->diagnostic = report_strz(st->r, resp);
		if (rc->last_attempt_date == NULL)
			rc->last_attempt_date = date;
	}
	return found;
}

static int
amazonses_read(struct pstate *st)
{
	const char *text, *end, *top, *payload, *type;
	char *inner;
	size_t len;
	int n = 0;

	if ((text = unsplit(st, &len)) == NULL)
		return 0;
	end = text + len;
	top = json_ws(text, end);
	payload = top;
	/* the SNS envelope carries the record as a string */
	if ((inner = member(st, top, end, "Message")) != NULL) {
		payload = inner;
		end = inner + strlen(inner);
	}
	if ((type = json_get(payload, end, "notificationType")) == NULL)
		type = json_get(payload, end, "eventType");
	if (json_is(type, end, "Bounce"))
		n = read_failed(st, json_get(payload, end, "bounce"), end,
		    "bouncedRecipients", "failed", BOUNCE_KIND_BOUNCE);
	else if (json_is(type, end, "DeliveryDelay"))
		n = read_failed(st, json_get(payload, end, "deliveryDelay"),
		    end, "delayedRecipients", "delayed", BOUNCE_KIND_DELAYED);
	else if (json_is(type, end, "Complaint"))
		n = read_complaint(st, json_get(payload, end, "complaint"),
		    end);
	else if (json_is(type, end, "Delivery"))
		n = read_delivery(st, json_get(payload, end, "delivery"), end);
	if (n > 0)
		read_mail_headers(st, payload, end);
	return n;
}

const struct lhost lhost_amazonses = {
	"amazonses", amazonses_detect, amazonses_read
};
