/*
 * check_config.c - tests for bounced/config.c: the settings table, the
 * file format, every kind of error naming FILE:LINE, units and ranges,
 * the environment, the world-readable secret refusal, the dump and
 * examples/bounced.conf against the table.
 *
 * Config files are written to a fresh directory under /tmp per test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "rulesload.h"
#include "testutil.h"

#define EXAMPLE "examples/bounced.conf"

static char tmpdir[64];
static char paths[64][128];
static int npaths;

static void
setup(void)
{
	unsetenv("BOUNCED_DATABASE_URL");
	unsetenv(CONFIG_PATH_ENV);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	npaths = 0;
	config_set_global_path(NULL);
}

static void
teardown(void)
{
	int i;

	for (i = 0; i < npaths; i++)
		unlink(paths[i]);
	rmdir(tmpdir);
}

/* Write text to a new file with mode; returns its path. */
static const char *
conf(const char *text, mode_t mode)
{
	char *path;
	FILE *fp;

	ck_assert_int_lt(npaths, 64);
	path = paths[npaths];
	snprintf(path, sizeof(paths[0]), "%s/t%d.conf", tmpdir, npaths);
	npaths++;
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

/* Load text; expect failure with an error holding each of the words
 * (NULL-terminated); "@" stands for the file's path. */
static void
expect_error(const char *text, ...)
{
	struct config *cfg = (struct config *)1;
	const char *path, *want;
	char err[1024];
	va_list ap;

	path = conf(text, 0600);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_ptr_null(cfg);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (strcmp(want, "@") == 0)
			want = path;
		ck_assert_msg(strstr(err, want) != NULL,
		    "error for %s lacks '%s': %s", text, want, err);
	}
	va_end(ap);
}

static struct config *
load_ok(const char *text, mode_t mode)
{
	struct config *cfg = NULL;
	char err[1024];
	const char *path = conf(text, mode);

	ck_assert_msg(config_load_file(&cfg, path, 1, err, sizeof(err)) == 0,
	    "load failed: %s", err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

START_TEST(test_table)
{
	const struct config_setting *s, *t;
	struct config *cfg;
	char err[256];
	size_t i, j;
	const char *p;

	ck_assert_uint_gt(config_setting_count(), 10);
	for (i = 0; i < config_setting_count(); i++) {
		s = config_setting_at(i);
		ck_assert_ptr_nonnull(s->name);
		for (p = s->name; *p != '\0'; p++)
			ck_assert_msg((*p >= 'a' && *p <= 'z') || *p == '_' ||
			    (*p >= '0' && *p <= '9'), "bad name %s", s->name);
		ck_assert_ptr_nonnull(s->def);
		ck_assert_msg(s->doc != NULL && strlen(s->doc) > 20,
		    "%s is not documented", s->name);
		if (s->type == CONFIG_ENUM || s->type == CONFIG_CHAR)
			ck_assert_ptr_nonnull(s->allowed);
		if (s->type == CONFIG_INT || s->type == CONFIG_SIZE ||
		    s->type == CONFIG_DURATION)
			ck_assert_int_le(s->min, s->max);
		ck_assert_ptr_eq(config_setting_find(s->name), s);
		for (j = i + 1; j < config_setting_count(); j++) {
			t = config_setting_at(j);
			ck_assert_str_ne(s->name, t->name);
		}
	}
	ck_assert_ptr_null(config_setting_at(config_setting_count()));
	ck_assert_ptr_null(config_setting_find("no_such_setting"));
	/* every default parses and is in range (or loading would fail) */
	ck_assert_int_eq(config_load_file(&cfg, NULL, 0, err, sizeof(err)),
	    0);
	for (i = 0; i < config_setting_count(); i++) {
		s = config_setting_at(i);
		if (s->type == CONFIG_INT || s->type == CONFIG_SIZE ||
		    s->type == CONFIG_DURATION) {
			ck_assert_int_ge(config_number(cfg, s->name), s->min);
			ck_assert_int_le(config_number(cfg, s->name), s->max);
		}
		if (s->type != CONFIG_LIST)
			ck_assert_str_eq(config_origin(cfg, s->name),
			    "default");
	}
	config_free(cfg);
	/* the secret and the settings the issue asks for are there */
	ck_assert(config_setting_find("database_url")->flags & CONFIG_SECRET);
	ck_assert_str_eq(config_setting_find("database_url")->env,
	    "BOUNCED_DATABASE_URL");
	ck_assert_ptr_nonnull(config_setting_find("rules_file"));
	ck_assert_ptr_nonnull(config_setting_find("schema_dir"));
	ck_assert_ptr_nonnull(config_setting_find("follow_poll_interval"));
	ck_assert_ptr_nonnull(config_setting_find("ingest_batch_size"));
}
END_TEST

START_TEST(test_defaults_match_library)
{
	const bounce_limits lib = BOUNCE_LIMITS_INIT;
	const bounce_verp_options verp = BOUNCE_VERP_OPTIONS_INIT;
	bounce_verp_options v;
	bounce_limits l;
	struct config *cfg;
	char err[256];

	ck_assert_int_eq(config_load_file(&cfg, NULL, 0, err, sizeof(err)),
	    0);
	ck_assert_ptr_null(config_path(cfg));
	config_limits(&l, cfg);
	ck_assert_uint_eq(l.version, lib.version);
	ck_assert_uint_eq(l.max_message_bytes, lib.max_message_bytes);
	ck_assert_uint_eq(l.max_mime_depth, lib.max_mime_depth);
	ck_assert_uint_eq(l.max_mime_parts, lib.max_mime_parts);
	ck_assert_uint_eq(l.max_text_bytes, lib.max_text_bytes);
	ck_assert_uint_eq(l.max_field_bytes, lib.max_field_bytes);
	ck_assert_uint_eq(l.max_recipients, lib.max_recipients);
	config_verp(&v, cfg);
	ck_assert_uint_eq(v.version, verp.version);
	ck_assert_int_eq(v.separator, verp.separator);
	ck_assert_int_eq(v.equals, verp.equals);
	ck_assert_str_eq(config_string(cfg, "database_url"), "");
	ck_assert_int_eq(config_bool(cfg, "store_raw"), 1);
	ck_assert_str_eq(config_string(cfg, "log_target"), "stderr");
	ck_assert_uint_eq(config_list_count(cfg, "rules_file"), 0);
	ck_assert_int_eq(config_number(cfg, "ingest_batch_size"), 500);
	config_free(cfg);
}
END_TEST

START_TEST(test_good_file)
{
	struct config *cfg;
	bounce_limits l;
	char where[160];

	cfg = load_ok(
	    "# a comment\n"
	    "   # an indented comment\n"
	    "\n"
	    "max_message_bytes = 10M\n"
	    "max_mime_depth=8\n"
	    "\tmax_recipients   =  200   # trailing comment\n"
	    "store_raw = Off\r\n"
	    "verp_separator = -\n"
	    "verp_equals = \"=\"\n"
	    "schema_dir = \"/usr/share/bounced/a #b\"  # quoted\n"
	    "database_url = postgresql://bounced:pa#ss@db.example.org/b\n"
	    "rules_file = /etc/bounced/a.rules, /etc/bounced/b.rules\n"
	    "rules_file = \"/etc/bounced/with space.rules\"\n"
	    "syslog_facility = local3\n"
	    "follow_poll_interval = 2m\n"
	    "ingest_batch_size = 1\n",
	    0600);
	ck_assert_int_eq(config_number(cfg, "max_message_bytes"),
	    10 * 1024 * 1024);
	ck_assert_int_eq(config_number(cfg, "max_mime_depth"), 8);
	ck_assert_int_eq(config_number(cfg, "max_recipients"), 200);
	ck_assert_int_eq(config_bool(cfg, "store_raw"), 0);
	ck_assert_int_eq(config_char(cfg, "verp_separator"), '-');
	ck_assert_int_eq(config_char(cfg, "verp_equals"), '=');
	ck_assert_str_eq(config_string(cfg, "schema_dir"),
	    "/usr/share/bounced/a #b");
	/* '#' inside a word is part of the value (passwords) */
	ck_assert_str_eq(config_string(cfg, "database_url"),
	    "postgresql://bounced:pa#ss@db.example.org/b");
	ck_assert_uint_eq(config_list_count(cfg, "rules_file"), 3);
	ck_assert_str_eq(config_list_item(cfg, "rules_file", 0),
	    "/etc/bounced/a.rules");
	ck_assert_str_eq(config_list_item(cfg, "rules_file", 1),
	    "/etc/bounced/b.rules");
	ck_assert_str_eq(config_list_item(cfg, "rules_file", 2),
	    "/etc/bounced/with space.rules");
	ck_assert_ptr_null(config_list_item(cfg, "rules_file", 3));
	ck_assert_int_eq(config_number(cfg, "follow_poll_interval"), 120);
	ck_assert_str_eq(config_path(cfg), paths[0]);
	snprintf(where, sizeof(where), "%s:4", paths[0]);
	ck_assert_str_eq(config_origin(cfg, "max_message_bytes"), where);
	snprintf(where, sizeof(where), "%s:12", paths[0]);
	ck_assert_str_eq(config_origin(cfg, "rules_file"), where);
	ck_assert_str_eq(config_origin(cfg, "max_text_bytes"), "default");
	config_limits(&l, cfg);
	ck_assert_uint_eq(l.max_message_bytes, 10 * 1024 * 1024);
	ck_assert_uint_eq(l.max_mime_depth, 8);
	ck_assert_uint_eq(l.max_recipients, 200);
	ck_assert_uint_eq(l.max_text_bytes, 1024 * 1024);
	config_free(cfg);

	/* an empty unquoted list value clears the list */
	cfg = load_ok("rules_file = /a.rules\nrules_file =\n"
	    "rules_file = /b.rules\n", 0600);
	ck_assert_uint_eq(config_list_count(cfg, "rules_file"), 1);
	ck_assert_str_eq(config_list_item(cfg, "rules_file", 0), "/b.rules");
	config_free(cfg);

	/* no newline at the end, an empty file */
	cfg = load_ok("max_mime_parts = 7", 0600);
	ck_assert_int_eq(config_number(cfg, "max_mime_parts"), 7);
	config_free(cfg);
	cfg = load_ok("", 0600);
	config_free(cfg);
}
END_TEST

START_TEST(test_errors_name_the_line)
{
	/* unknown setting, with a suggestion when it is a typo */
	expect_error("\n# c\nmax_mesage_bytes = 1M\n", "@", ":3:",
	    "unknown setting 'max_mesage_bytes'",
	    "did you mean 'max_message_bytes'", NULL);
	expect_error("colour = blue\n", ":1:", "unknown setting 'colour'",
	    "--example", NULL);
	expect_error("Store_Raw = yes\n", ":1:", "'Store_Raw'",
	    "store_raw", NULL);
	/* bad values say what is allowed */
	expect_error("store_raw = maybe\n", ":1:", "store_raw", "'maybe'",
	    "yes or no", NULL);
	expect_error("log_target = file\n", ":1:", "log_target",
	    "one of stderr, syslog", NULL);
	expect_error("verp_separator = ++\n", ":1:", "verp_separator",
	    "one character of \"+-=\"", NULL);
	expect_error("verp_separator = @\n", ":1:", "'@'", NULL);
	expect_error("max_mime_depth = ten\n", ":1:", "max_mime_depth",
	    "'ten'", "whole number from 1 to 256", NULL);
	expect_error("max_mime_depth = 3.5\n", ":1:", "'3.5'", NULL);
	expect_error("max_mime_depth =\n", ":1:", "max_mime_depth", NULL);
	/* out of range names the limit */
	expect_error("max_mime_depth = 0\n", ":1:", "below the minimum of 1",
	    NULL);
	expect_error("max_mime_depth = 257\n", ":1:",
	    "above the maximum of 256", NULL);
	expect_error("max_mime_depth = 99999999999999999999999\n", ":1:",
	    "max_mime_depth", NULL);
	/* syntax */
	expect_error("max_mime_depth 5\n", ":1:", "expected '=' after "
	    "'max_mime_depth'", NULL);
	expect_error("= 5\n", ":1:", "expected \"name = value\"", NULL);
	/* a line that is not a setting is not echoed: it may be a secret */
	expect_error("\"postgresql://u:s3cret@db\"\n", ":1:",
	    "expected \"name = value\"", NULL);
	expect_error("schema_dir = \"/x\n", ":1:", "no closing", NULL);
	expect_error("schema_dir = \"/x\" y\n", ":1:",
	    "text after the closing", NULL);
	expect_error("schema_dir = \"/x\\n\"\n", ":1:", "backslash", NULL);
	expect_error("store_raw = yes\n\nstore_raw = no\n", ":3:",
	    "already set on line 1", NULL);
	expect_error("rules_file = \"\"\n", ":1:", "empty path", NULL);
	expect_error("rules_file = a b c d e f g h i j k l m n o p q\n",
	    ":1:", "more than 16", NULL);
	/* what is not text */
	expect_error("store_raw = yes\nschema_dir = a\001b\n", ":2:",
	    "control character", NULL);
	/* cross-setting: names where each came from */
	expect_error("verp_equals = +\n", "verp_separator (default)",
	    ":1)", "must differ", NULL);
}
END_TEST

START_TEST(test_errors_structure)
{
	struct config *cfg;
	char err[512], *big;
	const char *path;
	FILE *fp;

	/* a NUL byte */
	path = conf("", 0600);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fwrite("store_raw = yes\nx\0y = 1\n", 1, 25, fp);
	fclose(fp);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_msg(strstr(err, ":2: NUL byte") != NULL, "%s", err);
	/* a line over the limit */
	big = malloc(5000);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "schema_dir = ", 13);
	memset(big + 13, 'a', 4986);
	big[4999] = '\0';
	path = conf(big, 0600);
	free(big);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_msg(strstr(err, ":1: line longer than") != NULL, "%s", err);
	/* not a regular file */
	ck_assert_int_eq(config_load_file(&cfg, tmpdir, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_msg(strstr(err, "not a regular file") != NULL ||
	    strstr(err, "Is a directory") != NULL, "%s", err);
	/* a small error buffer still ends in a NUL */
	path = conf("colour = blue\n", 0600);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, 16), EX_CONFIG);
	ck_assert_uint_eq(strlen(err), 15);
}
END_TEST

START_TEST(test_units)
{
	static const struct {
		const char *text;
		long long bytes;
	} sizes[] = {
		{ "65536", 65536 }, { "64k", 65536 }, { "64K", 65536 },
		{ "64KiB", 65536 }, { "64kB", 65536 }, { "1M", 1048576 },
		{ "1m", 1048576 }, { "1G", 1073741824 },
		{ "\"50M\"", 50 * 1048576 },
	};
	static const char *const bad_sizes[] = {
		"1T", "-5", "5 M", "1.5M", "M", "64kb", "0x100", "+64k",
	};
	static const struct {
		const char *text;
		long long secs;
	} durs[] = {
		{ "30", 30 }, { "30s", 30 }, { "5m", 300 }, { "10m", 600 },
		{ "1", 1 },
	};
	struct config *cfg;
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(text, sizeof(text), "max_message_bytes = %s\n",
		    sizes[i].text);
		cfg = load_ok(text, 0600);
		ck_assert_int_eq(config_number(cfg, "max_message_bytes"),
		    sizes[i].bytes);
		config_free(cfg);
	}
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		snprintf(text, sizeof(text), "max_message_bytes = %s\n",
		    bad_sizes[i]);
		expect_error(text, ":1:", "is not a size", "50M", NULL);
	}
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		snprintf(text, sizeof(text), "follow_poll_interval = %s\n",
		    durs[i].text);
		cfg = load_ok(text, 0600);
		ck_assert_int_eq(config_number(cfg, "follow_poll_interval"),
		    durs[i].secs);
		config_free(cfg);
	}
	/* h, d and w parse: they are only over this setting's maximum */
	expect_error("follow_poll_interval = 1h\n", "above the maximum of 10m",
	    NULL);
	expect_error("follow_poll_interval = 7d\n", "above the maximum", NULL);
	expect_error("follow_poll_interval = 2w\n", "above the maximum", NULL);
	expect_error("follow_poll_interval = 0\n", "below the minimum of 1s",
	    NULL);
	expect_error("follow_poll_interval = 5ms\n", "is not a duration",
	    "30s, 5m, 7d", NULL);
	expect_error("follow_poll_interval = 5x\n", "is not a duration", NULL);
	/* size limits: the issue's range for max_message_bytes */
	expect_error("max_message_bytes = 63k\n", "below the minimum of 64k",
	    NULL);
	expect_error("max_message_bytes = 2G\n", "above the maximum of 1G",
	    NULL);
	cfg = load_ok("max_message_bytes = 1G\nmax_text_bytes = 4k\n", 0600);
	config_free(cfg);
	/* yes/no spellings */
	cfg = load_ok("store_raw = TRUE\n", 0600);
	ck_assert_int_eq(config_bool(cfg, "store_raw"), 1);
	config_free(cfg);
	cfg = load_ok("store_raw = 0\n", 0600);
	ck_assert_int_eq(config_bool(cfg, "store_raw"), 0);
	config_free(cfg);
}
END_TEST

START_TEST(test_lookup_order)
{
	struct config *cfg;
	const char *a, *b;
	char err[512];

	a = conf("max_mime_depth = 3\n", 0600);
	b = conf("max_mime_depth = 4\n", 0600);
	/* a missing default file is fine; a named one is not */
	ck_assert_int_eq(config_load_file(&cfg, "/nonexistent/bounced.conf",
	    0, err, sizeof(err)), 0);
	ck_assert_ptr_null(config_path(cfg));
	config_free(cfg);
	ck_assert_int_eq(config_load_file(&cfg, "/nonexistent/bounced.conf",
	    1, err, sizeof(err)), EX_CONFIG);
	ck_assert_msg(strstr(err, "/nonexistent/bounced.conf") != NULL &&
	    strstr(err, "No such file") != NULL, "%s", err);
	ck_assert_int_eq(config_load(&cfg, "/nonexistent/x.conf", err,
	    sizeof(err)), EX_CONFIG);
	/* BOUNCED_CONFIG names a file that must exist */
	setenv(CONFIG_PATH_ENV, "/nonexistent/y.conf", 1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_msg(strstr(err, "/nonexistent/y.conf") != NULL, "%s", err);
	setenv(CONFIG_PATH_ENV, b, 1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(config_number(cfg, "max_mime_depth"), 4);
	config_free(cfg);
	/* -c wins over BOUNCED_CONFIG */
	ck_assert_int_eq(config_load(&cfg, a, err, sizeof(err)), 0);
	ck_assert_int_eq(config_number(cfg, "max_mime_depth"), 3);
	config_free(cfg);
	/* commands: own -c, else `bounced -c FILE COMMAND`, else env */
	config_set_global_path(a);
	ck_assert_int_eq(config_from_args(&cfg, NULL), 0);
	ck_assert_int_eq(config_number(cfg, "max_mime_depth"), 3);
	config_free(cfg);
	ck_assert_int_eq(config_from_args(&cfg, b), 0);
	ck_assert_int_eq(config_number(cfg, "max_mime_depth"), 4);
	config_free(cfg);
	config_set_global_path(NULL);
	unsetenv(CONFIG_PATH_ENV);
	ck_assert_int_eq(config_from_args(&cfg, "/nonexistent/z.conf"),
	    EX_CONFIG);
	ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_env_override)
{
	struct config *cfg;
	const char *path;
	char err[512];

	path = conf("database_url = host=db1.example.org dbname=a\n", 0600);
	setenv("BOUNCED_DATABASE_URL", "postgresql://db2.example.org/b", 1);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    0);
	ck_assert_str_eq(config_string(cfg, "database_url"),
	    "postgresql://db2.example.org/b");
	ck_assert_str_eq(config_origin(cfg, "database_url"),
	    "env BOUNCED_DATABASE_URL");
	config_free(cfg);
	/* with no file at all */
	ck_assert_int_eq(config_load_file(&cfg, NULL, 0, err, sizeof(err)),
	    0);
	ck_assert_str_eq(config_string(cfg, "database_url"),
	    "postgresql://db2.example.org/b");
	config_free(cfg);
	/* set but empty counts as unset */
	setenv("BOUNCED_DATABASE_URL", "", 1);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    0);
	ck_assert_str_eq(config_string(cfg, "database_url"),
	    "host=db1.example.org dbname=a");
	config_free(cfg);
	/* the secret in the environment makes a world-readable file fine */
	path = conf("max_mime_depth = 9\n", 0644);
	setenv("BOUNCED_DATABASE_URL", "dbname=c", 1);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    0);
	config_free(cfg);
}
END_TEST

START_TEST(test_secret_mode)
{
	struct config *cfg;
	const char *path;
	char err[512];

	path = conf("# db\nmax_mime_depth = 4\n"
	    "database_url = postgresql://bounced:s3cret@db.example.org/b\n",
	    0644);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, ":3:") != NULL && strstr(err,
	    "database_url") != NULL && strstr(err, "chmod 640") != NULL &&
	    strstr(err, "readable by every user") != NULL, "%s", err);
	/* the message never shows the secret */
	ck_assert_ptr_null(strstr(err, "s3cret"));
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    0);
	config_free(cfg);
	/* an empty secret is no secret */
	path = conf("database_url =\n", 0644);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    0);
	config_free(cfg);
	/* world-writable is refused whatever the file holds */
	path = conf("max_mime_depth = 4\n", 0666);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_msg(strstr(err, "writable by every user") != NULL &&
	    strstr(err, "chmod o-w") != NULL, "%s", err);
	/* errors never echo a secret, nor a line that may hold one */
	path = conf("database_url = \"s3cret\n", 0600);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	path = conf("\"postgresql://u:s3cret@db\"\n", 0600);
	ck_assert_int_eq(config_load_file(&cfg, path, 1, err, sizeof(err)),
	    EX_CONFIG);
	ck_assert_ptr_null(strstr(err, "s3cret"));
}
END_TEST

START_TEST(test_dump)
{
	struct config *cfg, *again;
	char *out = NULL, err[512], where[160];
	const char *path;
	size_t len = 0, i;
	FILE *fp;

	cfg = load_ok("database_url = postgresql://bounced:s3cret@db/b\n"
	    "max_message_bytes = 2048k\n"
	    "rules_file = \"/etc/bounced/a b.rules\"\n"
	    "rules_file = /etc/bounced/c.rules\n"
	    "schema_dir = \" padded #x \"\n", 0600);
	fp = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(config_dump(fp, cfg), 0);
	fclose(fp);
	ck_assert_ptr_null(strstr(out, "s3cret"));
	ck_assert_ptr_nonnull(strstr(out, "********"));
	ck_assert_ptr_nonnull(strstr(out, "max_message_bytes    = 2M  # "));
	snprintf(where, sizeof(where), "# %s:2\n", paths[0]);
	ck_assert_ptr_nonnull(strstr(out, where));
	ck_assert_ptr_nonnull(strstr(out, "# default\n"));
	ck_assert_ptr_nonnull(strstr(out, "\"/etc/bounced/a b.rules\""));
	ck_assert_ptr_nonnull(strstr(out, "\" padded #x \""));
	/* every setting is in the dump */
	for (i = 0; i < config_setting_count(); i++)
		ck_assert_msg(strstr(out, config_setting_at(i)->name) != NULL,
		    "%s missing", config_setting_at(i)->name);
	/* and the dump reads back as the same configuration */
	path = conf(out, 0600);
	ck_assert_msg(config_load_file(&again, path, 1, err, sizeof(err)) ==
	    0, "%s", err);
	ck_assert_int_eq(config_number(again, "max_message_bytes"),
	    2 * 1024 * 1024);
	ck_assert_uint_eq(config_list_count(again, "rules_file"), 2);
	ck_assert_str_eq(config_list_item(again, "rules_file", 0),
	    "/etc/bounced/a b.rules");
	ck_assert_str_eq(config_string(again, "schema_dir"), " padded #x ");
	ck_assert_str_eq(config_string(again, "database_url"), "********");
	config_free(again);
	config_free(cfg);
	free(out);
	/* the environment shows as the origin */
	setenv("BOUNCED_DATABASE_URL", "dbname=x", 1);
	ck_assert_int_eq(config_load_file(&cfg, NULL, 0, err, sizeof(err)),
	    0);
	out = NULL;
	fp = open_memstream(&out, &len);
	ck_assert_int_eq(config_dump(fp, cfg), 0);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(out, "# env BOUNCED_DATABASE_URL"));
	ck_assert_ptr_null(strstr(out, "dbname=x"));
	ck_assert_ptr_nonnull(strstr(out, "none read"));
	free(out);
	config_free(cfg);
}
END_TEST

START_TEST(test_example_file)
{
	const struct config_setting *s;
	char *want = NULL, *have, line[160], err[512];
	struct config *cfg;
	size_t len = 0, hlen;
	struct stat st;
	FILE *fp;
	size_t i;

	fp = open_memstream(&want, &len);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(config_write_example(fp), 0);
	fclose(fp);
	have = testutil_read(EXAMPLE, &hlen);
	ck_assert_msg(hlen == len && memcmp(have, want, len) == 0,
	    EXAMPLE " differs from the settings table; regenerate it: "
	    "./bounced/bounced config --example > " EXAMPLE);
	/* every setting is there, commented out at its default */
	for (i = 0; i < config_setting_count(); i++) {
		s = config_setting_at(i);
		snprintf(line, sizeof(line), "\n#%s =%s%s\n", s->name,
		    s->def[0] ? " " : "", s->def);
		ck_assert_msg(strstr(have, line) != NULL, "no line %s", line);
		snprintf(line, sizeof(line), "\n# %s (", s->name);
		ck_assert_msg(strstr(have, line) != NULL, "no doc for %s",
		    s->name);
	}
	/* it is a good config file: everything at its default */
	ck_assert_int_eq(stat(EXAMPLE, &st), 0);
	ck_assert_msg(config_load_file(&cfg, EXAMPLE, 1, err, sizeof(err)) ==
	    0, "%s", err);
	for (i = 0; i < config_setting_count(); i++)
		ck_assert_str_eq(config_origin(cfg, config_setting_at(i)->name),
		    "default");
	config_free(cfg);
	/* uncommented, each line still reads as the default */
	for (i = 0; i < len; i++)
		if (want[i] == '#' && (i == 0 || want[i - 1] == '\n') &&
		    want[i + 1] >= 'a' && want[i + 1] <= 'z')
			want[i] = ' ';
	ck_assert_msg(config_load_file(&cfg, conf(want, 0600), 1, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(config_number(cfg, "max_message_bytes"),
	    50 * 1024 * 1024);
	config_free(cfg);
	free(want);
	free(have);
}
END_TEST

START_TEST(test_wrong_getter)
{
	struct config *cfg;
	char err[64];

	teardown();	/* the test ends in exit(), teardown never runs */
	ck_assert_int_eq(config_load_file(&cfg, NULL, 0, err, sizeof(err)),
	    0);
	(void)config_number(cfg, "store_raw");
}
END_TEST

START_TEST(test_unknown_getter)
{
	struct config *cfg;
	char err[64];

	teardown();	/* the test ends in exit(), teardown never runs */
	ck_assert_int_eq(config_load_file(&cfg, NULL, 0, err, sizeof(err)),
	    0);
	(void)config_string(cfg, "no_such_setting");
}
END_TEST

START_TEST(test_rules_from_config)
{
	bounce_ctx *ctx, *keep;
	struct config *cfg;
	const char *path;
	size_t builtin;

	/* keep, a context without a config, counts the built-in rules */
	ck_assert_int_eq(rulesload_ctx(&keep, NULL, 0), 0);
	builtin = bounce_ctx_rule_count(keep);
	/* a rules file named in the config must exist */
	cfg = load_ok("rules_file = /nonexistent/local.rules\n"
	    "max_recipients = 7\n", 0600);
	ck_assert_int_eq(rulesload_ctx_config(&ctx, cfg, NULL, 0),
	    EX_CONFIG);
	ck_assert_str_eq(config_list_origin(cfg, "rules_file", 0),
	    config_origin(cfg, "rules_file"));
	ck_assert_ptr_null(config_list_origin(cfg, "rules_file", 1));
	config_free(cfg);
	/* one from the command line is still a missing input */
	cfg = load_ok("max_recipients = 7\n", 0600);
	path = "/nonexistent/cli.rules";
	ck_assert_int_eq(rulesload_ctx_config(&ctx, cfg, &path, 1),
	    EX_NOINPUT);
	config_free(cfg);
	/* the limits reach the context */
	cfg = load_ok("max_recipients = 7\nmax_message_bytes = 64k\n", 0600);
	ck_assert_int_eq(rulesload_ctx_config(&ctx, cfg, NULL, 0), 0);
	ck_assert_uint_eq(bounce_ctx_limits(ctx)->max_recipients, 7);
	ck_assert_uint_eq(bounce_ctx_limits(ctx)->max_message_bytes, 65536);
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), builtin);
	bounce_ctx_free(ctx);
	config_free(cfg);
	bounce_ctx_free(keep);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_defaults_match_library);
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_errors_name_the_line);
	tcase_add_test(tc, test_errors_structure);
	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_lookup_order);
	tcase_add_test(tc, test_env_override);
	tcase_add_test(tc, test_secret_mode);
	tcase_add_test(tc, test_dump);
	tcase_add_test(tc, test_example_file);
	tcase_add_test(tc, test_rules_from_config);
	tcase_add_exit_test(tc, test_wrong_getter, EX_SOFTWARE);
	tcase_add_exit_test(tc, test_unknown_getter, EX_SOFTWARE);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(config_suite)
