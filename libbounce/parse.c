/*
 * parse.c - bounce_parse(): one message in, one report out.
 *
 * The pipeline:
 *   1. limits: a message over max_message_bytes is read up to it, and the
 *      report says so;
 *   2. the MIME view (mime.c) and the human-readable text;
 *   3. the returned original's fields (original.c);
 *   4. decoders, first that finds recipients wins: ARF feedback reports,
 *      RFC 3464 delivery-status parts, the format modules (lhost.c),
 *      delivery-status fields inlined in text, X-Failed-Recipients, the
 *      generic text reader, auto-replies;
 *   5. every recipient completed the same way: diagnostic, reply code,
 *      phase, the status to report (TAXONOMY.md "Which status code to
 *      report"), kind, classification;
 *   6. VERP: the recipient decoded from the bounce address, as evidence
 *      when the bounce hides it.
 * Nothing here fails on bad input: the report says what went wrong.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "diag.h"
#include "hdr.h"
#include "pstate.h"

/* Skip an mbox "From " envelope line at the very start. */
static const char *
skip_envelope(const char *buf, size_t *len)
{
	const char *nl;

	if (*len >= 5 && memcmp(buf, "From ", 5) == 0 &&
	    (nl = memchr(buf, '\n', *len)) != NULL) {
		*len -= (size_t)(nl + 1 - buf);
		return nl + 1;
	}
	return buf;
}

/* Join the text parts (HTML only when there is no plain text), and make
 * the lower-cased copy the decoders search. */
static int
build_text(struct pstate *st, struct buf *text, struct buf *lower)
{
	unsigned int i;
	int have_plain = 0, err;

	for (i = 0; i < st->v->nparts; i++)
		if (st->v->parts[i].role == PART_TEXT)
			have_plain = 1;
	for (i = 0; i < st->v->nparts; i++) {
		const struct part *p = &st->v->parts[i];

		if (p->role != PART_TEXT && (p->role != PART_HTML ||
		    have_plain))
			continue;
		if (text->len > 0 &&
		    (err = buf_append_char(text, '\n')) != BOUNCE_OK)
			return err;
		if ((err = buf_append(text, p->data, p->len)) != BOUNCE_OK)
			return err;
	}
	if (text->data == NULL && (err = buf_append(text, "", 0)) != BOUNCE_OK)
		return err;
	if ((err = buf_append(lower, text->data, text->len)) != BOUNCE_OK)
		return err;
	str_lower(lower->data, lower->len);
	st->text = text->data;
	st->lower = lower->data;
	st->text_len = text->len;
	st->text_cut = text_find_cut_lower(st->lower, st->text_len);
	return BOUNCE_OK;
}

/* A header value decoded (RFC 2047) into the report, "" when absent. */
static const char *
header_text(struct pstate *st, const char *name)
{
	const char *raw = mime_header(st->v, name);
	const char *s;
	char *dec;

	if (raw == NULL)
		return "";
	dec = g_mime_utils_header_decode_text(NULL, raw);
	s = report_strz(st->r, dec != NULL ? dec : raw);
	g_free(dec);
	return s != NULL ? s : "";
}

static int
dsn_parts(struct pstate *st)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < st->v->nparts; i++)
		if (st->v->parts[i].role == PART_DSN ||
		    st->v->parts[i].role == PART_GLOBAL_DSN)
			n += dsn_read(st, st->v->parts[i].data,
			    st->v->parts[i].len);
	if (n > 0)
		report_set_format(st->r, "rfc3464");
	return n;
}

/* Exim, Gmail and others list the failed addresses in a header. */
static int
failed_recipients_header(struct pstate *st)
{
	const char *v, *p, *end, *comma;
	bounce_recipient *rc;
	size_t n;
	int found = 0;

	if ((v = hdr_find(st->v->head, st->v->head_len,
	    "X-Failed-Recipients", &n)) == NULL)
		return 0;
	for (p = v, end = v + n; p < end; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		if ((rc = report_add(st->r, p, (size_t)(comma - p), 1)) !=
		    NULL) {
			rc->source = "header";
			found++;
		}
		if (comma == end)
			break;
	}
	return found;
}

static bounce_kind
kind_of_action(const char *action)
{
	if (action == NULL)
		return BOUNCE_KIND_BOUNCE;
	if (strcmp(action, "delayed") == 0)
		return BOUNCE_KIND_DELAYED;
	/* "deliverable": Postfix's address verification (sendmail -bv) */
	if (strcmp(action, "delivered") == 0 || strcmp(action, "relayed") == 0 ||
	    strcmp(action, "expanded") == 0 || strcmp(action, "deliverable") == 0)
		return BOUNCE_KIND_DELIVERED;
	return BOUNCE_KIND_BOUNCE;
}

/* Neither subject nor detail is 0 ("5.7.1", "4.2.2"): a code that names
 * a cause.  The remote server's own code of this kind wins over the
 * sending MTA's translation of its reply ("Status: 5.1.1" for "550 5.7.1
 * IP address blacklisted"). */
static int
status_specific(const char *s)
{
	const char *dot = strchr(s, '.');

	return dot != NULL && dot[1] != '0' && (dot = strchr(dot + 1, '.')) !=
	    NULL && !(dot[1] == '0' && dot[2] == '\0');
}

/*
 * The status to report (TAXONOMY.md "Which status code to report"): the
 * Status field, unless it is generic (x.0.0, or x.4.7 "gave up") and the
 * quoted reply says more, or unless it only differs from the quoted
 * reply's code in its class while the reply's own code agrees with the
 * quoted one (Postfix writes 4.x.x for a 5xx greeting it will retry
 * elsewhere; the remote's 5.5.0 says why).
 */
static const char *
choose_status(struct pstate *st, bounce_recipient *rc, const struct diag *d)
{
	const char *s = rc->dsn_status, *diag = rc->diagnostic;
	char spec[16];
	int code;

	if (s == NULL || (diag_status_generic(s) && d->enhanced[0] != '\0' &&
	    !diag_status_generic(d->enhanced)))
		s = d->enhanced[0] != '\0' ? report_strz(st->r, d->enhanced) :
		    rc->dsn_status;
	else if (d->enhanced[0] != '\0' && status_specific(d->enhanced) &&
	    strcmp(d->enhanced, s) != 0)
		s = report_strz(st->r, d->enhanced);
	else if (d->enhanced[0] != '\0' && d->enhanced[0] != s[0] &&
	    strcmp(d->enhanced + 1, s + 1) == 0 &&
	    d->code / 100 == d->enhanced[0] - '0')
		s = report_strz(st->r, d->enhanced);
	/* a later, specific code in the diagnostic: "554 4.4.7 Message
	 * expired ... <421 4.4.2 Connection timed out>"; the reply code
	 * beside it is the remote's, the first one the relay's own */
	if (diag_status_generic(s) && diag != NULL &&
	    diag_specific_status(spec, sizeof(spec), &code, diag,
	    strlen(diag)) >= 0) {
		s = report_strz(st->r, spec);
		if (code != 0)
			rc->reply_code = code;
	}
	/* or in what the human-readable part says about the recipient:
	 * Exchange lists every attempt there, the last one "4.4.7
	 * QUEUE.Expired" in the DSN, the cause ("441 4.4.1") before it */
	if (diag_status_generic(s) && rc->address != NULL &&
	    text_specific_status(st, rc->address, spec, sizeof(spec),
	    &code)) {
		s = report_strz(st->r, spec);
		if (code != 0)
			rc->reply_code = code;
	}
	return s;
}

static void
finish_recipient(struct pstate *st, bounce_recipient *rc)
{
	bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;
	const char *diag;
	bounce_verdict v;
	struct diag d;

	text_fill_diagnostic(st, rc);
	diag = rc->diagnostic;
	diag_analyze(&d, diag, diag != NULL ? strlen(diag) : 0);
	/* a multi-line reply quoted on one line: its continuation prefixes
	 * out of the text, for readers and for rules alike */
	if (diag != NULL) {
		struct buf flat;

		buf_init(&flat, strlen(diag) + 64);
		if (smtp_unfold_quoted(&flat, diag, strlen(diag), d.reply) &&
		    (diag = report_str(st->r, flat.data, flat.len)) != NULL)
			rc->diagnostic = diag;
		diag = rc->diagnostic;
		buf_free(&flat);
	}
	if (rc->reply_code == 0)
		rc->reply_code = d.code;
	if (rc->phase == BOUNCE_PHASE_NONE)
		rc->phase = d.phase;
	if (rc->phase == BOUNCE_PHASE_NONE)
		rc->phase = text_phase_near(st, rc->address);
	if (rc->status == NULL)
		rc->status = choose_status(st, rc, &d);
	if (rc->kind == BOUNCE_KIND_UNKNOWN)
		rc->kind = kind_of_action(rc->action);
	if (rc->kind == BOUNCE_KIND_DELIVERED ||
	    rc->kind == BOUNCE_KIND_COMPLAINT ||
	    rc->kind == BOUNCE_KIND_AUTOREPLY || rc->category != BOUNCE_CAT_NONE)
		return;
	in.phase = rc->phase;
	in.code = rc->reply_code;
	in.enhanced = rc->status;
	in.text = diag;
	in.remote_mta = rc->remote_mta;
	in.action = rc->action;
	if (bounce_classify(&v, st->ctx, &in) == BOUNCE_OK) {
		rc->category = v.category;
		rc->reason = v.reason;
		rc->rule = v.rule;
	}
}

/* The report's kind from its recipients: bounce > delayed > delivered. */
static bounce_kind
report_kind(const bounce_report *r)
{
	bounce_kind k = BOUNCE_KIND_UNKNOWN;
	size_t i;

	for (i = 0; i < r->nrcpt; i++) {
		bounce_kind rk = r->rcpt[i].kind;

		if (rk == BOUNCE_KIND_BOUNCE)
			return rk;
		if (rk == BOUNCE_KIND_DELAYED || k == BOUNCE_KIND_UNKNOWN)
			k = rk;
	}
	return k;
}

/* The recipient VERP carries, from the options or the bounce's headers
 * (the first of X-Original-To, Delivered-To, Envelope-To, To that
 * decodes). */
static void
verp_read(struct pstate *st)
{
	static const char *const headers[] = {
		"X-Original-To", "Delivered-To", "Envelope-To", "To",
	};
	const bounce_parse_options *o = st->opts;
	char out[330], found[4][330];
	struct hdr_iter it;
	struct hdr_field f;
	size_t i;

	if (o->verp_recipient != NULL && o->verp_recipient[0] != '\0') {
		/* Postfix ${extension} is still encoded: "alice=example.net" */
		char *s = (char *)report_strz(st->r, o->verp_recipient);
		char *eq = s != NULL ? strrchr(s, o->verp.equals) : NULL;

		if (eq != NULL && strchr(s, '@') == NULL)
			*eq = '@';
		report_set_field(st->r, BOUNCE_FIELD_VERP_RECIPIENT, s,
		    s != NULL ? strlen(s) : 0);
		return;
	}
	if (o->bounce_address != NULL &&
	    bounce_verp_decode(out, sizeof(out), o->bounce_address, &o->verp) ==
	    BOUNCE_OK) {
		report_set_field(st->r, BOUNCE_FIELD_VERP_RECIPIENT, out,
		    strlen(out));
		return;
	}
	memset(found, 0, sizeof(found));
	hdr_iter_init(&it, st->v->head, st->v->head_len);
	while (hdr_next(&it, &f, 1))
		for (i = 0; i < 4; i++)
			if (found[i][0] == '\0' && hdr_is(&f, headers[i]) &&
			    f.value_len < sizeof(out)) {
				memcpy(out, f.value, f.value_len);
				out[f.value_len] = '\0';
				(void)bounce_verp_decode(found[i],
				    sizeof(found[i]), out, &o->verp);
			}
	for (i = 0; i < 4; i++)
		if (found[i][0] != '\0') {
			report_set_field(st->r, BOUNCE_FIELD_VERP_RECIPIENT,
			    found[i], strlen(found[i]));
			return;
		}
}

/*
 * The last resort for a bounce that names no recipient ("Delivery report
 * unavailable"): the returned message's To, when it holds exactly one
 * address and that address is not the list's own (Mailman writes the
 * list address in To; it is in List-Post too) nor the bounce's sender or
 * recipient.  List managers that personalise To (listmonk, most
 * newsletter tools) write the subscriber there.
 */
static void
original_to_recipient(struct pstate *st)
{
	const char *to = st->r->fields[BOUNCE_FIELD_ORIGINAL_TO], *a, *b;
	const char *post;
	bounce_recipient *rc;
	size_t n, plen;
	char addr[330];

	if (to == NULL || strchr(to, ',') != NULL)
		return;
	a = strchr(to, '<');
	a = a != NULL ? a + 1 : to;
	b = a + strcspn(a, "> ");
	n = (size_t)(b - a);
	if (n == 0 || n >= sizeof(addr) || memchr(a, '@', n) == NULL)
		return;
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (str_ifind(st->from, strlen(st->from), addr, n) != NULL ||
	    str_ifind(st->to, strlen(st->to), addr, n) != NULL)
		return;
	if (st->orig_head != NULL && (post = hdr_find(st->orig_head,
	    st->orig_head_len, "List-Post", &plen)) != NULL &&
	    str_ifind(post, plen, addr, n) != NULL)
		return;
	if ((rc = report_add(st->r, addr, n, 1)) != NULL)
		rc->source = "original-to";
}

static void
decode(struct pstate *st)
{
	const char *verp;
	bounce_recipient *rc;
	size_t i;
	int n;

	if (arf_read(st))
		goto finish;
	n = dsn_parts(st);
	if (n == 0)
		n = lhost_read(st);
	if (n == 0 && (n = dsn_read_inline(st)) > 0)
		report_set_format(st->r, "rfc3464-inline");
	if (n == 0 && (n = failed_recipients_header(st)) > 0)
		report_set_format(st->r, "x-failed-recipients");
	if (n == 0 && (text_looks_like_bounce(st) || (st->v->report_type !=
	    NULL && str_ieq(st->v->report_type, "delivery-status"))) &&
	    text_read(st))
		report_set_format(st->r, "text");
	/* a bounce that is also "Auto-Submitted: auto-replied" (Postfix,
	 * Exim) is still a bounce, even when no recipient could be read */
	if (st->r->nrcpt == 0 && !text_looks_like_bounce(st) &&
	    (st->v->report_type == NULL ||
	    !str_ieq(st->v->report_type, "delivery-status")) &&
	    autoreply_read(st))
		goto finish;
	/* a delivery-status block without an address belongs to the one
	 * recipient the other readers found */
	if (st->r->nrcpt == 1 && st->r->rcpt[0].source != NULL &&
	    strcmp(st->r->rcpt[0].source, "dsn") != 0)
		dsn_apply_orphan(st, &st->r->rcpt[0]);
	if (st->r->nrcpt == 0 && text_looks_like_bounce(st)) {
		/* a bounce that hides the recipient: VERP tells */
		verp = st->r->fields[BOUNCE_FIELD_VERP_RECIPIENT];
		if (verp != NULL &&
		    (rc = report_add(st->r, verp, strlen(verp), 1)) != NULL)
			rc->source = "verp";
		/* else the one address the failure text names */
		if (st->r->nrcpt == 0)
			(void)text_sole_address(st);
		/* else the returned message's To, when it names one person */
		if (st->r->nrcpt == 0)
			original_to_recipient(st);
		if (st->r->format == NULL)
			report_set_format(st->r, "text");
		st->r->kind = BOUNCE_KIND_BOUNCE;
	}
finish:
	for (i = 0; i < st->r->nrcpt; i++)
		finish_recipient(st, &st->r->rcpt[i]);
	if (st->r->nrcpt > 0 && st->r->kind == BOUNCE_KIND_UNKNOWN)
		st->r->kind = report_kind(st->r);
}

int
bounce_parse(bounce_report **out, bounce_ctx *ctx, const char *buf,
    size_t len, const bounce_parse_options *opts)
{
	static const bounce_parse_options defaults = BOUNCE_PARSE_OPTIONS_INIT;
	struct pstate st;
	struct msgview view;
	struct buf text, lower;
	bounce_report *r;
	int err;

	if (out == NULL || ctx == NULL || (buf == NULL && len > 0))
		return BOUNCE_EINVAL;
	*out = NULL;
	if (opts == NULL)
		opts = &defaults;
	if (opts->version != BOUNCE_PARSE_OPTIONS_VERSION)
		return BOUNCE_EVERSION;
	if ((err = report_new(&r, ctx->limits.max_recipients)) != BOUNCE_OK)
		return err;
	/* the failure is said near the top; what is cut is the returned
	 * original's bulk */
	if (len > ctx->limits.max_message_bytes) {
		report_set_error(r, "message is larger than the "
		    "max_message_bytes limit of %zu bytes; only the first %zu "
		    "were read", ctx->limits.max_message_bytes,
		    ctx->limits.max_message_bytes);
		len = ctx->limits.max_message_bytes;
	}
	buf = skip_envelope(buf != NULL ? buf : "", &len);
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.r = r;
	st.opts = opts;
	st.v = &view;
	buf_init(&text, ctx->limits.max_text_bytes + 64);
	buf_init(&lower, ctx->limits.max_text_bytes + 64);
	err = mime_view_open(&view, ctx, buf, len);
	if (err == BOUNCE_EPARSE) {
		report_set_error(r, "not a MIME message: GMime could not read "
		    "it");
		goto done;
	}
	if (err != BOUNCE_OK)
		goto fail;
	if (view.error != NULL || view.note != NULL)
		report_set_error(r, "%s", view.error != NULL ? view.error :
		    view.note);
	if ((err = build_text(&st, &text, &lower)) != BOUNCE_OK)
		goto fail;
	st.subject = header_text(&st, "Subject");
	st.from = header_text(&st, "From");
	st.to = header_text(&st, "To");
	report_set_field(r, BOUNCE_FIELD_SUBJECT, st.subject,
	    strlen(st.subject));
	report_set_field(r, BOUNCE_FIELD_FROM, st.from, strlen(st.from));
	original_read(&st);
	verp_read(&st);
	decode(&st);
done:
	mime_view_close(&view);
	buf_free(&text);
	buf_free(&lower);
	*out = r;
	return BOUNCE_OK;
fail:
	mime_view_close(&view);
	buf_free(&text);
	buf_free(&lower);
	bounce_report_free(r);
	return err == BOUNCE_ELIMIT ? BOUNCE_ENOMEM : err;
}
