/*
 * store_int.h - what the two halves of the store share: store_item.c
 * turns what the caller gives into queued items (parameters ready for the
 * statements), store_pg.c writes them.  Private to the store.
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
	struct item *dup_of;	/* same bytes earlier in the batch */
};

/* one statement of a pipelined batch: one item, or a chunk of messages */
struct query {
	struct item **items;
	size_t n;
	int chunk;
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
	struct query *queries;	/* what run_pipeline() sends */
	size_t nqueries;
	char *arr[NPARAMS_MAX];	/* array parameters of a chunk */
	struct list_entry lists[STORE_LIST_CACHE];
	size_t nlists;
	int months[STORE_MONTH_CACHE];
	size_t nmonths;
};

/* Set st's error detail (cut to fit). */
void store_seterr(struct store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Drop the queued items. */
void store_batch_clear(struct store *st);

#endif
