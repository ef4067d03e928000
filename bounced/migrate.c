/*
 * migrate.c - apply and report the schema migrations.  See migrate.h and
 * schema/README.md.
 *
 * A migration file is SQL run as it is (PQexec, the simple protocol, so a
 * file can hold many statements); it comes from the binary or from a
 * directory the operator names, never from data.  Everything else here is
 * a fixed statement with its values as parameters.
 *
 * Limits: a migration file is at most MIGRATE_FILE_MAX bytes, a directory
 * holds at most MIGRATE_MAX files.  Migrations that cannot run inside a
 * transaction (CREATE INDEX CONCURRENTLY) are not supported.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "input.h"
#include "migrate.h"
#include "pgconn.h"
#include "store.h"

#define MIGRATE_FILE_MAX (1024u * 1024)
#define MIGRATE_MAX 1000

/* pg_advisory_lock key: "bouncedM" as a big-endian int64 */
#define MIGRATE_LOCK_KEY "7093017055106262093"

/* NNNN_name.sql with name made of [a-z0-9_]; the version or -1 */
static int
migration_version(const char *name)
{
	size_t i, n = strlen(name);
	int v = 0;

	if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return -1;
	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)name[i]))
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	for (i = 5; i < n - 4; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_')
			return -1;
	return v;
}

static int
cmp_migration(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* sorted, versions > 0 and distinct */
static int
check_set(const struct migrate_set *set, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->list[i].version <= 0) {
			pgconn_err(err, errlen, "%s (%s): version 0000 is not a "
			    "version; number migrations from 0001",
			    set->list[i].name, set->origin);
			return STORE_ECONFIG;
		}
		if (i > 0 && set->list[i].version == set->list[i - 1].version) {
			pgconn_err(err, errlen, "%s and %s (%s) have the same "
			    "version; renumber the newer one",
			    set->list[i - 1].name, set->list[i].name,
			    set->origin);
			return STORE_ECONFIG;
		}
	}
	if (set->n == 0) {
		pgconn_err(err, errlen, "no migrations in %s; expected files "
		    "named NNNN_name.sql", set->origin);
		return STORE_ECONFIG;
	}
	return STORE_STORED;
}

int
migrate_set_builtin(struct migrate_set *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->origin = "the migrations built into bounced";
	out->list = calloc(migrate_builtin_count ? migrate_builtin_count : 1,
	    sizeof(*out->list));
	if (out->list == NULL)
		return STORE_ENOMEM;
	memcpy(out->list, migrate_builtin,
	    migrate_builtin_count * sizeof(*out->list));
	out->n = migrate_builtin_count;
	qsort(out->list, out->n, sizeof(*out->list), cmp_migration);
	return check_set(out, err, errlen);
}

static int
keep(struct migrate_set *set, char *s)
{
	char **p;

	p = realloc(set->owned, (set->nowned + 1) * sizeof(*p));
	if (p == NULL) {
		free(s);
		return -1;
	}
	set->owned = p;
	set->owned[set->nowned++] = s;
	return 0;
}

/* read dir/name into a NUL-terminated string kept by set */
static int
read_migration(struct migrate_set *set, const char *dir, const char *name,
    const char **sql, char *err, size_t errlen)
{
	struct msgbuf mb = { 0 };
	char path[4096];
	FILE *fp = NULL;
	int rc, e;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		pgconn_err(err, errlen, "%s/%s: path too long", dir, name);
		return STORE_ECONFIG;
	}
	if ((fp = fopen(path, "rb")) == NULL) {
		pgconn_err(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return STORE_ECONFIG;
	}
	e = input_read_stream(&mb, fp, MIGRATE_FILE_MAX);
	if (e != 0) {
		pgconn_err(err, errlen, "cannot read %s: %s", path,
		    e == EFBIG ? "over the 1 MiB a migration may have" :
		    strerror(e));
		rc = STORE_ECONFIG;
		goto cleanup;
	}
	if (memchr(mb.data, '\0', mb.len) != NULL) {
		pgconn_err(err, errlen, "%s holds a NUL byte; a migration is "
		    "SQL text", path);
		rc = STORE_ECONFIG;
		goto cleanup;
	}
	/* input_read_stream leaves room for nothing more: make some */
	if (mb.len + 1 > mb.size) {
		char *p = realloc(mb.data, mb.len + 1);

		if (p == NULL) {
			rc = STORE_ENOMEM;
			goto cleanup;
		}
		mb.data = p;
		mb.size = mb.len + 1;
	}
	mb.data[mb.len] = '\0';
	if (keep(set, mb.data) != 0) {
		mb.data = NULL;
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	*sql = mb.data;
	mb.data = NULL;
	rc = STORE_STORED;
cleanup:
	msgbuf_free(&mb);
	if (fp != NULL)
		fclose(fp);
	return rc;
}

int
migrate_set_load_dir(struct migrate_set *out, const char *dir, char *err,
    size_t errlen)
{
	struct dirent *de;
	DIR *d = NULL;
	char *name;
	int v, rc;

	memset(out, 0, sizeof(*out));
	out->origin = dir;
	if ((d = opendir(dir)) == NULL) {
		pgconn_err(err, errlen, "cannot open the schema directory %s: %s; "
		    "check --schema-dir or BOUNCED_SCHEMA_DIR", dir,
		    strerror(errno));
		return STORE_ECONFIG;
	}
	if ((out->list = calloc(MIGRATE_MAX, sizeof(*out->list))) == NULL) {
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	while ((de = readdir(d)) != NULL) {
		if ((v = migration_version(de->d_name)) < 0) {
			size_t n = strlen(de->d_name);

			if (n > 4 && strcmp(de->d_name + n - 4, ".sql") == 0) {
				pgconn_err(err, errlen, "%s/%s: a migration is "
				    "named NNNN_name.sql (name in a-z, 0-9, "
				    "_); rename it", dir, de->d_name);
				rc = STORE_ECONFIG;
				goto cleanup;
			}
			continue;
		}
		if (out->n == MIGRATE_MAX) {
			pgconn_err(err, errlen, "%s: more than %d migrations",
			    dir, MIGRATE_MAX);
			rc = STORE_ECONFIG;
			goto cleanup;
		}
		if ((name = strdup(de->d_name)) == NULL ||
		    keep(out, name) != 0) {
			rc = STORE_ENOMEM;
			goto cleanup;
		}
		out->list[out->n].version = v;
		out->list[out->n].name = name;
		rc = read_migration(out, dir, name, &out->list[out->n].sql,
		    err, errlen);
		if (rc != STORE_STORED)
			goto cleanup;
		out->n++;
	}
	qsort(out->list, out->n, sizeof(*out->list), cmp_migration);
	rc = check_set(out, err, errlen);
cleanup:
	closedir(d);
	return rc;
}

void
migrate_set_free(struct migrate_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nowned; i++)
		free(set->owned[i]);
	free(set->owned);
	free(set->list);
	memset(set, 0, sizeof(*set));
}

/* NOTICEs ("relation already exists, skipping") are not for the user */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* run a fixed statement with text parameters; *res owned by the caller */
static int
exec(PGconn *conn, PGresult **res, const char *sql, int n,
    const char *const *params, char *err, size_t errlen, const char *what)
{
	char msg[512];
	ExecStatusType s;

	*res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	s = PQresultStatus(*res);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return STORE_STORED;
	pgconn_err(err, errlen, "%s: %s", what,
	    pgconn_message(msg, sizeof(msg), conn, *res));
	return *res == NULL ? STORE_ENOMEM : pgconn_classify(conn, *res);
}

/* one row of schema_migrations */
struct applied {
	int version;
	char name[256];
	char checksum[65];
};

/*
 * Read schema_migrations (creating it when create is set; when it is not
 * there and create is not set, *napplied is 0).  *out is malloc'ed.
 */
static int
read_applied(PGconn *conn, int create, struct applied **out, size_t *napplied,
    char *err, size_t errlen)
{
	static const char create_sql[] =
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY,"
	    " name text NOT NULL,"
	    " checksum text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())";
	PGresult *res = NULL;
	struct applied *a = NULL;
	int rc, i, n;
	char *end;
	long v;

	*out = NULL;
	*napplied = 0;
	if (create) {
		rc = exec(conn, &res, create_sql, 0, NULL, err, errlen,
		    "cannot create schema_migrations");
		if (rc != STORE_STORED)
			goto cleanup;
		PQclear(res);
	} else {
		rc = exec(conn, &res, "SELECT to_regclass('schema_migrations')"
		    " IS NOT NULL", 0, NULL, err, errlen,
		    "cannot look for schema_migrations");
		if (rc != STORE_STORED)
			goto cleanup;
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
			goto cleanup;
		PQclear(res);
	}
	rc = exec(conn, &res, "SELECT version, name, checksum FROM "
	    "schema_migrations ORDER BY version", 0, NULL, err, errlen,
	    "cannot read schema_migrations");
	if (rc != STORE_STORED)
		goto cleanup;
	n = PQntuples(res);
	if ((a = calloc(n > 0 ? (size_t)n : 1, sizeof(*a))) == NULL) {
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		errno = 0;
		v = strtol(PQgetvalue(res, i, 0), &end, 10);
		if (errno != 0 || *end != '\0' || v <= 0 || v > 9999) {
			pgconn_err(err, errlen, "schema_migrations has version "
			    "'%s'; it was not written by bounced",
			    PQgetvalue(res, i, 0));
			rc = STORE_ECONFIG;
			goto cleanup;
		}
		a[i].version = (int)v;
		snprintf(a[i].name, sizeof(a[i].name), "%s",
		    PQgetvalue(res, i, 1));
		snprintf(a[i].checksum, sizeof(a[i].checksum), "%s",
		    PQgetvalue(res, i, 2));
	}
	*out = a;
	a = NULL;
	*napplied = (size_t)n;
	rc = STORE_STORED;
cleanup:
	PQclear(res);
	free(a);
	return rc;
}

static const struct applied *
find_applied(const struct applied *a, size_t n, int version)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].version == version)
			return &a[i];
	return NULL;
}

static int
checksum(char out[65], const struct migration *m)
{
	unsigned char d[32];

	if (pgconn_sha256(d, m->sql, strlen(m->sql)) != 0)
		return STORE_ENOMEM;
	pgconn_hex(out, d, sizeof(d));
	return STORE_STORED;
}

/*
 * Compare what is applied with set: every applied migration that set
 * knows must have the same text, and no pending one may be older than
 * the newest applied one.
 */
static int
verify(const struct migrate_set *set, const struct applied *a, size_t na,
    char *err, size_t errlen)
{
	const struct applied *got;
	int newest = na > 0 ? a[na - 1].version : 0;
	char sum[65];
	size_t i;
	int rc;

	for (i = 0; i < set->n; i++) {
		got = find_applied(a, na, set->list[i].version);
		if (got == NULL) {
			if (set->list[i].version < newest) {
				pgconn_err(err, errlen, "%s is not applied but "
				    "the newer migration %04d is; migrations "
				    "are applied in order: renumber it after "
				    "%04d", set->list[i].name, newest, newest);
				return STORE_ECONFIG;
			}
			continue;
		}
		if ((rc = checksum(sum, &set->list[i])) != STORE_STORED)
			return rc;
		if (strcmp(sum, got->checksum) != 0) {
			pgconn_err(err, errlen, "%s (%s) has changed since it was "
			    "applied as %s (checksum %.12s..., applied "
			    "%.12s...); applied migrations are never edited: "
			    "put the change in a new migration",
			    set->list[i].name, set->origin, got->name, sum,
			    got->checksum);
			return STORE_ECONFIG;
		}
	}
	return STORE_STORED;
}

/* apply one migration in its own transaction */
static int
apply_one(PGconn *conn, const struct migration *m, char *err, size_t errlen)
{
	char sum[65], ver[16], msg[512];
	const char *params[3];
	PGresult *res = NULL;
	int rc;

	if ((rc = checksum(sum, m)) != STORE_STORED)
		return rc;
	snprintf(ver, sizeof(ver), "%d", m->version);
	if ((rc = exec(conn, &res, "BEGIN", 0, NULL, err, errlen,
	    "cannot start a transaction")) != STORE_STORED)
		goto cleanup;
	PQclear(res);
	res = PQexec(conn, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		pgconn_err(err, errlen, "migration %s failed, nothing of it was "
		    "applied: %s; fix the cause and run `bounced db migrate` "
		    "again", m->name, pgconn_message(msg, sizeof(msg), conn,
		    res));
		rc = res == NULL ? STORE_ENOMEM : pgconn_classify(conn, res);
		goto cleanup;
	}
	PQclear(res);
	params[0] = ver;
	params[1] = m->name;
	params[2] = sum;
	if ((rc = exec(conn, &res, "INSERT INTO schema_migrations (version, "
	    "name, checksum) VALUES ($1, $2, $3)", 3, params, err, errlen,
	    "cannot record the migration")) != STORE_STORED)
		goto cleanup;
	PQclear(res);
	rc = exec(conn, &res, "COMMIT", 0, NULL, err, errlen,
	    "cannot commit the migration");
cleanup:
	PQclear(res);
	if (rc != STORE_STORED && PQtransactionStatus(conn) != PQTRANS_IDLE) {
		res = PQexec(conn, "ROLLBACK");
		PQclear(res);
	}
	return rc;
}

static int
lock(PGconn *conn, int on, char *err, size_t errlen)
{
	const char *params[1] = { MIGRATE_LOCK_KEY };
	PGresult *res = NULL;
	int rc;

	rc = exec(conn, &res, on ? "SELECT pg_advisory_lock($1::bigint)" :
	    "SELECT pg_advisory_unlock($1::bigint)", 1, params, err, errlen,
	    "cannot take the migration lock");
	PQclear(res);
	return rc;
}

int
migrate_run(const char *conninfo, const struct migrate_set *set, int target,
    FILE *out, char *err, size_t errlen)
{
	struct applied *a = NULL;
	char where[256];
	PGconn *conn = NULL;
	size_t na = 0, i, done = 0;
	int rc, newest;

	if ((rc = pgconn_open(&conn, conninfo, err, errlen)) != STORE_STORED)
		return rc;
	PQsetNoticeProcessor(conn, quiet, NULL);
	pgconn_describe(where, sizeof(where), conn);
	/* held until the end: a second migrate waits here, then finds
	 * everything applied */
	if ((rc = lock(conn, 1, err, errlen)) != STORE_STORED)
		goto cleanup;
	if ((rc = read_applied(conn, 1, &a, &na, err, errlen)) != STORE_STORED)
		goto cleanup;
	if ((rc = verify(set, a, na, err, errlen)) != STORE_STORED)
		goto cleanup;
	newest = na > 0 ? a[na - 1].version : 0;
	for (i = 0; i < set->n; i++) {
		if (find_applied(a, na, set->list[i].version) != NULL)
			continue;
		if (target > 0 && set->list[i].version > target)
			break;
		rc = apply_one(conn, &set->list[i], err, errlen);
		if (rc != STORE_STORED)
			goto cleanup;
		if (out != NULL)
			fprintf(out, "applied %s\n", set->list[i].name);
		newest = set->list[i].version;
		done++;
	}
	if (out != NULL) {
		if (newest > set->list[set->n - 1].version)
			fprintf(out, "%s is at version %d, newer than this "
			    "bounced knows (%d); nothing done\n", where, newest,
			    set->list[set->n - 1].version);
		else
			fprintf(out, "%s is at version %d%s\n", where, newest,
			    newest == set->list[set->n - 1].version ?
			    " (up to date)" : "");
	}
	(void)done;
	rc = lock(conn, 0, err, errlen);
cleanup:
	free(a);
	PQfinish(conn);
	return rc;
}

int
migrate_init(const char *conninfo, const struct migrate_set *set, FILE *out,
    char *err, size_t errlen)
{
	const char *keys[3] = { "dbname", "dbname", NULL };
	const char *vals[3] = { conninfo, "postgres", NULL };
	PQconninfoOption *opts = NULL, *o;
	const char *dbname = NULL;
	PGresult *res = NULL;
	PGconn *conn = NULL;
	char *ident = NULL, *sql = NULL, msg[512];
	size_t n;
	int rc;

	rc = pgconn_open(&conn, conninfo, err, errlen);
	PQfinish(conn);
	conn = NULL;
	if (rc == STORE_STORED || strstr(err, "does not exist") == NULL ||
	    strstr(err, "database") == NULL)
		goto migrate;
	/* the database is missing: create it from the maintenance one */
	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL) {
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
	if (dbname == NULL)
		goto cleanup;	/* the error is the one pgconn_open gave */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		pgconn_err(err, errlen, "database %s does not exist and the "
		    "\"postgres\" database to create it from cannot be "
		    "reached: %s; create it with createdb", dbname,
		    pgconn_message(msg, sizeof(msg), conn, NULL));
		rc = STORE_ECONFIG;
		goto cleanup;
	}
	/* an identifier cannot be a parameter: quote it */
	if ((ident = PQescapeIdentifier(conn, dbname, strlen(dbname))) ==
	    NULL) {
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	n = strlen(ident) + sizeof("CREATE DATABASE ");
	if ((sql = malloc(n)) == NULL) {
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	snprintf(sql, n, "CREATE DATABASE %s", ident);
	if ((rc = exec(conn, &res, sql, 0, NULL, err, errlen,
	    "cannot create the database")) != STORE_STORED)
		goto cleanup;
	if (out != NULL)
		fprintf(out, "created database %s\n", dbname);
migrate:
	rc = migrate_run(conninfo, set, 0, out, err, errlen);
cleanup:
	PQclear(res);
	PQfreemem(ident);
	free(sql);
	PQconninfoFree(opts);
	PQfinish(conn);
	return rc;
}

/* exact count when small, the planner's estimate past a million rows */
static int
print_count(PGconn *conn, FILE *out, const char *table, const char *estimate,
    const char *exact, char *err, size_t errlen)
{
	PGresult *res = NULL;
	char *end;
	double est;
	int rc;

	if ((rc = exec(conn, &res, estimate, 0, NULL, err, errlen,
	    "cannot count rows")) != STORE_STORED)
		goto cleanup;
	est = strtod(PQgetvalue(res, 0, 0), &end);
	if (est > 1e6) {
		fprintf(out, "  %-11s about %.0f\n", table, est);
		goto cleanup;
	}
	PQclear(res);
	if ((rc = exec(conn, &res, exact, 0, NULL, err, errlen,
	    "cannot count rows")) != STORE_STORED)
		goto cleanup;
	fprintf(out, "  %-11s %s\n", table, PQgetvalue(res, 0, 0));
cleanup:
	PQclear(res);
	return rc;
}

/* reltuples is -1 for a table never analysed: count those */
#define ESTIMATE(t)                                                            \
	"SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_class c "   \
	"WHERE c.oid = to_regclass('" t "') OR c.oid IN (SELECT inhrelid "     \
	"FROM pg_inherits WHERE inhparent = to_regclass('" t "'))"

int
migrate_status(const char *conninfo, const struct migrate_set *set,
    FILE *out, size_t *pending, char *err, size_t errlen)
{
	static const struct {
		const char *table, *estimate, *exact;
	} counts[] = {
		{ "lists", ESTIMATE("lists"), "SELECT count(*) FROM lists" },
		{ "messages", ESTIMATE("messages"),
		    "SELECT count(*) FROM messages" },
		{ "events", ESTIMATE("events"), "SELECT count(*) FROM events" },
		{ "event_keys", ESTIMATE("event_keys"),
		    "SELECT count(*) FROM event_keys" },
		{ "recipients", ESTIMATE("recipients"),
		    "SELECT count(*) FROM recipients" },
	};
	struct applied *a = NULL;
	PGresult *res = NULL;
	PGconn *conn = NULL;
	char where[256];
	size_t na = 0, i;
	int rc, newest;

	*pending = 0;
	if ((rc = pgconn_open(&conn, conninfo, err, errlen)) != STORE_STORED)
		return rc;
	fprintf(out, "%s\n", pgconn_describe(where, sizeof(where), conn));
	if ((rc = read_applied(conn, 0, &a, &na, err, errlen)) != STORE_STORED)
		goto cleanup;
	newest = na > 0 ? a[na - 1].version : 0;
	if (na == 0)
		fprintf(out, "schema version: none (an empty database: "
		    "`bounced db init` creates the schema)\n");
	else
		fprintf(out, "schema version: %d (%s)\n", newest,
		    a[na - 1].name);
	for (i = 0; i < set->n; i++)
		if (find_applied(a, na, set->list[i].version) == NULL) {
			if (*pending == 0)
				fprintf(out, "pending migrations (`bounced db "
				    "migrate` applies them):\n");
			fprintf(out, "  %s\n", set->list[i].name);
			(*pending)++;
		}
	if (*pending == 0)
		fprintf(out, "pending migrations: none\n");
	if (newest > set->list[set->n - 1].version)
		fprintf(out, "note: the database is newer than this bounced "
		    "(it knows up to %d); upgrade bounced\n",
		    set->list[set->n - 1].version);
	rc = verify(set, a, na, err, errlen);
	if (rc != STORE_STORED || na == 0)
		goto cleanup;
	if ((rc = exec(conn, &res, "SELECT count(*) FROM pg_inherits WHERE "
	    "inhparent = to_regclass('events')", 0, NULL, err, errlen,
	    "cannot count partitions")) != STORE_STORED)
		goto cleanup;
	fprintf(out, "event partitions: %s (one a month, and the default)\n",
	    PQgetvalue(res, 0, 0));
	fprintf(out, "rows:\n");
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if ((rc = print_count(conn, out, counts[i].table,
		    counts[i].estimate, counts[i].exact, err, errlen)) !=
		    STORE_STORED)
			goto cleanup;
cleanup:
	PQclear(res);
	free(a);
	PQfinish(conn);
	return rc;
}
