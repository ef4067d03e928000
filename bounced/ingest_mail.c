/*
 * ingest_mail.c - batch ingest of bounce messages: files, Maildirs
 * (new/ and cur/), folders of message files and mboxes, on one database
 * connection, in batches of up to STORE_BATCH_ITEMS messages per
 * transaction.
 *
 * A batch is written when it is full and at the end.  When the database
 * goes away, what was stored stays stored and the command exits 75: run
 * it again and the stored messages come back as duplicates, the rest is
 * stored.  A message the database refuses is reported by name and the
 * others go on.
 *
 * Limits: a message is read up to INGEST_MAX_BYTES; folders are read one
 * level deep, names sorted so runs are repeatable.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "ingest.h"
#include "input.h"
#include "log.h"

void
ingest_parse(struct ingest *in, const char *data, size_t len,
    bounce_report **report)
{
	int err;

	*report = NULL;
	err = bounce_parse(report, in->ctx, data, len, &in->popts);
	if (err != BOUNCE_OK) {
		/* out of memory: stored raw, flagged as not parsed */
		log_warn("cannot parse a message: %s; it is stored raw",
		    bounce_strerror(err));
		*report = NULL;
	}
}

/* The names queued in the current batch, for messages about them. */
struct pending {
	char **names;
	size_t n;
	size_t size;
};

static void
pending_clear(struct pending *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->names[i]);
	p->n = 0;
}

static int
pending_add(struct pending *p, const char *name)
{
	char **grown;

	if (p->n == p->size) {
		p->size = p->size ? p->size * 2 : 64;
		grown = realloc(p->names, p->size * sizeof(*grown));
		if (grown == NULL)
			return -1;
		p->names = grown;
	}
	if ((p->names[p->n] = strdup(name)) == NULL)
		return -1;
	p->n++;
	return 0;
}

/*
 * Two sets of names: the batch being queued, and the batch in flight
 * (store_batch_send()): the server writes one while the next is parsed,
 * so storing costs little more wall-clock time than parsing.
 */
struct batch {
	struct ingest *in;
	struct pending queued;
	struct pending flight;
	int inflight;
	int status;		/* exit status so far */
	int stop;		/* the database is gone: stop reading */
};

static int
fatal_result(int rc)
{
	return rc == STORE_ETEMP || rc == STORE_ECONFIG || rc == STORE_ENOMEM;
}

/* Wait for the batch in flight and count what became of each message. */
static void
batch_wait(struct batch *b)
{
	struct store *st = b->in->store;
	struct pending *p = &b->flight;
	size_t i;
	int rc;

	if (!b->inflight)
		return;
	b->inflight = 0;
	rc = store_batch_wait(st);
	if (fatal_result(rc)) {
		log_warn("could not store %zu message(s) (%s ... %s): %s; "
		    "run the same command again when the database is back: "
		    "what was stored is kept and comes back as duplicates",
		    p->n, p->names[0], p->names[p->n - 1], store_error(st));
		b->in->failed += p->n;
		b->status = store_exit_status(rc);
		b->stop = 1;
		pending_clear(p);
		return;
	}
	for (i = 0; i < p->n; i++) {
		switch (store_batch_result(st, i)) {
		case STORE_STORED:
			b->in->stored++;
			if (b->in->verbose)
				log_info("%s: stored", p->names[i]);
			break;
		case STORE_DUPLICATE:
			b->in->duplicates++;
			if (b->in->verbose)
				log_info("%s: duplicate", p->names[i]);
			break;
		default:
			b->in->failed++;
			log_warn("%s: not stored: %s", p->names[i],
			    store_batch_error(st, i));
			if (b->status == 0)
				b->status = EX_DATAERR;
			break;
		}
	}
	pending_clear(p);
}

/* Send the queued batch, after the one in flight is written. */
static void
batch_send(struct batch *b)
{
	struct pending tmp;
	int rc;

	batch_wait(b);
	if (b->stop || store_batch_count(b->in->store) == 0)
		return;
	if ((rc = store_batch_send(b->in->store)) != STORE_STORED) {
		log_warn("cannot send a batch of %zu message(s): %s",
		    b->queued.n, store_error(b->in->store));
		b->in->failed += b->queued.n;
		b->status = store_exit_status(rc);
		b->stop = 1;
		pending_clear(&b->queued);
		return;
	}
	b->inflight = 1;
	tmp = b->flight;
	b->flight = b->queued;
	b->queued = tmp;
}

static void
batch_message(struct batch *b, const char *name, const char *data,
    size_t len, int oversize, time_t received)
{
	struct store_msg m = { 0 };
	bounce_report *report;
	int rc;

	b->in->messages++;
	ingest_parse(b->in, data, len, &report);
	m.raw = data;
	m.len = len;
	m.report = report;
	m.name = name;
	m.list = b->in->list;
	m.envelope_sender = b->in->sender;
	m.bounce_address = b->in->bounce_address;
	m.source = "batch";
	m.received_at = received;
	m.parse_status = oversize ? "over_limit" : ingest_parse_status(report);
	if (strcmp(m.parse_status, "ok") != 0 && !ingest_partly_read(report)) {
		b->in->unparsed++;
		if (b->in->verbose)
			log_info("%s: stored raw (%s)", name, m.parse_status);
	} else if (strcmp(m.parse_status, "ok") != 0 && b->in->verbose) {
		log_info("%s: %s (%s)", name, m.parse_status,
		    bounce_report_error(report) != NULL ?
		    bounce_report_error(report) : "read in part");
	}
	rc = store_batch_add_message(b->in->store, &m);
	bounce_report_free(report);
	if (rc < 0) {
		log_warn("%s: cannot queue it: %s", name, store_strerror(rc));
		b->in->failed++;
		b->status = EX_TEMPFAIL;
		b->stop = 1;
		return;
	}
	if (pending_add(&b->queued, name) != 0) {
		b->status = EX_OSERR;
		b->stop = 1;
		return;
	}
	if (store_batch_full(b->in->store))
		batch_send(b);
}

/* Every message of one file (an mbox gives several). */
static void
batch_file(struct batch *b, const char *path, struct msgbuf *mb)
{
	struct mbox_reader *mr;
	unsigned long index = 0;
	char name[4096];
	struct stat sb;
	int rc = 0, oversize;
	FILE *fp;

	if ((fp = input_open(path)) == NULL) {
		input_open_failed(path, errno);
		if (b->status == 0)
			b->status = EX_NOINPUT;
		return;
	}
	if ((mr = mbox_reader_new(fp, INGEST_MAX_BYTES)) == NULL) {
		input_close(fp);
		b->status = EX_OSERR;
		b->stop = 1;
		return;
	}
	/* a Maildir file's time is when the MTA delivered it */
	if (fstat(fileno(fp), &sb) != 0 || fp == stdin)
		sb.st_mtime = 0;
	while (!b->stop && (rc = mbox_reader_next(mr, mb, &oversize)) > 0) {
		index++;
		if (mbox_reader_is_mbox(mr))
			snprintf(name, sizeof(name), "%s#%lu", path, index);
		else
			snprintf(name, sizeof(name), "%s", path);
		batch_message(b, name, mb->data, mb->len, oversize,
		    mbox_reader_is_mbox(mr) ? 0 : sb.st_mtime);
	}
	if (!b->stop && rc < 0) {
		log_warn("cannot read %s: %s", path, strerror(errno));
		if (b->status == 0)
			b->status = EX_IOERR;
	}
	mbox_reader_free(mr);
	input_close(fp);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, sorted, dot files left out. */
static void
batch_dir(struct batch *b, const char *dir, struct msgbuf *mb)
{
	char **names = NULL, path[4096];
	size_t n = 0, size = 0, i;
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		log_warn("cannot read the folder %s: %s", dir, strerror(errno));
		if (b->status == 0)
			b->status = EX_NOINPUT;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == size) {
			char **grown;

			size = size ? size * 2 : 256;
			grown = realloc(names, size * sizeof(*names));
			if (grown == NULL)
				break;
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (!b->stop && (size_t)snprintf(path, sizeof(path), "%s/%s",
		    dir, names[i]) < sizeof(path) && stat(path, &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			batch_file(b, path, mb);
		free(names[i]);
	}
	free(names);
}

static void
batch_path(struct batch *b, const char *path, struct msgbuf *mb)
{
	char sub[4096];
	struct stat sb;
	int maildir = 0;

	if (strcmp(path, "-") == 0 || stat(path, &sb) != 0 ||
	    !S_ISDIR(sb.st_mode)) {
		batch_file(b, path, mb);
		return;
	}
	/* a Maildir: new/ then cur/ (tmp/ is being written) */
	snprintf(sub, sizeof(sub), "%s/new", path);
	if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		maildir = 1;
		batch_dir(b, sub, mb);
	}
	snprintf(sub, sizeof(sub), "%s/cur", path);
	if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		maildir = 1;
		batch_dir(b, sub, mb);
	}
	if (!maildir)
		batch_dir(b, path, mb);
}

int
ingest_paths(struct ingest *in, char *const *paths, int n)
{
	struct msgbuf mb = { 0 };
	struct batch b;
	int i;

	memset(&b, 0, sizeof(b));
	b.in = in;
	for (i = 0; i < n && !b.stop; i++)
		batch_path(&b, paths[i], &mb);
	if (!b.stop)
		batch_send(&b);
	batch_wait(&b);
	/* queued but never sent (the database went away): not stored */
	if (b.queued.n > 0) {
		in->failed += b.queued.n;
		store_batch_discard(in->store);
	}
	printf("ingest: %lu message(s): %lu stored, %lu duplicate(s), %lu "
	    "stored raw (not parsed), %lu not stored\n", in->messages,
	    in->stored, in->duplicates, in->unparsed, in->failed);
	pending_clear(&b.queued);
	pending_clear(&b.flight);
	free(b.queued.names);
	free(b.flight.names);
	msgbuf_free(&mb);
	return b.status;
}
