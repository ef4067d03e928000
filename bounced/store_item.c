/*
 * store_item.c - the store's queue: what store_batch_add_*() make of a
 * message, an SMTP result or a log position, ready to be written by
 * store_pg.c (see store.h and store_int.h).  No SQL here: each item holds
 * the parameters of its statement, in the order store_pg.c declares them.
 *
 * Text is made valid UTF-8 (each invalid byte becomes U+FFFD; the raw
 * message keeps the original bytes) and addresses are lower-cased, so the
 * database never refuses an item for its encoding.  A message's events
 * are kept as columns (EV_COLS strings per recipient), which store_pg.c
 * sends as arrays: no JSON to build here or to parse in the server.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgconn.h"
#include "store.h"
#include "store_int.h"

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

/* length of the valid UTF-8 sequence at p (n bytes left), 0 if none */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) ||	/* overlong */
		    (p[0] == 0xed && p[1] >= 0xa0))	/* surrogate */
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xf0 && p[1] < 0x90) ||	/* overlong */
		    (p[0] == 0xf4 && p[1] >= 0x90))	/* past U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Copy s as valid UTF-8 (each invalid byte becomes U+FFFD), ASCII letters
 * lower-cased when lower is set.  *out NULL for s NULL; -1 on no memory.
 * Two passes: the first sizes the copy (most text is ASCII and comes out
 * as long as it went in).
 */
static int
text_dup(char **out, const char *s, int lower)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i, o = 0, k;
	char *d;

	*out = NULL;
	if (s == NULL)
		return 0;
	n = strlen(s);
	for (i = 0; i < n; i += k ? k : 1)
		o += (k = utf8_len(p + i, n - i)) ? k : 3;
	if (o == SIZE_MAX || (d = malloc(o + 1)) == NULL)
		return -1;
	for (i = 0, o = 0; i < n; i += k ? k : 1) {
		if ((k = utf8_len(p + i, n - i)) == 0) {
			memcpy(d + o, "\xef\xbf\xbd", 3);
			o += 3;
		} else if (k == 1 && lower && p[i] >= 'A' && p[i] <= 'Z') {
			d[o++] = (char)(p[i] - 'A' + 'a');
		} else {
			memcpy(d + o, p + i, k);
			o += k;
		}
	}
	d[o] = '\0';
	*out = d;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Items                                                               */
/* ------------------------------------------------------------------ */

static void
item_clear(struct item *it)
{
	size_t i;

	for (i = 0; i < NPARAMS_MAX; i++)
		free(it->val[i]);
	for (i = 0; i < it->nev * EV_COLS; i++)
		free(it->ev[i]);
	free(it->ev);
	free(it->list);
	free(it->name);
	free(it->error);
	memset(it, 0, sizeof(*it));
}

void
store_batch_drop(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->nitems; i++)
		item_clear(&b->items[i]);
	b->nitems = 0;
	b->bytes = 0;
	b->nsend = 0;
	b->nqueries = 0;
}

/* a new item at the end of the queue, or NULL */
static struct item *
item_new(struct store *st, enum item_type type)
{
	struct batch *b = st->fill;
	struct item *it;
	size_t size;

	if (b->nitems == b->size) {
		size = b->size ? b->size * 2 : 64;
		it = realloc(b->items, size * sizeof(*it));
		if (it == NULL)
			return NULL;
		b->items = it;
		b->size = size;
	}
	it = &b->items[b->nitems];
	memset(it, 0, sizeof(*it));
	it->type = type;
	it->month = -1;
	it->result = STORE_ETEMP;
	return it;
}

/* the item made by item_new() joins the queue; its index */
static int
item_queue(struct store *st, struct item *it)
{
	st->fill->nitems++;
	st->fill->bytes += it->bytes;
	store_progress(st);
	return (int)(st->fill->nitems - 1);
}

/* parameter i: text (cleaned; lower-cased when asked), NULL for NULL */
static int
put_text(struct item *it, int i, const char *s, int lower)
{
	if (text_dup(&it->val[i], s, lower) != 0)
		return -1;
	if (it->val[i] != NULL)
		it->bytes += strlen(it->val[i]);
	return 0;
}

static int
put_fmt(struct item *it, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
put_fmt(struct item *it, int i, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return (it->val[i] = strdup(buf)) == NULL ? -1 : 0;
}

/* parameter i: bytes, sent in binary */
static int
put_bin(struct item *it, int i, const void *p, size_t n)
{
	if (n > INT_MAX)
		return -1;
	if ((it->val[i] = malloc(n > 0 ? n : 1)) == NULL)
		return -1;
	if (n > 0)
		memcpy(it->val[i], p, n);
	it->len[i] = (int)n;
	it->fmt[i] = 1;
	it->bytes += n;
	return 0;
}

/* UTC time stamp; sets the item's month */
static int
put_time(struct item *it, int i, time_t t)
{
	char buf[64];
	struct tm tm;

	if (t == 0)
		t = time(NULL);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S+00", &tm) == 0)
		return -1;
	it->when = t;
	it->month = (tm.tm_year + 1900) * 12 + tm.tm_mon;
	return (it->val[i] = strdup(buf)) == NULL ? -1 : 0;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* a number as text */
static int
num_dup(char **out, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return (*out = strdup(buf)) == NULL ? -1 : 0;
}

/* the events of a message: EV_COLS columns per recipient */
static int
events_put(struct item *it, const bounce_recipient *const *r, size_t n)
{
	char **ev;
	size_t i, k;

	if (n == 0)
		return 0;
	if (n > SIZE_MAX / EV_COLS / sizeof(*ev) ||
	    (it->ev = calloc(n * EV_COLS, sizeof(*ev))) == NULL)
		return -1;
	it->nev = n;
	for (i = 0; i < n; i++) {
		ev = &it->ev[i * EV_COLS];
		if (num_dup(&ev[0], (long)i) != 0 ||
		    text_dup(&ev[1], nonempty(r[i]->address), 1) != 0 ||
		    text_dup(&ev[2], bounce_kind_name(r[i]->kind), 0) != 0 ||
		    text_dup(&ev[3], nonempty(r[i]->action), 0) != 0 ||
		    text_dup(&ev[4], bounce_phase_name(r[i]->phase), 0) != 0 ||
		    (r[i]->reply_code > 0 && r[i]->reply_code < 1000 &&
		    num_dup(&ev[5], r[i]->reply_code) != 0) ||
		    text_dup(&ev[6], nonempty(r[i]->status), 0) != 0 ||
		    text_dup(&ev[7], nonempty(r[i]->dsn_status), 0) != 0 ||
		    text_dup(&ev[8], nonempty(r[i]->diagnostic), 0) != 0 ||
		    text_dup(&ev[9], nonempty(r[i]->remote_mta), 0) != 0 ||
		    text_dup(&ev[10], bounce_category_name(r[i]->category),
		    0) != 0 ||
		    text_dup(&ev[11], nonempty(r[i]->reason), 0) != 0 ||
		    text_dup(&ev[12], nonempty(r[i]->rule), 0) != 0)
			return -1;
		for (k = 0; k < EV_COLS; k++)
			if (ev[k] != NULL)
				it->bytes += strlen(ev[k]);
	}
	return 0;
}

static const char *const parse_statuses[] = { "ok", "unrecognized", "error",
	"over_limit" };

int
store_batch_add_message(struct store *st, const struct store_msg *m)
{
	const bounce_recipient **rcpt = NULL;
	const char *status = m != NULL ? m->parse_status : NULL;
	const char *error = NULL, *list;
	bounce_kind kind = BOUNCE_KIND_UNKNOWN;
	struct item *it;
	size_t n = 0, i;
	int ok = 0, rc;

	if (st == NULL || m == NULL || (m->raw == NULL && m->len > 0))
		return STORE_EINVAL;
	if (status != NULL) {
		for (i = 0; i < 4; i++)
			ok |= strcmp(status, parse_statuses[i]) == 0;
		if (!ok) {
			store_seterr(st, "parse status '%s' is not one of ok, "
			    "unrecognized, error, over_limit", status);
			return STORE_EINVAL;
		}
	}
	if ((it = item_new(st, ITEM_MSG)) == NULL)
		return STORE_ENOMEM;
	if (m->report != NULL) {
		kind = bounce_report_kind(m->report);
		error = bounce_report_error(m->report);
		if (status == NULL)
			status = error != NULL ? "error" :
			    kind == BOUNCE_KIND_UNKNOWN ? "unrecognized" : "ok";
	} else if (status == NULL) {
		status = "error";
		error = "not parsed";
	}
	n = m->recipients != NULL ? m->nrecipients : m->report != NULL ?
	    bounce_report_recipient_count(m->report) : 0;
	if ((rcpt = calloc(n > 0 ? n : 1, sizeof(*rcpt))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		rcpt[i] = m->recipients != NULL ? &m->recipients[i] :
		    bounce_report_recipient(m->report, i);
	if (events_put(it, rcpt, n) != 0)
		goto nomem;
	if (pgconn_sha256(it->key, m->raw != NULL ? m->raw : "", m->len) != 0)
		goto nomem;
	list = nonempty(m->list);
	if (list == NULL && m->report != NULL)
		list = nonempty(bounce_report_field(m->report,
		    BOUNCE_FIELD_LIST_ID));
	if (put_bin(it, 0, it->key, sizeof(it->key)) != 0 ||
	    put_time(it, 1, m->received_at) != 0 ||
	    put_fmt(it, 2, "%zu", m->len) != 0 ||
	    put_bin(it, 3, m->raw != NULL ? m->raw : "", m->len) != 0 ||
	    put_text(it, 4, bounce_kind_name(kind), 0) != 0 ||
	    put_text(it, 5, m->report != NULL ?
	    bounce_report_format(m->report) : NULL, 0) != 0 ||
	    put_text(it, 6, status, 0) != 0 ||
	    put_text(it, 7, error, 0) != 0 ||
	    /* MSG_LIST_COL (8): list_id, at flush */
	    put_text(it, 9, nonempty(m->envelope_sender), 1) != 0 ||
	    put_text(it, 10, nonempty(m->bounce_address), 1) != 0 ||
	    put_text(it, 11, m->report != NULL ? nonempty(bounce_report_field(
	    m->report, BOUNCE_FIELD_MESSAGE_ID)) : NULL, 0) != 0 ||
	    put_text(it, 12, m->report != NULL ? nonempty(bounce_report_field(
	    m->report, BOUNCE_FIELD_CAMPAIGN_ID)) : NULL, 0) != 0 ||
	    put_text(it, 13, m->source != NULL ? m->source : "pipe", 0) != 0 ||
	    put_fmt(it, 14, "%zu", n) != 0 ||
	    (list != NULL && text_dup(&it->list, list, 0) != 0) ||
	    (m->name != NULL && (it->name = strdup(m->name)) == NULL))
		goto nomem;
	rc = item_queue(st, it);
	goto cleanup;
nomem:
	item_clear(it);
	rc = STORE_ENOMEM;
cleanup:
	free(rcpt);
	return rc;
}

int
store_batch_add_smtp(struct store *st, const struct store_smtp *ev)
{
	const char *kind, *source;
	struct item *it;

	if (st == NULL || ev == NULL || ev->key == NULL || ev->keylen == 0)
		return STORE_EINVAL;
	source = ev->source != NULL ? ev->source : "smtp-log";
	if (strcmp(source, "smtp-log") != 0 &&
	    strcmp(source, "smtp-json") != 0) {
		store_seterr(st, "SMTP result source '%s' is not smtp-log or "
		    "smtp-json", source);
		return STORE_EINVAL;
	}
	kind = bounce_kind_name(ev->kind);
	if ((it = item_new(st, ITEM_SMTP)) == NULL)
		return STORE_ENOMEM;
	if (pgconn_sha256(it->key, ev->key, ev->keylen) != 0 ||
	    put_bin(it, 0, it->key, sizeof(it->key)) != 0 ||
	    put_time(it, 1, ev->occurred_at) != 0 ||
	    put_text(it, 2, source, 0) != 0 ||
	    put_text(it, 3, nonempty(ev->recipient), 1) != 0 ||
	    /* 4: list_id, at flush */
	    put_text(it, 5, nonempty(ev->message_id), 0) != 0 ||
	    put_text(it, 6, nonempty(ev->campaign_id), 0) != 0 ||
	    put_text(it, 7, kind, 0) != 0 ||
	    put_text(it, 8, nonempty(ev->action), 0) != 0 ||
	    put_text(it, 9, bounce_phase_name(ev->phase), 0) != 0 ||
	    (ev->code > 0 && ev->code < 1000 &&
	    put_fmt(it, 10, "%d", ev->code) != 0) ||
	    put_text(it, 11, nonempty(ev->enhanced), 0) != 0 ||
	    put_text(it, 12, nonempty(ev->text), 0) != 0 ||
	    put_text(it, 13, nonempty(ev->remote_mta), 0) != 0 ||
	    put_text(it, 14, bounce_category_name(ev->verdict.category),
	    0) != 0 ||
	    put_text(it, 15, nonempty(ev->verdict.reason), 0) != 0 ||
	    put_text(it, 16, nonempty(ev->verdict.rule), 0) != 0 ||
	    (nonempty(ev->list) != NULL &&
	    text_dup(&it->list, ev->list, 0) != 0) ||
	    (ev->name != NULL && (it->name = strdup(ev->name)) == NULL)) {
		item_clear(it);
		return STORE_ENOMEM;
	}
	return item_queue(st, it);
}

int
store_batch_add_log_position(struct store *st, const char *source,
    uint64_t dev, uint64_t inode, uint64_t offset)
{
	struct item *it;

	if (st == NULL || source == NULL || offset > INT64_MAX)
		return STORE_EINVAL;
	if ((it = item_new(st, ITEM_POS)) == NULL)
		return STORE_ENOMEM;
	/* device and inode numbers are kept as the same 64 bits, signed */
	if (put_text(it, 0, source, 0) != 0 ||
	    put_fmt(it, 1, "%lld", (long long)(int64_t)dev) != 0 ||
	    put_fmt(it, 2, "%lld", (long long)(int64_t)inode) != 0 ||
	    put_fmt(it, 3, "%llu", (unsigned long long)offset) != 0 ||
	    (it->name = strdup(source)) == NULL) {
		item_clear(it);
		return STORE_ENOMEM;
	}
	/* positions sort last: after the events they stand for */
	memset(it->key, 0xff, sizeof(it->key));
	return item_queue(st, it);
}

void
store_batch_discard(struct store *st)
{
	if (st != NULL)
		store_batch_drop(st->fill);
}

size_t
store_batch_count(const struct store *st)
{
	return st != NULL ? st->fill->nitems : 0;
}

int
store_batch_full(const struct store *st)
{
	return st != NULL && (st->fill->nitems >= STORE_BATCH_ITEMS ||
	    st->fill->bytes >= STORE_BATCH_BYTES);
}

int
store_batch_result(const struct store *st, size_t i)
{
	if (st == NULL || st->inflight || i >= st->done->nitems)
		return STORE_EINVAL;
	return st->done->items[i].result;
}

const char *
store_batch_error(const struct store *st, size_t i)
{
	if (st == NULL || st->inflight || i >= st->done->nitems ||
	    st->done->items[i].error == NULL)
		return "";
	return st->done->items[i].error;
}
