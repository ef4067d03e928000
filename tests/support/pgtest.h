/*
 * pgtest.h - a real PostgreSQL for the store and migration tests.
 *
 * With BOUNCED_DATABASE_URL unset, the private cluster is started through
 * scripts/pg.sh (and left running for the next program: `scripts/pg.sh
 * stop` stops it).  Each test program works in databases of its own,
 * named bounced_test_<pid>_<tag>, dropped when it exits; databases left by
 * programs that died are dropped by the next run.
 *
 * A test program that cannot get a database fails, naming why: the store
 * is not tested against a mock, and not testing it is not a pass.
 */
#ifndef BOUNCED_PGTEST_H
#define BOUNCED_PGTEST_H

#include <stddef.h>

#include <check.h>
#include <libpq-fe.h>

/*
 * Start (or find) the server.  0, or -1 with err saying why.  Call it
 * once, from the suite function (in the parent process).
 */
int pgtest_setup(char *err, size_t errlen);

/* 1 when the tests run on the private cluster, which they may stop. */
int pgtest_private(void);

/* scripts/pg.sh ACTION [ARG]; its exit status. */
int pgtest_pg(const char *action, const char *arg);

/*
 * A new, empty database bounced_test_<pid>_<tag>; its conninfo (static
 * storage per tag slot, valid until exit).  Aborts the test on failure.
 */
const char *pgtest_new_db(const char *tag);

/* Connect to conninfo; aborts the test on failure. */
PGconn *pgtest_connect(const char *conninfo);

/* Run sql (one parameter, may be NULL) and return the first column of
 * the first row as a number; aborts the test on failure. */
long long pgtest_num(PGconn *conn, const char *sql, const char *param);

/* Run sql; aborts the test on failure. */
void pgtest_exec(PGconn *conn, const char *sql);

/* A test case that fails with msg: what a suite holds when setup failed. */
Suite *pgtest_failed_suite(const char *name, const char *msg);

#endif
