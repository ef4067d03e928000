/*
 * ingest_batch.h - read, parse and store many message files, a batch at a
 * time: the loop of a Maildir or file-list import (`bounced ingest`), and
 * what bench/store_bench measures.
 *
 * One process, one connection (the caller's struct store).  The server
 * writes batch N while this parses batch N + 1 (store_batch_send() /
 * store_batch_wait()), so on a machine with a core for each, storing
 * costs little more wall-clock time than parsing alone.
 */
#ifndef BOUNCED_INGEST_BATCH_H
#define BOUNCED_INGEST_BATCH_H

#include <stddef.h>

#include "bounce.h"
#include "store.h"

struct ingest_opts {
	int version;			/* INGEST_OPTS_VERSION */
	const char *source;		/* messages.source; NULL: "batch" */
	const char *list;		/* NULL: each report's List-Id */
	const char *bounce_address;	/* envelope recipient, if known */
	size_t batch;			/* 0: STORE_BATCH_ITEMS messages */
	int sync;			/* 1: wait for each batch (no overlap) */
	/*
	 * Called once per file when its fate is known: a file that cannot
	 * be read at once (STORE_EINVAL), the others once their batch is
	 * written, in the order given.  result is a store_result
	 * (STORE_STORED, STORE_DUPLICATE, or why it was not stored), why the
	 * detail ("" when stored); path is the caller's.  Borrowed for the
	 * call.
	 */
	void (*done)(void *arg, const char *path, int result,
	    const char *why);
	void *arg;
};

#define INGEST_OPTS_VERSION 1
#define INGEST_OPTS_INIT { INGEST_OPTS_VERSION, NULL, NULL, NULL, 0, 0, \
	NULL, NULL }

struct ingest_stats {
	size_t files;		/* files given */
	size_t stored;
	size_t duplicates;
	size_t failed;		/* refused, or not written (ETEMP...) */
	size_t unreadable;	/* could not be opened or read */
	size_t over_limit;	/* stored cut at the message size limit */
	size_t events;		/* recipients of the messages queued */
	size_t bytes;		/* raw bytes read */
};

/*
 * Read each of paths[0..n), parse it with ctx and popts (may be NULL),
 * and store it with st, in batches.  A message longer than ctx's
 * max_message_bytes is stored cut there, parse status "over_limit",
 * without being parsed; a message's received_at is its file's mtime (when
 * a Maildir delivery wrote it).  out is filled in (never NULL).
 *
 * Returns STORE_STORED when every file readable was stored or was a
 * duplicate, else the first failure (a store_result).  A batch that could
 * not be written at all (STORE_ETEMP, STORE_ECONFIG, STORE_ENOMEM) stops
 * the run: the files after it are not read, and done is not called for
 * them (files - stored - duplicates - failed - unreadable of them).
 */
int ingest_files(struct ingest_stats *out, struct store *st, bounce_ctx *ctx,
    const bounce_parse_options *popts, const char *const *paths, size_t n,
    const struct ingest_opts *opts);

#endif
