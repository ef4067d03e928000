/*
 * store_pg.c - the PostgreSQL store.  See store.h for the contract and
 * schema/README.md for the tables.
 *
 * What the store sends: the statements (all prepared, every value a
 * parameter; the raw message and the keys in binary), looking up lists and
 * making event partitions, and the connection.  How a batch goes out and
 * comes back (pipelining, retries, one by one) is store_batch.c.
 *
 * The parameters are made when an item is queued (store_item.c), in the
 * order of the statements here.
 *
 * Limits: a list cache of STORE_LIST_CACHE names and a month cache of
 * STORE_MONTH_CACHE months (cleared when full); one item is at most what
 * a PostgreSQL bytea holds (1 GB), and the caller's limits (50 MiB a
 * message by default) come well before.
 */
#include <errno.h>
#include <limits.h>
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
 *
 * Why arrays and not COPY: COPY cannot say ON CONFLICT, so it would need a
 * staging table (COPY into it, then INSERT ... SELECT ... ON CONFLICT),
 * which writes every raw message once more, into the staging table,
 * before the real insert; binary array parameters carry the same bytes
 * straight into the one INSERT, as binary COPY would, in a statement that
 * can be prepared, pipelined and retried like the others.
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

const struct store_stmt store_stmts[ITEM__COUNT] = {
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
int
store_failed(struct store *st, const PGresult *res, const char *what)
{
	char msg[512], where[256];
	int rc = pgconn_classify(st->conn, res);

	store_seterr(st, "%s (%s): %s; %s", what,
	    pgconn_describe(where, sizeof(where), st->conn),
	    pgconn_message(msg, sizeof(msg), st->conn, res), advice(rc));
	return rc;
}

/* connected (re-connecting when the connection was lost), prepared */
int
store_ready(struct store *st)
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
			return store_failed(st, NULL, "cannot reconnect");
		PQsetNoticeProcessor(st->conn, quiet, NULL);
	}
	if (st->prepared)
		return STORE_STORED;
	for (i = 0; i < ITEM__COUNT; i++) {
		res = PQprepare(st->conn, store_stmts[i].name, store_stmts[i].sql,
		    store_stmts[i].nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = store_failed(st, res, "cannot prepare the statements");
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
		rc = store_failed(st, res, "cannot read the schema version");
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
	if ((rc = store_ready(st)) != STORE_STORED) {
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
	return store_failed(st, *res, what);
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
int
store_resolve(struct store *st, struct batch *b)
{
	struct item *it;
	char buf[16];
	size_t i;
	int rc, id, p;

	for (i = 0; i < b->nitems; i++) {
		it = &b->items[i];
		p = store_stmts[it->type].list_param;
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

int
store_cmp_item(const void *a, const void *b)
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
	if ((rc = store_ready(st)) != STORE_STORED)
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
