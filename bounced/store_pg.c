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
 *   2. the items are sorted by kind, then key (SHA-256), so connections
 *      writing overlapping batches take their row locks in the same order
 *      and do not deadlock; an item with the same key as the one before it
 *      is a duplicate and is not sent;
 *   3. BEGIN, the statements, COMMIT and a Sync go out in libpq pipeline
 *      mode (no round trip per statement), the connection non-blocking
 *      while sending so neither side can stall on a full socket;
 *   4. messages go STORE_MSG_CHUNK to a statement, their columns as binary
 *      arrays: the message rows (ON CONFLICT on sha256 DO NOTHING) and,
 *      only for the rows that inserted, their events from a JSON array
 *      each, so a duplicate writes nothing and comes back with a NULL id;
 *      an SMTP result is one statement, keyed through event_keys;
 *   5. a deadlock or serialization failure runs the batch again (up to
 *      STORE_RETRIES times); a lost connection is re-opened once and the
 *      batch run again (safe: every item is idempotent); an item the
 *      server refuses for its data makes the batch run again item by item,
 *      each in its own transaction (one-message statements), so only that
 *      item fails.
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

/*
 * Many messages in one statement: the columns of ITEM_MSG as arrays (one
 * element per message, in binary), so the per-statement work (planning
 * is cached, but executor start, partition routing and constraint set-up
 * are not) is paid once per chunk instead of once per message.  A message
 * whose bytes were stored before gives a row with a NULL id.  Duplicates
 * inside one chunk are removed before it is sent (see mark_dups()).
 */
static const char sql_msgs_name[] = "bounced_msgs";
static const char sql_msgs[] =
    "WITH i AS ("
    " SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[],"
    "  $4::bytea[], $5::text[], $6::text[], $7::text[], $8::text[],"
    "  $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
    "  $14::text[], $15::text[], $16::text[]) WITH ORDINALITY"
    "  AS t(sha256, received_at, size, raw, kind, format, parse_status,"
    "  parse_error, list_id, envelope_sender, bounce_address,"
    "  original_message_id, campaign_id, source, recipient_count,"
    "  events, n)"
    "), m AS ("
    " INSERT INTO messages (sha256, received_at, size, raw, kind,"
    "  format, parse_status, parse_error, list_id, envelope_sender,"
    "  bounce_address, original_message_id, campaign_id, source,"
    "  recipient_count)"
    " SELECT sha256, received_at::timestamptz, size::bigint, raw, kind,"
    "  format, parse_status, parse_error, list_id::integer,"
    "  envelope_sender, bounce_address, original_message_id,"
    "  campaign_id, source, recipient_count::integer FROM i ORDER BY n"
    " ON CONFLICT (sha256) DO NOTHING"
    " RETURNING id, sha256, received_at, list_id, original_message_id,"
    "  campaign_id"
    "), e AS ("
    " INSERT INTO events (occurred_at, received_at, source,"
    "  message_id, rcpt_index, recipient, list_id,"
    "  original_message_id, campaign_id, kind, action, phase,"
    "  reply_code, status, dsn_status, diagnostic, remote_mta,"
    "  category, reason, rule)"
    " SELECT m.received_at, m.received_at, 'bounce', m.id, r.i,"
    "  r.recipient, m.list_id, m.original_message_id, m.campaign_id,"
    "  r.kind, r.action, r.phase, r.code, r.status, r.dsn_status,"
    "  r.diagnostic, r.remote_mta, r.category, r.reason, r.rule"
    " FROM m JOIN i ON i.sha256 = m.sha256"
    " CROSS JOIN LATERAL json_to_recordset(i.events::json) AS r(i integer,"
    "  recipient text, kind text, action text, phase text,"
    "  code smallint, status text, dsn_status text, diagnostic text,"
    "  remote_mta text, category text, reason text, rule text)"
    " RETURNING 1"
    ") SELECT i.n, m.id FROM i LEFT JOIN m ON m.sha256 = i.sha256";

/* messages per multi-row statement */
#define STORE_MSG_CHUNK 250
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
	res = PQprepare(st->conn, sql_msgs_name, sql_msgs, 16, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = failed(st, res, "cannot prepare the statements");
		goto cleanup;
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
	store_batch_clear(st);
	free(st->items);
	free(st->order);
	free(st->queries);
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

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/*
 * Parameter p of items[0..n) as a one-dimensional array in PostgreSQL's
 * binary format (array_recv): ndim, has-nulls, element type, length,
 * lower bound, then each element as a length (-1: NULL) and its bytes.
 */
static char *
build_array(struct item *const *items, size_t n, int p, uint32_t oid,
    int *outlen)
{
	size_t total = 20, i, len;
	unsigned char *buf, *w;
	int nulls = 0;

	for (i = 0; i < n; i++) {
		total += 4;
		if (items[i]->val[p] == NULL)
			nulls = 1;
		else
			total += items[i]->fmt[p] ? (size_t)items[i]->len[p] :
			    strlen(items[i]->val[p]);
	}
	if (total > INT_MAX || n > INT32_MAX || (buf = malloc(total)) == NULL)
		return NULL;
	put_be32(buf, 1);
	put_be32(buf + 4, (uint32_t)nulls);
	put_be32(buf + 8, oid);
	put_be32(buf + 12, (uint32_t)n);
	put_be32(buf + 16, 1);
	w = buf + 20;
	for (i = 0; i < n; i++) {
		if (items[i]->val[p] == NULL) {
			put_be32(w, 0xffffffffu);
			w += 4;
			continue;
		}
		len = items[i]->fmt[p] ? (size_t)items[i]->len[p] :
		    strlen(items[i]->val[p]);
		put_be32(w, (uint32_t)len);
		memcpy(w + 4, items[i]->val[p], len);
		w += 4 + len;
	}
	*outlen = (int)total;
	return (char *)buf;
}

/* a chunk of messages as one statement; 0 when sent */
static int
send_chunk(struct store *st, const struct query *q)
{
	int len[NPARAMS_MAX], fmt[NPARAMS_MAX], i, ok = 0;
	const int np = stmts[ITEM_MSG].nparams;

	for (i = 0; i < np; i++) {
		fmt[i] = 1;
		st->arr[i] = build_array(q->items, q->n, i,
		    i == 0 || i == 3 ? OID_BYTEA : OID_TEXT, &len[i]);
		if (st->arr[i] == NULL)
			goto cleanup;
	}
	ok = PQsendQueryPrepared(st->conn, sql_msgs_name, np,
	    (const char *const *)st->arr, len, fmt, 0);
cleanup:
	/* libpq has copied them into its buffer */
	for (i = 0; i < np; i++) {
		free(st->arr[i]);
		st->arr[i] = NULL;
	}
	return ok ? 0 : -1;
}

/* the statements of the batch: chunks of messages, the rest one each */
static int
plan_queries(struct store *st, struct item **send, size_t nsend)
{
	struct query *q;
	size_t k = 0;

	q = realloc(st->queries, (nsend > 0 ? nsend : 1) * sizeof(*q));
	if (q == NULL)
		return STORE_ENOMEM;
	st->queries = q;
	st->nqueries = 0;
	while (k < nsend) {
		q = &st->queries[st->nqueries++];
		q->items = &send[k];
		q->n = 1;
		q->chunk = send[k]->type == ITEM_MSG;
		k++;
		while (q->chunk && k < nsend && send[k]->type == ITEM_MSG &&
		    q->n < STORE_MSG_CHUNK) {
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
 * The whole batch in one pipelined transaction.  Returns STORE_STORED
 * with every item's result set, or the class of the first failure with
 * *bad an item of the failing statement (or NULL) and *retry set for a
 * deadlock.
 */
static int
run_pipeline(struct store *st, struct item **send, size_t nsend,
    struct item **bad, int *retry)
{
	PGconn *c = st->conn;
	PGresult *res = NULL, *first = NULL;
	const struct query *qq;
	size_t n, k, q = 0, guard = 0;
	ExecStatusType s;
	int rc = STORE_STORED, single = 0;

	*bad = NULL;
	*retry = 0;
	if ((rc = plan_queries(st, send, nsend)) != STORE_STORED)
		return rc;
	n = st->nqueries;
	if (PQenterPipelineMode(c) != 1 || PQsetnonblocking(c, 1) != 0)
		return failed(st, NULL, "cannot start a batch");
	if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		goto lost;
	for (k = 0; k < n; k++) {
		qq = &st->queries[k];
		if (qq->chunk ? send_chunk(st, qq) != 0 :
		    !send_item(c, qq->items[0]))
			goto lost;
		if ((qq->chunk || (k & 31) == 31) && pump(c) != 0)
			goto lost;
	}
	if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(c) || pump(c) != 0)
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
				*bad = st->queries[q - 1].items[0];
				single = !st->queries[q - 1].chunk;
			}
			continue;
		}
		if ((s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) &&
		    q >= 1 && q <= n) {
			qq = &st->queries[q - 1];
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

/* items with the key of the item before them (sorted) are duplicates */
static size_t
mark_dups(struct store *st, struct item **send)
{
	struct item *it, *prev = NULL;
	size_t i, n = 0;

	for (i = 0; i < st->nitems; i++) {
		it = st->order[i];
		it->dup_of = NULL;
		if (prev != NULL && prev->type == it->type &&
		    it->type != ITEM_POS &&
		    memcmp(prev->key, it->key, sizeof(it->key)) == 0)
			it->dup_of = prev->dup_of != NULL ? prev->dup_of : prev;
		else
			send[n++] = it;
		prev = it;
	}
	return n;
}

/* a duplicate inside the batch shares its original's fate */
static int
finish(struct store *st, int rc)
{
	struct item *it;
	size_t i;

	for (i = 0; i < st->nitems; i++) {
		it = &st->items[i];
		if (it->dup_of == NULL)
			continue;
		it->result = it->dup_of->result >= 0 ? STORE_DUPLICATE :
		    it->dup_of->result;
	}
	return rc;
}

int
store_batch_flush(struct store *st)
{
	struct item *bad = NULL, **order, **send;
	int rc = STORE_STORED, retry, attempt, reconnected = 0;
	size_t i, nsend;

	if (st == NULL)
		return STORE_EINVAL;
	if (st->flushed || st->nitems == 0)
		return STORE_STORED;
	st->err[0] = '\0';
	st->flushed = 1;
	/* order, then the items to send (no duplicates) */
	order = realloc(st->order, 2 * st->nitems * sizeof(*order));
	if (order == NULL) {
		rc = STORE_ENOMEM;
		goto fail_all;
	}
	st->order = order;
	send = order + st->nitems;
	for (i = 0; i < st->nitems; i++)
		order[i] = &st->items[i];
	qsort(order, st->nitems, sizeof(*order), cmp_item);
	nsend = mark_dups(st, send);
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
		rc = run_pipeline(st, send, nsend, &bad, &retry);
		if (rc == STORE_STORED)
			return finish(st, STORE_STORED);
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
	/* something was refused: the items one by one, to find it */
	rc = STORE_STORED;
	for (i = 0; i < nsend; i++) {
		bad = send[i];
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
				store_seterr(st, "%s", st->items[i].error);
				break;
			}
	}
	return finish(st, rc);
fail_rest:
	for (i++; i < nsend; i++)
		send[i]->result = rc;
	return finish(st, rc);
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
			store_seterr(st, "store_message() with a batch "
			    "pending; flush it first");
		return STORE_EINVAL;
	}
	return flush_one(st, store_batch_add_message(st, m));
}

int
store_smtp_event(struct store *st, const struct store_smtp *ev)
{
	if (store_batch_count(st) > 0) {
		if (st != NULL)
			store_seterr(st, "store_smtp_event() with a batch "
			    "pending; flush it first");
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
