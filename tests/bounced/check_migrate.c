/*
 * check_migrate.c - the schema migrations (bounced/migrate.c) against a
 * real PostgreSQL: from scratch, step by step, again, concurrently, and
 * the refusals (an applied migration edited, one added out of order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrate.h"
#include "pgtest.h"
#include "store.h"
#include "testutil.h"

static char err[2048];

static int
version(PGconn *c)
{
	return (int)pgtest_num(c, "SELECT coalesce(max(version), 0) FROM "
	    "schema_migrations", NULL);
}

/* a copy of schema/ in a fresh temporary directory */
static void
copy_schema(char *dir, size_t len, const char *const *files, size_t n)
{
	char path[512], *data;
	size_t i, dlen;
	FILE *fp;

	snprintf(dir, len, "/tmp/bounced-migrate-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "schema/%s", files[i]);
		data = testutil_read(path, &dlen);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		ck_assert_ptr_nonnull(fp = fopen(path, "wb"));
		ck_assert_uint_eq(fwrite(data, 1, dlen, fp), dlen);
		fclose(fp);
		free(data);
	}
}

static void
write_file(const char *dir, const char *name, const char *text, int append)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, append ? "ab" : "wb"));
	fputs(text, fp);
	fclose(fp);
}

static void
remove_dir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_builtin_matches_schema_dir)
{
	struct migrate_set a, b;
	size_t i;

	ck_assert_int_eq(migrate_set_builtin(&a, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_set_load_dir(&b, "schema", err, sizeof(err)),
	    0);
	ck_assert_uint_eq(a.n, b.n);
	ck_assert_int_ge((int)a.n, STORE_SCHEMA_VERSION);
	for (i = 0; i < a.n; i++) {
		ck_assert_int_eq(a.list[i].version, b.list[i].version);
		ck_assert_str_eq(a.list[i].name, b.list[i].name);
		ck_assert_str_eq(a.list[i].sql, b.list[i].sql);
	}
	ck_assert_int_eq(a.list[a.n - 1].version, STORE_SCHEMA_VERSION);
	migrate_set_free(&a);
	migrate_set_free(&b);
}
END_TEST

START_TEST(test_from_scratch)
{
	const char *db = pgtest_new_db("scratch");
	struct migrate_set set;
	struct store *st = NULL;
	size_t pending;
	PGconn *c;
	FILE *out;

	ck_assert_int_eq(migrate_set_builtin(&set, err, sizeof(err)), 0);
	out = tmpfile();
	ck_assert_int_eq(migrate_status(db, &set, out, &pending, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(pending, set.n);
	ck_assert_msg(store_open(&st, db, err, sizeof(err)) == STORE_ECONFIG,
	    "store_open on an empty database");
	ck_assert_msg(strstr(err, "bounced db init") != NULL, "%s", err);
	ck_assert_int_eq(migrate_run(db, &set, 0, out, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_status(db, &set, out, &pending, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(pending, 0);
	fclose(out);
	c = pgtest_connect(db);
	ck_assert_int_eq(version(c), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM "
	    "schema_migrations WHERE length(checksum) = 64", NULL),
	    (long long)set.n);
	/* this month, the next, and the default */
	ck_assert_int_ge(pgtest_num(c, "SELECT count(*) FROM pg_inherits "
	    "WHERE inhparent = 'events'::regclass", NULL), 3);
	PQfinish(c);
	ck_assert_msg(store_open(&st, db, err, sizeof(err)) == 0, "%s", err);
	store_close(st);
	migrate_set_free(&set);
}
END_TEST

/* 0003: raw compressed with LZ4 when the server has it, else as 0001 */
START_TEST(test_raw_compression)
{
	const char *db = pgtest_new_db("lz4");
	struct migrate_set set;
	long long lz4;
	PGconn *c;

	ck_assert_int_eq(migrate_set_builtin(&set, err, sizeof(err)), 0);
	ck_assert_msg(migrate_run(db, &set, 0, NULL, err, sizeof(err)) == 0,
	    "%s", err);
	migrate_set_free(&set);
	c = pgtest_connect(db);
	lz4 = pgtest_num(c, "SELECT count(*) FROM pg_settings WHERE name = "
	    "'default_toast_compression' AND 'lz4' = ANY (enumvals)", NULL);
	if (lz4 == 0)
		fprintf(stderr, "check_migrate: this server has no LZ4; "
		    "checking 0001's settings are kept instead\n");
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM pg_class WHERE "
	    "relname = 'messages' AND 'toast_tuple_target=8160' = ANY "
	    "(coalesce(reloptions, '{}'))", NULL), lz4 ? 0 : 1);
	if (lz4)
		ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM "
		    "pg_attribute WHERE attrelid = 'messages'::regclass AND "
		    "attname = 'raw' AND attcompression = 'l'", NULL), 1);
	/* and what goes in comes out */
	pgtest_exec(c, "INSERT INTO messages (sha256, received_at, size, raw, "
	    "kind, parse_status, source) SELECT sha256(r), now(), length(r), "
	    "r, 'unknown', 'error', 'pipe' FROM (SELECT convert_to(repeat("
	    "'Final-Recipient: rfc822; user@example.net\n', 500), 'UTF8') "
	    "AS r) AS x");
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages WHERE "
	    "sha256 = sha256(raw) AND size = 21000", NULL), 1);
	if (lz4)
		ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages "
		    "WHERE pg_column_compression(raw) = 'lz4'", NULL), 1);
	PQfinish(c);
}
END_TEST

START_TEST(test_upgrade)
{
	const char *db = pgtest_new_db("upgrade");
	struct migrate_set set;
	struct store *st = NULL;
	PGconn *c;

	ck_assert_int_eq(migrate_set_load_dir(&set, "schema", err,
	    sizeof(err)), 0);
	ck_assert_msg(migrate_run(db, &set, 1, NULL, err, sizeof(err)) == 0,
	    "%s", err);
	c = pgtest_connect(db);
	ck_assert_int_eq(version(c), 1);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM pg_tables WHERE "
	    "tablename = 'log_positions'", NULL), 0);
	/* data written at version 1 survives the upgrade */
	pgtest_exec(c, "INSERT INTO messages (sha256, received_at, size, raw, "
	    "kind, parse_status, source) VALUES (sha256('old'), now(), 3, "
	    "'old', 'unknown', 'error', 'pipe')");
	ck_assert_int_eq(store_open(&st, db, err, sizeof(err)), STORE_ECONFIG);
	ck_assert_msg(strstr(err, "bounced db migrate") != NULL, "%s", err);
	ck_assert_msg(migrate_run(db, &set, 0, NULL, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(version(c), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM messages", NULL),
	    1);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM log_positions",
	    NULL), 0);
	PQfinish(c);
	ck_assert_msg(store_open(&st, db, err, sizeof(err)) == 0, "%s", err);
	store_close(st);
	migrate_set_free(&set);
}
END_TEST

START_TEST(test_idempotent)
{
	const char *db = pgtest_new_db("again");
	struct migrate_set set;
	char line[512];
	long long before;
	PGconn *c;
	FILE *out;

	ck_assert_int_eq(migrate_set_builtin(&set, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_init(db, &set, NULL, err, sizeof(err)), 0);
	c = pgtest_connect(db);
	before = pgtest_num(c, "SELECT sum(extract(epoch FROM applied_at) * "
	    "1000000)::bigint FROM schema_migrations", NULL);
	out = tmpfile();
	ck_assert_int_eq(migrate_run(db, &set, 0, out, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_init(db, &set, out, err, sizeof(err)), 0);
	rewind(out);
	while (fgets(line, sizeof(line), out) != NULL) {
		ck_assert_msg(strstr(line, "applied ") == NULL,
		    "applied again: %s", line);
		ck_assert_msg(strstr(line, "up to date") != NULL, "%s", line);
	}
	fclose(out);
	ck_assert_int_eq(pgtest_num(c, "SELECT sum(extract(epoch FROM "
	    "applied_at) * 1000000)::bigint FROM schema_migrations", NULL),
	    before);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM "
	    "schema_migrations", NULL), (long long)set.n);
	PQfinish(c);
	migrate_set_free(&set);
}
END_TEST

START_TEST(test_concurrent)
{
	const char *db = pgtest_new_db("concurrent");
	struct migrate_set set;
	pid_t pids[6];
	int i, status;
	PGconn *c;

	ck_assert_int_eq(migrate_set_builtin(&set, err, sizeof(err)), 0);
	for (i = 0; i < 6; i++) {
		ck_assert_int_ge(pids[i] = fork(), 0);
		if (pids[i] == 0)
			_exit(migrate_run(db, &set, 0, NULL, err,
			    sizeof(err)) == 0 ? 0 : 1);
	}
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "migrate %d failed", i);
	}
	c = pgtest_connect(db);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM "
	    "schema_migrations", NULL), (long long)set.n);
	PQfinish(c);
	migrate_set_free(&set);
}
END_TEST

START_TEST(test_edited_migration_refused)
{
	static const char *const files[] = { "0001_initial.sql" };
	const char *db = pgtest_new_db("edited");
	struct migrate_set set;
	char dir[64];

	copy_schema(dir, sizeof(dir), files, 1);
	ck_assert_int_eq(migrate_set_load_dir(&set, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_run(db, &set, 0, NULL, err, sizeof(err)), 0);
	migrate_set_free(&set);
	write_file(dir, "0001_initial.sql", "-- edited afterwards\n", 1);
	ck_assert_int_eq(migrate_set_load_dir(&set, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_run(db, &set, 0, NULL, err, sizeof(err)),
	    STORE_ECONFIG);
	ck_assert_msg(strstr(err, "0001_initial.sql") != NULL &&
	    strstr(err, "changed") != NULL, "%s", err);
	ck_assert_int_eq(store_exit_status(STORE_ECONFIG), 78);
	migrate_set_free(&set);
	remove_dir(dir);
}
END_TEST

START_TEST(test_out_of_order_refused)
{
	static const char *const files[] = { "0001_initial.sql" };
	const char *db = pgtest_new_db("order");
	struct migrate_set set;
	char dir[64];
	PGconn *c;

	copy_schema(dir, sizeof(dir), files, 1);
	write_file(dir, "0003_later.sql", "CREATE TABLE later (x int);\n", 0);
	ck_assert_int_eq(migrate_set_load_dir(&set, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_run(db, &set, 0, NULL, err, sizeof(err)), 0);
	migrate_set_free(&set);
	write_file(dir, "0002_between.sql", "CREATE TABLE between_ (x int);\n",
	    0);
	ck_assert_int_eq(migrate_set_load_dir(&set, dir, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_run(db, &set, 0, NULL, err, sizeof(err)),
	    STORE_ECONFIG);
	ck_assert_msg(strstr(err, "0002_between.sql") != NULL, "%s", err);
	c = pgtest_connect(db);
	ck_assert_int_eq(version(c), 3);
	PQfinish(c);
	migrate_set_free(&set);
	remove_dir(dir);
}
END_TEST

START_TEST(test_failed_migration_rolls_back)
{
	static const char *const files[] = { "0001_initial.sql" };
	const char *db = pgtest_new_db("broken");
	struct migrate_set set;
	char dir[64];
	PGconn *c;

	copy_schema(dir, sizeof(dir), files, 1);
	write_file(dir, "0002_broken.sql", "CREATE TABLE half (x int);\n"
	    "SELECT no_such_function();\n", 0);
	ck_assert_int_eq(migrate_set_load_dir(&set, dir, err, sizeof(err)), 0);
	ck_assert_int_ne(migrate_run(db, &set, 0, NULL, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "0002_broken.sql") != NULL, "%s", err);
	c = pgtest_connect(db);
	ck_assert_int_eq(version(c), 1);
	ck_assert_int_eq(pgtest_num(c, "SELECT count(*) FROM pg_tables WHERE "
	    "tablename = 'half'", NULL), 0);
	PQfinish(c);
	migrate_set_free(&set);
	remove_dir(dir);
}
END_TEST

START_TEST(test_bad_names)
{
	struct migrate_set set;
	char dir[64];

	copy_schema(dir, sizeof(dir), NULL, 0);
	ck_assert_int_eq(migrate_set_load_dir(&set, dir, err, sizeof(err)),
	    STORE_ECONFIG);
	ck_assert_msg(strstr(err, "no migrations") != NULL, "%s", err);
	migrate_set_free(&set);
	write_file(dir, "1_x.sql", "SELECT 1;\n", 0);
	ck_assert_int_eq(migrate_set_load_dir(&set, dir, err, sizeof(err)),
	    STORE_ECONFIG);
	ck_assert_msg(strstr(err, "1_x.sql") != NULL, "%s", err);
	migrate_set_free(&set);
	ck_assert_int_eq(migrate_set_load_dir(&set, "/nonexistent/schema",
	    err, sizeof(err)), STORE_ECONFIG);
	migrate_set_free(&set);
	remove_dir(dir);
}
END_TEST

START_TEST(test_init_creates_database)
{
	const char *db = pgtest_new_db("init");
	struct migrate_set set;
	char other[1200], *p;
	PGconn *c;

	/* the same conninfo, naming a database that is not there yet */
	snprintf(other, sizeof(other), "%s", db);
	ck_assert_ptr_nonnull(p = strstr(other, "_init'"));
	memcpy(p, "_ini2'", 6);
	ck_assert_int_eq(migrate_set_builtin(&set, err, sizeof(err)), 0);
	ck_assert_int_eq(migrate_run(other, &set, 0, NULL, err, sizeof(err)),
	    STORE_ECONFIG);
	ck_assert_msg(migrate_init(other, &set, NULL, err, sizeof(err)) == 0,
	    "%s", err);
	c = pgtest_connect(other);
	ck_assert_int_eq(version(c), STORE_SCHEMA_VERSION);
	PQfinish(c);
	migrate_set_free(&set);
}
END_TEST

static Suite *
migrate_suite(void)
{
	char why[1024];
	Suite *s;
	TCase *tc;

	if (pgtest_setup(why, sizeof(why)) != 0)
		return pgtest_failed_suite("migrate", why);
	s = suite_create("migrate");
	tc = tcase_create("postgresql");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_builtin_matches_schema_dir);
	tcase_add_test(tc, test_from_scratch);
	tcase_add_test(tc, test_raw_compression);
	tcase_add_test(tc, test_upgrade);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_edited_migration_refused);
	tcase_add_test(tc, test_out_of_order_refused);
	tcase_add_test(tc, test_failed_migration_rolls_back);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_init_creates_database);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(migrate_suite)
