/*
 * pgtest.c - PostgreSQL for the tests.  See pgtest.h.
 *
 * Database names are made of digits and a fixed tag, and still quoted
 * with PQescapeIdentifier: CREATE DATABASE takes no parameters.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pgtest.h"

#define PGTEST_DBS 64

static char base_url[1024];
static int use_private;
static pid_t owner;
static char dbs[PGTEST_DBS][1024];
static size_t ndbs;

int
pgtest_private(void)
{
	return use_private;
}

int
pgtest_pg(const char *action, const char *arg)
{
	char cmd[256];
	int st;

	if (snprintf(cmd, sizeof(cmd), "sh scripts/pg.sh %s %s >&2", action,
	    arg != NULL ? arg : "") >= (int)sizeof(cmd))
		return -1;
	st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* conninfo of base with dbname replaced */
static int
with_dbname(char *out, size_t outlen, const char *base, const char *dbname)
{
	PQconninfoOption *opts, *o;
	size_t n = 0;
	const char *v;
	char *p;
	int k;

	if ((opts = PQconninfoParse(base, NULL)) == NULL)
		return -1;
	out[0] = '\0';
	for (o = opts; o->keyword != NULL; o++) {
		v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
		if (v == NULL)
			continue;
		k = snprintf(out + n, outlen - n, "%s%s='", n ? " " : "",
		    o->keyword);
		if (k < 0 || (size_t)k >= outlen - n)
			goto toolong;
		n += (size_t)k;
		for (p = (char *)v; *p != '\0'; p++) {
			if (n + 3 >= outlen)
				goto toolong;
			if (*p == '\'' || *p == '\\')
				out[n++] = '\\';
			out[n++] = *p;
		}
		out[n++] = '\'';
		out[n] = '\0';
	}
	PQconninfoFree(opts);
	return 0;
toolong:
	PQconninfoFree(opts);
	return -1;
}

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static PGconn *
maintenance(void)
{
	char ci[1024];
	PGconn *c;

	if (with_dbname(ci, sizeof(ci), base_url, "postgres") != 0)
		return NULL;
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static void
drop_db(PGconn *c, const char *name)
{
	char *id, sql[512];
	PGresult *r;

	if ((id = PQescapeIdentifier(c, name, strlen(name))) == NULL)
		return;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    id);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fprintf(stderr, "pgtest: cannot drop %s: %s", name,
		    PQresultErrorMessage(r));
	PQclear(r);
	PQfreemem(id);
}

/* drop this program's databases, and those of programs that died */
static void
drop_all(void)
{
	char mine[64];
	PGresult *r;
	PGconn *c;
	long pid;
	int i;

	if (getpid() != owner || base_url[0] == '\0')
		return;
	/* a test that stopped the private cluster and failed before it
	 * started it again must not leave it down */
	if ((c = maintenance()) == NULL && use_private &&
	    pgtest_pg("start", NULL) == 0)
		c = maintenance();
	if (c == NULL)
		return;
	r = PQexec(c, "SELECT datname FROM pg_database WHERE datname LIKE "
	    "'bounced\\_test\\_%'");
	snprintf(mine, sizeof(mine), "bounced_test_%ld_", (long)owner);
	for (i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r);
	    i++) {
		const char *name = PQgetvalue(r, i, 0);

		pid = strtol(name + strlen("bounced_test_"), NULL, 10);
		if (strncmp(name, mine, strlen(mine)) == 0 ||
		    (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH))
			drop_db(c, name);
	}
	PQclear(r);
	PQfinish(c);
}

int
pgtest_setup(char *err, size_t errlen)
{
	const char *env = getenv("BOUNCED_DATABASE_URL");
	FILE *fp;
	size_t n;
	PGconn *c;

	owner = getpid();
	if (env != NULL && env[0] != '\0') {
		snprintf(base_url, sizeof(base_url), "%s", env);
	} else {
		use_private = 1;
		if (pgtest_pg("start", NULL) != 0) {
			snprintf(err, errlen, "the private PostgreSQL cluster "
			    "did not start (scripts/pg.sh start failed, see "
			    "above); install the server with `make deps` or "
			    "set BOUNCED_DATABASE_URL");
			return -1;
		}
		if ((fp = popen("sh scripts/pg.sh url", "r")) == NULL ||
		    fgets(base_url, sizeof(base_url), fp) == NULL) {
			snprintf(err, errlen, "scripts/pg.sh url printed "
			    "nothing");
			if (fp != NULL)
				pclose(fp);
			return -1;
		}
		pclose(fp);
		n = strlen(base_url);
		while (n > 0 && (base_url[n - 1] == '\n'))
			base_url[--n] = '\0';
	}
	if ((c = maintenance()) == NULL) {
		snprintf(err, errlen, "cannot connect to PostgreSQL at %s "
		    "(database postgres); see above", base_url);
		return -1;
	}
	PQfinish(c);
	drop_all();
	atexit(drop_all);
	return 0;
}

const char *
pgtest_new_db(const char *tag)
{
	char name[128], *id, sql[256];
	PGresult *r;
	PGconn *c;

	ck_assert_msg(ndbs < PGTEST_DBS, "pgtest: too many databases");
	snprintf(name, sizeof(name), "bounced_test_%ld_%s", (long)owner, tag);
	c = maintenance();
	ck_assert_msg(c != NULL, "pgtest: cannot reach %s", base_url);
	drop_db(c, name);
	id = PQescapeIdentifier(c, name, strlen(name));
	ck_assert_ptr_nonnull(id);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", id);
	PQfreemem(id);
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK,
	    "pgtest: cannot create %s: %s", name, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	ck_assert_int_eq(with_dbname(dbs[ndbs], sizeof(dbs[ndbs]), base_url,
	    name), 0);
	return dbs[ndbs++];
}

PGconn *
pgtest_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "pgtest: %s",
	    PQerrorMessage(c));
	return c;
}

long long
pgtest_num(PGconn *conn, const char *sql, const char *param)
{
	const char *params[1] = { param };
	long long v;
	PGresult *r;

	r = PQexecParams(conn, sql, param != NULL ? 1 : 0, NULL, params, NULL,
	    NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK &&
	    PQntuples(r) == 1, "pgtest: %s: %s", sql, PQresultErrorMessage(r));
	v = PQgetisnull(r, 0, 0) ? -1 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

void
pgtest_exec(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK, "pgtest: %s: %s", sql,
	    PQresultErrorMessage(r));
	PQclear(r);
}

static char failed_msg[1024];

START_TEST(test_setup_failed)
{
	ck_abort_msg("%s", failed_msg);
}
END_TEST

Suite *
pgtest_failed_suite(const char *name, const char *msg)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("postgresql");

	snprintf(failed_msg, sizeof(failed_msg), "%s", msg);
	tcase_add_test(tc, test_setup_failed);
	suite_add_tcase(s, tc);
	return s;
}
