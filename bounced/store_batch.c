/*
 * store_batch.c - how the store writes a batch: store_batch_send(),
 * store_batch_wait() and store_batch_flush() (the two), and the calls that
 * are batches of one.  See store.h for the contract, store_pg.c for the
 * statements.
 *
 * How a batch is written:
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
 * Limits: STORE_MSG_CHUNK messages and STORE_CHUNK_BYTES a statement;
 * the array buffers are kept between statements up to STORE_ARR_KEEP
 * bytes each.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgconn.h"
#include "store.h"
#include "store_int.h"

#define STORE_RETRIES 3
/* how long a send may wait for the server to take data, milliseconds */
#define STORE_SEND_WAIT 120000
/* messages per chunk statement, and bytes: the raw bytes of a chunk
 * pass through the server's memory together */
#define STORE_MSG_CHUNK 250
#define STORE_CHUNK_BYTES (4u * 1024 * 1024)
/* element types of the array parameters (pg_type.oid) */
#define OID_BYTEA 17
#define OID_TEXT 25

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
	return PQsendQueryPrepared(c, store_stmts[it->type].name,
	    store_stmts[it->type].nparams, (const char *const *)it->val, it->len,
	    it->fmt, 0);
}

/* a chunk of messages as one statement; 0 when queued in libpq */
static int
send_chunk(struct store *st, const struct query *q)
{
	const char *vals[MSG_PARAMS];
	int lens[MSG_PARAMS], fmts[MSG_PARAMS], ok = 0;

	if (chunk_params(st, q->items, q->n, vals, lens, fmts) == 0)
		ok = PQsendQueryPrepared(st->conn, store_stmts[ITEM_MSG].name,
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
	store_failed(st, NULL, "the connection failed during a batch");
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
		rc = store_failed(st, first, single && (*bad)->name != NULL ?
		    (*bad)->name : "cannot store the batch");
	}
	goto cleanup;
lost:
	/* the server's word is better than the state we lost, but it is
	 * temporary whatever it says */
	store_failed(st, first, "the connection failed during a batch");
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
	if ((rc = store_ready(st)) != STORE_STORED)
		return rc;
	*stage = STAGE_RESOLVE;
	if ((rc = store_resolve(st, b)) != STORE_STORED)
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
		if ((rc = store_ready(st)) != STORE_STORED)
			break;
		if (it->type != ITEM_MSG)
			res = PQexecPrepared(st->conn, store_stmts[it->type].name,
			    store_stmts[it->type].nparams,
			    (const char *const *)it->val, it->len, it->fmt, 0);
		else if (chunk_params(st, &it, 1, vals, lens, fmts) == 0)
			res = PQexecPrepared(st->conn, store_stmts[ITEM_MSG].name,
			    MSG_PARAMS, vals, lens, fmts, 0);
		else
			return STORE_ENOMEM;
		arr_trim(st);
		if (PQresultStatus(res) == PGRES_TUPLES_OK ||
		    PQresultStatus(res) == PGRES_COMMAND_OK) {
			rc = row_result(it, res);
			break;
		}
		rc = store_failed(st, res, it->name != NULL ? it->name :
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
	qsort(order, b->nitems, sizeof(*order), store_cmp_item);
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
