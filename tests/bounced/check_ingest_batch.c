/*
 * check_ingest_batch.c - ingest_files() (bounced/ingest_batch.c) against a
 * real PostgreSQL: a Maildir stored in small batches with the next parsed
 * while the last is written, and waited for batch by batch; a file given
 * twice, a file that is not there, a file over the message size limit,
 * the file's mtime as received_at, every file told once and in order,
 * and the server down (nothing stored, the run stopped, 75 for the MTA).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ingest_batch.h"
#include "migrate.h"
#include "pgtest.h"
#include "store.h"
#include "testutil.h"

#define FIXTURE "tests/fixtures/store/dsn-5.eml"
#define NFILES 25
/* 2019-03-15 00:00:00 UTC: an old month, so its own partition */
#define OLD_MTIME 1552608000

static char err[2048];

/* what done() was told, in order */
struct told {
	const char *path[NFILES + 8];
	int result[NFILES + 8];
	size_t n;
};

static void
done(void *arg, const char *path, int result, const char *why)
{
	struct told *t = arg;

	ck_assert_uint_lt(t->n, NFILES + 8);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(why[0] == '\0', result >= 0);
	t->path[t->n] = path;
	t->result[t->n++] = result;
}

static const char *
new_db(const char *tag)
{
	const char *db = pgtest_new_db(tag);
	struct migrate_set set;

	ck_assert_int_eq(migrate_set_builtin(&set, err, sizeof(err)), 0);
	ck_assert_msg(migrate_run(db, &set, 0, NULL, err, sizeof(err)) == 0,
	    "%s", err);
	migrate_set_free(&set);
	return db;
}

/*
 * A Maildir of NFILES distinct bounces (the fixture with its own first
 * line, the first file dated OLD_MTIME), then paths for: file 3 again, a
 * file that is not there, and a big file (over a 4 KiB limit).  Returns
 * the number of paths.
 */
/* a path in dir, allocated */
static char *
path_in(const char *dir, const char *name)
{
	char buf[256];
	char *p;

	ck_assert_int_lt(snprintf(buf, sizeof(buf), "%s/%s", dir, name),
	    (int)sizeof(buf));
	ck_assert_ptr_nonnull(p = strdup(buf));
	return p;
}

static size_t
make_maildir(char *dir, size_t dirlen, char **paths, const char *tag)
{
	struct timeval tv[2];
	size_t flen, i, n = 0;
	char *fixture, name[32];
	FILE *fp;

	fixture = testutil_read(FIXTURE, &flen);
	snprintf(dir, dirlen, "/tmp/bounced-ingest-%ld-%s", (long)getpid(),
	    tag);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	for (i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "%zu.eml", i);
		paths[n] = path_in(dir, name);
		ck_assert_ptr_nonnull(fp = fopen(paths[n], "w"));
		fprintf(fp, "X-Test: ingest %s %zu\n%s", tag, i, fixture);
		ck_assert_int_eq(fclose(fp), 0);
		n++;
	}
	tv[0].tv_sec = tv[1].tv_sec = OLD_MTIME;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	ck_assert_int_eq(utimes(paths[0], tv), 0);
	ck_assert_ptr_nonnull(paths[n++] = strdup(paths[3]));
	paths[n++] = path_in(dir, "not-there.eml");
	paths[n] = path_in(dir, "big.eml");
	ck_assert_ptr_nonnull(fp = fopen(paths[n], "w"));
	fprintf(fp, "X-Test: ingest %s big\n", tag);
	for (i = 0; i < 200; i++)
		fprintf(fp, "Final-Recipient: rfc822; user%zu@example.net\n",
		    i);
	ck_assert_int_eq(fclose(fp), 0);
	n++;
	free(fixture);
	return n;
}

static void
remove_maildir(const char *dir, char **paths, size_t n)
{
	size_t i;

	/* the duplicate's path is the same file as paths[3] */
	for (i = 0; i < n; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

static bounce_ctx *
small_ctx(void)
{
	bounce_limits limits = BOUNCE_LIMITS_INIT;
	bounce_ctx *ctx = NULL;

	limits.max_message_bytes = 4096;
	ck_assert_int_eq(bounce_ctx_new(&ctx, &limits), BOUNCE_OK);
	return ctx;
}

static void
ingest_maildir(int sync)
{
	const char *db = new_db(sync ? "sync" : "overlap");
	struct ingest_opts o = INGEST_OPTS_INIT;
	struct ingest_stats s;
	struct store *st = NULL;
	struct told t = { { 0 }, { 0 }, 0 };
	bounce_ctx *ctx = small_ctx();
	char dir[128], *paths[NFILES + 3];
	size_t n, i, k;
	PGconn *c;

	n = make_maildir(dir, sizeof(dir), paths, sync ? "sync" : "overlap");
	ck_assert_msg(store_open(&st, db, err, sizeof(err)) == 0, "%s", err);
	o.batch = 4;
	o.sync = sync;
	o.list = "announce";
	o.done = done;
	o.arg = &t;
	ck_assert_int_eq(ingest_files(&s, st, ctx, NULL,
	    (const char *const *)paths, n, &o), STORE_STORED);
	ck_assert_uint_eq(s.files, n);
	ck_assert_uint_eq(s.stored, NFILES + 1);
	ck_assert_uint_eq(s.duplicates, 1);
	ck_assert_uint_eq(s.unreadable, 1);
	ck_assert_uint_eq(s.over_limit, 1);
	ck_assert_uint_eq(s.failed, 0);
	/* every file told once: in the order given, but for the one that
	 * cannot be read, told at once */
	ck_assert_uint_eq(t.n, n);
	for (i = 0, k = 0; i < n; i++) {
		if (t.result[i] == STORE_EINVAL) {
			ck_assert_ptr_eq(t.path[i], paths[NFILES + 1]);
			continue;
		}
		if (k == NFILES + 1)
			k++;
		ck_assert_ptr_eq(t.path[i], paths[k]);
		ck_assert_int_eq(t.result[i], k == NFILES ? STORE_DUPLICATE :
		    STORE_STORED);
		k++;
	}
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "source = 'batch' AND parse_status <> 'over_limit' AND "
	    "list_id = (SELECT id FROM lists WHERE name = 'announce')",
	    NULL), NFILES);
	/* the fixture's report: its recipients, as the parser reads them */
	ck_assert_int_eq(pgtest_num(c, "SELECT count(DISTINCT message_id) "
	    "FROM events", NULL), NFILES);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM events_201903",
	    NULL), pgtest_num(c, "SELECT count(*) FROM events", NULL) /
	    NFILES);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "received_at = '2019-03-15 00:00:00+00'", NULL), 1);
	/* over the limit: kept, cut at it, not parsed */
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "parse_status = 'over_limit' AND size = 4096 AND "
	    "octet_length(raw) = 4096 AND recipient_count = 0", NULL), 1);
	PQfinish(c);
	ck_assert_uint_eq(store_batch_count(st), 0);
	store_close(st);
	bounce_ctx_free(ctx);
	remove_maildir(dir, paths, n);
}

START_TEST(test_ingest_overlapped)
{
	ingest_maildir(0);
}
END_TEST

START_TEST(test_ingest_sync)
{
	ingest_maildir(1);
}
END_TEST

START_TEST(test_ingest_server_down)
{
	const char *db;
	struct ingest_opts o = INGEST_OPTS_INIT;
	struct ingest_stats s;
	struct store *st = NULL;
	struct told t = { { 0 }, { 0 }, 0 };
	bounce_ctx *ctx = small_ctx();
	char dir[128], *paths[NFILES + 3];
	size_t n, i;
	PGconn *c;

	if (!pgtest_private()) {
		fprintf(stderr, "check_ingest_batch: NOT RUN: the server-down "
		    "test needs the private cluster; unset "
		    "BOUNCED_DATABASE_URL to run it\n");
		bounce_ctx_free(ctx);
		return;
	}
	db = new_db("down");
	n = make_maildir(dir, sizeof(dir), paths, "down");
	ck_assert_msg(store_open(&st, db, err, sizeof(err)) == 0, "%s", err);
	o.batch = 4;
	o.done = done;
	o.arg = &t;
	ck_assert_int_eq(pgtest_pg("stop", "fast"), 0);
	ck_assert_int_eq(ingest_files(&s, st, ctx, NULL,
	    (const char *const *)paths, n, &o), STORE_ETEMP);
	ck_assert_int_eq(store_exit_status(STORE_ETEMP), 75);
	ck_assert_int_eq(pgtest_pg("start", NULL), 0);
	/* the first batch failed, the one queued meanwhile was dropped, the
	 * rest never read */
	ck_assert_uint_eq(s.stored + s.duplicates, 0);
	ck_assert_uint_eq(t.n, s.failed);
	ck_assert_uint_ge(s.failed, 4);
	ck_assert_uint_le(s.failed, 8);
	for (i = 0; i < t.n; i++) {
		ck_assert_ptr_eq(t.path[i], paths[i]);
		ck_assert_int_eq(t.result[i], STORE_ETEMP);
	}
	ck_assert_uint_eq(store_batch_count(st), 0);
	/* back: the same handle stores them all, once */
	t.n = 0;
	ck_assert_int_eq(ingest_files(&s, st, ctx, NULL,
	    (const char *const *)paths, n, &o), STORE_STORED);
	ck_assert_uint_eq(s.stored, NFILES + 1);
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages", NULL),
	    NFILES + 1);
	PQfinish(c);
	store_close(st);
	bounce_ctx_free(ctx);
	remove_maildir(dir, paths, n);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct ingest_opts o = INGEST_OPTS_INIT;
	struct ingest_stats s;
	bounce_ctx *ctx = small_ctx();

	ck_assert_int_eq(ingest_files(&s, NULL, ctx, NULL, NULL, 0, NULL),
	    STORE_EINVAL);
	o.version = 99;
	ck_assert_int_eq(ingest_files(&s, (struct store *)1, ctx, NULL, NULL,
	    0, &o), STORE_EINVAL);
	bounce_ctx_free(ctx);
}
END_TEST

static Suite *
ingest_batch_suite(void)
{
	char why[1024];
	Suite *s;
	TCase *tc;

	if (pgtest_setup(why, sizeof(why)) != 0)
		return pgtest_failed_suite("ingest_batch", why);
	s = suite_create("ingest_batch");
	tc = tcase_create("postgresql");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_ingest_overlapped);
	tcase_add_test(tc, test_ingest_sync);
	tcase_add_test(tc, test_ingest_server_down);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ingest_batch_suite)
