/*
 * ingest.h - `bounced ingest`: what the MTA runs for every bounce, and
 * what reads the MTA's log for every synchronous result.  The parts:
 *   cmd_ingest.c   options, modes, exit statuses; one message on stdin
 *   ingest_mail.c  batches: files, Maildirs, mboxes, one connection
 *   ingest_smtp.c  synchronous results: Postfix and Exim logs, JSON lines
 *   follow.c       tailing a growing log across rotation
 *
 * Nothing is lost: a message is acknowledged (exit 0) only once stored;
 * a message that cannot be parsed is stored raw with its parse status and
 * error; whatever cannot be stored gives EX_TEMPFAIL (75) so the MTA
 * keeps it and delivers it again.  Storing twice is harmless: the store
 * is idempotent (same bytes, same log line).
 */
#ifndef BOUNCED_INGEST_H
#define BOUNCED_INGEST_H

#include <stddef.h>

#include "bounce.h"
#include "store.h"

/* Largest message read; more is cut and stored as over_limit.  Above
 * any sane max_message_bytes and below PostgreSQL's 1 GB field limit. */
#define INGEST_MAX_BYTES (256u * 1024 * 1024)

enum ingest_smtp_format {
	INGEST_SMTP_NONE = 0,
	INGEST_SMTP_POSTFIX,
	INGEST_SMTP_EXIM,
	INGEST_SMTP_JSON
};

struct config;

struct ingest {
	struct config *cfg;
	bounce_ctx *ctx;
	struct store *store;
	bounce_parse_options popts;

	/* from the command line; NULL when not given */
	const char *list;
	const char *sender;
	const char *bounce_address;
	const char *recipient;		/* VERP-decoded (or ${extension}) */
	const char *source_name;	/* --source, for log positions */
	enum ingest_smtp_format smtp;
	int follow;
	int verbose;
	long poll_ms;			/* --follow's poll interval */

	/* what happened */
	unsigned long messages;
	unsigned long stored;
	unsigned long duplicates;
	unsigned long unparsed;		/* stored raw: unknown or error */
	unsigned long failed;
	unsigned long skipped;		/* lines that are no results */
};

/* The parse status the store records for a report (NULL report: the
 * parse itself failed). */
const char *ingest_parse_status(const bounce_report *r);
/* 1 when recipients were read from a message whose parse status is not
 * "ok" (one over max_message_bytes is read up to it): it is not "stored
 * raw". */
int ingest_partly_read(const bounce_report *r);

/* ingest_mail.c: every message of the files, Maildirs and mboxes named;
 * returns an exit status. */
int ingest_paths(struct ingest *in, char *const *paths, int n);

/* ingest_smtp.c: the synchronous results in path ("-": stdin); returns
 * an exit status. */
int ingest_smtp(struct ingest *in, const char *path);

/* ingest_mail.c: parse one message for storing; *report may be NULL
 * (the parse failed) and is the caller's to free. */
void ingest_parse(struct ingest *in, const char *data, size_t len,
    bounce_report **report);

#endif
