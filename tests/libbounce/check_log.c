/*
 * check_log.c - tests for the MTA log reader (libbounce/log_reader.c,
 * log_postfix.c, log_exim.c).
 *
 * Golden files: every tests/fixtures/log/NAME.log is fed line by line to
 * a reader (Postfix for names starting "postfix", Exim for "exim"); each
 * event becomes one JSON object (status, time, host, queue_id, recipient,
 * original_recipient, sender, message_id, relay, phase, code, enhanced,
 * text, dsn; null when unknown), and each line refused with an error other
 * than BOUNCE_ENOTFOUND one object {"line": N, "error": "..."}.  The
 * result must equal NAME.expected.jsonl line for line; a mismatch prints
 * the first differing lines.
 *
 * After a deliberate change of the output, rewrite the expected files
 * and review the diff before committing:
 *
 *	BOUNCED_GOLDEN_UPDATE=1 build/release/tests/check_log
 *	git diff tests/fixtures/log
 *
 * Speed: BOUNCED_LOG_BENCH=N (lines) repeats the fixtures to N lines per
 * format and prints lines per second:
 *
 *	make && BOUNCED_LOG_BENCH=1000000 build/release/tests/check_log
 *
 * Tests run from the top of the repository.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "bounce.h"
#include "log_reader.h"
#include "testutil.h"

#define FIXTURES "tests/fixtures/log"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static const char *
status_name(bounce_log_status s)
{
	switch (s) {
	case BOUNCE_LOG_SENT:
		return "sent";
	case BOUNCE_LOG_DEFERRED:
		return "deferred";
	case BOUNCE_LOG_BOUNCED:
		return "bounced";
	case BOUNCE_LOG_NONE:
		break;
	}
	return "none";
}

static void
add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v != NULL ?
	    json_object_new_string(v) : NULL);
}

/* One event as one JSON line (malloc'd, with the newline). */
static char *
render_event(const bounce_log_event *ev)
{
	struct json_object *o = json_object_new_object();
	const char *s;
	char *line;
	size_t n;

	add_str(o, "status", status_name(ev->status));
	add_str(o, "time", ev->time);
	add_str(o, "host", ev->host);
	add_str(o, "queue_id", ev->queue_id);
	add_str(o, "recipient", ev->recipient);
	add_str(o, "original_recipient", ev->original_recipient);
	add_str(o, "sender", ev->sender);
	add_str(o, "message_id", ev->message_id);
	add_str(o, "relay", ev->relay);
	add_str(o, "phase", bounce_phase_name(ev->phase));
	json_object_object_add(o, "code", json_object_new_int(ev->code));
	add_str(o, "enhanced", ev->enhanced);
	add_str(o, "text", ev->text);
	add_str(o, "dsn", ev->dsn);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(s);
	line = malloc(n + 2);
	ck_assert_ptr_nonnull(line);
	memcpy(line, s, n);
	memcpy(line + n, "\n", 2);
	json_object_put(o);
	return line;
}

static char *
render_error(unsigned long lineno, int err)
{
	struct json_object *o = json_object_new_object();
	const char *s;
	char *line;
	size_t n;

	json_object_object_add(o, "line", json_object_new_int64(
	    (int64_t)lineno));
	add_str(o, "error", bounce_strerror(err));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = strlen(s);
	line = malloc(n + 2);
	ck_assert_ptr_nonnull(line);
	memcpy(line, s, n);
	memcpy(line + n, "\n", 2);
	json_object_put(o);
	return line;
}

struct text {
	char *data;
	size_t len, size;
};

static void
text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n + 1 > t->size) {
		t->size = (t->len + n + 1) * 2;
		t->data = realloc(t->data, t->size);
		ck_assert_ptr_nonnull(t->data);
	}
	memcpy(t->data + t->len, s, n + 1);
	t->len += n;
}

static bounce_log_format
format_of(const char *name)
{
	return strncmp(name, "exim", 4) == 0 ? BOUNCE_LOG_EXIM :
	    BOUNCE_LOG_POSTFIX;
}

/* Feed data[0..len) line by line; the rendered events in *out. */
static void
read_log(struct text *out, bounce_ctx *ctx, bounce_log_format format,
    const char *data, size_t len)
{
	const bounce_log_event *ev;
	bounce_log_reader *r;
	const char *p = data, *end = data + len, *nl;
	unsigned long lineno = 0;
	char *line;
	int err;

	ck_assert_int_eq(bounce_log_reader_new(&r, ctx, format), BOUNCE_OK);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		err = bounce_log_reader_feed(&ev, r, p, (size_t)(nl - p));
		if (err == BOUNCE_OK) {
			ck_assert_ptr_nonnull(ev);
			line = render_event(ev);
		} else {
			ck_assert_ptr_null(ev);
			line = err == BOUNCE_ENOTFOUND ? NULL :
			    render_error(lineno, err);
		}
		if (line != NULL) {
			text_add(out, line);
			free(line);
		}
		p = nl + 1;
	}
	bounce_log_reader_free(r);
}

/* Print the first differences of want and got, line by line. */
static int
diff_lines(const char *name, const char *want, const char *got)
{
	const char *w = want, *g = got, *wn, *gn;
	unsigned int line = 1, shown = 0;
	int differ = 0;

	while ((*w != '\0' || *g != '\0') && shown < 5) {
		wn = strchr(w, '\n');
		gn = strchr(g, '\n');
		if (wn == NULL)
			wn = w + strlen(w);
		if (gn == NULL)
			gn = g + strlen(g);
		if (wn - w != gn - g || memcmp(w, g, (size_t)(wn - w)) != 0) {
			fprintf(stderr, "%s.expected.jsonl:%u differs\n"
			    "-%.*s\n+%.*s\n", name, line, (int)(wn - w), w,
			    (int)(gn - g), g);
			differ = 1;
			shown++;
		}
		w = *wn != '\0' ? wn + 1 : wn;
		g = *gn != '\0' ? gn + 1 : gn;
		line++;
	}
	return differ;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fixtures' base names, sorted; NULL-terminated. */
static char **
fixture_names(size_t *count)
{
	DIR *d = opendir(FIXTURES);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, len;

	ck_assert_msg(d != NULL, "cannot open %s", FIXTURES);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".log") != 0)
			continue;
		names = realloc(names, (n + 2) * sizeof(*names));
		ck_assert_ptr_nonnull(names);
		names[n] = strndup(de->d_name, len - 4);
		ck_assert_ptr_nonnull(names[n]);
		n++;
	}
	closedir(d);
	ck_assert_msg(n > 0, "no fixtures in %s", FIXTURES);
	qsort(names, n, sizeof(*names), cmp_names);
	names[n] = NULL;
	*count = n;
	return names;
}

static void
free_names(char **names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/* ------------------------------------------------------------------ */
/* Golden files                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_golden)
{
	const char *update = getenv("BOUNCED_GOLDEN_UPDATE");
	char **names, path[512], *log, *want;
	bounce_ctx *ctx;
	struct text got;
	size_t count, i, len;
	FILE *fp;
	int failed = 0;

	/* one context: GMime does not come back from g_mime_shutdown() */
	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	names = fixture_names(&count);
	for (i = 0; i < count; i++) {
		memset(&got, 0, sizeof(got));
		text_add(&got, "");
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s.log",
		    FIXTURES, names[i]), (int)sizeof(path));
		log = testutil_read(path, &len);
		read_log(&got, ctx, format_of(names[i]), log, len);
		free(log);
		ck_assert_int_lt(snprintf(path, sizeof(path),
		    "%s/%s.expected.jsonl", FIXTURES, names[i]),
		    (int)sizeof(path));
		if (update != NULL && strcmp(update, "1") == 0) {
			fp = fopen(path, "wb");
			ck_assert_msg(fp != NULL, "cannot write %s", path);
			ck_assert_int_eq(fwrite(got.data, 1, got.len, fp),
			    got.len);
			ck_assert_int_eq(fclose(fp), 0);
			fprintf(stderr, "rewrote %s\n", path);
		} else {
			want = testutil_read(path, NULL);
			if (diff_lines(names[i], want, got.data))
				failed++;
			free(want);
		}
		free(got.data);
	}
	free_names(names);
	bounce_ctx_free(ctx);
	ck_assert_msg(failed == 0, "%d golden file(s) differ; if the change "
	    "is meant, run with BOUNCED_GOLDEN_UPDATE=1 and review the diff",
	    failed);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Unit tests                                                          */
/* ------------------------------------------------------------------ */

static bounce_ctx *test_ctx;
static bounce_log_reader *test_reader;

static void
setup_postfix(void)
{
	ck_assert_int_eq(bounce_ctx_new(&test_ctx, NULL), BOUNCE_OK);
	ck_assert_int_eq(bounce_log_reader_new(&test_reader, test_ctx,
	    BOUNCE_LOG_POSTFIX), BOUNCE_OK);
}

static void
teardown(void)
{
	bounce_log_reader_free(test_reader);
	bounce_ctx_free(test_ctx);
	test_reader = NULL;
	test_ctx = NULL;
}

static int
feed(const bounce_log_event **ev, const char *line)
{
	return bounce_log_reader_feed(ev, test_reader, line, strlen(line));
}

#define PF "Nov 28 01:21:11 mx1 postfix/"

static void
feed_qmgr(unsigned int n)
{
	const bounce_log_event *ev;
	char line[256];

	(void)snprintf(line, sizeof(line), PF "qmgr[1]: %08X: "
	    "from=<s%u@example.org>, size=100, nrcpt=1 (queue active)", n, n);
	ck_assert_int_eq(feed(&ev, line), BOUNCE_ENOTFOUND);
}

/* A delivery line for queue id n, and its event. */
static const bounce_log_event *
deliver(unsigned int n)
{
	const bounce_log_event *ev;
	char line[256];

	(void)snprintf(line, sizeof(line), PF "smtp[2]: %08X: "
	    "to=<r@example.net>, relay=none, delay=1, dsn=4.4.1, "
	    "status=deferred (connect to mx.example.net[192.0.2.1]:25: "
	    "Connection refused)", n);
	ck_assert_int_eq(feed(&ev, line), BOUNCE_OK);
	return ev;
}

/* The sender the reader knows for queue id n. */
static const char *
sender_of(unsigned int n)
{
	return deliver(n)->sender;
}

static const char *
msgid_of(unsigned int n)
{
	return deliver(n)->message_id;
}

START_TEST(test_map_bound)
{
	char want[64];
	unsigned int i;

	/* the default bound: 100,000 queue ids */
	for (i = 1; i <= LOG_MAP_MAX + 10; i++)
		feed_qmgr(i);
	ck_assert_uint_eq(log_reader_map_count(test_reader), LOG_MAP_MAX);
	/* the first ten were forgotten, the rest are known */
	for (i = 1; i <= 10; i++)
		ck_assert_ptr_null(sender_of(i));
	for (i = 11; i <= LOG_MAP_MAX + 10; i += 9973) {
		(void)snprintf(want, sizeof(want), "s%u@example.org", i);
		ck_assert_str_eq(sender_of(i), want);
	}
	ck_assert_str_eq(sender_of(LOG_MAP_MAX + 10), "s100010@example.org");
	ck_assert_uint_eq(log_reader_map_count(test_reader), LOG_MAP_MAX);
}
END_TEST

START_TEST(test_map_eviction)
{
	const bounce_log_event *ev;

	ck_assert_int_eq(log_reader_set_map_max(test_reader, 3), BOUNCE_OK);
	feed_qmgr(1);
	feed_qmgr(2);
	feed_qmgr(3);
	/* seeing 1 again makes 2 the least recently seen */
	ck_assert_str_eq(sender_of(1), "s1@example.org");
	feed_qmgr(4);
	ck_assert_uint_eq(log_reader_map_count(test_reader), 3);
	ck_assert_ptr_null(sender_of(2));
	ck_assert_str_eq(sender_of(1), "s1@example.org");
	ck_assert_str_eq(sender_of(3), "s3@example.org");
	ck_assert_str_eq(sender_of(4), "s4@example.org");
	/* "removed" frees a place, so nothing is evicted for 5 */
	ck_assert_int_eq(feed(&ev, PF "qmgr[1]: 00000003: removed"),
	    BOUNCE_ENOTFOUND);
	ck_assert_uint_eq(log_reader_map_count(test_reader), 2);
	ck_assert_ptr_null(sender_of(3));
	feed_qmgr(5);
	ck_assert_str_eq(sender_of(1), "s1@example.org");
	ck_assert_str_eq(sender_of(4), "s4@example.org");
	ck_assert_str_eq(sender_of(5), "s5@example.org");
	/* a queue id used again after removal starts afresh */
	ck_assert_int_eq(feed(&ev, PF "qmgr[1]: 00000001: removed"),
	    BOUNCE_ENOTFOUND);
	ck_assert_ptr_null(sender_of(1));
	ck_assert_int_eq(log_reader_set_map_max(test_reader, 0), BOUNCE_EINVAL);
}
END_TEST

START_TEST(test_map_strings)
{
	const bounce_log_event *ev;
	char line[2048], big[700];

	/* message-id first (cleanup), then sender (qmgr), both kept */
	ck_assert_int_eq(feed(&ev, PF "cleanup[3]: 0000000A: "
	    "message-id=<a@example.org>"), BOUNCE_ENOTFOUND);
	ck_assert_ptr_null(sender_of(10));
	ck_assert_str_eq(msgid_of(10), "a@example.org");
	feed_qmgr(10);
	ck_assert_str_eq(sender_of(10), "s10@example.org");
	ck_assert_str_eq(msgid_of(10), "a@example.org");
	/* long strings spill out of the entry and back */
	memset(big, 'x', 400);
	big[400] = '\0';
	(void)snprintf(line, sizeof(line), PF "cleanup[3]: 0000000A: "
	    "message-id=<%s@example.org>", big);
	ck_assert_int_eq(feed(&ev, line), BOUNCE_ENOTFOUND);
	ck_assert_str_eq(sender_of(10), "s10@example.org");
	ck_assert_uint_eq(strlen(msgid_of(10)), 412);
	feed_qmgr(10);
	ck_assert_str_eq(sender_of(10), "s10@example.org");
	ck_assert_uint_eq(strlen(msgid_of(10)), 412);
	ck_assert_int_eq(feed(&ev, PF "cleanup[3]: 0000000A: "
	    "message-id=<b@example.org>"), BOUNCE_ENOTFOUND);
	ck_assert_str_eq(sender_of(10), "s10@example.org");
	ck_assert_str_eq(msgid_of(10), "b@example.org");
	/* over LOG_MAP_STR_MAX: not kept rather than cut */
	memset(big, 'y', 600);
	big[600] = '\0';
	(void)snprintf(line, sizeof(line), PF "cleanup[3]: 0000000A: "
	    "message-id=<%s@example.org>", big);
	ck_assert_int_eq(feed(&ev, line), BOUNCE_ENOTFOUND);
	ck_assert_str_eq(sender_of(10), "s10@example.org");
	ck_assert_ptr_null(msgid_of(10));
	/* the null sender is known, and empty */
	ck_assert_int_eq(feed(&ev, PF "qmgr[1]: 0000000A: from=<>, size=1, "
	    "nrcpt=1 (queue active)"), BOUNCE_ENOTFOUND);
	ck_assert_str_eq(sender_of(10), "");
}
END_TEST

START_TEST(test_hostile)
{
	const bounce_log_event *ev;
	static const char ok[] = PF "smtp[2]: 0000000B: to=<r@example.net>, "
	    "relay=mx.example.net[192.0.2.1]:25, delay=1, dsn=5.1.1, "
	    "status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 "
	    "unknown (in reply to RCPT TO command))";
	static const char head[] = PF "smtp[2]: 0000000B: "
	    "to=<r@example.net>, relay=mx.example.net[192.0.2.1]:25, "
	    "delay=1, dsn=5.1.1, status=bounced (host "
	    "mx.example.net[192.0.2.1] said: 550 5.1.1 ";
	char *big;
	size_t n = 1024 * 1024, i;

	/* a 1 MB line: refused with the limit named, the reader goes on */
	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'A', n - sizeof(head) + 1);
	ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, big, n),
	    BOUNCE_ELIMIT);
	ck_assert_ptr_null(ev);
	ck_assert_ptr_nonnull(strstr(bounce_ctx_error(test_ctx), "65536"));
	/* at the limit: read, the text cut at max_field_bytes */
	big[LOG_LINE_MAX - 1] = ')';
	ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, big,
	    LOG_LINE_MAX), BOUNCE_OK);
	ck_assert_int_eq(ev->code, 550);
	ck_assert_str_eq(ev->enhanced, "5.1.1");
	ck_assert_uint_eq(strlen(ev->text), 16 * 1024);
	ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, big,
	    LOG_LINE_MAX + 1), BOUNCE_ELIMIT);
	free(big);
	ck_assert_int_eq(feed(&ev, ok), BOUNCE_OK);
	ck_assert_str_eq(ev->text, "unknown");
	ck_assert_int_eq(ev->phase, BOUNCE_PHASE_RCPT);

	/* NULs and control bytes become '?', trailing CR and NULs go */
	{
		char line[sizeof(ok) + 4];

		memcpy(line, ok, sizeof(ok));
		line[sizeof(ok) - 1] = '\r';
		line[sizeof(ok)] = '\0';
		line[sizeof(ok) + 1] = '\0';
		i = (size_t)(strstr(ok, "unknown") - ok);
		line[i + 2] = '\0';
		line[i + 3] = '\x1b';
		ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, line,
		    sizeof(ok) + 2), BOUNCE_OK);
		ck_assert_str_eq(ev->text, "un??own");
	}
	/* nothing, a NUL, NULL */
	ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, "", 0),
	    BOUNCE_ENOTFOUND);
	ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, "\0", 1),
	    BOUNCE_ENOTFOUND);
	ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, NULL, 0),
	    BOUNCE_ENOTFOUND);
	ck_assert_int_eq(bounce_log_reader_feed(&ev, test_reader, NULL, 1),
	    BOUNCE_EINVAL);
	ck_assert_int_eq(bounce_log_reader_feed(NULL, test_reader, "x", 1),
	    BOUNCE_EINVAL);
	/* every prefix of a delivery line (ASan and valgrind watch the
	 * reads): an event once the status is whole, its text cut */
	n = (size_t)(strstr(ok, "status=bounced") - ok) +
	    sizeof("status=bounced") - 1;
	for (i = 0; i < sizeof(ok) - 1; i++) {
		int err = bounce_log_reader_feed(&ev, test_reader, ok, i);

		ck_assert_int_eq(err, i >= n ? BOUNCE_OK : BOUNCE_ENOTFOUND);
		if (err == BOUNCE_OK)
			ck_assert_int_eq(ev->status, BOUNCE_LOG_BOUNCED);
	}
}
END_TEST

START_TEST(test_exim_prefixes)
{
	const bounce_log_event *ev;
	bounce_log_reader *r;

	ck_assert_int_eq(bounce_log_reader_new(&r, test_ctx, BOUNCE_LOG_EXIM),
	    BOUNCE_OK);
	for (size_t i = 0; i < 1000; i++) {
		static const char line[] = "2026-11-28 01:21:11 "
		    "1tEFGH-002CD3-4D ** a@example.net: Unrouteable address";

		/* every prefix, as a truncated log would have */
		if (bounce_log_reader_feed(&ev, r, line, i % sizeof(line)) ==
		    BOUNCE_OK)
			ck_assert_ptr_nonnull(ev->recipient);
	}
	bounce_log_reader_free(r);
}
END_TEST

START_TEST(test_new_args)
{
	bounce_log_reader *r;

	ck_assert_int_eq(bounce_log_reader_new(NULL, test_ctx,
	    BOUNCE_LOG_EXIM), BOUNCE_EINVAL);
	ck_assert_int_eq(bounce_log_reader_new(&r, NULL, BOUNCE_LOG_EXIM),
	    BOUNCE_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(bounce_log_reader_new(&r, test_ctx,
	    (bounce_log_format)7), BOUNCE_EINVAL);
	ck_assert_ptr_null(r);
	bounce_log_reader_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Speed (only with BOUNCED_LOG_BENCH=N)                               */
/* ------------------------------------------------------------------ */

static void
bench_format(const char *prefix, bounce_log_format format,
    unsigned long want)
{
	const bounce_log_event *ev;
	bounce_log_reader *r;
	struct timespec t0, t1;
	char **names, path[512], *data;
	const char **lines;
	size_t *lens, count, nlines = 0, cap = 0, i, len;
	unsigned long fed = 0, events = 0;
	const char *p, *end, *nl;
	double secs;
	char **bufs;
	size_t nbufs = 0;

	names = fixture_names(&count);
	lines = NULL;
	lens = NULL;
	bufs = calloc(count, sizeof(*bufs));
	ck_assert_ptr_nonnull(bufs);
	for (i = 0; i < count; i++) {
		/* the realistic fixtures, not the hostile ones */
		if (strncmp(names[i], prefix, strlen(prefix)) != 0 ||
		    strstr(names[i], "hostile") != NULL)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s.log", FIXTURES,
		    names[i]);
		data = testutil_read(path, &len);
		bufs[nbufs++] = data;
		for (p = data, end = data + len; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if (nlines == cap) {
				cap = cap ? cap * 2 : 256;
				lines = realloc(lines, cap * sizeof(*lines));
				lens = realloc(lens, cap * sizeof(*lens));
				ck_assert(lines != NULL && lens != NULL);
			}
			lines[nlines] = p;
			lens[nlines++] = (size_t)(nl - p);
		}
	}
	ck_assert_uint_gt(nlines, 0);
	ck_assert_int_eq(bounce_log_reader_new(&r, test_ctx, format),
	    BOUNCE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (fed = 0; fed < want; fed++)
		if (bounce_log_reader_feed(&ev, r, lines[fed % nlines],
		    lens[fed % nlines]) == BOUNCE_OK)
			events++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("log bench: %s: %lu lines (%zu distinct), %lu events in "
	    "%.3f s: %.0f lines/s\n", prefix, fed, nlines, events, secs,
	    secs > 0 ? (double)fed / secs : 0.0);
	bounce_log_reader_free(r);
	for (i = 0; i < nbufs; i++)
		free(bufs[i]);
	free(bufs);
	free(lines);
	free(lens);
	free_names(names);
}

START_TEST(test_bench)
{
	const char *n = getenv("BOUNCED_LOG_BENCH");
	unsigned long want;
	char *end;

	if (n == NULL)
		return;
	want = strtoul(n, &end, 10);
	ck_assert_msg(*end == '\0' && want > 0 && want <= 1000000000ul,
	    "BOUNCED_LOG_BENCH must be a number of lines");
	bench_format("postfix", BOUNCE_LOG_POSTFIX, want);
	bench_format("exim", BOUNCE_LOG_EXIM, want);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("golden");
	TCase *tu = tcase_create("reader");

	tcase_add_test(tc, test_golden);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tu, setup_postfix, teardown);
	tcase_set_timeout(tu, 600);
	tcase_add_test(tu, test_map_bound);
	tcase_add_test(tu, test_map_eviction);
	tcase_add_test(tu, test_map_strings);
	tcase_add_test(tu, test_hostile);
	tcase_add_test(tu, test_exim_prefixes);
	tcase_add_test(tu, test_new_args);
	tcase_add_test(tu, test_bench);
	suite_add_tcase(s, tu);
	return s;
}

TEST_MAIN(log_suite)
