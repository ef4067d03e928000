/*
 * ingest_smtp.c - synchronous SMTP results: what the MTA logged for each
 * recipient (Postfix's status=sent|deferred|bounced lines, Exim's =>, ==
 * and ** lines) or JSON lines with the keys `bounced classify` reads plus
 * recipient, list, message_id, time.  Successful deliveries are stored
 * too: a success ends a soft-bounce streak.
 *
 * Each result is classified (bounce_classify) and stored with a key, the
 * SHA-256 of the format and the line, so reading the same line twice
 * stores it once.  With --follow the reader's position (device, inode,
 * offset) is written in the same transaction as the results before it:
 * a restart neither skips nor repeats a line.
 *
 * Limits: lines up to FOLLOW_LINE_MAX (64 KiB); the log readers' own
 * limits are in bounce.h.  A result with no recipient (Postfix's
 * message-level "status=expired") is skipped: the bounce Postfix then
 * sends arrives through the pipe and names the recipients.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "follow.h"
#include "ingest.h"
#include "input.h"
#include "log.h"
#include "smtp_json.h"
#include "timeparse.h"

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct smtp_run {
	struct ingest *in;
	bounce_log_reader *reader;	/* NULL for JSON lines */
	const char *format;		/* "postfix", "exim", "json" */
	const char *name;		/* the input, for messages */
	char source[4200];		/* log position key */
	unsigned long lines;
	unsigned long results;
	unsigned long bad;		/* JSON lines that are not objects */
	unsigned long lineno;
	int status;
	int stop;
	long pos_item;			/* the batch's position item, or -1 */
	time_t now;
	char relay[256];
};

static bounce_kind
kind_of_log_status(bounce_log_status s)
{
	switch (s) {
	case BOUNCE_LOG_SENT:
		return BOUNCE_KIND_DELIVERED;
	case BOUNCE_LOG_DEFERRED:
		return BOUNCE_KIND_DELAYED;
	default:
		return BOUNCE_KIND_BOUNCE;
	}
}

/* "mx.example.net[192.0.2.1]:25" -> "mx.example.net" */
static const char *
relay_host(struct smtp_run *run, const char *relay)
{
	size_t n;

	if (relay == NULL)
		return NULL;
	n = strcspn(relay, "[: ");
	if (n == 0 || n >= sizeof(run->relay))
		return relay;
	memcpy(run->relay, relay, n);
	run->relay[n] = '\0';
	return run->relay;
}

static void
classify_result(struct smtp_run *run, struct store_smtp *ev)
{
	bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;

	memset(&ev->verdict, 0, sizeof(ev->verdict));
	if (ev->kind == BOUNCE_KIND_DELIVERED)
		return;
	in.phase = ev->phase;
	in.code = ev->code;
	in.enhanced = ev->enhanced;
	in.text = ev->text;
	in.remote_mta = ev->remote_mta;
	in.action = ev->kind == BOUNCE_KIND_DELAYED ? "delayed" : "failed";
	(void)bounce_classify(&ev->verdict, run->in->ctx, &in);
}

static void
flush(struct smtp_run *run)
{
	struct store *st = run->in->store;
	size_t i, n = store_batch_count(st);
	int rc;

	if (n == 0)
		return;
	rc = store_batch_flush(st);
	if (rc == STORE_ETEMP || rc == STORE_ECONFIG || rc == STORE_ENOMEM) {
		log_warn("%s: could not store %zu result(s): %s; run again "
		    "when the database is back: nothing is lost or doubled",
		    run->name, n, store_error(st));
		run->in->failed += n;
		run->status = store_exit_status(rc);
		run->stop = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		if ((long)i == run->pos_item)
			continue;	/* the position, not a result */
		rc = store_batch_result(st, i);
		if (rc == STORE_STORED)
			run->in->stored++;
		else if (rc == STORE_DUPLICATE)
			run->in->duplicates++;
		else {
			run->in->failed++;
			log_warn("%s: a result was not stored: %s", run->name,
			    store_batch_error(st, i));
		}
	}
	run->pos_item = -1;
}

static void
queue(struct smtp_run *run, struct store_smtp *ev)
{
	int rc;

	run->results++;
	rc = store_batch_add_smtp(run->in->store, ev);
	if (rc < 0) {
		log_warn("%s line %lu: cannot queue the result: %s", run->name,
		    run->lineno, store_strerror(rc));
		run->status = EX_TEMPFAIL;
		run->stop = 1;
		return;
	}
}

static void
log_line(struct smtp_run *run, const char *line, size_t len)
{
	struct store_smtp ev = { 0 };
	const bounce_log_event *e;
	char key[64 * 1024 + 16];
	time_t t;
	int rc;

	rc = bounce_log_reader_feed(&e, run->reader, line, len);
	if (rc == BOUNCE_ELIMIT) {
		log_warn("%s line %lu: %s; skipped", run->name, run->lineno,
		    bounce_ctx_error(run->in->ctx));
		return;
	}
	if (rc != BOUNCE_OK)
		return;
	/* no recipient (a message-level expiry) or a local part alone (a
	 * local delivery, such as of the bounce address itself): not a list
	 * recipient's result */
	if (e->recipient == NULL || strchr(e->recipient, '@') == NULL) {
		run->in->skipped++;
		return;
	}
	/* the key: format, NUL, the line (a line is at most 64 KiB) */
	ev.keylen = strlen(run->format) + 1 + len;
	if (ev.keylen > sizeof(key))
		return;
	memcpy(key, run->format, strlen(run->format) + 1);
	memcpy(key + strlen(run->format) + 1, line, len);
	ev.key = key;
	ev.source = "smtp-log";
	ev.name = run->name;
	ev.recipient = e->recipient;
	ev.list = run->in->list;
	ev.message_id = e->message_id;
	ev.kind = kind_of_log_status(e->status);
	ev.action = e->status == BOUNCE_LOG_SENT ? "sent" :
	    e->status == BOUNCE_LOG_DEFERRED ? "deferred" : "bounced";
	ev.phase = e->phase;
	ev.code = e->code;
	ev.enhanced = e->enhanced != NULL ? e->enhanced : e->dsn;
	ev.text = e->text;
	ev.remote_mta = relay_host(run, e->relay);
	ev.occurred_at = timeparse(&t, e->time, run->now) == 0 ? t : 0;
	classify_result(run, &ev);
	queue(run, &ev);
}

static bounce_kind
json_kind(struct json_object *o, int code, const char *enhanced)
{
	const char *s = json_string_at(o, "status");
	int cls;

	if (s == NULL)
		s = json_string_at(o, "kind");
	if (s != NULL) {
		if (strcmp(s, "sent") == 0 || strcmp(s, "delivered") == 0)
			return BOUNCE_KIND_DELIVERED;
		if (strcmp(s, "deferred") == 0 || strcmp(s, "delayed") == 0)
			return BOUNCE_KIND_DELAYED;
		if (strcmp(s, "bounced") == 0 || strcmp(s, "bounce") == 0 ||
		    strcmp(s, "failed") == 0)
			return BOUNCE_KIND_BOUNCE;
	}
	cls = code / 100;
	if (cls == 0 && enhanced != NULL && enhanced[0] != '\0')
		cls = enhanced[0] - '0';
	/* no reply at all: the MTA tries again */
	return cls == 2 ? BOUNCE_KIND_DELIVERED : cls == 5 ?
	    BOUNCE_KIND_BOUNCE : BOUNCE_KIND_DELAYED;
}

static void
json_line(struct smtp_run *run, const char *line, size_t len)
{
	struct store_smtp ev = { 0 };
	struct smtp_json r;
	struct json_object *o;
	char key[64 * 1024 + 16];
	const char *when;
	time_t t;

	o = json_tokener_parse(line);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		log_warn("%s line %lu: not a JSON object; skipped (each line "
		    "must be one object)", run->name, run->lineno);
		json_object_put(o);
		run->bad++;
		return;
	}
	ev.recipient = json_string_at(o, "recipient");
	if (ev.recipient == NULL || ev.recipient[0] == '\0') {
		log_warn("%s line %lu: no \"recipient\"; skipped", run->name,
		    run->lineno);
		json_object_put(o);
		run->bad++;
		return;
	}
	memcpy(key, "json", 5);
	memcpy(key + 5, line, len);
	ev.key = key;
	ev.keylen = 5 + len;
	ev.source = "smtp-json";
	ev.name = run->name;
	ev.list = json_string_at(o, "list");
	if (ev.list == NULL)
		ev.list = run->in->list;
	ev.message_id = json_string_at(o, "message_id");
	if (ev.message_id == NULL)
		ev.message_id = json_string_at(o, "message-id");
	ev.campaign_id = json_string_at(o, "campaign_id");
	smtp_json_read(&r, o);
	ev.phase = r.in.phase;
	ev.code = r.in.code;
	ev.enhanced = r.in.enhanced;
	ev.text = r.in.text;
	ev.remote_mta = r.in.remote_mta;
	ev.kind = json_kind(o, ev.code, ev.enhanced);
	ev.action = json_string_at(o, "status");
	when = json_string_at(o, "time");
	ev.occurred_at = when != NULL && timeparse(&t, when, run->now) == 0 ?
	    t : 0;
	classify_result(run, &ev);
	queue(run, &ev);
	smtp_json_clear(&r);
	json_object_put(o);
}

static void
one_line(struct smtp_run *run, const char *line, size_t len)
{
	run->lines++;
	run->lineno++;
	run->now = time(NULL);
	if (len == 0)
		return;
	if (run->reader != NULL)
		log_line(run, line, len);
	else
		json_line(run, line, len);
	if (!run->stop && store_batch_full(run->in->store))
		flush(run);
}

/* Read to the end of a file or stdin, once. */
static int
read_once(struct smtp_run *run, const char *path)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	FILE *fp;

	if ((fp = input_open(path)) == NULL) {
		input_open_failed(path, errno);
		return EX_NOINPUT;
	}
	while (!run->stop && !stop_requested &&
	    (n = getline(&line, &size, fp)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if ((size_t)n > FOLLOW_LINE_MAX) {
			log_warn("%s line %lu: longer than %u bytes; cut",
			    run->name, run->lineno + 1, FOLLOW_LINE_MAX);
			n = FOLLOW_LINE_MAX;
			line[n] = '\0';
		}
		one_line(run, line, (size_t)n);
	}
	if (!run->stop && ferror(fp)) {
		log_warn("cannot read %s: %s", path, strerror(errno));
		run->status = EX_IOERR;
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	if (!run->stop)
		flush(run);
	return run->status;
}

/* Queue the position and write: lines and position in one transaction. */
static void
checkpoint(struct smtp_run *run, const struct follow *f,
    struct follow_pos *saved)
{
	const struct follow_pos *p = follow_position(f);

	if (store_batch_count(run->in->store) == 0 &&
	    memcmp(p, saved, sizeof(*p)) == 0)
		return;
	run->pos_item = store_batch_add_log_position(run->in->store,
	    run->source, p->dev, p->inode, p->offset);
	if (run->pos_item < 0) {
		run->status = EX_TEMPFAIL;
		run->stop = 1;
		return;
	}
	flush(run);
	if (!run->stop)
		*saved = *p;
}

static int
read_follow(struct smtp_run *run, const char *path)
{
	struct follow_pos resume, saved;
	struct follow f;
	const char *line;
	size_t len;
	int found = 0, rc;
	uint64_t dev, ino, off;

	if (store_log_position_get(run->in->store, run->source, &found, &dev,
	    &ino, &off) < 0) {
		log_warn("%s: cannot read the stored position: %s", run->name,
		    store_error(run->in->store));
		return EX_TEMPFAIL;
	}
	resume.dev = dev;
	resume.inode = ino;
	resume.offset = off;
	if ((rc = follow_open(&f, path, found ? &resume : NULL, 0)) != 0) {
		input_open_failed(path, rc);
		follow_close(&f);
		return EX_NOINPUT;
	}
	if (found)
		log_info("%s: resuming at offset %llu", run->name,
		    (unsigned long long)follow_position(&f)->offset);
	saved = *follow_position(&f);
	while (!run->stop && !stop_requested) {
		rc = follow_next(&f, &line, &len);
		if (rc > 0) {
			one_line(run, line, len);
			if (!run->stop && store_batch_count(run->in->store) >=
			    STORE_BATCH_ITEMS - 1)
				checkpoint(run, &f, &saved);
			continue;
		}
		if (rc < 0) {
			log_warn("cannot read %s: %s", path, strerror(errno));
			run->status = EX_IOERR;
			break;
		}
		/* nothing new: write what we have, then wait */
		checkpoint(run, &f, &saved);
		if (!run->stop && !stop_requested)
			usleep((useconds_t)(run->in->poll_ms > 0 ?
			    run->in->poll_ms : 1000) * 1000);
	}
	if (!run->stop)
		checkpoint(run, &f, &saved);
	follow_close(&f);
	return run->status;
}

int
ingest_smtp(struct ingest *in, const char *path)
{
	static const char *const formats[] = { NULL, "postfix", "exim",
		"json" };
	struct sigaction sa;
	struct smtp_run run;
	char abspath[4096];
	int status, err;

	memset(&run, 0, sizeof(run));
	run.in = in;
	run.pos_item = -1;
	run.format = formats[in->smtp];
	run.name = strcmp(path, "-") == 0 ? "stdin" : path;
	if (in->smtp != INGEST_SMTP_JSON) {
		err = bounce_log_reader_new(&run.reader, in->ctx,
		    in->smtp == INGEST_SMTP_POSTFIX ? BOUNCE_LOG_POSTFIX :
		    BOUNCE_LOG_EXIM);
		if (err != BOUNCE_OK) {
			log_warn("cannot start the log reader: %s",
			    bounce_strerror(err));
			return EX_SOFTWARE;
		}
	}
	if (in->source_name != NULL)
		snprintf(run.source, sizeof(run.source), "%s",
		    in->source_name);
	else
		snprintf(run.source, sizeof(run.source), "%s:%s", run.format,
		    realpath(path, abspath) != NULL ? abspath : path);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (in->follow)
		status = read_follow(&run, path);
	else
		status = read_once(&run, path);
	printf("ingest: %s: %lu line(s), %lu result(s): %lu stored, %lu "
	    "duplicate(s), %lu not stored\n", run.name, run.lines,
	    run.results, in->stored, in->duplicates, in->failed);
	if (status == 0 && run.bad > 0)
		status = EX_DATAERR;
	bounce_log_reader_free(run.reader);
	return status;
}
