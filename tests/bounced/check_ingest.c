/*
 * check_ingest.c - `bounced ingest` end to end, against the real private
 * PostgreSQL (tests/support/pgtest.h): the MTA pipe, batches, duplicates,
 * a database that stops mid-run, parallel deliveries, SMTP logs and
 * JSON lines, --follow across rotation and restarts, configuration
 * errors, and what Postfix's pipe(8) would read in the output.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgtest.h"
#include "testutil.h"

#define BIN "./bounced/bounced"

static const char *url;
static char tmpdir[256];

/* Run cmd with BOUNCED_DATABASE_URL=url; output into *out. */
static int
ingest_sh(const char *cmd, char **out)
{
	char *full;
	int rc;

	/* exported: the command may be a pipeline */
	ck_assert_int_ge(asprintf(&full, "export BOUNCED_CONFIG=%s/empty.conf "
	    "BOUNCED_DATABASE_URL='%s'; %s", tmpdir, url, cmd), 0);
	rc = testutil_sh(full, out);
	free(full);
	return rc;
}

static long long
count(const char *sql)
{
	PGconn *c = pgtest_connect(url);
	long long n = pgtest_num(c, sql, NULL);

	PQfinish(c);
	return n;
}

static void
fresh_db(const char *tag)
{
	char *cmd, *out;

	url = pgtest_new_db(tag);
	ck_assert_int_ge(asprintf(&cmd, BIN " db init --database '%s'", url),
	    0);
	ck_assert_msg(testutil_sh(cmd, &out) == 0, "db init: %s", out);
	free(out);
	free(cmd);
}

/* No line of what the MTA sees may start like a status code. */
static void
assert_pipe_safe(const char *out)
{
	const char *p = out;

	for (;;) {
		ck_assert_msg(!(p[0] >= '0' && p[0] <= '9'),
		    "output line starts with a digit: %.60s", p);
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
}

START_TEST(test_pipe_and_duplicate)
{
	char *out;

	fresh_db("pipe");
	ck_assert_int_eq(ingest_sh(BIN " ingest --list news --recipient "
	    "alice=example.net < examples/bounces/postfix-verp-dsn.eml", &out),
	    0);
	assert_pipe_safe(out);
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE recipient = "
	    "'alice@example.net' AND category = 'hard'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM lists WHERE name = "
	    "'news'"), 1);
	/* the same bytes again: duplicate, stored once, still 0 */
	ck_assert_int_eq(ingest_sh(BIN " ingest --list news < "
	    "examples/bounces/postfix-verp-dsn.eml", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "duplicate"));
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM events"), 1);
}
END_TEST

START_TEST(test_every_example)
{
	char *out;

	fresh_db("examples");
	ck_assert_int_eq(ingest_sh(BIN " ingest examples/bounces "
	    "tests/fixtures/parse", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "0 not stored"));
	free(out);
	ck_assert_int_ge(count("SELECT count(*) FROM messages"), 6);
	ck_assert_int_ge(count("SELECT count(*) FROM messages WHERE kind = "
	    "'complaint'"), 1);
	ck_assert_int_ge(count("SELECT count(*) FROM messages WHERE kind = "
	    "'autoreply'"), 1);
	/* every fixture and example is stored, read or not */
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE "
	    "parse_status = 'ok'") + count("SELECT count(*) FROM messages "
	    "WHERE parse_status <> 'ok'"), count("SELECT count(*) FROM "
	    "messages"));
	/* again: all duplicates */
	ck_assert_int_eq(ingest_sh(BIN " ingest examples/bounces", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "0 stored, 6 duplicate"));
	free(out);
}
END_TEST

START_TEST(test_malformed_is_stored_raw)
{
	char *out;
	int rc;

	fresh_db("raw");
	rc = ingest_sh("printf '\\001\\002 not a message at "
	    "all\\000\\377' | " BIN " ingest", &out);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	assert_pipe_safe(out);
	ck_assert_ptr_nonnull(strstr(out, "stored the message on stdin raw"));
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE kind = "
	    "'unknown' AND parse_status <> 'ok' AND size = 25"), 1);
}
END_TEST

/* Over max_message_bytes: stored whole, read up to the limit (the
 * failure is said at the top), flagged, exit 0. */
START_TEST(test_over_limit_is_read_in_part)
{
	char *out;
	int rc;

	fresh_db("overlimit");
	rc = ingest_sh("printf 'max_message_bytes = 64k\n' > "
	    "$BOUNCED_CONFIG.big && (cat examples/bounces/exim-bounce.eml; "
	    "head -c 100000 /dev/zero | tr '\\000' x) | " BIN
	    " ingest -c $BOUNCED_CONFIG.big", &out);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	assert_pipe_safe(out);
	ck_assert_msg(strstr(out, "stored the message on stdin: over_limit "
	    "(message is larger than the max_message_bytes limit") != NULL,
	    "%s", out);
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM messages m JOIN events e "
	    "ON e.message_id = m.id WHERE m.parse_status = 'over_limit' AND "
	    "m.size > 100000 AND e.recipient = 'bob@example.com' AND "
	    "e.category = 'hard'"), 1);
}
END_TEST

START_TEST(test_config_errors)
{
	char *out, *cmd;

	/* no database: the message stays with the MTA (75) */
	ck_assert_int_ge(asprintf(&cmd, "BOUNCED_CONFIG=%s/empty.conf "
	    "BOUNCED_DATABASE_URL= " BIN " ingest < "
	    "examples/bounces/exim-bounce.eml", tmpdir), 0);
	ck_assert_int_eq(testutil_sh(cmd, &out), 75);
	free(cmd);
	assert_pipe_safe(out);
	ck_assert_ptr_nonnull(strstr(out, "no database configured"));
	free(out);
	/* a batch is not an MTA delivery: 78 */
	ck_assert_int_ge(asprintf(&cmd, "BOUNCED_CONFIG=%s/empty.conf "
	    "BOUNCED_DATABASE_URL= " BIN " ingest examples/bounces", tmpdir),
	    0);
	ck_assert_int_eq(testutil_sh(cmd, &out), 78);
	free(cmd);
	free(out);
	/* a bad configuration file */
	ck_assert_int_ge(asprintf(&cmd, "printf 'no_such_setting = 1\\n' > "
	    "%s/bad.conf && " BIN " ingest -c %s/bad.conf < "
	    "examples/bounces/exim-bounce.eml", tmpdir, tmpdir), 0);
	ck_assert_int_eq(testutil_sh(cmd, &out), 75);
	ck_assert_ptr_nonnull(strstr(out, "no_such_setting"));
	assert_pipe_safe(out);
	free(out);
	free(cmd);
	ck_assert_int_eq(testutil_sh(BIN " ingest --smtp nonsense x", NULL),
	    64);
}
END_TEST

START_TEST(test_database_down)
{
	char *out;

	if (!pgtest_private()) {
		fprintf(stderr, "check_ingest: test_database_down NOT RUN: "
		    "BOUNCED_DATABASE_URL points at a server this test may "
		    "not stop\n");
		return;
	}
	fresh_db("down");
	ck_assert_int_eq(pgtest_pg("stop", "fast"), 0);
	ck_assert_int_eq(ingest_sh(BIN " ingest < "
	    "examples/bounces/exim-bounce.eml", &out), 75);
	assert_pipe_safe(out);
	free(out);
	ck_assert_int_eq(ingest_sh(BIN " ingest examples/bounces", &out), 75);
	free(out);
	ck_assert_int_eq(pgtest_pg("start", NULL), 0);
	/* the MTA delivers again: stored exactly once */
	ck_assert_int_eq(ingest_sh(BIN " ingest < "
	    "examples/bounces/exim-bounce.eml", &out), 0);
	free(out);
	ck_assert_int_eq(ingest_sh(BIN " ingest < "
	    "examples/bounces/exim-bounce.eml", &out), 0);
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 1);
}
END_TEST

START_TEST(test_parallel_pipes)
{
	char *cmd, *out;

	fresh_db("parallel");
	/* 1,000 distinct messages, each delivered by its own ingest, 8 at
	 * a time; 100 of them twice */
	ck_assert_int_ge(asprintf(&cmd, "mkdir -p %s/many && for i in $(seq "
	    "1 1000); do { printf 'X-Test-Copy: %%s\\n' $i; cat "
	    "examples/bounces/postfix-verp-dsn.eml; } > %s/many/$i.eml; done "
	    "&& (ls %s/many; seq 1 100 | sed 's/$/.eml/') | xargs -P 8 -I{} "
	    "sh -c '" BIN " ingest < %s/many/{}' ", tmpdir, tmpdir, tmpdir,
	    tmpdir), 0);
	ck_assert_int_eq(ingest_sh(cmd, &out), 0);
	free(out);
	free(cmd);
	ck_assert_int_eq(count("SELECT count(*) FROM messages"), 1000);
	ck_assert_int_eq(count("SELECT count(*) FROM events"), 1000);
}
END_TEST

START_TEST(test_maildir_batches)
{
	char *cmd, *out;

	fresh_db("maildir");
	/* 1,200 messages in a Maildir: three batches, sent while the next
	 * is parsed; then again, all duplicates */
	ck_assert_int_ge(asprintf(&cmd, "mkdir -p %s/md/new %s/md/cur %s/md/tmp "
	    "&& for i in $(seq 1 1200); do { printf 'X-Test-Copy: %%s\\n' "
	    "$i; cat examples/bounces/exim-bounce.eml; } > %s/md/cur/$i.eml; "
	    "done && touch -d '2026-01-02 03:04:05 UTC' %s/md/cur/7.eml && "
	    BIN " ingest %s/md", tmpdir, tmpdir, tmpdir, tmpdir, tmpdir,
	    tmpdir), 0);
	ck_assert_int_eq(ingest_sh(cmd, &out), 0);
	ck_assert_msg(strstr(out, "1200 stored, 0 duplicate") != NULL, "%s",
	    out);
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE source = "
	    "'batch'"), 1200);
	/* a Maildir file's time is when it was delivered */
	ck_assert_int_eq(count("SELECT count(*) FROM messages WHERE "
	    "received_at = '2026-01-02 03:04:05+00'"), 1);
	ck_assert_int_eq(ingest_sh(cmd + strlen(cmd) - strlen(BIN " ingest ") -
	    strlen(tmpdir) - 3, &out), 0);
	ck_assert_msg(strstr(out, "0 stored, 1200 duplicate") != NULL, "%s",
	    out);
	free(out);
	free(cmd);
}
END_TEST

START_TEST(test_smtp_logs)
{
	char *out;

	fresh_db("smtp");
	ck_assert_int_eq(ingest_sh(BIN " ingest --smtp postfix "
	    "examples/logs/postfix-mail.log", &out), 0);
	free(out);
	ck_assert_int_eq(ingest_sh(BIN " ingest --smtp exim "
	    "examples/logs/exim-mainlog", &out), 0);
	free(out);
	ck_assert_int_eq(ingest_sh(BIN " ingest --smtp json < "
	    "examples/logs/smtp-results.jsonl", &out), 0);
	free(out);
	ck_assert_int_gt(count("SELECT count(*) FROM events WHERE source = "
	    "'smtp-log' AND kind = 'delivered'"), 0);
	ck_assert_int_gt(count("SELECT count(*) FROM events WHERE source = "
	    "'smtp-log' AND phase = 'rcpt' AND category = 'hard'"), 0);
	ck_assert_int_gt(count("SELECT count(*) FROM events WHERE source = "
	    "'smtp-json' AND category = 'reputation'"), 0);
	/* a local delivery (no domain) is no list recipient */
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE recipient "
	    "NOT LIKE '%@%'"), 0);
	/* the same lines again: nothing new */
	ck_assert_int_eq(ingest_sh(BIN " ingest --smtp postfix "
	    "examples/logs/postfix-mail.log", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, " 0 stored"));
	free(out);
	/* a line that is not JSON is reported, the others stored */
	ck_assert_int_eq(ingest_sh("printf '%s\\n' 'oops' '{\"recipient\":"
	    "\"z@example.org\",\"code\":550,\"text\":\"5.1.1 unknown\"}' | "
	    BIN " ingest --smtp json", &out), 65);
	ck_assert_ptr_nonnull(strstr(out, "line 1"));
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE recipient = "
	    "'z@example.org' AND category = 'hard'"), 1);
	/* no "code": the reply text says it, and it is a failure, not a
	 * deferral without a reply */
	ck_assert_int_eq(ingest_sh("printf '%s\\n' '{\"recipient\":"
	    "\"y@example.org\",\"phase\":\"rcpt\",\"text\":\"550 5.1.1 "
	    "<y@example.org>: user unknown\"}' | " BIN " ingest --smtp json",
	    &out), 0);
	free(out);
	ck_assert_int_eq(count("SELECT count(*) FROM events WHERE recipient = "
	    "'y@example.org' AND kind = 'bounce' AND reply_code = 550 AND "
	    "status = '5.1.1' AND category = 'hard'"), 1);
}
END_TEST

/* Start a follower in the background; its pid. */
static pid_t
follower(const char *log)
{
	char *cmd;
	pid_t pid;

	ck_assert_int_ge(asprintf(&cmd, "exec env BOUNCED_CONFIG=%s/empty.conf "
	    "BOUNCED_DATABASE_URL='%s' " BIN " ingest --smtp json --follow "
	    "--source test-log %s >/dev/null 2>&1", tmpdir, url, log), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	return pid;
}

static void
stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

static void
append(const char *log, int from, int to)
{
	FILE *fp = fopen(log, "a");
	int i;

	ck_assert_ptr_nonnull(fp);
	for (i = from; i <= to; i++)
		fprintf(fp, "{\"recipient\":\"u%d@example.org\",\"code\":550,"
		    "\"text\":\"5.1.1 user unknown\"}\n", i);
	fclose(fp);
}

/* Wait until n results are stored (the follower polls every second). */
static void
wait_for(long long n)
{
	int i;

	for (i = 0; i < 100 && count("SELECT count(*) FROM events") < n; i++)
		usleep(100 * 1000);
	ck_assert_int_eq(count("SELECT count(*) FROM events"), n);
}

START_TEST(test_follow_rotation_restart)
{
	char log[512], rotated[512];
	pid_t pid;

	fresh_db("follow");
	snprintf(log, sizeof(log), "%s/results.jsonl", tmpdir);
	snprintf(rotated, sizeof(rotated), "%s/results.jsonl.1", tmpdir);
	append(log, 1, 10);
	pid = follower(log);
	wait_for(10);
	append(log, 11, 20);
	wait_for(20);
	/* logrotate (create): the old file moves, a new one starts */
	ck_assert_int_eq(rename(log, rotated), 0);
	append(rotated, 21, 25);	/* written late to the old file */
	append(log, 26, 30);
	wait_for(30);
	stop(pid);
	/* while stopped: more lines, and another rotation */
	append(log, 31, 35);
	ck_assert_int_eq(rename(log, rotated), 0);
	append(log, 36, 40);
	pid = follower(log);
	wait_for(40);
	stop(pid);
	/* a restart with nothing new repeats nothing */
	pid = follower(log);
	usleep(1500 * 1000);
	stop(pid);
	ck_assert_int_eq(count("SELECT count(*) FROM events"), 40);
	ck_assert_int_eq(count("SELECT count(DISTINCT recipient) FROM events"),
	    40);
}
END_TEST

static Suite *
ingest_suite(void)
{
	Suite *s;
	TCase *tc;
	char err[512];

	if (pgtest_setup(err, sizeof(err)) != 0)
		return pgtest_failed_suite("ingest", err);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_ingest.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return pgtest_failed_suite("ingest", "cannot make a temp dir");
	{
		/* an empty configuration, readable by its owner only */
		char conf[300];
		FILE *fp;

		snprintf(conf, sizeof(conf), "%s/empty.conf", tmpdir);
		if ((fp = fopen(conf, "w")) == NULL)
			return pgtest_failed_suite("ingest", "cannot write "
			    "an empty configuration file");
		fclose(fp);
		chmod(conf, 0600);
	}
	s = suite_create("ingest");
	tc = tcase_create("pg");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_pipe_and_duplicate);
	tcase_add_test(tc, test_every_example);
	tcase_add_test(tc, test_malformed_is_stored_raw);
	tcase_add_test(tc, test_over_limit_is_read_in_part);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_database_down);
	tcase_add_test(tc, test_parallel_pipes);
	tcase_add_test(tc, test_maildir_batches);
	tcase_add_test(tc, test_smtp_logs);
	tcase_add_test(tc, test_follow_rotation_restart);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ingest_suite)
