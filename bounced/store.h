/*
 * store.h - where bounced keeps what it reads: the PostgreSQL store
 * (store_pg.c, the only module with SQL besides migrate.c).
 *
 * What is stored (schema/README.md): every raw message with its SHA-256,
 * one event per recipient of a bounce, one event per synchronous SMTP
 * result, and the positions reached in followed logs.
 *
 * Idempotency: a message is known by the SHA-256 of its bytes, an SMTP
 * result by the SHA-256 of a key the caller gives (the source's name and
 * the line, say).  Storing either again returns STORE_DUPLICATE and
 * writes nothing, so a caller that is not sure something was stored (the
 * database went away during a commit) just stores it again.
 *
 * Batches: store_batch_add_*() copy what they are given and queue it;
 * store_batch_flush() writes the queue in one transaction, its statements
 * pipelined (libpq pipeline mode), and gives one result per item.  When one
 * item is refused for its data, the others are written one by one so only
 * that one fails.  store_message() and store_smtp_event() are batches of
 * one.
 *
 * Overlap: store_batch_flush() is store_batch_send() and then
 * store_batch_wait().  Between the two the caller may go on (parse the
 * next messages and queue them) while the server writes the batch sent:
 * the batch in flight is apart from the queue, and queueing hands the
 * server more of it as the socket takes it.  One batch is in flight at a
 * time; the results are those of the batch last sent, once waited for.
 *
 * Errors: every function returns a store_result.  STORE_ETEMP means try
 * again later (the server is down, restarting, out of space, or a
 * deadlock did not go away): the command exits 75 (EX_TEMPFAIL) and the MTA
 * delivers again.  STORE_ECONFIG means the database is not what bounced
 * needs (no schema: `bounced db init`; an old one: `bounced db migrate`;
 * a wrong URL).  store_error() gives the detail, naming the input and what
 * to do.
 *
 * Not thread-safe: one struct store per thread or process.
 */
#ifndef BOUNCED_STORE_H
#define BOUNCED_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bounce.h"

enum store_result {
	STORE_STORED = 0,	/* written now */
	STORE_DUPLICATE = 1,	/* was there already; nothing written */
	STORE_ETEMP = -1,	/* not written; try again later */
	STORE_ECONFIG = -2,	/* the database or its schema is wrong */
	STORE_EDATA = -3,	/* the database refused this item */
	STORE_ENOMEM = -4,	/* out of memory */
	STORE_EINVAL = -5	/* bad argument (a bug in the caller) */
};

/* Fixed text for a result; never NULL. */
const char *store_strerror(int rc);

/*
 * The exit status (sysexits.h) for a result: 0 for STORED and DUPLICATE,
 * 78 (EX_CONFIG) for ECONFIG, 75 (EX_TEMPFAIL) for everything else: what
 * could not be stored must stay with the MTA, which delivers it again.
 */
int store_exit_status(int rc);

/* Schema version the store writes to (schema/NNNN_*.sql). */
#define STORE_SCHEMA_VERSION 3

/* Default batch bounds; a flush is due at either. */
#define STORE_BATCH_ITEMS 500
#define STORE_BATCH_BYTES (32u * 1024 * 1024)

struct store;

/*
 * Connect to conninfo (a libpq URL or key=value string) and check the
 * schema is at least STORE_SCHEMA_VERSION.  On failure *out is NULL and
 * err says why and what to do.  Returns STORE_STORED (0) on success.
 */
int store_open(struct store **out, const char *conninfo, char *err,
    size_t errlen);
/* Close; pending batch items are dropped.  Accepts NULL. */
void store_close(struct store *st);

/* Detail of the last failure ("" when none); borrowed until the next
 * call on st. */
const char *store_error(const struct store *st);

/* One message that arrived at a bounce address.  Strings may be NULL;
 * everything is copied by store_batch_add_message(). */
struct store_msg {
	const char *raw;		/* the message as received */
	size_t len;
	/* what bounce_parse() made of it; NULL when it was not parsed
	 * (kind unknown, parse_status "error" unless given) */
	const bounce_report *report;
	/* recipients to store instead of the report's (for callers that
	 * know them otherwise); NULL: the report's */
	const bounce_recipient *recipients;
	size_t nrecipients;
	const char *name;		/* the input, for error messages */
	const char *list;		/* list name; NULL: none known */
	const char *envelope_sender;
	const char *bounce_address;	/* envelope recipient of the bounce */
	const char *source;		/* "pipe", "batch"...; NULL: "pipe" */
	/* "ok", "unrecognized", "error", "over_limit"; NULL: from report */
	const char *parse_status;
	time_t received_at;		/* 0: now; also the events' time */
};

/* A synchronous SMTP result (from an MTA log line or a JSON line). */
struct store_smtp {
	const char *key;		/* idempotency key material, e.g. */
	size_t keylen;			/* source name + NUL + the line */
	const char *source;		/* "smtp-log" or "smtp-json" */
	const char *name;		/* the input, for error messages */
	const char *recipient;
	const char *list;
	const char *message_id;		/* Message-ID of what was sent */
	const char *campaign_id;
	bounce_kind kind;		/* bounce, delayed or delivered */
	const char *action;		/* "bounced", "deferred", "sent"... */
	bounce_phase phase;
	int code;			/* reply code, 0 when none */
	const char *enhanced;		/* "5.1.1" */
	const char *text;
	const char *remote_mta;
	bounce_verdict verdict;		/* from bounce_classify() */
	time_t occurred_at;		/* 0: now */
};

/*
 * Store one message and one event per recipient in one transaction.
 * Returns STORE_STORED or STORE_DUPLICATE (same bytes stored before), or
 * a negative store_result.
 */
int store_message(struct store *st, const struct store_msg *m);

/* Store one SMTP result; STORE_DUPLICATE when its key was stored.  Both
 * return STORE_EINVAL with a batch queued or in flight. */
int store_smtp_event(struct store *st, const struct store_smtp *ev);

/*
 * Queue an item (copies it).  Returns its index in the batch (>= 0) or
 * a negative store_result.
 */
int store_batch_add_message(struct store *st, const struct store_msg *m);
int store_batch_add_smtp(struct store *st, const struct store_smtp *ev);
/* Queue "log source has been read up to offset in file dev/inode",
 * written in the same transaction as the rest of the batch. */
int store_batch_add_log_position(struct store *st, const char *source,
    uint64_t dev, uint64_t inode, uint64_t offset);

/* Drop the items queued (not the batch in flight): they are not stored. */
void store_batch_discard(struct store *st);

/* Items queued; 1 when a flush is due (STORE_BATCH_ITEMS or _BYTES). */
size_t store_batch_count(const struct store *st);
int store_batch_full(const struct store *st);

/*
 * Write the queued items.  Returns STORE_STORED when every item was
 * stored or a duplicate, else the first failure (STORE_ETEMP: nothing was
 * written).  The results stay readable with store_batch_result() until
 * the next batch is sent (flushed); items queued meanwhile start the next
 * batch.  With nothing queued: STORE_STORED, the results left as they
 * were.  STORE_EINVAL while a batch is in flight (store_batch_send()).
 */
int store_batch_flush(struct store *st);

/*
 * Start writing the queued items and return without waiting for the
 * server; the queue is empty again for the next batch.  Returns
 * STORE_STORED, or STORE_EINVAL when a batch is in flight already.  Every
 * other outcome, failures to connect included, comes from
 * store_batch_wait(), which must follow before the next send or flush.
 */
int store_batch_send(struct store *st);
/*
 * Wait for the batch in flight to be written and return what
 * store_batch_flush() would have; its results are then readable.
 * STORE_STORED when nothing is in flight.
 */
int store_batch_wait(struct store *st);

/* Result of item i of the last batch sent, once written; STORE_EINVAL
 * when out of range or still in flight. */
int store_batch_result(const struct store *st, size_t i);
/* Why item i failed ("" when it did not). */
const char *store_batch_error(const struct store *st, size_t i);

/*
 * Where source was left: *found 0 when never stored.  Not part of a
 * batch; read it before following (STORE_EINVAL while a batch is in
 * flight).
 */
int store_log_position_get(struct store *st, const char *source,
    int *found, uint64_t *dev, uint64_t *inode, uint64_t *offset);

#endif
