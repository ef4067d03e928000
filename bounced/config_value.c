/*
 * config_value.c - configuration values as text and back: sizes with
 * units (16k, 50M, 1G: 1024-based), durations (30s, 5m, 7d), integers,
 * yes/no, words of a list; what a setting accepts, for error messages;
 * and when a value needs quotes to read back as itself.
 *
 * Limits: numbers are long long; a value that would overflow is refused,
 * not wrapped.  Everything is ASCII; nothing here depends on the locale.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

int
config_is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
str_ieq(const char *a, const char *b)
{
	while (*a != '\0' && lc((unsigned char)*a) == lc((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* Format n bytes with the largest unit that divides it: 50M, 16k, 700. */
void
config_fmt_size(char *buf, size_t len, long long n)
{
	if (n != 0 && n % GIB == 0)
		snprintf(buf, len, "%lldG", n / GIB);
	else if (n != 0 && n % MIB == 0)
		snprintf(buf, len, "%lldM", n / MIB);
	else if (n != 0 && n % KIB == 0)
		snprintf(buf, len, "%lldk", n / KIB);
	else
		snprintf(buf, len, "%lld", n);
}

/* Format seconds the same way: 7d, 5m, 90s (days before weeks). */
void
config_fmt_duration(char *buf, size_t len, long long n)
{
	if (n != 0 && n % DAY == 0)
		snprintf(buf, len, "%lldd", n / DAY);
	else if (n != 0 && n % HOUR == 0)
		snprintf(buf, len, "%lldh", n / HOUR);
	else if (n != 0 && n % MINUTE == 0)
		snprintf(buf, len, "%lldm", n / MINUTE);
	else
		snprintf(buf, len, "%llds", n);
}

void
config_fmt_number(char *buf, size_t len, const struct config_setting *s,
    long long n)
{
	if (s->type == CONFIG_SIZE)
		config_fmt_size(buf, len, n);
	else if (s->type == CONFIG_DURATION)
		config_fmt_duration(buf, len, n);
	else
		snprintf(buf, len, "%lld", n);
}

/* Digits then an optional unit; *unit points after the digits. */
static int
parse_digits(long long *out, const char *v, const char **unit)
{
	long long n = 0;
	const char *p = v;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - (*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	*out = n;
	*unit = p;
	return 0;
}

/* "50M", "16k", "1G", "4096", "64KiB", "1MB": bytes, 1024-based. */
int
config_parse_size(long long *out, const char *v)
{
	const char *u;
	long long n, mult = 1;

	if (parse_digits(&n, v, &u) != 0)
		return -1;
	switch (*u) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = KIB;
		break;
	case 'm':
	case 'M':
		mult = MIB;
		break;
	case 'g':
	case 'G':
		mult = GIB;
		break;
	default:
		return -1;
	}
	if (*u != '\0') {
		u++;
		if (strcmp(u, "") != 0 && strcmp(u, "B") != 0 &&
		    strcmp(u, "iB") != 0)
			return -1;
	}
	if (n > LLONG_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

/* "30", "30s", "5m", "2h", "7d", "1w": seconds. */
int
config_parse_duration(long long *out, const char *v)
{
	const char *u;
	long long n, mult;

	if (parse_digits(&n, v, &u) != 0)
		return -1;
	if (u[0] != '\0' && u[1] != '\0')
		return -1;
	switch (*u) {
	case '\0':
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = MINUTE;
		break;
	case 'h':
		mult = HOUR;
		break;
	case 'd':
		mult = DAY;
		break;
	case 'w':
		mult = WEEK;
		break;
	default:
		return -1;
	}
	if (n > LLONG_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int
config_parse_int(long long *out, const char *v)
{
	char *end;
	long long n;

	if (*v == '\0' || config_is_blank(*v) || *v == '+')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

int
config_parse_bool(long long *out, const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (str_ieq(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (str_ieq(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* The word of "a|b|c" equal to v, as a pointer into allowed and a length. */
int
config_enum_find(const char **word, size_t *wlen, const char *allowed,
    const char *v)
{
	const char *p = allowed, *bar;
	size_t n, vlen = strlen(v);

	for (;;) {
		bar = strchr(p, '|');
		n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (n == vlen && memcmp(p, v, n) == 0) {
			*word = p;
			*wlen = n;
			return 0;
		}
		if (bar == NULL)
			return -1;
		p = bar + 1;
	}
}

/* "a|b|c" as "one of a, b, c". */
static void
enum_text(char *buf, size_t len, const char *allowed)
{
	size_t n = 0;
	int w;

	w = snprintf(buf, len, "one of ");
	for (; w >= 0 && (size_t)w < len - n && *allowed != '\0'; allowed++) {
		n += (size_t)w;
		w = *allowed == '|' ? snprintf(buf + n, len - n, ", ") :
		    snprintf(buf + n, len - n, "%c", *allowed);
	}
}

/* Describe what a setting accepts, for error messages. */
void
config_allowed_text(char *buf, size_t len, const struct config_setting *s)
{
	char lo[32], hi[32];

	switch (s->type) {
	case CONFIG_STRING:
		snprintf(buf, len, "any text");
		break;
	case CONFIG_LIST:
		snprintf(buf, len, "paths separated by commas or blanks, "
		    "at most %lld in all", s->max);
		break;
	case CONFIG_BOOL:
		snprintf(buf, len, "yes or no (true/false, on/off, 1/0)");
		break;
	case CONFIG_ENUM:
		enum_text(buf, len, s->allowed);
		break;
	case CONFIG_CHAR:
		snprintf(buf, len, "one character of \"%s\"", s->allowed);
		break;
	case CONFIG_INT:
		snprintf(buf, len, "a whole number from %lld to %lld", s->min,
		    s->max);
		break;
	case CONFIG_SIZE:
		config_fmt_size(lo, sizeof(lo), s->min);
		config_fmt_size(hi, sizeof(hi), s->max);
		snprintf(buf, len, "a size from %s to %s, as bytes or with "
		    "k, M or G (1024-based): 64k, 50M", lo, hi);
		break;
	case CONFIG_DURATION:
		config_fmt_duration(lo, sizeof(lo), s->min);
		config_fmt_duration(hi, sizeof(hi), s->max);
		snprintf(buf, len, "a duration from %s to %s, as seconds or "
		    "with s, m, h, d or w: 30s, 5m, 7d", lo, hi);
		break;
	}
}

/* Does v need quotes to read back as itself? */
int
config_needs_quotes(const char *v)
{
	const char *p;

	if (v[0] == '\0' || v[0] == '"' || config_is_blank(v[0]) ||
	    v[0] == '#' || config_is_blank(v[strlen(v) - 1]))
		return 1;
	for (p = v + 1; *p != '\0'; p++)
		if (*p == '#' && config_is_blank(p[-1]))
			return 1;
	return 0;
}

void
config_put_value(FILE *fp, const char *v, int quote)
{
	if (!quote) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', fp);
		fputc(*v, fp);
	}
	fputc('"', fp);
}
