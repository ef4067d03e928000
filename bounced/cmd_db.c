/*
 * cmd_db.c - `bounced db init | migrate | status`: create, upgrade and
 * inspect the PostgreSQL database bounced stores into.
 *
 * The database is --database URL, else $BOUNCED_DATABASE_URL, else the
 * configuration's database_url (-c FILE; a libpq URL
 * or key=value string; scripts/pg.sh url prints the private cluster's).
 * The migrations are the ones built into bounced, or those in
 * --schema-dir DIR / $BOUNCED_SCHEMA_DIR (see migrate.h for why).
 *
 * Exit status: 0; 64 usage; 75 the database cannot be reached (try again);
 * 78 configuration (no URL, a changed or misnumbered migration, no such
 * role...); 65 a migration failed on the data it found.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "migrate.h"
#include "store.h"

static void
db_usage(FILE *out)
{
	fprintf(out,
	    "usage: bounced db init|migrate|status [--database URL] "
	    "[--schema-dir DIR]\n"
	    "                  [--to VERSION]\n\n"
	    "  init      create the database if it is missing, then migrate\n"
	    "  migrate   apply the pending migrations, each in a transaction\n"
	    "  status    schema version, pending migrations, partitions, "
	    "row counts\n\n"
	    "  --database URL     libpq URL (default: $BOUNCED_DATABASE_URL,\n"
	    "                     else database_url in the configuration)\n"
	    "  -c, --config FILE  configuration file\n"
	    "  --schema-dir DIR   migrations from DIR instead of the built-in "
	    "ones\n"
	    "                     (default: $BOUNCED_SCHEMA_DIR when set)\n"
	    "  --to VERSION       migrate: stop after this version\n"
	    "  --help             this text\n");
}

/* the exit status for a store_result of a db command */
static int
db_status(int rc)
{
	if (rc == STORE_EDATA)
		return EX_DATAERR;
	return store_exit_status(rc);
}

int
cmd_db(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "database", required_argument, NULL, 'd' },
		{ "schema-dir", required_argument, NULL, 's' },
		{ "to", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *dir = getenv("BOUNCED_SCHEMA_DIR");
	const char *cfgpath = NULL;
	struct migrate_set set = { 0 };
	struct config *cfg = NULL;
	const char *sub;
	char err[1024] = "", *end;
	size_t pending;
	long to = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:t:c:h", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'd':
			url = optarg;
			break;
		case 's':
			dir = optarg;
			break;
		case 't':
			errno = 0;
			to = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || to < 1 || to > 9999) {
				log_warn("db: --to takes a version from 1 to "
				    "9999, not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			db_usage(stdout);
			return 0;
		default:
			db_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc) {
		log_warn("db: give one of init, migrate, status");
		db_usage(stderr);
		return EX_USAGE;
	}
	sub = argv[optind];
	if (strcmp(sub, "init") != 0 && strcmp(sub, "migrate") != 0 &&
	    strcmp(sub, "status") != 0) {
		log_warn("db: unknown subcommand '%s'; give init, migrate or "
		    "status", sub);
		return EX_USAGE;
	}
	if (to != 0 && strcmp(sub, "migrate") != 0) {
		log_warn("db: --to is for migrate only");
		return EX_USAGE;
	}
	/* the configuration gives what the command line does not
	 * ($BOUNCED_DATABASE_URL overrides database_url in it) */
	if ((rc = config_from_args(&cfg, cfgpath)) != 0)
		return rc;
	if (url == NULL)
		url = config_string(cfg, "database_url");
	if ((dir == NULL || dir[0] == '\0') &&
	    config_string(cfg, "schema_dir")[0] != '\0')
		dir = config_string(cfg, "schema_dir");
	if (dir != NULL && dir[0] != '\0')
		rc = migrate_set_load_dir(&set, dir, err, sizeof(err));
	else
		rc = migrate_set_builtin(&set, err, sizeof(err));
	if (rc != STORE_STORED)
		goto cleanup;
	if (strcmp(sub, "init") == 0)
		rc = migrate_init(url, &set, stdout, err, sizeof(err));
	else if (strcmp(sub, "migrate") == 0)
		rc = migrate_run(url, &set, (int)to, stdout, err, sizeof(err));
	else
		rc = migrate_status(url, &set, stdout, &pending, err,
		    sizeof(err));
cleanup:
	migrate_set_free(&set);
	config_free(cfg);
	if (fflush(stdout) != 0 && rc == STORE_STORED) {
		log_warn("db: cannot write the output: %s", strerror(errno));
		return EX_IOERR;
	}
	if (rc != STORE_STORED) {
		log_warn("db %s: %s", sub, err[0] != '\0' ? err :
		    store_strerror(rc));
		return db_status(rc);
	}
	return 0;
}
