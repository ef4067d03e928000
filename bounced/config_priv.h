/*
 * config_priv.h - what the config*.c files share and nothing else uses:
 * the value store behind struct config, the settings table as an array
 * (config_table.c) and the text/value helpers (config_value.c).
 */
#ifndef BOUNCED_CONFIG_PRIV_H
#define BOUNCED_CONFIG_PRIV_H

#include <stdio.h>

#include "config.h"

#define CONFIG_NAME_MAX 64

#define KIB (1024LL)
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)
#define MINUTE (60LL)
#define HOUR (3600LL)
#define DAY (86400LL)
#define WEEK (7 * 86400LL)

/* One item of a list. */
struct config_item {
	char *str;
	char *origin;
};

/* The value of one setting, at the same index as its table row. */
struct config_value {
	char *str;		/* STRING, ENUM: owned */
	long long num;		/* INT, SIZE, DURATION, BOOL, CHAR */
	char *origin;		/* "default", "FILE:LINE", "env NAME" */
	unsigned long line;	/* line in the file, 0 when not from it */
	struct config_item *items;	/* LIST */
	size_t nitems;
};

struct config {
	char *path;			/* file read, NULL when none */
	struct config_value *values;	/* config_nsettings of them */
};

/* config_table.c */
extern const struct config_setting config_settings[];
extern const size_t config_nsettings;
long config_setting_index(const char *name);
/* The setting a misspelt name most likely meant, or NULL. */
const char *config_suggest(const char *name);

/* config_value.c: parsers return 0 or -1, and never overflow */
int config_is_blank(int c);
int config_parse_size(long long *out, const char *v);
int config_parse_duration(long long *out, const char *v);
int config_parse_int(long long *out, const char *v);
int config_parse_bool(long long *out, const char *v);
int config_enum_find(const char **word, size_t *wlen, const char *allowed,
    const char *v);
void config_fmt_size(char *buf, size_t len, long long n);
void config_fmt_duration(char *buf, size_t len, long long n);
void config_fmt_number(char *buf, size_t len, const struct config_setting *s,
    long long n);
void config_allowed_text(char *buf, size_t len,
    const struct config_setting *s);
int config_needs_quotes(const char *v);
void config_put_value(FILE *fp, const char *v, int quote);

#endif
