/*
 * dsn.c - RFC 3464 delivery status notifications and their RFC 6533
 * internationalised form (message/global-delivery-status).
 *
 * The body is one block of per-message fields (Reporting-MTA,
 * Arrival-Date...) and one block per recipient (Final-Recipient, Action,
 * Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date...), separated by
 * blank lines.  Real DSNs bend this: blocks without blank lines between
 * them, recipients without Final-Recipient, fields indented, values
 * folded.  A new Final-Recipient therefore starts a new recipient whatever
 * the blank lines say.
 */
#include <string.h>

#include "diag.h"
#include "hdr.h"
#include "pstate.h"

struct span {
	const char *p;
	size_t n;
};

struct dsn_rcpt {
	struct span final, original, actual, action, status, remote, diag,
	    last_attempt;
};

/* "type; value": the value, and the type into *type when asked. */
static struct span
typed_value(struct span s, struct span *type)
{
	const char *semi = memchr(s.p, ';', s.n);
	struct span v = s;

	if (type != NULL) {
		type->p = NULL;
		type->n = 0;
	}
	if (semi != NULL && (size_t)(semi - s.p) < 24) {
		if (type != NULL) {
			type->p = s.p;
			type->n = (size_t)(semi - s.p);
			type->p = str_trim(type->p, &type->n);
		}
		v.p = semi + 1;
		v.n = s.n - (size_t)(semi + 1 - s.p);
	}
	v.p = str_trim(v.p, &v.n);
	return v;
}

/*
 * An address field's value, decoded: RFC 6533 writes a non-ASCII
 * character of a "utf-8" address as "\x{E9}" (utf-8-addr-xtext /
 * unitext), which reads back as the UTF-8 bytes.  Other types are taken
 * as written (an "rfc822" address may hold "+2B" as itself).  The result
 * lives in the report.
 */
static const char *
dsn_address(struct pstate *st, struct span field, size_t *len)
{
	struct span type, v = typed_value(field, &type);
	char out[512];
	size_t i, o = 0;

	*len = v.n;
	if (type.n != 5 || !str_istarts(type.p, type.n, "utf-8") ||
	    memchr(v.p, '\\', v.n) == NULL || v.n >= sizeof(out))
		return v.p;
	for (i = 0; i < v.n; i++) {
		unsigned long cp = 0;
		size_t j = i + 3, digits = 0;

		if (v.p[i] == '\\' && i + 3 < v.n && v.p[i + 1] == 'x' &&
		    v.p[i + 2] == '{') {
			for (; j < v.n && digits < 7 && str_xdigit(v.p[j]) >= 0;
			    j++, digits++)
				cp = cp * 16 + (unsigned long)str_xdigit(v.p[j]);
			if (j < v.n && v.p[j] == '}' && digits >= 1 &&
			    digits <= 6 && cp >= 0x80 && cp <= 0x10FFFF &&
			    (cp < 0xD800 || cp > 0xDFFF)) {
				if (o + 4 >= sizeof(out))
					break;
				o += str_utf8_put(out + o, (unsigned int)cp);
				i = j;
				continue;
			}
		}
		if (o + 1 >= sizeof(out))
			break;
		out[o++] = v.p[i];
	}
	*len = o;
	return report_str(st->r, out, o);
}

/* Fill what rc lacks from the block's fields. */
static void
dsn_fill(struct pstate *st, bounce_recipient *rc, const struct dsn_rcpt *d)
{
	struct span addr, type;
	const char *jis;
	size_t jis_len;
	char code[16];

	if (d->original.p != NULL && rc->original_address == NULL) {
		addr.p = dsn_address(st, d->original, &addr.n);
		rc->original_address = report_str(st->r, addr.p, addr.n);
	}
	if (d->action.p != NULL && rc->action == NULL) {
		char *a = (char *)report_str(st->r, d->action.p, d->action.n);

		if (a != NULL) {
			/* "failed (bad destination mailbox address)" */
			char *sp = strchr(a, ' ');

			if (sp != NULL)
				*sp = '\0';
			str_lower(a, strlen(a));
		}
		rc->action = a;
	}
	if (d->status.p != NULL && rc->dsn_status == NULL &&
	    bounce_esc_find(code, sizeof(code), d->status.p, d->status.n) >= 0)
		rc->dsn_status = report_strz(st->r, code);
	if (d->remote.p != NULL && rc->remote_mta == NULL) {
		addr = typed_value(d->remote, NULL);
		if (addr.n > 0)
			rc->remote_mta = report_str(st->r, addr.p, addr.n);
	}
	if (d->diag.p != NULL && rc->diagnostic == NULL) {
		addr = typed_value(d->diag, &type);
		/* Japanese servers (Domino, Notes) write ISO-2022-JP here */
		if (addr.n > 0 && (jis = mime_jis_to_utf8(&st->r->arena, addr.p,
		    addr.n, &jis_len)) != NULL) {
			addr.p = jis;
			addr.n = jis_len;
		}
		if (addr.n > 0) {
			rc->diagnostic = report_str(st->r, addr.p, addr.n);
			if (type.n > 0) {
				char *t = (char *)report_str(st->r, type.p,
				    type.n);

				if (t != NULL)
					str_lower(t, strlen(t));
				rc->diagnostic_type = t;
			}
		}
	}
	if (d->last_attempt.p != NULL && rc->last_attempt_date == NULL)
		rc->last_attempt_date = report_str(st->r, d->last_attempt.p,
		    d->last_attempt.n);
}

/*
 * Add the block's recipient.  A block whose recipient fields hold no
 * address (a pipe or file that an alias expanded to, "@host") is kept
 * aside as the orphan: dsn_apply_orphan() gives its fields to the
 * recipient another reader finds.
 */
static int
dsn_commit(struct pstate *st, const struct dsn_rcpt *d, const char *block,
    const char *block_end)
{
	bounce_recipient *rc = NULL;
	struct span addr;

	if (d->final.p != NULL) {
		addr.p = dsn_address(st, d->final, &addr.n);
		/* "@relay:user@host", an RFC 821 source route (Sun/Oracle
		 * Messaging Server writes its LMTP route so): the
		 * Original-Recipient names the mailbox */
		if (addr.n == 0 || addr.p[0] != '@' || d->original.p == NULL)
			rc = report_add(st->r, addr.p, addr.n, 1);
	}
	if (rc == NULL && d->actual.p != NULL) {
		addr.p = dsn_address(st, d->actual, &addr.n);
		rc = report_add(st->r, addr.p, addr.n, 1);
	}
	if (rc == NULL && d->original.p != NULL) {
		addr.p = dsn_address(st, d->original, &addr.n);
		rc = report_add(st->r, addr.p, addr.n, 1);
	}
	if (rc == NULL) {
		if (block != NULL && block_end > block) {
			st->dsn_orphans++;
			st->dsn_orphan = block;
			st->dsn_orphan_len = (size_t)(block_end - block);
		}
		return 0;
	}
	if (rc->source == NULL)
		rc->source = "dsn";
	dsn_fill(st, rc, d);
	return 1;
}

static int
dsn_has_recipient(const struct dsn_rcpt *d)
{
	return d->final.p != NULL || d->original.p != NULL ||
	    d->actual.p != NULL;
}

#define SET(field)                                                             \
	do {                                                                   \
		d.field.p = f.value;                                           \
		d.field.n = f.value_len;                                       \
	} while (0)

int
dsn_read(struct pstate *st, const char *data, size_t len)
{
	struct dsn_rcpt d;
	struct hdr_iter it;
	struct hdr_field f;
	const char *block;
	int added = 0, more;

	memset(&d, 0, sizeof(d));
	hdr_iter_init(&it, data, len);
	do {
		block = it.p;
		while (hdr_next(&it, &f, 1)) {
			if (hdr_is(&f, "Reporting-MTA")) {
				struct span s = { f.value, f.value_len };

				s = typed_value(s, NULL);
				report_set_field(st->r,
				    BOUNCE_FIELD_REPORTING_MTA, s.p, s.n);
			} else if (hdr_is(&f, "Arrival-Date")) {
				report_set_field(st->r,
				    BOUNCE_FIELD_ARRIVAL_DATE, f.value,
				    f.value_len);
			} else if (hdr_is(&f, "Final-Recipient")) {
				if (d.final.p != NULL) {
					added += dsn_commit(st, &d, NULL,
					    NULL);
					memset(&d, 0, sizeof(d));
				}
				SET(final);
			} else if (hdr_is(&f, "Original-Recipient")) {
				if (d.original.p != NULL) {
					added += dsn_commit(st, &d, NULL,
					    NULL);
					memset(&d, 0, sizeof(d));
				}
				SET(original);
			} else if (hdr_is(&f, "X-Actual-Recipient")) {
				SET(actual);
			} else if (hdr_is(&f, "Action")) {
				SET(action);
			} else if (hdr_is(&f, "Status")) {
				SET(status);
			} else if (hdr_is(&f, "Remote-MTA")) {
				SET(remote);
			} else if (hdr_is(&f, "Diagnostic-Code")) {
				/* a second Diagnostic-Code continues the
				 * first in some MTAs; keep the first */
				if (d.diag.p == NULL)
					SET(diag);
			} else if (hdr_is(&f, "Last-Attempt-Date")) {
				SET(last_attempt);
			}
		}
		/* end of a block */
		if (dsn_has_recipient(&d)) {
			added += dsn_commit(st, &d, block, it.p);
			memset(&d, 0, sizeof(d));
		}
		more = hdr_skip_blank(&it);
	} while (more);
	return added;
}

#undef SET

#define SET_FIELD(sp)                                                          \
	do {                                                                   \
		(sp).p = f.value;                                              \
		(sp).n = f.value_len;                                          \
	} while (0)

void
dsn_apply_orphan(struct pstate *st, bounce_recipient *rc)
{
	struct dsn_rcpt d;
	struct hdr_iter it;
	struct hdr_field f;

	if (st->dsn_orphans != 1 || st->dsn_orphan == NULL)
		return;
	memset(&d, 0, sizeof(d));
	hdr_iter_init(&it, st->dsn_orphan, st->dsn_orphan_len);
	while (hdr_next(&it, &f, 1)) {
		if (hdr_is(&f, "Action"))
			SET_FIELD(d.action);
		else if (hdr_is(&f, "Status"))
			SET_FIELD(d.status);
		else if (hdr_is(&f, "Remote-MTA"))
			SET_FIELD(d.remote);
		else if (hdr_is(&f, "Diagnostic-Code") && d.diag.p == NULL)
			SET_FIELD(d.diag);
		else if (hdr_is(&f, "Last-Attempt-Date"))
			SET_FIELD(d.last_attempt);
	}
	dsn_fill(st, rc, &d);
}

/*
 * Some MTAs write the delivery-status fields into the text part itself
 * (no message/delivery-status part).  Read them when a line starts with
 * Final-Recipient or Original-Recipient and Action or Status follows.
 */
int
dsn_read_inline(struct pstate *st)
{
	long at;

	if ((at = text_find(st, "final-recipient:")) < 0 &&
	    (at = text_find(st, "original-recipient:")) < 0)
		return 0;
	/* Action and Status may come before the recipient fields in the
	 * block (PMDF): look from the block's first line */
	while (at > 0 && !(st->lower[at - 1] == '\n' && at > 1 &&
	    (st->lower[at - 2] == '\n' || (st->lower[at - 2] == '\r' &&
	    at > 2 && st->lower[at - 3] == '\n'))))
		at--;
	if (str_find(st->lower + at, st->text_cut - (size_t)at, "status:", 7) ==
	    NULL && str_find(st->lower + at, st->text_cut - (size_t)at,
	    "action:", 7) == NULL)
		return 0;
	/* from the top, so per-message fields are seen too */
	return dsn_read(st, st->text, st->text_cut);
}
