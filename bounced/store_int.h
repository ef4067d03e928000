/*
 * store_int.h - what the parts of the store share: store_item.c turns
 * what the caller gives into queued items (parameters ready for the
 * statements), store_batch.c writes them, with the statements, lists,
 * partitions and connection of store_pg.c.  Private to the store.
 */
#ifndef BOUNCED_STORE_INT_H
#define BOUNCED_STORE_INT_H

#include <stddef.h>
#include <time.h>

#include <libpq-fe.h>

#include "store.h"

#define STORE_LIST_CACHE 256
#define STORE_MONTH_CACHE 64

enum item_type { ITEM_MSG = 0, ITEM_SMTP, ITEM_POS, ITEM__COUNT };

#define NPARAMS_MAX 17
/*
 * A message's columns, in the order of the message statement's arrays
 * (store_pg.c): 0 sha256 and 3 raw in binary, the rest text; 8 is the
 * list id, filled in at flush.
 */
#define MSG_COLS 15
#define MSG_LIST_COL 8
/*
 * An event's columns, one set per recipient of a message: 0 the
 * recipient's index, 1 recipient, 2 kind, 3 action, 4 phase, 5 reply
 * code, 6 status, 7 dsn_status, 8 diagnostic, 9 remote_mta, 10 category,
 * 11 reason, 12 rule; all text, NULL for none.
 */
#define EV_COLS 13
/* the message statement's parameters: the message columns, the events'
 * places in the chunk, the event columns, each an array */
#define MSG_PARAMS (MSG_COLS + 1 + EV_COLS)

/* the prepared statement of each kind of item (store_pg.c) */
struct store_stmt {
	const char *name;
	int nparams;
	int list_param;		/* parameter holding list_id, or -1 */
	const char *sql;
};
extern const struct store_stmt store_stmts[];

struct item {
	enum item_type type;
	unsigned char key[32];	/* sort key: SHA-256; 0xff for positions */
	int month;		/* months since year 0 (UTC), -1: none */
	time_t when;
	char *list;		/* list name to resolve into the list id */
	char *name;		/* the input, for messages */
	char *val[NPARAMS_MAX];
	int len[NPARAMS_MAX];
	int fmt[NPARAMS_MAX];
	char **ev;		/* messages: nev * EV_COLS event columns */
	size_t nev;
	size_t bytes;
	int result;
	char *error;
	struct item *dup_of;	/* same bytes earlier in the batch */
};

/* one statement of a pipelined batch: one item, or a chunk of messages */
struct query {
	struct item **items;
	size_t n;
	int chunk;
};

/* a batch: queued items, or the items of one flush with their results */
struct batch {
	struct item *items;
	size_t nitems, size, bytes;
	struct item **order;	/* sorted; then, after it, those to send */
	struct item **send;
	size_t nsend;
	struct query *queries;	/* what the pipeline sends */
	size_t nqueries;
};

/* an array parameter in PostgreSQL's binary format, built in place */
struct arrbuf {
	unsigned char *p;
	size_t len, size;
	unsigned int n;
	int nulls;
};

struct list_entry {
	char *name;
	int id;
};

/* how far store_batch_send() got with the batch in flight */
enum stage { STAGE_READY, STAGE_RESOLVE, STAGE_PIPE };

struct store {
	PGconn *conn;		/* NULL after a connection was given up */
	char *conninfo;		/* to connect again */
	int prepared;
	char err[1024];
	struct batch bat[2];
	struct batch *fill;	/* where store_batch_add_*() queue */
	struct batch *done;	/* the last batch sent: in flight or done */
	int inflight;		/* done is being written; wait for it */
	enum stage stage;	/* of the batch in flight */
	int start_rc;		/* and how that stage ended */
	struct arrbuf arr[MSG_COLS + 1 + EV_COLS];
	struct list_entry lists[STORE_LIST_CACHE];
	size_t nlists;
	int months[STORE_MONTH_CACHE];
	size_t nmonths;
};

/* Set st's error detail (cut to fit). */
void store_seterr(struct store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * store_pg.c: st connected (again, when the connection was lost) with the
 * statements prepared; a failure of res (or the connection) into st's
 * error, returning its class; the lists and partitions of b looked up or
 * made; the order items are written in (kind, then key).
 */
int store_ready(struct store *st);
int store_failed(struct store *st, const PGresult *res, const char *what);
int store_resolve(struct store *st, struct batch *b);
int store_cmp_item(const void *a, const void *b);

/* Drop a batch's items (keeps its memory for the next). */
void store_batch_drop(struct batch *b);

/*
 * While a batch is in flight: hand the server what it can take now and
 * read what it has sent, without waiting.  Called as items are queued so
 * the server works on batch N while the caller makes batch N + 1.
 */
void store_progress(struct store *st);

#endif
