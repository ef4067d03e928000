/*
 * ingest_batch.c - read, parse and store message files a batch at a time.
 * See ingest_batch.h.
 *
 * The loop: read a file, parse it, queue it (store_batch_add_message(),
 * which copies it); when the queue is full, wait for the batch in flight
 * (if any) and send the queue.  So while the server writes batch N, this
 * process reads and parses batch N + 1, and the two costs overlap instead
 * of adding up.  Waiting before sending keeps one batch in flight: the
 * memory held is two batches (STORE_BATCH_BYTES each at most), and a file
 * given twice is written by the first batch before the second is sent,
 * so it comes back as a duplicate.
 *
 * Limits: one file at a time in memory besides the batches, at most
 * ctx's max_message_bytes (50 MiB by default); longer files are stored
 * cut at that limit (parse status "over_limit", as schema/README.md
 * says), never refused for their size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingest_batch.h"
#include "input.h"

/* the files of one batch: the batch's item i is paths[idx[i]] */
struct fileset {
	size_t *idx;
	size_t n, size;
};

struct run {
	struct ingest_stats *stats;
	struct store *st;
	const char *const *paths;
	const struct ingest_opts *o;
	struct fileset fill, flight;
	int inflight;
	int rc;			/* first failure */
};

static int
fileset_add(struct fileset *f, size_t i)
{
	size_t size, *p;

	if (f->n == f->size) {
		size = f->size ? f->size * 2 : 256;
		if ((p = realloc(f->idx, size * sizeof(*p))) == NULL)
			return -1;
		f->idx = p;
		f->size = size;
	}
	f->idx[f->n++] = i;
	return 0;
}

static void
report(struct run *r, size_t path, int result, const char *why)
{
	if (r->o->done != NULL)
		r->o->done(r->o->arg, r->paths[path], result, why);
}

/* count the results of the batch last written (files f), tell the caller */
static void
collect(struct run *r, const struct fileset *f, int rc)
{
	const char *why;
	size_t i;
	int res;

	if (rc < 0 && r->rc == STORE_STORED)
		r->rc = rc;
	for (i = 0; i < f->n; i++) {
		res = store_batch_result(r->st, i);
		why = "";
		if (res == STORE_STORED) {
			r->stats->stored++;
		} else if (res == STORE_DUPLICATE) {
			r->stats->duplicates++;
		} else {
			r->stats->failed++;
			/* the item's own error, else the batch's */
			why = store_batch_error(r->st, i);
			if (why[0] == '\0')
				why = store_error(r->st);
		}
		report(r, f->idx[i], res, why);
	}
}

/* a failure after which nothing more can be written this run */
static int
fatal(int rc)
{
	return rc == STORE_ETEMP || rc == STORE_ECONFIG || rc == STORE_ENOMEM ||
	    rc == STORE_EINVAL;
}

/* wait for the batch in flight; 0, or its fatal result */
static int
wait_flight(struct run *r)
{
	int rc;

	if (!r->inflight)
		return 0;
	rc = store_batch_wait(r->st);
	r->inflight = 0;
	collect(r, &r->flight, rc);
	r->flight.n = 0;
	return fatal(rc) ? rc : 0;
}

/* send the queue (after the batch in flight); 0, or a fatal result */
static int
send_fill(struct run *r)
{
	struct fileset t;
	int rc;

	if ((rc = wait_flight(r)) != 0)
		return rc;
	if (r->fill.n == 0)
		return 0;
	if ((rc = store_batch_send(r->st)) != STORE_STORED)
		return rc;
	t = r->flight;
	r->flight = r->fill;
	r->fill = t;
	r->fill.n = 0;
	r->inflight = 1;
	if (r->o->sync)
		return wait_flight(r);
	return 0;
}

/* read, parse and queue file i; 0, or a fatal result */
static int
queue_file(struct run *r, bounce_ctx *ctx, const bounce_parse_options *popts,
    struct msgbuf *mb, size_t i)
{
	const size_t limit = bounce_ctx_limits(ctx)->max_message_bytes;
	bounce_report *rep = NULL;
	struct store_msg m;
	struct stat sb;
	char why[512];
	int err, over = 0, k;
	FILE *fp;

	if ((fp = fopen(r->paths[i], "rb")) == NULL) {
		err = errno;
		goto unreadable;
	}
	if (fstat(fileno(fp), &sb) != 0) {
		err = errno;
		fclose(fp);
		goto unreadable;
	}
	err = input_read_stream(mb, fp, limit);
	fclose(fp);
	if (err == EFBIG) {
		over = 1;
		r->stats->over_limit++;
	} else if (err != 0) {
		goto unreadable;
	}
	r->stats->bytes += mb->len;
	memset(&m, 0, sizeof(m));
	m.raw = mb->data;
	m.len = mb->len;
	m.name = r->paths[i];
	m.list = r->o->list;
	m.bounce_address = r->o->bounce_address;
	m.source = r->o->source != NULL ? r->o->source : "batch";
	m.received_at = sb.st_mtime;
	if (over) {
		m.parse_status = "over_limit";
	} else if ((err = bounce_parse(&rep, ctx, mb->data, mb->len,
	    popts)) != BOUNCE_OK) {
		/* only ENOMEM and EINVAL come here; the bytes are kept */
		rep = NULL;
		m.parse_status = "error";
	}
	m.report = rep;
	if (rep != NULL)
		r->stats->events += bounce_report_recipient_count(rep);
	k = store_batch_add_message(r->st, &m);
	bounce_report_free(rep);
	if (k < 0) {
		report(r, i, k, store_error(r->st));
		r->stats->failed++;
		return fatal(k) ? k : 0;
	}
	if (fileset_add(&r->fill, i) != 0)
		return STORE_ENOMEM;
	return 0;
unreadable:
	r->stats->unreadable++;
	snprintf(why, sizeof(why), "cannot read %s: %s", r->paths[i],
	    strerror(err));
	report(r, i, STORE_EINVAL, why);
	return 0;
}

int
ingest_files(struct ingest_stats *out, struct store *st, bounce_ctx *ctx,
    const bounce_parse_options *popts, const char *const *paths, size_t n,
    const struct ingest_opts *opts)
{
	static const struct ingest_opts defaults = INGEST_OPTS_INIT;
	struct msgbuf mb = { 0 };
	struct run r;
	size_t i, batch;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->files = n;
	memset(&r, 0, sizeof(r));
	r.stats = out;
	r.st = st;
	r.paths = paths;
	r.o = opts != NULL ? opts : &defaults;
	if (st == NULL || ctx == NULL || (paths == NULL && n > 0) ||
	    r.o->version != INGEST_OPTS_VERSION)
		return STORE_EINVAL;
	if (store_batch_count(st) > 0) {
		/* the batch results are the files' results: ours alone */
		return STORE_EINVAL;
	}
	batch = r.o->batch > 0 ? r.o->batch : STORE_BATCH_ITEMS;
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = queue_file(&r, ctx, popts, &mb, i)) != 0)
			break;
		if (store_batch_count(st) >= batch || store_batch_full(st))
			rc = send_fill(&r);
	}
	if (rc == 0)
		rc = send_fill(&r);
	if (rc == 0)
		rc = wait_flight(&r);
	if (rc != 0 && r.rc == STORE_STORED)
		r.rc = rc;
	/* after a fatal failure: what was in flight, and what was queued */
	if (r.inflight) {
		store_batch_wait(st);
		collect(&r, &r.flight, r.rc);
	}
	/* queued, never sent: not stored, and not to be sent later */
	for (i = 0; i < r.fill.n; i++) {
		report(&r, r.fill.idx[i], r.rc, store_error(st));
		out->failed++;
	}
	store_batch_discard(st);
	msgbuf_free(&mb);
	free(r.fill.idx);
	free(r.flight.idx);
	return r.rc;
}
