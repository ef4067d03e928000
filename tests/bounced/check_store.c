/*
 * check_store.c - the PostgreSQL store (bounced/store_pg.c) against a real
 * server: storing a message and its events, duplicates stored once, SMTP
 * results, batches (with duplicates inside, from 8 connections at once,
 * with one item refused), events of messages with 0, 1 and 5 recipients
 * in one statement, a batch in flight while the next is queued
 * (store_batch_send/wait: results, misuse, a refused item, the server
 * down), partitions for old months, log positions, and the server going
 * away mid-run and coming back.
 *
 * The parser is not what is tested here: recipients come from the test
 * (store_msg.recipients) as well as from whatever bounce_parse() gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrate.h"
#include "pgconn.h"
#include "pgtest.h"
#include "store.h"
#include "testutil.h"

#define FIXTURE "tests/fixtures/store/dsn-5.eml"

static const char *db;
static char err[2048];

/* what the fixture's five recipients say */
static const bounce_recipient rcpts[5] = {
	{ .address = "Alice@Example.NET", .kind = BOUNCE_KIND_BOUNCE,
	    .action = "failed", .status = "5.1.1", .dsn_status = "5.1.1",
	    .reply_code = 550, .diagnostic = "550 5.1.1 user unknown",
	    .remote_mta = "in.example.net", .phase = BOUNCE_PHASE_RCPT,
	    .category = BOUNCE_CAT_HARD, .reason = "user_unknown",
	    .rule = "test.user_unknown" },
	{ .address = "bob@example.net", .kind = BOUNCE_KIND_BOUNCE,
	    .action = "failed", .status = "5.2.2", .reply_code = 552,
	    .diagnostic = "552 5.2.2 mailbox full",
	    .category = BOUNCE_CAT_SOFT, .reason = "mailbox_full",
	    .rule = "test.full" },
	{ .address = "carol@example.com", .kind = BOUNCE_KIND_BOUNCE,
	    .action = "failed", .status = "5.7.1", .reply_code = 554,
	    .diagnostic = "554 5.7.1 blocked using zen.spamhaus.org",
	    .category = BOUNCE_CAT_REPUTATION, .reason = "blocklisted",
	    .rule = "test.dnsbl" },
	{ .address = "dave@example.com", .kind = BOUNCE_KIND_DELAYED,
	    .action = "delayed", .status = "4.4.1",
	    .diagnostic = "connect to mx.example.com: Connection timed out" },
	{ .address = "erin@example.org", .kind = BOUNCE_KIND_BOUNCE,
	    .action = "failed", .status = "5.4.4",
	    .diagnostic = "Host or domain name not found\xff\xfe",
	    .category = BOUNCE_CAT_HARD, .reason = "domain_unknown",
	    .rule = "test.nxdomain" },
};

static void
migrate_db(const char *conninfo)
{
	struct migrate_set set;

	ck_assert_int_eq(migrate_set_builtin(&set, err, sizeof(err)), 0);
	ck_assert_msg(migrate_run(conninfo, &set, 0, NULL, err,
	    sizeof(err)) == 0, "%s", err);
	migrate_set_free(&set);
}

/* unchecked fixture: one migrated database for the whole suite */
static void
setup_db(void)
{
	db = pgtest_new_db("store");
	migrate_db(db);
}

static struct store *
open_store(const char *conninfo)
{
	struct store *st = NULL;

	ck_assert_msg(store_open(&st, conninfo, err, sizeof(err)) == 0, "%s",
	    err);
	return st;
}

/* message n of a family: the fixture with its own first line */
static char *
make_msg(const char *family, int n, size_t *len)
{
	static char *fixture;
	static size_t flen;
	size_t size;
	char *m;
	int k;

	if (fixture == NULL)
		fixture = testutil_read(FIXTURE, &flen);
	size = flen + 128;
	ck_assert_ptr_nonnull(m = malloc(size));
	k = snprintf(m, size, "X-Test: %s %d\n%s", family, n, fixture);
	ck_assert(k > 0 && (size_t)k < size);
	*len = (size_t)k;
	return m;
}

static void
msg_init(struct store_msg *m, const char *raw, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->raw = raw;
	m->len = len;
	m->recipients = rcpts;
	m->nrecipients = 5;
	m->name = "test message";
	m->list = "announce";
	m->envelope_sender = "MAILER-DAEMON@mx.example.net";
	m->bounce_address = "list-bounces@lists.example.org";
	m->source = "batch";
}

/* the messages.id of raw, or -1 */
static long long
message_id(PGconn *c, const char *raw, size_t len)
{
	unsigned char d[32];
	char hex[65];

	ck_assert_int_eq(pgconn_sha256(d, raw, len), 0);
	pgconn_hex(hex, d, 32);
	return pgtest_num(c, "SELECT coalesce((SELECT id FROM messages WHERE "
	    "sha256 = decode($1, 'hex')), -1)", hex);
}

static long long
events_of(PGconn *c, long long id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", id);
	return pgtest_num(c, "SELECT count(*) FROM events WHERE message_id = "
	    "$1::bigint", buf);
}

START_TEST(test_message_stored_once)
{
	struct store *st = open_store(db);
	struct store_msg m;
	bounce_report *report = NULL;
	bounce_ctx *ctx = NULL;
	const char *vals[1];
	char idbuf[32];
	long long id;
	PGresult *r;
	PGconn *c;
	size_t len;
	char *raw = make_msg("once", 1, &len);

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	ck_assert_int_eq(bounce_parse(&report, ctx, raw, len, NULL), BOUNCE_OK);
	msg_init(&m, raw, len);
	m.report = report;
	ck_assert_msg(store_message(st, &m) == STORE_STORED, "%s",
	    store_error(st));
	ck_assert_int_eq(store_message(st, &m), STORE_DUPLICATE);
	c = pgtest_connect(db);
	ck_assert_int_ge(id = message_id(c, raw, len), 1);
	ck_assert_int_eq(events_of(c, id), 5);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM lists WHERE "
	    "name = 'announce'", NULL), 1);
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	vals[0] = idbuf;
	/* the raw bytes come back as they went in */
	r = PQexecParams(c, "SELECT raw, size, envelope_sender, "
	    "recipient_count FROM messages WHERE id = $1::bigint", 1, NULL,
	    vals, NULL, NULL, 1);
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	ck_assert_int_eq(PQgetlength(r, 0, 0), (int)len);
	ck_assert_int_eq(memcmp(PQgetvalue(r, 0, 0), raw, len), 0);
	ck_assert_str_eq(PQgetvalue(r, 0, 2), "mailer-daemon@mx.example.net");
	PQclear(r);
	/* addresses lower-cased, verdicts kept, bad UTF-8 replaced */
	r = PQexecParams(c, "SELECT recipient, category, reason, rule, phase, "
	    "reply_code, diagnostic, kind FROM events WHERE message_id = "
	    "$1::bigint ORDER BY rcpt_index", 1, NULL, vals, NULL, NULL, 0);
	ck_assert_int_eq(PQntuples(r), 5);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "alice@example.net");
	ck_assert_str_eq(PQgetvalue(r, 0, 1), "hard");
	ck_assert_str_eq(PQgetvalue(r, 0, 2), "user_unknown");
	ck_assert_str_eq(PQgetvalue(r, 0, 3), "test.user_unknown");
	ck_assert_str_eq(PQgetvalue(r, 0, 4), "rcpt");
	ck_assert_str_eq(PQgetvalue(r, 0, 5), "550");
	ck_assert_str_eq(PQgetvalue(r, 2, 1), "reputation");
	ck_assert(PQgetisnull(r, 3, 1));	/* delayed: no category */
	ck_assert(PQgetisnull(r, 3, 5));	/* no reply code */
	ck_assert_str_eq(PQgetvalue(r, 3, 7), "delayed");
	ck_assert_str_eq(PQgetvalue(r, 4, 6),
	    "Host or domain name not found\xef\xbf\xbd\xef\xbf\xbd");
	PQclear(r);
	PQfinish(c);
	bounce_report_free(report);
	bounce_ctx_free(ctx);
	store_close(st);
	free(raw);
}
END_TEST

START_TEST(test_report_recipients)
{
	struct store *st = open_store(db);
	struct store_msg m;
	bounce_report *report = NULL;
	bounce_ctx *ctx = NULL;
	long long id;
	PGconn *c;
	size_t len;
	char *raw = make_msg("report", 1, &len);

	/* whatever the parser makes of it today, it is stored as it says */
	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	ck_assert_int_eq(bounce_parse(&report, ctx, raw, len, NULL), BOUNCE_OK);
	msg_init(&m, raw, len);
	m.recipients = NULL;
	m.report = report;
	ck_assert_msg(store_message(st, &m) == STORE_STORED, "%s",
	    store_error(st));
	c = pgtest_connect(db);
	id = message_id(c, raw, len);
	ck_assert_int_eq(events_of(c, id),
	    (long long)bounce_report_recipient_count(report));
	PQfinish(c);
	bounce_report_free(report);
	bounce_ctx_free(ctx);
	store_close(st);
	free(raw);
}
END_TEST

START_TEST(test_unparsed_binary)
{
	static const char raw[] = "From: x\n\nbinary \0\xff\xfe\x01 body\n";
	struct store *st = open_store(db);
	struct store_msg m;
	PGconn *c;

	memset(&m, 0, sizeof(m));
	m.raw = raw;
	m.len = sizeof(raw) - 1;
	ck_assert_int_eq(store_message(st, &m), STORE_STORED);
	ck_assert_int_eq(store_message(st, &m), STORE_DUPLICATE);
	c = pgtest_connect(db);
	ck_assert_int_ge(message_id(c, raw, sizeof(raw) - 1), 1);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "parse_status = 'error' AND raw = decode($1, 'base64')",
	    "RnJvbTogeAoKYmluYXJ5IAD//gEgYm9keQo="), 1);
	PQfinish(c);
	store_close(st);
}
END_TEST

START_TEST(test_smtp_event)
{
	static const char line[] = "Nov 28 01:21:11 mx postfix/smtp[1]: "
	    "4F3A21C0A2: to=<Frank@example.net>, status=bounced (host said: "
	    "550 5.1.1 no such user \xc3)";
	struct store *st = open_store(db);
	struct store_smtp ev;
	char key[512];
	PGconn *c;
	int n;

	memset(&ev, 0, sizeof(ev));
	n = snprintf(key, sizeof(key), "/var/log/mail.log%c%s", 0, line);
	ev.key = key;
	ev.keylen = (size_t)n;
	ev.source = "smtp-log";
	ev.name = "/var/log/mail.log line 7";
	ev.recipient = "Frank@example.net";
	ev.list = "announce";
	ev.message_id = "<news-2024-11@lists.example.org>";
	ev.kind = BOUNCE_KIND_BOUNCE;
	ev.action = "bounced";
	ev.phase = BOUNCE_PHASE_RCPT;
	ev.code = 550;
	ev.enhanced = "5.1.1";
	ev.text = line + 70;
	ev.remote_mta = "in.example.net";
	ev.verdict.category = BOUNCE_CAT_HARD;
	ev.verdict.reason = "user_unknown";
	ev.verdict.rule = "test.user_unknown";
	ev.occurred_at = 1732756871;	/* 2024-11-28 01:21:11 UTC */
	ck_assert_msg(store_smtp_event(st, &ev) == STORE_STORED, "%s",
	    store_error(st));
	ck_assert_int_eq(store_smtp_event(st, &ev), STORE_DUPLICATE);
	/* the same line from another log is another result */
	n = snprintf(key, sizeof(key), "/var/log/mail.log.1%c%s", 0, line);
	ev.keylen = (size_t)n;
	ck_assert_int_eq(store_smtp_event(st, &ev), STORE_STORED);
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events WHERE "
	    "source = 'smtp-log' AND recipient = 'frank@example.net' AND "
	    "category = 'hard' AND reply_code = 550 AND phase = 'rcpt' AND "
	    "occurred_at = '2024-11-28 01:21:11+00' AND "
	    "tableoid = 'events_202411'::regclass", NULL), 2);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM event_keys",
	    NULL), 2);
	PQfinish(c);
	store_close(st);
}
END_TEST

START_TEST(test_batch_with_duplicates)
{
	struct store *st = open_store(db);
	int stored = 0, dup = 0, i, rc;
	struct store_msg m;
	char *raws[1000];
	size_t lens[1000];
	PGconn *c;

	for (i = 0; i < 1000; i++)
		raws[i] = make_msg("batch", i, &lens[i]);
	for (i = 0; i < 1010; i++) {
		/* the last ten repeat earlier ones in the same batch */
		msg_init(&m, raws[i < 1000 ? i : i - 1000],
		    lens[i < 1000 ? i : i - 1000]);
		ck_assert_int_eq(store_batch_add_message(st, &m), i % 505);
		if (store_batch_count(st) == 505) {
			ck_assert_int_eq(store_batch_full(st), 1);
			ck_assert_msg((rc = store_batch_flush(st)) == 0,
			    "%s", store_error(st));
			for (rc = 0; rc < 505; rc++) {
				stored += store_batch_result(st, (size_t)rc) ==
				    STORE_STORED;
				dup += store_batch_result(st, (size_t)rc) ==
				    STORE_DUPLICATE;
			}
		}
	}
	ck_assert_int_eq(stored, 1000);
	ck_assert_int_eq(dup, 10);
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "raw LIKE 'X-Test: batch %'::bytea", NULL), 1000);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events e JOIN "
	    "messages m ON m.id = e.message_id WHERE m.raw LIKE "
	    "'X-Test: batch %'::bytea", NULL), 5000);
	PQfinish(c);
	for (i = 0; i < 1000; i++)
		free(raws[i]);
	store_close(st);
}
END_TEST

/* one of the parallel writers: all 1,000 messages, its own order */
static void
writer(int fd, unsigned int seed)
{
	int order[1000], i, j, t, counts[3] = { 0, 0, 0 }, rc;
	struct store *st = NULL;
	struct store_msg m;
	size_t len, k;
	char *raw;

	if (store_open(&st, db, err, sizeof(err)) != 0)
		_exit(2);
	for (i = 0; i < 1000; i++)
		order[i] = i;
	for (i = 999; i > 0; i--) {
		j = (int)(rand_r(&seed) % (unsigned)(i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < 1000; i++) {
		raw = make_msg("parallel", order[i], &len);
		msg_init(&m, raw, len);
		if (store_batch_add_message(st, &m) < 0)
			_exit(3);
		free(raw);
		if (store_batch_count(st) == 100 || i == 999) {
			store_batch_flush(st);
			for (k = 0; k < 100; k++) {
				rc = store_batch_result(st, k);
				counts[rc == STORE_STORED ? 0 :
				    rc == STORE_DUPLICATE ? 1 : 2]++;
			}
		}
	}
	store_close(st);
	if (write(fd, counts, sizeof(counts)) != (ssize_t)sizeof(counts))
		_exit(4);
	_exit(0);
}

START_TEST(test_parallel_writers)
{
	int fds[2], counts[3], total[3] = { 0, 0, 0 }, i, status;
	pid_t pids[8];
	PGconn *c;

	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < 8; i++) {
		ck_assert_int_ge(pids[i] = fork(), 0);
		if (pids[i] == 0) {
			close(fds[0]);
			writer(fds[1], (unsigned)i + 1);
		}
	}
	close(fds[1]);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "writer %d failed (%d)", i, WEXITSTATUS(status));
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(read(fds[0], counts, sizeof(counts)),
		    (ssize_t)sizeof(counts));
		total[0] += counts[0];
		total[1] += counts[1];
		total[2] += counts[2];
	}
	close(fds[0]);
	ck_assert_int_eq(total[2], 0);
	ck_assert_int_eq(total[0], 1000);
	ck_assert_int_eq(total[1], 7000);
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "raw LIKE 'X-Test: parallel %'::bytea", NULL), 1000);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events e JOIN "
	    "messages m ON m.id = e.message_id WHERE m.raw LIKE "
	    "'X-Test: parallel %'::bytea", NULL), 5000);
	PQfinish(c);
}
END_TEST

/*
 * A fresh database with a rule of this installation that one message
 * breaks (envelope sender evil@example.org), its store, and a connection
 * for checks in *c.
 */
static struct store *
open_store_with_rule(const char *tag, PGconn **c)
{
	const char *other = pgtest_new_db(tag);

	migrate_db(other);
	*c = pgtest_connect(other);
	pgtest_exec(*c, "ALTER TABLE messages ADD CONSTRAINT no_evil CHECK "
	    "(envelope_sender <> 'evil@example.org')");
	return open_store(other);
}

/* Queue message n of family (named "family-n"), the evil one when asked;
 * its raw bytes into *raw (caller frees).  Returns its index. */
static int
queue_named(struct store *st, const char *family, int n, int evil,
    char **raw)
{
	struct store_msg m;
	char name[48];
	size_t len;

	*raw = make_msg(family, n, &len);
	msg_init(&m, *raw, len);
	snprintf(name, sizeof(name), "%s-%d", family, n);
	m.name = name;
	if (evil)
		m.envelope_sender = "evil@example.org";
	return store_batch_add_message(st, &m);
}

START_TEST(test_refused_item)
{
	struct store *st;
	char *raws[10];
	PGconn *c;
	int i;

	st = open_store_with_rule("refused", &c);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(queue_named(st, "refused", i, i == 4,
		    &raws[i]), i);
	ck_assert_int_eq(store_batch_flush(st), STORE_EDATA);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(store_batch_result(st, (size_t)i),
		    i == 4 ? STORE_EDATA : STORE_STORED);
	ck_assert_msg(strstr(store_batch_error(st, 4), "refused-4") != NULL,
	    "%s", store_batch_error(st, 4));
	ck_assert_msg(strstr(store_error(st), "no_evil") != NULL, "%s",
	    store_error(st));
	ck_assert_str_eq(store_batch_error(st, 3), "");
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages", NULL),
	    9);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events", NULL),
	    45);
	PQfinish(c);
	store_close(st);
	for (i = 0; i < 10; i++)
		free(raws[i]);
}
END_TEST

/* messages with 0, 1 and 5 recipients in one chunk: each its own events */
START_TEST(test_events_follow_their_message)
{
	struct store *st = open_store(db);
	struct store_msg m;
	char *raws[30], idbuf[32];
	const char *vals[1];
	size_t lens[30];
	long long id;
	PGresult *r;
	PGconn *c;
	int i;

	for (i = 0; i < 30; i++) {
		raws[i] = make_msg("mixed", i, &lens[i]);
		msg_init(&m, raws[i], lens[i]);
		m.nrecipients = (size_t)(i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 5);
		/* the one recipient differs: the third of the fixture's */
		if (i % 3 == 1)
			m.recipients = &rcpts[2];
		ck_assert_int_eq(store_batch_add_message(st, &m), i);
	}
	ck_assert_msg(store_batch_flush(st) == 0, "%s", store_error(st));
	c = pgtest_connect(db);
	for (i = 0; i < 30; i++) {
		ck_assert_int_eq(store_batch_result(st, (size_t)i),
		    STORE_STORED);
		id = message_id(c, raws[i], lens[i]);
		ck_assert_int_eq(events_of(c, id), i % 3 == 0 ? 0 :
		    i % 3 == 1 ? 1 : 5);
		snprintf(idbuf, sizeof(idbuf), "%lld", id);
		vals[0] = idbuf;
		r = PQexecParams(c, "SELECT m.recipient_count, e.recipient, "
		    "e.rcpt_index, e.reply_code, e.category FROM messages m "
		    "LEFT JOIN events e ON e.message_id = m.id WHERE m.id = "
		    "$1::bigint ORDER BY e.rcpt_index", 1, NULL, vals, NULL,
		    NULL, 0);
		ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
		ck_assert_int_eq(strtol(PQgetvalue(r, 0, 0), NULL, 10),
		    i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 5);
		if (i % 3 == 1) {
			ck_assert_str_eq(PQgetvalue(r, 0, 1),
			    "carol@example.com");
			ck_assert_str_eq(PQgetvalue(r, 0, 2), "0");
			ck_assert_str_eq(PQgetvalue(r, 0, 3), "554");
			ck_assert_str_eq(PQgetvalue(r, 0, 4), "reputation");
		} else if (i % 3 == 2) {
			ck_assert_str_eq(PQgetvalue(r, 4, 1),
			    "erin@example.org");
			ck_assert_str_eq(PQgetvalue(r, 4, 2), "4");
		}
		PQclear(r);
	}
	PQfinish(c);
	for (i = 0; i < 30; i++)
		free(raws[i]);
	store_close(st);
}
END_TEST

/* batch A in flight while batch B is queued; B repeats some of A */
START_TEST(test_overlap)
{
	struct store *st = open_store(db);
	struct store_msg m;
	char *raws[300];
	size_t lens[300];
	PGconn *c;
	int i, found;
	uint64_t x;

	for (i = 0; i < 300; i++)
		raws[i] = make_msg("overlap", i, &lens[i]);
	for (i = 0; i < 200; i++) {
		msg_init(&m, raws[i], lens[i]);
		ck_assert_int_eq(store_batch_add_message(st, &m), i);
	}
	ck_assert_int_eq(store_batch_send(st), STORE_STORED);
	ck_assert_uint_eq(store_batch_count(st), 0);
	/* while A is in flight: its results are not there yet, and nothing
	 * that needs the connection may run */
	ck_assert_int_eq(store_batch_result(st, 0), STORE_EINVAL);
	ck_assert_int_eq(store_batch_send(st), STORE_EINVAL);
	ck_assert_int_eq(store_batch_flush(st), STORE_EINVAL);
	ck_assert_msg(strstr(store_error(st), "store_batch_wait") != NULL,
	    "%s", store_error(st));
	msg_init(&m, raws[299], lens[299]);
	ck_assert_int_eq(store_message(st, &m), STORE_EINVAL);
	ck_assert_int_eq(store_log_position_get(st, "x", &found, &x, &x, &x),
	    STORE_EINVAL);
	/* B: 100 new, then 50 of A again, queued meanwhile */
	for (i = 0; i < 150; i++) {
		msg_init(&m, raws[i < 100 ? 200 + i : i], lens[i < 100 ?
		    200 + i : i]);
		ck_assert_int_eq(store_batch_add_message(st, &m), i);
	}
	ck_assert_uint_eq(store_batch_count(st), 150);
	ck_assert_msg(store_batch_wait(st) == 0, "%s", store_error(st));
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(store_batch_result(st, (size_t)i),
		    STORE_STORED);
	ck_assert_int_eq(store_batch_result(st, 200), STORE_EINVAL);
	/* nothing in flight: waiting again is harmless, results stay */
	ck_assert_int_eq(store_batch_wait(st), STORE_STORED);
	ck_assert_int_eq(store_batch_result(st, 199), STORE_STORED);
	ck_assert_int_eq(store_batch_send(st), STORE_STORED);
	ck_assert_int_eq(store_batch_wait(st), STORE_STORED);
	for (i = 0; i < 150; i++)
		ck_assert_int_eq(store_batch_result(st, (size_t)i),
		    i < 100 ? STORE_STORED : STORE_DUPLICATE);
	/* and the one-at-a-time calls work again */
	msg_init(&m, raws[0], lens[0]);
	ck_assert_int_eq(store_message(st, &m), STORE_DUPLICATE);
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "raw LIKE 'X-Test: overlap %'::bytea", NULL), 300);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events e JOIN "
	    "messages m ON m.id = e.message_id WHERE m.raw LIKE "
	    "'X-Test: overlap %'::bytea", NULL), 1500);
	PQfinish(c);
	for (i = 0; i < 300; i++)
		free(raws[i]);
	store_close(st);
}
END_TEST

/* a refused item in a batch sent in the background: only it fails, and
 * the batch queued meanwhile is untouched */
START_TEST(test_overlap_refused_item)
{
	struct store *st;
	char *raws[20];
	PGconn *c;
	int i;

	st = open_store_with_rule("refused_async", &c);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(queue_named(st, "refused-async", i, i == 7,
		    &raws[i]), i % 10);
		if (i == 9)
			ck_assert_int_eq(store_batch_send(st), STORE_STORED);
	}
	ck_assert_int_eq(store_batch_wait(st), STORE_EDATA);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(store_batch_result(st, (size_t)i),
		    i == 7 ? STORE_EDATA : STORE_STORED);
	ck_assert_msg(strstr(store_batch_error(st, 7), "refused-async-7") !=
	    NULL, "%s", store_batch_error(st, 7));
	ck_assert_uint_eq(store_batch_count(st), 10);
	ck_assert_int_eq(store_batch_flush(st), STORE_STORED);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(store_batch_result(st, (size_t)i),
		    STORE_STORED);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages", NULL),
	    19);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events", NULL),
	    95);
	PQfinish(c);
	store_close(st);
	for (i = 0; i < 20; i++)
		free(raws[i]);
}
END_TEST

/* store_batch_discard(): the queue goes, the batch in flight does not */
START_TEST(test_discard)
{
	struct store *st = open_store(db);
	struct store_msg m;
	char *a, *b;
	size_t alen, blen;
	PGconn *c;

	a = make_msg("discard", 1, &alen);
	b = make_msg("discard", 2, &blen);
	msg_init(&m, a, alen);
	ck_assert_int_eq(store_batch_add_message(st, &m), 0);
	ck_assert_int_eq(store_batch_send(st), STORE_STORED);
	msg_init(&m, b, blen);
	ck_assert_int_eq(store_batch_add_message(st, &m), 0);
	store_batch_discard(st);
	ck_assert_uint_eq(store_batch_count(st), 0);
	ck_assert_int_eq(store_batch_wait(st), STORE_STORED);
	ck_assert_int_eq(store_batch_result(st, 0), STORE_STORED);
	ck_assert_int_eq(store_batch_flush(st), STORE_STORED);
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "raw LIKE 'X-Test: discard %'::bytea", NULL), 1);
	ck_assert_int_eq(message_id(c, b, blen), -1);
	PQfinish(c);
	store_close(st);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_old_month_partition)
{
	struct store *st = open_store(db);
	struct store_msg m;
	PGconn *c;
	size_t len;
	char *raw = make_msg("old", 1, &len);

	msg_init(&m, raw, len);
	m.received_at = 1552608000;	/* 2019-03-15 00:00:00 UTC */
	ck_assert_int_eq(store_message(st, &m), STORE_STORED);
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events_201903",
	    NULL), 5);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events_default",
	    NULL), 0);
	PQfinish(c);
	store_close(st);
	free(raw);
}
END_TEST

START_TEST(test_log_position)
{
	struct store *st = open_store(db);
	uint64_t dev = 0, ino = 0, off = 0;
	int found = 1;

	ck_assert_int_eq(store_log_position_get(st, "/var/log/mail.log",
	    &found, &dev, &ino, &off), 0);
	ck_assert_int_eq(found, 0);
	ck_assert_int_ge(store_batch_add_log_position(st, "/var/log/mail.log",
	    2049, 1234567, 987654), 0);
	ck_assert_msg(store_batch_flush(st) == 0, "%s", store_error(st));
	ck_assert_int_eq(store_batch_result(st, 0), STORE_STORED);
	ck_assert_int_eq(store_log_position_get(st, "/var/log/mail.log",
	    &found, &dev, &ino, &off), 0);
	ck_assert_int_eq(found, 1);
	ck_assert_uint_eq(dev, 2049);
	ck_assert_uint_eq(ino, 1234567);
	ck_assert_uint_eq(off, 987654);
	ck_assert_int_ge(store_batch_add_log_position(st, "/var/log/mail.log",
	    2049, UINT64_MAX, 5), 0);
	ck_assert_int_eq(store_batch_flush(st), 0);
	ck_assert_int_eq(store_log_position_get(st, "/var/log/mail.log",
	    &found, &dev, &ino, &off), 0);
	ck_assert(ino == UINT64_MAX);
	ck_assert_uint_eq(off, 5);
	store_close(st);
}
END_TEST

START_TEST(test_unusable_database)
{
	const char *empty = pgtest_new_db("empty");
	struct store *st = NULL;

	ck_assert_int_eq(store_open(&st, empty, err, sizeof(err)),
	    STORE_ECONFIG);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "bounced db init") != NULL, "%s", err);
	ck_assert_int_eq(store_open(&st, "host=/nonexistent dbname=x", err,
	    sizeof(err)), STORE_ETEMP);
	ck_assert_int_eq(store_exit_status(STORE_ETEMP), 75);
	ck_assert_int_eq(store_open(&st, "", err, sizeof(err)),
	    STORE_ECONFIG);
	ck_assert_msg(strstr(err, "BOUNCED_DATABASE_URL") != NULL, "%s", err);
}
END_TEST

START_TEST(test_server_restart)
{
	struct store *st;
	struct store_msg m;
	char *a, *b, *raws[20];
	size_t alen, blen, lens[20];
	PGconn *c;
	int i;

	if (!pgtest_private()) {
		fprintf(stderr, "check_store: NOT RUN: the server-restart test "
		    "needs the private cluster; unset BOUNCED_DATABASE_URL to "
		    "run it\n");
		return;
	}
	st = open_store(db);
	a = make_msg("restart", 1, &alen);
	b = make_msg("restart", 2, &blen);
	msg_init(&m, a, alen);
	ck_assert_int_eq(store_message(st, &m), STORE_STORED);
	ck_assert_int_eq(pgtest_pg("stop", "fast"), 0);
	/* down: not stored, and the command would exit 75 */
	msg_init(&m, b, blen);
	ck_assert_int_eq(store_message(st, &m), STORE_ETEMP);
	ck_assert_int_eq(store_exit_status(STORE_ETEMP), 75);
	ck_assert_msg(strstr(store_error(st), "again") != NULL, "%s",
	    store_error(st));
	for (i = 0; i < 20; i++) {
		raws[i] = make_msg("restart-batch", i, &lens[i]);
		msg_init(&m, raws[i], lens[i]);
		ck_assert_int_ge(store_batch_add_message(st, &m), 0);
	}
	ck_assert_int_eq(store_batch_flush(st), STORE_ETEMP);
	ck_assert_int_eq(store_batch_result(st, 19), STORE_ETEMP);
	/* sent in the background: the failure comes from the wait */
	for (i = 0; i < 20; i++) {
		msg_init(&m, raws[i], lens[i]);
		ck_assert_int_ge(store_batch_add_message(st, &m), 0);
	}
	ck_assert_int_eq(store_batch_send(st), STORE_STORED);
	ck_assert_int_eq(store_batch_wait(st), STORE_ETEMP);
	ck_assert_int_eq(store_batch_result(st, 0), STORE_ETEMP);
	ck_assert_int_eq(pgtest_pg("start", NULL), 0);
	/* back: the same handle reconnects; re-delivery is stored once */
	msg_init(&m, b, blen);
	ck_assert_msg(store_message(st, &m) == STORE_STORED, "%s",
	    store_error(st));
	ck_assert_int_eq(store_message(st, &m), STORE_DUPLICATE);
	msg_init(&m, a, alen);
	ck_assert_int_eq(store_message(st, &m), STORE_DUPLICATE);
	for (i = 0; i < 20; i++) {
		msg_init(&m, raws[i], lens[i]);
		ck_assert_int_ge(store_batch_add_message(st, &m), 0);
	}
	ck_assert_int_eq(store_batch_send(st), 0);
	ck_assert_int_eq(store_batch_wait(st), 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(store_batch_result(st, (size_t)i),
		    STORE_STORED);
	c = pgtest_connect(db);
	ck_assert_int_eq(message_id(c, b, blen) > 0, 1);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "raw LIKE 'X-Test: restart%'::bytea", NULL), 22);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events e JOIN "
	    "messages m ON m.id = e.message_id WHERE m.raw LIKE "
	    "'X-Test: restart%'::bytea", NULL), 110);
	PQfinish(c);
	store_close(st);
	for (i = 0; i < 20; i++)
		free(raws[i]);
	free(a);
	free(b);
}
END_TEST

static Suite *
store_suite(void)
{
	char why[1024];
	Suite *s;
	TCase *tc;

	if (pgtest_setup(why, sizeof(why)) != 0)
		return pgtest_failed_suite("store", why);
	s = suite_create("store");
	tc = tcase_create("postgresql");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup_db, NULL);
	tcase_add_test(tc, test_message_stored_once);
	tcase_add_test(tc, test_report_recipients);
	tcase_add_test(tc, test_unparsed_binary);
	tcase_add_test(tc, test_smtp_event);
	tcase_add_test(tc, test_batch_with_duplicates);
	tcase_add_test(tc, test_parallel_writers);
	tcase_add_test(tc, test_refused_item);
	tcase_add_test(tc, test_events_follow_their_message);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_overlap_refused_item);
	tcase_add_test(tc, test_discard);
	tcase_add_test(tc, test_old_month_partition);
	tcase_add_test(tc, test_log_position);
	tcase_add_test(tc, test_unusable_database);
	tcase_add_test(tc, test_server_restart);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(store_suite)
