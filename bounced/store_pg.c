/*
 * store_pg.c - the PostgreSQL store.  See store.h for the contract and
 * schema/README.md for the tables.
 *
 * How a batch is written (store_batch_flush):
 *   1. outside any transaction, the lists the batch names are looked up
 *      or created (cached per connection) and the months it writes get
 *      their event partition (bounced_ensure_partition(), cached too):
 *      creating a partition takes a strong lock on events, which must not
 *      be held by a write transaction other writers wait on;
 *   2. the items are sorted by key (SHA-256), so two connections writing
 *      overlapping batches take their row locks in the same order and do
 *      not deadlock;
 *   3. BEGIN, one prepared statement per item, COMMIT and a Sync go out in
 *      libpq pipeline mode (no round trip per item), the connection
 *      non-blocking while sending so neither side can stall on a full
 *      socket;
 *   4. a message is one statement: the message row (ON CONFLICT on sha256
 *      DO NOTHING) and, only when that inserted it, its events from a JSON
 *      array, so a duplicate writes nothing and says so; an SMTP result
 *      is one statement too, keyed through event_keys;
 *   5. a deadlock or serialization failure runs the batch again (up to
 *      STORE_RETRIES times); a lost connection is re-opened once and the
 *      batch run again (safe: every item is idempotent); an item the
 *      server refuses for its data makes the batch run again item by item,
 *      each in its own transaction, so only that item fails.
 *
 * Every statement is prepared with its values as parameters; the raw
 * message and the keys go in binary.  Text is made valid UTF-8 first
 * (invalid bytes become U+FFFD: the raw message keeps the original), and
 * addresses are lower-cased.
 *
 * Limits: a list cache of STORE_LIST_CACHE names and a month cache of
 * STORE_MONTH_CACHE months (cleared when full); one item is at most what
 * a PostgreSQL bytea holds (1 GB), and the caller's limits (50 MiB a
 * message by default) come well before.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "pgconn.h"
#include "store.h"

#define STORE_RETRIES 3
#define STORE_LIST_CACHE 256
#define STORE_MONTH_CACHE 64
/* how long a send may wait for the server to take data, milliseconds */
#define STORE_SEND_WAIT 120000

enum item_type { ITEM_MSG = 0, ITEM_SMTP, ITEM_POS, ITEM__COUNT };

#define NPARAMS_MAX 17

static const struct {
	const char *name;
	int nparams;
	int list_param;		/* parameter holding list_id, or -1 */
	const char *sql;
} stmts[ITEM__COUNT] = {
	[ITEM_MSG] = { "bounced_msg", 16, 8,
	    "WITH m AS ("
	    " INSERT INTO messages (sha256, received_at, size, raw, kind,"
	    "  format, parse_status, parse_error, list_id, envelope_sender,"
	    "  bounce_address, original_message_id, campaign_id, source,"
	    "  recipient_count)"
	    " VALUES ($1::bytea, $2::timestamptz, $3::bigint, $4::bytea, $5,"
	    "  $6, $7, $8, $9::integer, $10, $11, $12::text, $13::text, $14,"
	    "  $15::integer)"
	    " ON CONFLICT (sha256) DO NOTHING"
	    " RETURNING id, received_at"
	    "), e AS ("
	    " INSERT INTO events (occurred_at, received_at, source,"
	    "  message_id, rcpt_index, recipient, list_id,"
	    "  original_message_id, campaign_id, kind, action, phase,"
	    "  reply_code, status, dsn_status, diagnostic, remote_mta,"
	    "  category, reason, rule)"
	    " SELECT m.received_at, m.received_at, 'bounce', m.id, r.i,"
	    "  r.recipient, $9::integer, $12::text, $13::text, r.kind,"
	    "  r.action, r.phase, r.code, r.status, r.dsn_status,"
	    "  r.diagnostic, r.remote_mta, r.category, r.reason, r.rule"
	    " FROM m CROSS JOIN json_to_recordset($16::json) AS r(i integer,"
	    "  recipient text, kind text, action text, phase text,"
	    "  code smallint, status text, dsn_status text, diagnostic text,"
	    "  remote_mta text, category text, reason text, rule text)"
	    " RETURNING 1"
	    ") SELECT (SELECT id FROM m), (SELECT count(*) FROM e)" },
	[ITEM_SMTP] = { "bounced_smtp", 17, 4,
	    "WITH k AS ("
	    " INSERT INTO event_keys (dedup_key, occurred_at)"
	    " VALUES ($1::bytea, $2::timestamptz)"
	    " ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key"
	    "), e AS ("
	    " INSERT INTO events (occurred_at, source, dedup_key, recipient,"
	    "  list_id, original_message_id, campaign_id, kind, action,"
	    "  phase, reply_code, status, diagnostic, remote_mta, category,"
	    "  reason, rule)"
	    " SELECT $2::timestamptz, $3::text, k.dedup_key, $4::text,"
	    "  $5::integer, $6::text, $7::text, $8::text, $9::text,"
	    "  $10::text, $11::smallint, $12::text, $13::text, $14::text,"
	    "  $15::text, $16::text, $17::text FROM k"
	    " RETURNING id"
	    ") SELECT (SELECT id FROM e), 1" },
	[ITEM_POS] = { "bounced_pos", 4, -1,
	    "INSERT INTO log_positions (source, device, inode, byte_offset,"
	    " updated_at) VALUES ($1, $2::bigint, $3::bigint, $4::bigint,"
	    " now()) ON CONFLICT (source) DO UPDATE SET"
	    " device = EXCLUDED.device, inode = EXCLUDED.inode,"
	    " byte_offset = EXCLUDED.byte_offset, updated_at = now()" },
};

static const char sql_list_insert[] =
    "INSERT INTO lists (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
static const char sql_list_get[] = "SELECT id FROM lists WHERE name = $1";
static const char sql_partition[] =
    "SELECT bounced_ensure_partition($1::timestamptz)";
static const char sql_version[] = "SELECT max(version) FROM schema_migrations";
static const char sql_pos_get[] = "SELECT device, inode, byte_offset FROM "
				  "log_positions WHERE source = $1";

struct item {
	enum item_type type;
	unsigned char key[32];	/* sort key: SHA-256; zero for positions */
	int month;		/* months since year 0 (UTC), -1: none */
	time_t when;
	char *list;		/* list name to resolve into list_param */
	char *name;		/* the input, for messages */
	char *val[NPARAMS_MAX];
	int len[NPARAMS_MAX];
	int fmt[NPARAMS_MAX];
	size_t bytes;
	int result;
	char *error;
};

struct list_entry {
	char *name;
	int id;
};

struct store {
	PGconn *conn;		/* NULL after a connection was given up */
	char *conninfo;		/* to connect again */
	int prepared;
	char err[1024];
	struct item *items;
	size_t nitems, size, bytes;
	int flushed;		/* items hold results; next add clears */
	struct item **order;
	struct list_entry lists[STORE_LIST_CACHE];
	size_t nlists;
	int months[STORE_MONTH_CACHE];
	size_t nmonths;
};

static void set_err(struct store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_err(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* a cut message is still a message: truncation is acceptable */
	if (vsnprintf(st->err, sizeof(st->err), fmt, ap) < 0)
		st->err[0] = '\0';
	va_end(ap);
}

const char *
store_strerror(int rc)
{
	switch (rc) {
	case STORE_STORED:
		return "stored";
	case STORE_DUPLICATE:
		return "duplicate, stored before";
	case STORE_ETEMP:
		return "database unavailable, try again later";
	case STORE_ECONFIG:
		return "database or schema not usable as configured";
	case STORE_EDATA:
		return "refused by the database";
	case STORE_ENOMEM:
		return "out of memory";
	case STORE_EINVAL:
		return "invalid argument";
	}
	return "unknown store error";
}

int
store_exit_status(int rc)
{
	if (rc == STORE_STORED || rc == STORE_DUPLICATE)
		return 0;
	if (rc == STORE_ECONFIG)
		return EX_CONFIG;
	return EX_TEMPFAIL;
}

/* what to do about a failure, for messages */
static const char *
advice(int rc)
{
	switch (rc) {
	case STORE_ETEMP:
		return "nothing was stored; give the input again once the "
		       "database is back (it is stored once)";
	case STORE_ECONFIG:
		return "check the database URL and run `bounced db migrate`";
	case STORE_EDATA:
		return "keep the input and report this: bounced should store "
		       "any message";
	default:
		return "give the input again";
	}
}

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
 */
static int
text_dup(char **out, const char *s, int lower)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i = 0, o = 0, k;
	char *d;

	*out = NULL;
	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n > (SIZE_MAX - 1) / 3 || (d = malloc(3 * n + 1)) == NULL)
		return -1;
	while (i < n) {
		if ((k = utf8_len(p + i, n - i)) == 0) {
			memcpy(d + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (k == 1 && lower && p[i] >= 'A' && p[i] <= 'Z') {
			d[o++] = (char)(p[i] - 'A' + 'a');
		} else {
			memcpy(d + o, p + i, k);
			o += k;
		}
		i += k;
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
	int i;

	for (i = 0; i < NPARAMS_MAX; i++)
		free(it->val[i]);
	free(it->list);
	free(it->name);
	free(it->error);
	memset(it, 0, sizeof(*it));
}

static void
batch_clear(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nitems; i++)
		item_clear(&st->items[i]);
	st->nitems = 0;
	st->bytes = 0;
	st->flushed = 0;
}

/* a new item at the end of the batch, or NULL */
static struct item *
item_new(struct store *st, enum item_type type)
{
	struct item *it;
	size_t size;

	if (st->flushed)
		batch_clear(st);
	if (st->nitems == st->size) {
		size = st->size ? st->size * 2 : 64;
		it = realloc(st->items, size * sizeof(*it));
		if (it == NULL)
			return NULL;
		st->items = it;
		st->size = size;
	}
	it = &st->items[st->nitems];
	memset(it, 0, sizeof(*it));
	it->type = type;
	it->month = -1;
	it->result = STORE_ETEMP;
	return it;
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

/* add key: cleaned string s (may be NULL) */
static int
json_put(struct json_object *o, const char *key, const char *s, int lower)
{
	struct json_object *v = NULL;
	char *t;

	if (text_dup(&t, s, lower) != 0)
		return -1;
	if (t != NULL && (v = json_object_new_string(t)) == NULL) {
		free(t);
		return -1;
	}
	free(t);
	return json_object_object_add(o, key, v);
}

/* the events of a message as the JSON array the statement reads */
static int
events_json(char **out, const bounce_recipient *const *r, size_t n)
{
	struct json_object *arr, *o = NULL;
	const char *s;
	int rc = -1;
	size_t i;

	*out = NULL;
	if ((arr = json_object_new_array()) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((o = json_object_new_object()) == NULL)
			goto cleanup;
		if (json_object_object_add(o, "i",
		    json_object_new_int((int)i)) != 0 ||
		    json_put(o, "recipient", nonempty(r[i]->address), 1) ||
		    json_put(o, "kind", bounce_kind_name(r[i]->kind), 0) ||
		    json_put(o, "action", nonempty(r[i]->action), 0) ||
		    json_put(o, "phase", bounce_phase_name(r[i]->phase), 0) ||
		    json_put(o, "status", nonempty(r[i]->status), 0) ||
		    json_put(o, "dsn_status", nonempty(r[i]->dsn_status), 0) ||
		    json_put(o, "diagnostic", nonempty(r[i]->diagnostic), 0) ||
		    json_put(o, "remote_mta", nonempty(r[i]->remote_mta), 0) ||
		    json_put(o, "category",
		    bounce_category_name(r[i]->category), 0) ||
		    json_put(o, "reason", nonempty(r[i]->reason), 0) ||
		    json_put(o, "rule", nonempty(r[i]->rule), 0))
			goto cleanup;
		if (r[i]->reply_code > 0 && r[i]->reply_code < 1000 &&
		    json_object_object_add(o, "code",
		    json_object_new_int(r[i]->reply_code)) != 0)
			goto cleanup;
		if (json_object_array_add(arr, o) != 0)
			goto cleanup;
		o = NULL;
	}
	s = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
	if (s != NULL && (*out = strdup(s)) != NULL)
		rc = 0;
cleanup:
	json_object_put(o);
	json_object_put(arr);
	return rc;
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
	char *json = NULL;
	struct item *it;
	size_t n = 0, i;
	int ok = 0, rc;

	if (st == NULL || m == NULL || (m->raw == NULL && m->len > 0))
		return STORE_EINVAL;
	if (status != NULL) {
		for (i = 0; i < 4; i++)
			ok |= strcmp(status, parse_statuses[i]) == 0;
		if (!ok) {
			set_err(st, "parse status '%s' is not one of ok, "
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
	if (events_json(&json, rcpt, n) != 0)
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
	    /* 8: list_id, at flush */
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
	it->val[15] = json;
	json = NULL;
	st->nitems++;
	st->bytes += it->bytes;
	rc = (int)(st->nitems - 1);
	goto cleanup;
nomem:
	item_clear(it);
	rc = STORE_ENOMEM;
cleanup:
	free(json);
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
		set_err(st, "SMTP result source '%s' is not smtp-log or "
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
	st->nitems++;
	st->bytes += it->bytes;
	return (int)(st->nitems - 1);
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
	st->nitems++;
	return (int)(st->nitems - 1);
}

size_t
store_batch_count(const struct store *st)
{
	return st != NULL && !st->flushed ? st->nitems : 0;
}

int
store_batch_full(const struct store *st)
{
	return store_batch_count(st) >= STORE_BATCH_ITEMS ||
	    (st != NULL && !st->flushed && st->bytes >= STORE_BATCH_BYTES);
}

int
store_batch_result(const struct store *st, size_t i)
{
	if (st == NULL || !st->flushed || i >= st->nitems)
		return STORE_EINVAL;
	return st->items[i].result;
}

const char *
store_batch_error(const struct store *st, size_t i)
{
	if (st == NULL || !st->flushed || i >= st->nitems ||
	    st->items[i].error == NULL)
		return "";
	return st->items[i].error;
}

/* ------------------------------------------------------------------ */
/* Connection                                                          */
/* ------------------------------------------------------------------ */

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* the failure of res (or the connection) into st->err; its class */
static int
failed(struct store *st, const PGresult *res, const char *what)
{
	char msg[512], where[256];
	int rc = pgconn_classify(st->conn, res);

	set_err(st, "%s (%s): %s; %s", what,
	    pgconn_describe(where, sizeof(where), st->conn),
	    pgconn_message(msg, sizeof(msg), st->conn, res), advice(rc));
	return rc;
}

/* connected (re-connecting when the connection was lost), prepared */
static int
ready(struct store *st)
{
	PGresult *res = NULL;
	int i, rc = STORE_STORED;

	if (st->conn == NULL) {
		st->prepared = 0;
		if ((rc = pgconn_open(&st->conn, st->conninfo, st->err,
		    sizeof(st->err))) != STORE_STORED)
			return rc;
		PQsetNoticeProcessor(st->conn, quiet, NULL);
	} else if (PQstatus(st->conn) != CONNECTION_OK) {
		st->prepared = 0;
		PQreset(st->conn);
		if (PQstatus(st->conn) != CONNECTION_OK)
			return failed(st, NULL, "cannot reconnect");
		PQsetNoticeProcessor(st->conn, quiet, NULL);
	}
	if (st->prepared)
		return STORE_STORED;
	for (i = 0; i < ITEM__COUNT; i++) {
		res = PQprepare(st->conn, stmts[i].name, stmts[i].sql,
		    stmts[i].nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = failed(st, res, "cannot prepare the statements");
			goto cleanup;
		}
		PQclear(res);
		res = NULL;
	}
	st->prepared = 1;
cleanup:
	PQclear(res);
	return rc;
}

int
store_open(struct store **out, const char *conninfo, char *err,
    size_t errlen)
{
	struct store *st = NULL;
	PGresult *res = NULL;
	char *end;
	long v;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return STORE_ENOMEM;
	}
	if (conninfo != NULL && (st->conninfo = strdup(conninfo)) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	if ((rc = pgconn_open(&st->conn, conninfo, err, errlen)) !=
	    STORE_STORED)
		goto cleanup;
	PQsetNoticeProcessor(st->conn, quiet, NULL);
	res = PQexecParams(st->conn, sql_version, 0, NULL, NULL, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = failed(st, res, "cannot read the schema version");
		if (rc == STORE_ECONFIG)
			set_err(st, "the database has no bounced schema; run "
			    "`bounced db init` (or `bounced db migrate`)");
		snprintf(err, errlen, "%s", st->err);
		goto cleanup;
	}
	errno = 0;
	v = strtol(PQgetvalue(res, 0, 0), &end, 10);
	if (PQgetisnull(res, 0, 0) || errno != 0 || *end != '\0' ||
	    v < STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "the database schema is at version %s, "
		    "bounced needs %d; run `bounced db migrate`",
		    PQgetisnull(res, 0, 0) ? "none" : PQgetvalue(res, 0, 0),
		    STORE_SCHEMA_VERSION);
		rc = STORE_ECONFIG;
		goto cleanup;
	}
	if ((rc = ready(st)) != STORE_STORED) {
		snprintf(err, errlen, "%s", st->err);
		goto cleanup;
	}
	*out = st;
	st = NULL;
cleanup:
	PQclear(res);
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	batch_clear(st);
	free(st->items);
	free(st->order);
	for (i = 0; i < st->nlists; i++)
		free(st->lists[i].name);
	PQfinish(st->conn);
	free(st->conninfo);
	free(st);
}

const char *
store_error(const struct store *st)
{
	return st != NULL ? st->err : "";
}

/* run a fixed statement outside the batch; *res owned by the caller */
static int
exec1(struct store *st, PGresult **res, const char *sql, int n,
    const char *const *vals, const char *what)
{
	ExecStatusType s;

	*res = PQexecParams(st->conn, sql, n, NULL, vals, NULL, NULL, 0);
	s = PQresultStatus(*res);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return STORE_STORED;
	return failed(st, *res, what);
}

/* the id of list name, creating it; cached */
static int
list_id(struct store *st, const char *name, int *id)
{
	PGresult *res = NULL;
	const char *vals[1] = { name };
	char *end;
	size_t i;
	long v;
	int rc;

	for (i = 0; i < st->nlists; i++)
		if (strcmp(st->lists[i].name, name) == 0) {
			*id = st->lists[i].id;
			return STORE_STORED;
		}
	/* two statements: the SELECT must see a row another writer has
	 * just committed, which the INSERT's snapshot would not */
	if ((rc = exec1(st, &res, sql_list_insert, 1, vals,
	    "cannot add the list")) != STORE_STORED)
		goto cleanup;
	PQclear(res);
	if ((rc = exec1(st, &res, sql_list_get, 1, vals,
	    "cannot look up the list")) != STORE_STORED)
		goto cleanup;
	errno = 0;
	v = PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), &end, 10) : 0;
	if (v <= 0 || v > INT_MAX || errno != 0) {
		set_err(st, "list '%s' vanished while being added; %s", name,
		    advice(STORE_ETEMP));
		rc = STORE_ETEMP;
		goto cleanup;
	}
	*id = (int)v;
	if (st->nlists == STORE_LIST_CACHE) {
		for (i = 0; i < st->nlists; i++)
			free(st->lists[i].name);
		st->nlists = 0;
	}
	if ((st->lists[st->nlists].name = strdup(name)) != NULL)
		st->lists[st->nlists++].id = *id;
cleanup:
	PQclear(res);
	return rc;
}

static int
ensure_month(struct store *st, const struct item *it)
{
	PGresult *res = NULL;
	const char *vals[1];
	size_t i;
	int rc;

	for (i = 0; i < st->nmonths; i++)
		if (st->months[i] == it->month)
			return STORE_STORED;
	vals[0] = it->val[1];	/* the time stamp of messages and SMTP */
	rc = exec1(st, &res, sql_partition, 1, vals,
	    "cannot make the month's event partition");
	PQclear(res);
	if (rc != STORE_STORED)
		return rc;
	if (st->nmonths == STORE_MONTH_CACHE)
		st->nmonths = 0;
	st->months[st->nmonths++] = it->month;
	return STORE_STORED;
}

/* lists and partitions of the batch, outside its transaction */
static int
resolve(struct store *st)
{
	struct item *it;
	char buf[16];
	size_t i;
	int rc, id, p;

	for (i = 0; i < st->nitems; i++) {
		it = &st->items[i];
		p = stmts[it->type].list_param;
		if (p >= 0 && it->list != NULL && it->val[p] == NULL) {
			if ((rc = list_id(st, it->list, &id)) != STORE_STORED)
				return rc;
			snprintf(buf, sizeof(buf), "%d", id);
			if ((it->val[p] = strdup(buf)) == NULL)
				return STORE_ENOMEM;
		}
		if (it->month >= 0 &&
		    (rc = ensure_month(st, it)) != STORE_STORED)
			return rc;
	}
	return STORE_STORED;
}

static int
cmp_item(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a;
	const struct item *y = *(const struct item *const *)b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	if (c != 0)
		return c;
	return (x->type > y->type) - (x->type < y->type);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* the result of an item's statement, from its row */
static int
row_result(const struct item *it, const PGresult *res)
{
	if (it->type == ITEM_POS)
		return STORE_STORED;
	if (PQntuples(res) != 1)
		return STORE_EDATA;
	return PQgetisnull(res, 0, 0) ? STORE_DUPLICATE : STORE_STORED;
}

/* send what libpq holds, reading what the server sends meanwhile */
static int
pump(PGconn *c)
{
	struct pollfd p;
	int r;

	while ((r = PQflush(c)) == 1) {
		p.fd = PQsocket(c);
		p.events = POLLIN | POLLOUT;
		p.revents = 0;
		r = poll(&p, 1, STORE_SEND_WAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if ((p.revents & POLLIN) && PQconsumeInput(c) == 0)
			return -1;
	}
	return r == 0 ? 0 : -1;
}

static int
send_item(PGconn *c, const struct item *it)
{
	return PQsendQueryPrepared(c, stmts[it->type].name,
	    stmts[it->type].nparams, (const char *const *)it->val, it->len,
	    it->fmt, 0);
}

/*
 * The whole batch in one pipelined transaction.  Returns STORE_STORED
 * with every item's result set, or the class of the first failure with
 * *bad the failing item (or NULL) and *retry set for a deadlock.
 */
static int
run_pipeline(struct store *st, struct item **bad, int *retry)
{
	PGconn *c = st->conn;
	PGresult *res = NULL, *first = NULL;
	size_t n = st->nitems, k, q = 0, guard = 0;
	ExecStatusType s;
	int rc = STORE_STORED;

	*bad = NULL;
	*retry = 0;
	if (PQenterPipelineMode(c) != 1 || PQsetnonblocking(c, 1) != 0)
		return failed(st, NULL, "cannot start a batch");
	if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		goto lost;
	for (k = 0; k < n; k++) {
		if (!send_item(c, st->order[k]))
			goto lost;
		if ((k & 31) == 31 && pump(c) != 0)
			goto lost;
	}
	if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(c) || pump(c) != 0)
		goto lost;
	PQsetnonblocking(c, 0);
	/* results: q = 0 BEGIN, 1..n the items, n + 1 COMMIT, then Sync */
	for (;;) {
		if ((res = PQgetResult(c)) == NULL) {
			if (PQstatus(c) != CONNECTION_OK || ++guard > n + 4)
				goto lost;
			q++;
			continue;
		}
		s = PQresultStatus(res);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (s == PGRES_FATAL_ERROR && first == NULL) {
			first = res;
			if (q >= 1 && q <= n)
				*bad = st->order[q - 1];
			continue;
		}
		if ((s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) &&
		    q >= 1 && q <= n)
			st->order[q - 1]->result = row_result(st->order[q - 1],
			    res);
		PQclear(res);
	}
	res = NULL;
	if (PQexitPipelineMode(c) != 1)
		goto lost;
	if (first != NULL) {
		*retry = pgconn_retryable(first);
		rc = failed(st, first, *bad != NULL && (*bad)->name != NULL ?
		    (*bad)->name : "cannot store the batch");
		goto cleanup;
	}
	goto cleanup;
lost:
	rc = failed(st, first, "the connection failed during a batch");
	if (rc != STORE_ETEMP) {
		/* the server's word is better than the state we lost */
		rc = STORE_ETEMP;
	}
cleanup:
	PQclear(first);
	if (PQpipelineStatus(c) != PQ_PIPELINE_OFF) {
		/* only on a lost connection; drop it and start afresh */
		PQsetnonblocking(c, 0);
		while (PQstatus(c) == CONNECTION_OK &&
		    (res = PQgetResult(c)) != NULL)
			PQclear(res);
		if (PQexitPipelineMode(c) != 1) {
			PQfinish(st->conn);
			st->conn = NULL;
		}
	}
	if (st->conn != NULL && PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) != PQTRANS_IDLE) {
		res = PQexec(c, "ROLLBACK");
		PQclear(res);
	}
	return rc;
}

/* one item in its own transaction (a single statement is one) */
static int
run_single(struct store *st, struct item *it)
{
	PGresult *res = NULL;
	int attempt, rc = STORE_ETEMP;

	for (attempt = 0; attempt < STORE_RETRIES; attempt++) {
		if ((rc = ready(st)) != STORE_STORED)
			break;
		res = PQexecPrepared(st->conn, stmts[it->type].name,
		    stmts[it->type].nparams, (const char *const *)it->val,
		    it->len, it->fmt, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK ||
		    PQresultStatus(res) == PGRES_COMMAND_OK) {
			rc = row_result(it, res);
			break;
		}
		rc = failed(st, res, it->name != NULL ? it->name :
		    "cannot store an item");
		if (!pgconn_retryable(res))
			break;
		PQclear(res);
		res = NULL;
	}
	PQclear(res);
	return rc;
}

int
store_batch_flush(struct store *st)
{
	struct item *bad = NULL;
	struct item **order;
	int rc = STORE_STORED, retry, attempt, reconnected = 0;
	size_t i;

	if (st == NULL)
		return STORE_EINVAL;
	if (st->flushed || st->nitems == 0)
		return STORE_STORED;
	st->err[0] = '\0';
	st->flushed = 1;
	order = realloc(st->order, st->nitems * sizeof(*order));
	if (order == NULL) {
		rc = STORE_ENOMEM;
		goto fail_all;
	}
	st->order = order;
	for (i = 0; i < st->nitems; i++)
		order[i] = &st->items[i];
	qsort(order, st->nitems, sizeof(*order), cmp_item);
	for (attempt = 0; attempt < STORE_RETRIES; attempt++) {
		if ((rc = ready(st)) != STORE_STORED)
			goto fail_all;
		if ((rc = resolve(st)) != STORE_STORED) {
			if (rc == STORE_ETEMP && !reconnected &&
			    PQstatus(st->conn) != CONNECTION_OK) {
				reconnected = 1;
				continue;
			}
			goto fail_all;
		}
		rc = run_pipeline(st, &bad, &retry);
		if (rc == STORE_STORED)
			return STORE_STORED;
		if (retry)
			continue;
		/* a connection lost mid-batch: once more on a new one */
		if (rc == STORE_ETEMP && !reconnected) {
			reconnected = 1;
			continue;
		}
		break;
	}
	if (rc != STORE_EDATA || bad == NULL)
		goto fail_all;
	/* one item was refused: the others one by one */
	rc = STORE_STORED;
	for (i = 0; i < st->nitems; i++) {
		bad = st->order[i];
		bad->result = run_single(st, bad);
		if (bad->result < 0) {
			bad->error = strdup(st->err);
			if (rc == STORE_STORED)
				rc = bad->result;
			if (bad->result == STORE_ETEMP ||
			    bad->result == STORE_ECONFIG)
				goto fail_rest;
		}
	}
	if (rc != STORE_STORED) {
		/* the first failure's detail */
		for (i = 0; i < st->nitems; i++)
			if (st->items[i].error != NULL) {
				set_err(st, "%s", st->items[i].error);
				break;
			}
	}
	return rc;
fail_rest:
	for (i++; i < st->nitems; i++)
		st->order[i]->result = rc;
	return rc;
fail_all:
	for (i = 0; i < st->nitems; i++)
		st->items[i].result = rc;
	return rc;
}

/* ------------------------------------------------------------------ */
/* One at a time                                                       */
/* ------------------------------------------------------------------ */

static int
flush_one(struct store *st, int idx)
{
	int rc;

	if (idx < 0)
		return idx;
	rc = store_batch_flush(st);
	return rc < 0 ? rc : store_batch_result(st, (size_t)idx);
}

int
store_message(struct store *st, const struct store_msg *m)
{
	if (store_batch_count(st) > 0) {
		if (st != NULL)
			set_err(st, "store_message() with a batch pending; "
			    "flush it first");
		return STORE_EINVAL;
	}
	return flush_one(st, store_batch_add_message(st, m));
}

int
store_smtp_event(struct store *st, const struct store_smtp *ev)
{
	if (store_batch_count(st) > 0) {
		if (st != NULL)
			set_err(st, "store_smtp_event() with a batch pending; "
			    "flush it first");
		return STORE_EINVAL;
	}
	return flush_one(st, store_batch_add_smtp(st, ev));
}

int
store_log_position_get(struct store *st, const char *source, int *found,
    uint64_t *dev, uint64_t *inode, uint64_t *offset)
{
	PGresult *res = NULL;
	const char *vals[1] = { source };
	long long v[3];
	char *end;
	int rc, i;

	*found = 0;
	if (st == NULL || source == NULL)
		return STORE_EINVAL;
	if ((rc = ready(st)) != STORE_STORED)
		return rc;
	if ((rc = exec1(st, &res, sql_pos_get, 1, vals,
	    "cannot read the log position")) != STORE_STORED)
		goto cleanup;
	if (PQntuples(res) == 0)
		goto cleanup;
	for (i = 0; i < 3; i++) {
		errno = 0;
		v[i] = strtoll(PQgetvalue(res, 0, i), &end, 10);
		if (errno != 0 || *end != '\0') {
			set_err(st, "log_positions holds '%s' for %s; it was "
			    "not written by bounced", PQgetvalue(res, 0, i),
			    source);
			rc = STORE_EDATA;
			goto cleanup;
		}
	}
	*dev = (uint64_t)v[0];
	*inode = (uint64_t)v[1];
	*offset = (uint64_t)v[2];
	*found = 1;
cleanup:
	PQclear(res);
	return rc;
}
