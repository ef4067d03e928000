/*
 * migrate.h - the schema migrations of the store: schema/NNNN_name.sql,
 * applied in order, each in its own transaction, each recorded with its
 * SHA-256 in schema_migrations.  See schema/README.md for the rules.
 *
 * Where migrations come from: the binary carries the schema/ it was built
 * from (scripts/embed-schema.sh, like the built-in rules), so an installed
 * bounced migrates its database with no source tree, and the schema it
 * migrates to is always the one its store code was written for.  A
 * directory (--schema-dir, BOUNCED_SCHEMA_DIR) replaces the built-in set
 * when given: for writing a new migration without rebuilding, and for the
 * tests that migrate step by step.
 *
 * Safety: a session advisory lock makes concurrent runs wait for each
 * other; an applied migration whose text has changed since (another
 * checksum) stops everything, as does a pending migration older than an
 * applied one; the database is never migrated backwards.
 *
 * Every function returns a store_result (store.h) and on failure writes
 * what went wrong and what to do into err.
 */
#ifndef BOUNCED_MIGRATE_H
#define BOUNCED_MIGRATE_H

#include <stddef.h>
#include <stdio.h>

struct migration {
	int version;		/* NNNN of the file name */
	const char *name;	/* "0001_initial.sql" */
	const char *sql;
};

/* Generated from the files in schema/ at build time
 * (gen/schema_builtin.c). */
extern const struct migration migrate_builtin[];
extern const size_t migrate_builtin_count;

/* A set of migrations sorted by version. */
struct migrate_set {
	struct migration *list;
	size_t n;
	const char *origin;	/* "built in" or the directory */
	char **owned;		/* strings read from files */
	size_t nowned;
};

/* The built-in set (borrows the built-in strings). */
int migrate_set_builtin(struct migrate_set *out, char *err, size_t errlen);
/* Every NNNN_name.sql in dir; other files are ignored. */
int migrate_set_load_dir(struct migrate_set *out, const char *dir, char *err,
    size_t errlen);
void migrate_set_free(struct migrate_set *set);

/*
 * Apply the pending migrations of set up to version target (0: all) to
 * the database at conninfo, saying what it does on out (may be NULL).
 */
int migrate_run(const char *conninfo, const struct migrate_set *set,
    int target, FILE *out, char *err, size_t errlen);

/*
 * Like migrate_run(), after creating the database named in conninfo when
 * it does not exist yet (connecting to the "postgres" database to do it).
 */
int migrate_init(const char *conninfo, const struct migrate_set *set,
    FILE *out, char *err, size_t errlen);

/*
 * Print where the database stands: version, pending migrations, event
 * partitions and row counts.  *pending is the number of migrations of set
 * not applied yet.
 */
int migrate_status(const char *conninfo, const struct migrate_set *set,
    FILE *out, size_t *pending, char *err, size_t errlen);

#endif
