/*
 * config.h - the configuration of bounced: one table of settings (name,
 * type, default, range, documentation) in config_table.c, a file of
 * "name = value" lines, and environment overrides.  config.c loads,
 * config_value.c reads and writes values, config_print.c prints.
 *
 * Where the file is: `-c FILE` (or `bounced -c FILE COMMAND`), else
 * $BOUNCED_CONFIG, else /etc/bounced/bounced.conf.  The default file may
 * be missing (then every setting has its default); a file named by -c or
 * $BOUNCED_CONFIG must exist.  $BOUNCED_DATABASE_URL overrides
 * database_url (the table says which variable overrides which setting).
 *
 * Errors (unknown names, bad values, values out of range, a duplicate
 * setting, a world-readable file holding a secret) name FILE:LINE, the
 * setting and what is allowed; callers exit with EX_CONFIG (78).
 *
 * Ownership: config_load() returns a config the caller frees with
 * config_free(); every getter borrows from it.  Getters take the
 * setting's name; asking for a name the table does not have, or with the
 * wrong type, is a programming error and ends the program (EX_SOFTWARE).
 *
 * Security: settings flagged secret (database_url) are never printed by
 * config_dump(), and a file that sets one must not be readable by every
 * user.  A world-writable file is refused whatever it holds.
 */
#ifndef BOUNCED_CONFIG_H
#define BOUNCED_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "bounce.h"

#define CONFIG_DEFAULT_PATH "/etc/bounced/bounced.conf"
#define CONFIG_PATH_ENV "BOUNCED_CONFIG"

enum config_type {
	CONFIG_STRING = 0,	/* any text */
	CONFIG_INT,		/* decimal integer in [min, max] */
	CONFIG_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	CONFIG_SIZE,		/* bytes: 512, 16k, 50M, 1G (1024-based) */
	CONFIG_DURATION,	/* seconds: 30, 30s, 5m, 2h, 7d, 1w */
	CONFIG_ENUM,		/* one word of allowed ("stderr|syslog") */
	CONFIG_CHAR,		/* one character of allowed ("+-_") */
	CONFIG_LIST		/* list of strings; the name may repeat */
};

#define CONFIG_SECRET 0x01	/* never printed; file must not be o+r */

/* One row of the settings table. */
struct config_setting {
	const char *name;
	enum config_type type;
	const char *def;	/* default, spelled as in the file */
	long long min, max;	/* INT, SIZE (bytes), DURATION (seconds) */
	const char *allowed;	/* ENUM: "a|b|c"; CHAR: the characters */
	const char *env;	/* variable that overrides it, or NULL */
	unsigned int flags;	/* CONFIG_SECRET */
	const char *doc;	/* what it does, for people */
};

struct config;

/* The settings table (for config_dump, the example file and tests). */
size_t config_setting_count(void);
const struct config_setting *config_setting_at(size_t i);
const struct config_setting *config_setting_find(const char *name);

/*
 * Load the configuration: path_or_null when given (must exist), else
 * $BOUNCED_CONFIG (must exist), else CONFIG_DEFAULT_PATH (may be
 * missing); then the environment overrides.  Returns 0 with *out set, or
 * EX_CONFIG (EX_OSERR when out of memory) with *out NULL and the reason
 * in err, one line naming FILE:LINE and the setting.
 */
int config_load(struct config **out, const char *path_or_null, char *err,
    size_t errlen);

/*
 * The same with the file given: path NULL reads no file (defaults and
 * environment only); required says whether a missing file is an error.
 */
int config_load_file(struct config **out, const char *path, int required,
    char *err, size_t errlen);

void config_free(struct config *cfg);

/* The file that was read (borrowed), NULL when none was. */
const char *config_path(const struct config *cfg);

/* Typed getters; all borrow.  config_number serves INT, SIZE (bytes) and
 * DURATION (seconds); config_string serves STRING and ENUM. */
const char *config_string(const struct config *cfg, const char *name);
long long config_number(const struct config *cfg, const char *name);
int config_bool(const struct config *cfg, const char *name);
char config_char(const struct config *cfg, const char *name);
size_t config_list_count(const struct config *cfg, const char *name);
const char *config_list_item(const struct config *cfg, const char *name,
    size_t i);
/* Where item i of a list came from ("FILE:LINE", "env NAME"). */
const char *config_list_origin(const struct config *cfg, const char *name,
    size_t i);

/* Where the value came from: "default", "FILE:LINE" or "env NAME"
 * (for a list, where its first item came from).  Borrowed. */
const char *config_origin(const struct config *cfg, const char *name);

/* Limits and VERP options for libbounce from the settings. */
void config_limits(bounce_limits *out, const struct config *cfg);
void config_verp(bounce_verp_options *out, const struct config *cfg);

/* syslog(3) facility of syslog_facility (LOG_MAIL...). */
int config_syslog_facility(const struct config *cfg);

/* Send log messages where log_target and syslog_facility say.  For
 * commands run by the MTA (ingest); interactive commands keep stderr. */
void config_apply_logging(const struct config *cfg, const char *progname);

/*
 * Print the effective value of every setting and where it came from,
 * one "name = value  # origin" line each; secrets are masked.  Returns
 * 0, or -1 when writing failed.
 */
int config_dump(FILE *fp, const struct config *cfg);

/* Print a config file holding every setting, commented out at its
 * default, with its documentation (examples/bounced.conf). */
int config_write_example(FILE *fp);

/*
 * For commands: remember the FILE of `bounced -c FILE COMMAND` (main.c),
 * and load the configuration a command should use: its own -c/--config
 * FILE when given, else the global one, else $BOUNCED_CONFIG, else the
 * default.  Logs the error and returns EX_CONFIG when it cannot load.
 */
void config_set_global_path(const char *path);
int config_from_args(struct config **out, const char *path_or_null);

#endif
