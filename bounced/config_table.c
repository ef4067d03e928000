/*
 * config_table.c - the settings of bounced, as one table after Postfix's
 * src/bounce/bounce.c: name, type, default, range, the environment
 * variable that overrides it and a paragraph of documentation.
 *
 * Adding a setting is adding a row here (then read it with a getter of
 * config.h and regenerate examples/bounced.conf with `bounced config
 * --example`).  The parser, range checks, --dump, --example and
 * tests/bounced/check_config.c all read this table.
 */
#include <stdint.h>
#include <string.h>

#include "config_priv.h"
#include "rulesload.h"

/*
 * The settings.  Defaults are spelled as in the file and parsed by the
 * same code as the file (a test checks each one).  For a LIST, max is the
 * most items.  Keep the order: it is the order of --dump and the example.
 */
const struct config_setting config_settings[] = {
	{ "database_url", CONFIG_STRING, "", 0, 0, NULL,
	  "BOUNCED_DATABASE_URL", CONFIG_SECRET,
	  "PostgreSQL database that `bounced ingest` stores into: a libpq "
	  "conninfo string (host=/run/postgresql dbname=bounced "
	  "user=bounced) or a URI (postgresql://bounced@db.example.org/"
	  "bounced). Rather than a password here, prefer a ~/.pgpass file "
	  "of the bounced user (or PGPASSFILE). Empty: the private "
	  "development cluster that scripts/pg.sh runs under ./.local, "
	  "for trying bounced out, never for production." },
	{ "rules_file", CONFIG_LIST, "", 0, RULES_FILES_MAX, NULL, NULL, 0,
	  "Operator classification rules files (format: "
	  "libbounce/rules/README), loaded after the built-in rules; a "
	  "later file wins over an earlier one. The setting may repeat, "
	  "or list several paths separated by commas or blanks; an empty "
	  "value clears the list. --rules FILE on a command line adds "
	  "more after these. At most 16." },
	{ "verp_separator", CONFIG_CHAR, "+", 0, 0, "+-=", NULL, 0,
	  "Character between the local part of the bounce address and the "
	  "VERP data, as in list-bounces+alice=example.net@"
	  "lists.example.org: Postfix's recipient_delimiter, the first "
	  "character of Exim's local_part_suffix. It must match what the "
	  "list manager sends." },
	{ "verp_equals", CONFIG_CHAR, "=", 0, 0, "=+", NULL, 0,
	  "Character that stands for the '@' of the recipient inside the "
	  "VERP data (alice=example.net). Must differ from "
	  "verp_separator." },
	{ "max_message_bytes", CONFIG_SIZE, "50M", 64 * KIB, GIB, NULL,
	  NULL, 0,
	  "Largest message read. A longer one is cut there, reported as "
	  "over the limit, and still stored. Bounces that quote a large "
	  "original can exceed the MTA's own message_size_limit." },
	{ "max_mime_depth", CONFIG_INT, "32", 1, 256, NULL, NULL, 0,
	  "Deepest MIME nesting followed (a bounce of a bounce nests "
	  "message/rfc822 parts). Deeper parts are not read; the report "
	  "names the limit." },
	{ "max_mime_parts", CONFIG_INT, "512", 1, 100000, NULL, NULL, 0,
	  "Most MIME parts walked in one message; the rest are not read "
	  "and the report names the limit." },
	{ "max_text_bytes", CONFIG_SIZE, "1M", 4 * KIB, 256 * MIB, NULL,
	  NULL, 0,
	  "Most decoded text scanned in one message when looking for "
	  "diagnostics and addresses outside a delivery status "
	  "notification." },
	{ "max_field_bytes", CONFIG_SIZE, "16k", KIB, MIB, NULL, NULL, 0,
	  "Longest header field, DSN field or diagnostic kept; a longer "
	  "one is cut." },
	{ "max_recipients", CONFIG_INT, "1000", 1, 1000000, NULL, NULL, 0,
	  "Most recipients read from one report; the rest are dropped and "
	  "the report says so." },
	{ "ingest_batch_size", CONFIG_INT, "500", 1, 100000, NULL, NULL, 0,
	  "Messages or log events `bounced ingest` stores per database "
	  "transaction when it reads many (an mbox, a log). A message "
	  "from the MTA is always stored on its own before ingest exits "
	  "0." },
	{ "store_raw", CONFIG_BOOL, "yes", 0, 0, NULL, NULL, 0,
	  "Keep the raw message beside what was read from it, so it can "
	  "be parsed again when the rules improve. no: keep only the "
	  "parsed report." },
	{ "log_target", CONFIG_ENUM, "stderr", 0, 0, "stderr|syslog", NULL,
	  0,
	  "Where `bounced ingest` logs: stderr (the MTA logs the first "
	  "line of a failed delivery) or syslog. Commands run by people "
	  "(parse, classify, config) always log to stderr." },
	{ "syslog_facility", CONFIG_ENUM, "mail", 0, 0,
	  "mail|daemon|user|local0|local1|local2|local3|local4|local5|"
	  "local6|local7", NULL, 0,
	  "syslog facility when log_target is syslog." },
	{ "follow_poll_interval", CONFIG_DURATION, "1s", 1, 10 * MINUTE,
	  NULL, NULL, 0,
	  "How often `bounced ingest --smtp ... --follow` looks for new "
	  "lines and for a rotated log." },
	{ "schema_dir", CONFIG_STRING, "", 0, 0, NULL, NULL, 0,
	  "Directory of SQL migrations for `bounced db`; empty: the "
	  "migrations built into bounced. $BOUNCED_SCHEMA_DIR and "
	  "--schema-dir override it." },
};

const size_t config_nsettings = sizeof(config_settings) /
    sizeof(config_settings[0]);

size_t
config_setting_count(void)
{
	return config_nsettings;
}

const struct config_setting *
config_setting_at(size_t i)
{
	return i < config_nsettings ? &config_settings[i] : NULL;
}

long
config_setting_index(const char *name)
{
	size_t i;

	for (i = 0; i < config_nsettings; i++)
		if (strcmp(config_settings[i].name, name) == 0)
			return (long)i;
	return -1;
}

const struct config_setting *
config_setting_find(const char *name)
{
	long i = config_setting_index(name);

	return i < 0 ? NULL : &config_settings[i];
}

/* Edit distance of two short names, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t prev[CONFIG_NAME_MAX + 1], cur[CONFIG_NAME_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j, sub;

	if (la > CONFIG_NAME_MAX || lb > CONFIG_NAME_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = prev[j] + 1 < cur[j - 1] + 1 ? prev[j] + 1 :
			    cur[j - 1] + 1;
			if (sub < cur[j])
				cur[j] = sub;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *
config_suggest(const char *name)
{
	size_t i, d, best = SIZE_MAX;
	const char *found = NULL;

	for (i = 0; i < config_nsettings; i++) {
		d = distance(name, config_settings[i].name);
		if (d < best) {
			best = d;
			found = config_settings[i].name;
		}
	}
	/* close enough to be a typo, not just any other word */
	if (found != NULL && best <= 3 && best * 3 <= strlen(name))
		return found;
	return NULL;
}
