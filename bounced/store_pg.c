/*
 * store_pg.c - the PostgreSQL store.  See store.h for the contract and
 * schema/README.md for the tables.
 *
 * How a batch is written (store_batch_send, then store_batch_wait;
 * store_batch_flush is the two):
 *   1. outside any transaction, the lists the batch names are looked up
 *      or created (cached per connection) and the months it writes get
 *      their event partition (bounced_ensure_partition(), cached too):
 *      creating a partition takes a strong lock on events, which must not
 *      be held by a write transaction other writers wait on;
 *   2. the items are sorted by kind, then key (SHA-256), so connections
 *      writing overlapping batches take their row locks in the same order
 *      and do not deadlock; an item with the same key as the one before it
 *      is a duplicate and is not sent;
 *   3. BEGIN, the statements, COMMIT and a Sync go out in libpq pipeline
 *      mode (no round trip per statement), the connection non-blocking so
 *      neither side can stall on a full socket.  store_batch_send()
 *      returns once they are queued in libpq; what the socket did not
 *      take yet is handed over as the caller queues the next items
 *      (store_progress()), so the server writes batch N while the caller
 *      parses batch N + 1, and store_batch_wait() reads the results;
 *   4. messages go STORE_MSG_CHUNK to a statement, their columns and their
 *      events' columns as binary arrays: the message rows (ON CONFLICT on
 *      sha256 DO NOTHING) and, only for the rows that inserted, their
 *      events, so a duplicate writes nothing and comes back with a NULL
 *      id; an SMTP result is one statement, keyed through event_keys;
 *   5. a deadlock or serialization failure runs the batch again (up to
 *      STORE_RETRIES times); a lost connection is re-opened once and the
 *      batch run again (safe: every item is idempotent); an item the
 *      server refuses for its data makes the batch run again item by item,
 *      each in its own transaction (one-message statements), so only that
 *      item fails.  These second runs are synchronous, inside
 *      store_batch_wait().
 *
 * Why arrays and not COPY: COPY cannot say ON CONFLICT, so it would need a
 * staging table (COPY into it, then INSERT ... SELECT ... ON CONFLICT),
 * which writes every raw message once more, into the staging table,
 * before the real insert; binary array parameters carry the same bytes
 * straight into the one INSERT, as binary COPY would, in a statement that
 * can be prepared, pipelined and retried like the others.
 *
 * Every statement is prepared with its values as parameters; the raw
 * message and the keys go in binary.  The parameters are made when an
 * item is queued (store_item.c), in the order of the statements here.
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

#include <libpq-fe.h>

#include "pgconn.h"
#include "store.h"
#include "store_int.h"

#define STORE_RETRIES 3
/* how long a send may wait for the server to take data, milliseconds */
#define STORE_SEND_WAIT 120000


/*
 * Messages go many to a statement: the columns of messages as arrays (one
 * element per message, in binary), and their events as arrays too (one
 * element per event, with the message's place in the chunk), so the
 * per-statement work (planning is cached, but executor start, partition
 * routing and constraint set-up are not) is paid once per chunk instead
 * of once per message, and nothing is JSON.  The message rows go in with
 * ON CONFLICT (sha256) DO NOTHING; events are inserted only for the rows
 * that did go in, so a message stored before writes nothing and comes
 * back with a NULL id.  Duplicates inside one chunk are removed before it
 * is sent (see mark_dups()).  The raw bytes are read from the array
 * parameter once, by the INSERT; the chunk's places come from a second
 * unnest of the (small) sha256 array, so no copy of the raw bytes is
 * materialised or sorted on the way.  Rows are inserted in array order,
 * which is key order: writers take their locks in the same order.
 */
static const char sql_msgs[] =
    "WITH m AS ("
    " INSERT INTO messages (sha256, received_at, size, raw, kind,"
    "  format, parse_status, parse_error, list_id, envelope_sender,"
    "  bounce_address, original_message_id, campaign_id, source,"
    "  recipient_count)"
    " SELECT sha256, received_at::timestamptz, size::bigint, raw, kind,"
    "  format, parse_status, parse_error, list_id::integer,"
    "  envelope_sender, bounce_address, original_message_id,"
    "  campaign_id, source, recipient_count::integer"
    " FROM unnest($1::bytea[], $2::text[], $3::text[], $4::bytea[],"
    "  $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],"
    "  $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],"
    "  $15::text[])"
    "  AS t(sha256, received_at, size, raw, kind, format, parse_status,"
    "  parse_error, list_id, envelope_sender, bounce_address,"
    "  original_message_id, campaign_id, source, recipient_count)"
    " ON CONFLICT (sha256) DO NOTHING"
    " RETURNING id, sha256, received_at, list_id, original_message_id,"
    "  campaign_id"
    "), i AS ("
    " SELECT * FROM unnest($1::bytea[]) WITH ORDINALITY AS k(sha256, n)"
    "), e AS ("
    " INSERT INTO events (occurred_at, received_at, source,"
    "  message_id, rcpt_index, recipient, list_id,"
    "  original_message_id, campaign_id, kind, action, phase,"
    "  reply_code, status, dsn_status, diagnostic, remote_mta,"
    "  category, reason, rule)"
    " SELECT m.received_at, m.received_at, 'bounce', m.id,"
    "  r.i::integer, r.recipient, m.list_id, m.original_message_id,"
    "  m.campaign_id, r.kind, r.action, r.phase, r.code::smallint,"
    "  r.status, r.dsn_status, r.diagnostic, r.remote_mta, r.category,"
    "  r.reason, r.rule"
    " FROM m JOIN i ON i.sha256 = m.sha256"
    " JOIN unnest($16::text[], $17::text[], $18::text[], $19::text[],"
    "  $20::text[], $21::text[], $22::text[], $23::text[], $24::text[],"
    "  $25::text[], $26::text[], $27::text[], $28::text[], $29::text[])"
    "  AS r(n, i, recipient, kind, action, phase, code, status,"
    "  dsn_status, diagnostic, remote_mta, category, reason, rule)"
    "  ON r.n::bigint = i.n"
    " RETURNING 1"
    ") SELECT i.n, m.id FROM i LEFT JOIN m ON m.sha256 = i.sha256";

#define MSG_PARAMS (MSG_COLS + 1 + EV_COLS)

static const struct {
	const char *name;
	int nparams;
	int list_param;		/* parameter holding list_id, or -1 */
	const char *sql;
} stmts[ITEM__COUNT] = {
	[ITEM_MSG] = { "bounced_msgs", MSG_PARAMS, MSG_LIST_COL, sql_msgs },
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

/* messages per chunk statement, and bytes: the raw bytes of a chunk
 * pass through the server's memory together */
#define STORE_MSG_CHUNK 250
#define STORE_CHUNK_BYTES (4u * 1024 * 1024)
/* element types of the array parameters (pg_type.oid) */
#define OID_BYTEA 17
#define OID_TEXT 25

static const char sql_list_insert[] =
    "INSERT INTO lists (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
static const char sql_list_get[] = "SELECT id FROM lists WHERE name = $1";
static const char sql_partition[] =
    "SELECT bounced_ensure_partition($1::timestamptz)";
static const char sql_version[] = "SELECT max(version) FROM schema_migrations";
static const char sql_pos_get[] = "SELECT device, inode, byte_offset FROM "
				  "log_positions WHERE source = $1";

void
store_seterr(struct store *st, const char *fmt, ...)
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

	store_seterr(st, "%s (%s): %s; %s", what,
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
	st->fill = &st->bat[0];
	st->done = &st->bat[1];
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
			store_seterr(st, "the database has no bounced "
			    "schema; run `bounced db init` (or `bounced db "
			    "migrate`)");
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
	for (i = 0; i < 2; i++) {
		store_batch_drop(&st->bat[i]);
		free(st->bat[i].items);
		free(st->bat[i].order);
		free(st->bat[i].queries);
	}
	for (i = 0; i < MSG_PARAMS; i++)
		free(st->arr[i].p);
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
		store_seterr(st, "list '%s' vanished while being added; %s",
		    name, advice(STORE_ETEMP));
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
resolve(struct store *st, struct batch *b)
{
	struct item *it;
	char buf[16];
	size_t i;
	int rc, id, p;

	for (i = 0; i < b->nitems; i++) {
		it = &b->items[i];
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
	int c;

	/* every transaction takes its locks table by table, key by key */
	if (x->type != y->type)
		return (x->type > y->type) - (x->type < y->type);
	c = memcmp(x->key, y->key, sizeof(x->key));
	if (c != 0)
		return c;
	return (x > y) - (x < y);	/* the first added stays first */
}


/* ------------------------------------------------------------------ */
/* Array parameters                                                    */
/* ------------------------------------------------------------------ */

/* an array buffer bigger than this is not kept for the next chunk */
#define STORE_ARR_KEEP (8u * 1024 * 1024)

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* room for more bytes; an array is at most INT_MAX bytes (libpq) */
static int
arr_room(struct arrbuf *a, size_t more)
{
	unsigned char *p;
	size_t size;

	if (more > (size_t)INT_MAX - a->len)
		return -1;
	if (a->len + more <= a->size)
		return 0;
	size = a->size ? a->size : 4096;
	while (size < a->len + more)
		size *= 2;
	if ((p = realloc(a->p, size)) == NULL)
		return -1;
	a->p = p;
	a->size = size;
	return 0;
}

/* an empty array; its header is written by arr_end() */
static int
arr_begin(struct arrbuf *a)
{
	a->len = 0;
	a->n = 0;
	a->nulls = 0;
	if (arr_room(a, 20) != 0)
		return -1;
	a->len = 20;
	return 0;
}

/* one element: len bytes of v, or NULL when v is NULL */
static int
arr_add(struct arrbuf *a, const char *v, size_t len)
{
	if (a->n == INT32_MAX || arr_room(a, 4 + (v != NULL ? len : 0)) != 0)
		return -1;
	if (v == NULL) {
		put_be32(a->p + a->len, 0xffffffffu);
		a->len += 4;
		a->nulls = 1;
	} else {
		put_be32(a->p + a->len, (uint32_t)len);
		if (len > 0)
			memcpy(a->p + a->len + 4, v, len);
		a->len += 4 + len;
	}
	a->n++;
	return 0;
}

/*
 * The header of a one-dimensional array of element type oid, in
 * PostgreSQL's binary format (array_recv): ndim, has-nulls, element type,
 * length, lower bound; the elements follow, each a length (-1: NULL) and
 * its bytes.
 */
static void
arr_end(struct arrbuf *a, uint32_t oid)
{
	put_be32(a->p, 1);
	put_be32(a->p + 4, (uint32_t)a->nulls);
	put_be32(a->p + 8, oid);
	put_be32(a->p + 12, a->n);
	put_be32(a->p + 16, 1);
}

/* the parameters of the message statement for items[0..n) */
static int
chunk_params(struct store *st, struct item *const *items, size_t n,
    const char **vals, int *lens, int *fmts)
{
	const struct item *it;
	const char *v;
	char num[24];
	size_t i, j, c, k;

	for (c = 0; c < MSG_PARAMS; c++)
		if (arr_begin(&st->arr[c]) != 0)
			return -1;
	for (i = 0; i < n; i++) {
		it = items[i];
		for (c = 0; c < MSG_COLS; c++) {
			v = it->val[c];
			if (arr_add(&st->arr[c], v, v == NULL ? 0 : it->fmt[c] ?
			    (size_t)it->len[c] : strlen(v)) != 0)
				return -1;
		}
		/* each event names its message by its place in the chunk */
		k = (size_t)snprintf(num, sizeof(num), "%zu", i + 1);
		for (j = 0; j < it->nev; j++) {
			if (arr_add(&st->arr[MSG_COLS], num, k) != 0)
				return -1;
			for (c = 0; c < EV_COLS; c++) {
				v = it->ev[j * EV_COLS + c];
				if (arr_add(&st->arr[MSG_COLS + 1 + c], v,
				    v != NULL ? strlen(v) : 0) != 0)
					return -1;
			}
		}
	}
	for (c = 0; c < MSG_PARAMS; c++) {
		arr_end(&st->arr[c], c == 0 || c == 3 ? OID_BYTEA : OID_TEXT);
		vals[c] = (const char *)st->arr[c].p;
		lens[c] = (int)st->arr[c].len;
		fmts[c] = 1;
	}
	return 0;
}

/* libpq has copied the parameters; a huge buffer is given back */
static void
arr_trim(struct store *st)
{
	size_t c;

	for (c = 0; c < MSG_PARAMS; c++)
		if (st->arr[c].size > STORE_ARR_KEEP) {
			free(st->arr[c].p);
			memset(&st->arr[c], 0, sizeof(st->arr[c]));
		}
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
	return PQgetisnull(res, 0, it->type == ITEM_MSG) ? STORE_DUPLICATE :
	    STORE_STORED;
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

/* a chunk of messages as one statement; 0 when queued in libpq */
static int
send_chunk(struct store *st, const struct query *q)
{
	const char *vals[MSG_PARAMS];
	int lens[MSG_PARAMS], fmts[MSG_PARAMS], ok = 0;

	if (chunk_params(st, q->items, q->n, vals, lens, fmts) == 0)
		ok = PQsendQueryPrepared(st->conn, stmts[ITEM_MSG].name,
		    MSG_PARAMS, vals, lens, fmts, 0);
	arr_trim(st);
	return ok ? 0 : -1;
}

/* the statements of the batch: chunks of messages, the rest one each */
static int
plan_queries(struct batch *b)
{
	struct item **send = b->send;
	struct query *q;
	size_t k = 0, bytes;

	q = realloc(b->queries, (b->nsend > 0 ? b->nsend : 1) * sizeof(*q));
	if (q == NULL)
		return STORE_ENOMEM;
	b->queries = q;
	b->nqueries = 0;
	while (k < b->nsend) {
		q = &b->queries[b->nqueries++];
		q->items = &send[k];
		q->n = 1;
		q->chunk = send[k]->type == ITEM_MSG;
		bytes = send[k]->bytes;
		k++;
		while (q->chunk && k < b->nsend && send[k]->type == ITEM_MSG &&
		    q->n < STORE_MSG_CHUNK &&
		    bytes + send[k]->bytes <= STORE_CHUNK_BYTES) {
			bytes += send[k]->bytes;
			q->n++;
			k++;
		}
	}
	return STORE_STORED;
}

/* results of a chunk: rows of (n, id), id NULL for a duplicate */
static void
chunk_results(const struct query *q, const PGresult *res)
{
	int r, rows = PQntuples(res);
	long n;

	for (r = 0; r < rows; r++) {
		n = strtol(PQgetvalue(res, r, 0), NULL, 10);
		if (n < 1 || (size_t)n > q->n)
			continue;
		q->items[n - 1]->result = PQgetisnull(res, r, 1) ?
		    STORE_DUPLICATE : STORE_STORED;
	}
}

/*
 * After a failed or lost pipeline: out of pipeline mode and out of the
 * transaction, or the connection dropped (the next ready() opens one).
 */
static void
pipeline_abort(struct store *st)
{
	PGconn *c = st->conn;
	PGresult *res;

	if (c == NULL)
		return;
	PQsetnonblocking(c, 0);
	if (PQpipelineStatus(c) != PQ_PIPELINE_OFF) {
		while (PQstatus(c) == CONNECTION_OK &&
		    (res = PQgetResult(c)) != NULL)
			PQclear(res);
		if (PQexitPipelineMode(c) != 1) {
			PQfinish(st->conn);
			st->conn = NULL;
			return;
		}
	}
	if (PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) != PQTRANS_IDLE) {
		res = PQexec(c, "ROLLBACK");
		PQclear(res);
	}
}

/*
 * Send the whole batch as one pipelined transaction: BEGIN, the
 * statements, COMMIT and a Sync, without waiting.  The connection is
 * non-blocking: what the socket does not take now stays in libpq's
 * buffer, for store_progress() and pipeline_recv() to hand over, so
 * neither side stalls on a full socket and the caller goes on meanwhile.
 * STORE_STORED when sent (pipeline_recv() must follow), else STORE_ETEMP
 * or STORE_ENOMEM with the connection cleaned up.
 */
static int
pipeline_send(struct store *st, struct batch *b)
{
	PGconn *c = st->conn;
	const struct query *q;
	size_t k;

	if (plan_queries(b) != STORE_STORED)
		return STORE_ENOMEM;
	if (PQenterPipelineMode(c) != 1 || PQsetnonblocking(c, 1) != 0 ||
	    !PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		goto lost;
	for (k = 0; k < b->nqueries; k++) {
		q = &b->queries[k];
		if (q->chunk ? send_chunk(st, q) != 0 :
		    !send_item(c, q->items[0]))
			goto lost;
		/* hand it over now: the server starts on it meanwhile */
		if ((q->chunk || (k & 31) == 31) && PQflush(c) == -1)
			goto lost;
	}
	if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(c) || PQflush(c) == -1)
		goto lost;
	return STORE_STORED;
lost:
	failed(st, NULL, "the connection failed during a batch");
	pipeline_abort(st);
	return STORE_ETEMP;
}

void
store_progress(struct store *st)
{
	/* errors are left for pipeline_recv() to find */
	if (st->inflight && st->stage == STAGE_PIPE &&
	    st->start_rc == STORE_STORED && st->conn != NULL)
		PQflush(st->conn);
}

/*
 * The outcome of the batch pipeline_send() sent.  Returns STORE_STORED
 * with every item's result set, or the class of the first failure with
 * *bad an item of the failing statement (or NULL) and *retry set for a
 * deadlock.
 */
static int
pipeline_recv(struct store *st, struct batch *b, struct item **bad,
    int *retry)
{
	PGconn *c = st->conn;
	PGresult *res = NULL, *first = NULL;
	const struct query *qq;
	size_t n = b->nqueries, q = 0, guard = 0;
	ExecStatusType s;
	int rc = STORE_STORED, single = 0;

	*bad = NULL;
	*retry = 0;
	if (pump(c) != 0)
		goto lost;
	PQsetnonblocking(c, 0);
	/* results: q = 0 BEGIN, 1..n the queries, n + 1 COMMIT, then Sync */
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
			if (q >= 1 && q <= n) {
				*bad = b->queries[q - 1].items[0];
				single = !b->queries[q - 1].chunk;
			}
			continue;
		}
		if ((s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) &&
		    q >= 1 && q <= n) {
			qq = &b->queries[q - 1];
			if (qq->chunk)
				chunk_results(qq, res);
			else
				qq->items[0]->result = row_result(qq->items[0],
				    res);
		}
		PQclear(res);
	}
	res = NULL;
	if (PQexitPipelineMode(c) != 1)
		goto lost;
	if (first != NULL) {
		*retry = pgconn_retryable(first);
		rc = failed(st, first, single && (*bad)->name != NULL ?
		    (*bad)->name : "cannot store the batch");
	}
	goto cleanup;
lost:
	/* the server's word is better than the state we lost, but it is
	 * temporary whatever it says */
	failed(st, first, "the connection failed during a batch");
	rc = STORE_ETEMP;
cleanup:
	PQclear(first);
	if (rc != STORE_STORED)
		pipeline_abort(st);
	return rc;
}

/* one attempt at a batch; *stage says how far it got */
static int
start(struct store *st, struct batch *b, enum stage *stage)
{
	int rc;

	*stage = STAGE_READY;
	if ((rc = ready(st)) != STORE_STORED)
		return rc;
	*stage = STAGE_RESOLVE;
	if ((rc = resolve(st, b)) != STORE_STORED)
		return rc;
	*stage = STAGE_PIPE;
	return pipeline_send(st, b);
}

/* one item in its own transaction (a single statement is one) */
static int
run_single(struct store *st, struct item *it)
{
	const char *vals[MSG_PARAMS];
	int lens[MSG_PARAMS], fmts[MSG_PARAMS];
	PGresult *res = NULL;
	int attempt, rc = STORE_ETEMP;

	for (attempt = 0; attempt < STORE_RETRIES; attempt++) {
		if ((rc = ready(st)) != STORE_STORED)
			break;
		if (it->type != ITEM_MSG)
			res = PQexecPrepared(st->conn, stmts[it->type].name,
			    stmts[it->type].nparams,
			    (const char *const *)it->val, it->len, it->fmt, 0);
		else if (chunk_params(st, &it, 1, vals, lens, fmts) == 0)
			res = PQexecPrepared(st->conn, stmts[ITEM_MSG].name,
			    MSG_PARAMS, vals, lens, fmts, 0);
		else
			return STORE_ENOMEM;
		arr_trim(st);
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

/* items with the key of the item before them (sorted) are duplicates */
static size_t
mark_dups(struct batch *b)
{
	struct item *it, *prev = NULL;
	size_t i, n = 0;

	for (i = 0; i < b->nitems; i++) {
		it = b->order[i];
		it->dup_of = NULL;
		if (prev != NULL && prev->type == it->type &&
		    it->type != ITEM_POS &&
		    memcmp(prev->key, it->key, sizeof(it->key)) == 0)
			it->dup_of = prev->dup_of != NULL ? prev->dup_of : prev;
		else
			b->send[n++] = it;
		prev = it;
	}
	return n;
}

/* in key order, duplicates inside the batch set aside */
static int
prepare(struct batch *b)
{
	struct item **order;
	size_t i;

	order = realloc(b->order, 2 * b->nitems * sizeof(*order));
	if (order == NULL)
		return STORE_ENOMEM;
	b->order = order;
	b->send = order + b->nitems;
	for (i = 0; i < b->nitems; i++)
		order[i] = &b->items[i];
	qsort(order, b->nitems, sizeof(*order), cmp_item);
	b->nsend = mark_dups(b);
	return STORE_STORED;
}

/* a duplicate inside the batch shares its original's fate */
static int
finish(struct batch *b, int rc)
{
	struct item *it;
	size_t i;

	for (i = 0; i < b->nitems; i++) {
		it = &b->items[i];
		if (it->dup_of == NULL)
			continue;
		it->result = it->dup_of->result >= 0 ? STORE_DUPLICATE :
		    it->dup_of->result;
	}
	return rc;
}

static int
fail_all(struct batch *b, int rc)
{
	size_t i;

	for (i = 0; i < b->nitems; i++)
		b->items[i].result = rc;
	return rc;
}

/*
 * The rest of a batch whose first attempt ended at stage with rc: its
 * results, running it again for a deadlock (up to STORE_RETRIES times in
 * all) or once on a new connection when the old one was lost, and item by
 * item, each in its own transaction, when the server refused something,
 * so only that item fails.
 */
static int
complete(struct store *st, struct batch *b, enum stage stage, int rc)
{
	struct item *bad = NULL;
	int retry = 0, attempt = 1, reconnected = 0;
	size_t i;

	for (;;) {
		if (rc == STORE_STORED)
			rc = pipeline_recv(st, b, &bad, &retry);
		if (rc == STORE_STORED)
			return finish(b, STORE_STORED);
		if (stage == STAGE_READY || attempt++ == STORE_RETRIES)
			break;
		if (stage == STAGE_RESOLVE) {
			/* a lookup found the connection gone */
			if (rc != STORE_ETEMP || reconnected ||
			    (st->conn != NULL &&
			    PQstatus(st->conn) == CONNECTION_OK))
				break;
			reconnected = 1;
		} else if (retry) {
			retry = 0;
		} else if (rc == STORE_ETEMP && !reconnected) {
			/* a connection lost mid-batch: once more on a new
			 * one (safe: every item is idempotent) */
			reconnected = 1;
		} else {
			break;
		}
		bad = NULL;
		rc = start(st, b, &stage);
	}
	if (rc != STORE_EDATA || bad == NULL)
		return fail_all(b, rc);
	/* something was refused: the items one by one, to find it */
	rc = STORE_STORED;
	for (i = 0; i < b->nsend; i++) {
		bad = b->send[i];
		bad->result = run_single(st, bad);
		if (bad->result < 0) {
			bad->error = strdup(st->err);
			if (rc == STORE_STORED)
				rc = bad->result;
			if (bad->result == STORE_ETEMP ||
			    bad->result == STORE_ECONFIG)
				break;
		}
	}
	/* what was not tried after a temporary failure failed with it */
	for (i++; i < b->nsend; i++)
		b->send[i]->result = rc;
	if (rc != STORE_STORED) {
		/* the first failure's detail */
		for (i = 0; i < b->nitems; i++)
			if (b->items[i].error != NULL) {
				store_seterr(st, "%s", b->items[i].error);
				break;
			}
	}
	return finish(b, rc);
}

int
store_batch_send(struct store *st)
{
	struct batch *b;

	if (st == NULL)
		return STORE_EINVAL;
	if (st->inflight) {
		store_seterr(st, "a batch is already being written; "
		    "store_batch_wait() for it first");
		return STORE_EINVAL;
	}
	if (st->fill->nitems == 0)
		return STORE_STORED;
	/* the queue becomes the batch in flight; the last one's results
	 * are dropped and its memory takes the next items */
	b = st->done;
	store_batch_drop(b);
	st->done = st->fill;
	st->fill = b;
	b = st->done;
	st->err[0] = '\0';
	st->inflight = 1;
	st->stage = STAGE_READY;
	if ((st->start_rc = prepare(b)) == STORE_STORED)
		st->start_rc = start(st, b, &st->stage);
	return STORE_STORED;
}

int
store_batch_wait(struct store *st)
{
	int rc;

	if (st == NULL)
		return STORE_EINVAL;
	if (!st->inflight)
		return STORE_STORED;
	/* a batch that did not start (stage READY) fails as it did */
	rc = complete(st, st->done, st->stage, st->start_rc);
	st->inflight = 0;
	return rc;
}

int
store_batch_flush(struct store *st)
{
	int rc;

	if (st == NULL)
		return STORE_EINVAL;
	if (st->inflight) {
		store_seterr(st, "store_batch_flush() with a batch being "
		    "written; store_batch_wait() for it first");
		return STORE_EINVAL;
	}
	if (st->fill->nitems == 0)
		return STORE_STORED;
	if ((rc = store_batch_send(st)) != STORE_STORED)
		return rc;
	return store_batch_wait(st);
}

/* ------------------------------------------------------------------ */
/* One at a time                                                       */
/* ------------------------------------------------------------------ */

/* the store has no batch queued or in flight */
static int
idle(struct store *st, const char *what)
{
	if (st == NULL)
		return 0;
	if (st->fill->nitems > 0 || st->inflight) {
		store_seterr(st, "%s with a batch %s; %s it first", what,
		    st->inflight ? "being written" : "pending",
		    st->inflight ? "store_batch_wait() for" : "flush");
		return 0;
	}
	return 1;
}

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
	if (!idle(st, "store_message()"))
		return STORE_EINVAL;
	return flush_one(st, store_batch_add_message(st, m));
}

int
store_smtp_event(struct store *st, const struct store_smtp *ev)
{
	if (!idle(st, "store_smtp_event()"))
		return STORE_EINVAL;
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
	if (st->inflight) {
		store_seterr(st, "store_log_position_get() with a batch being "
		    "written; store_batch_wait() for it first");
		return STORE_EINVAL;
	}
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
			store_seterr(st, "log_positions holds '%s' for %s; "
			    "it was not written by bounced",
			    PQgetvalue(res, 0, i), source);
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
