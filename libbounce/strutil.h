/*
 * strutil.h - small string helpers shared by the parsers: ASCII case
 * folding, case-insensitive search, trimming, whitespace flattening and an
 * arena for the many small strings a report holds.
 *
 * Everything here is ASCII-only on purpose: mail syntax (header names,
 * SMTP verbs, status words) is ASCII, and locale-dependent functions such
 * as tolower(3) are both slower and wrong for UTF-8 text.
 */
#ifndef BOUNCE_STRUTIL_H
#define BOUNCE_STRUTIL_H

#include <stddef.h>

extern const unsigned char str_lower_map[256];

static inline int
str_lc(int c)
{
	return str_lower_map[(unsigned char)c];
}

static inline int
str_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

/* Whether [p, end) holds only white space (a blank line). */
static inline int
str_blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!str_is_space(*p))
			return 0;
	return 1;
}

/* The value of a hexadecimal digit, or -1. */
static inline int
str_xdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline int
str_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Copy n bytes and add a NUL; NULL when out of memory. */
char *str_ndup(const char *p, size_t n);

/* Lower-case ASCII letters in place. */
void str_lower(char *p, size_t n);

/* Case-insensitive (ASCII) search of needle in hay; NULL when absent. */
const char *str_ifind(const char *hay, size_t hlen, const char *needle,
    size_t nlen);
/* Same with a NUL-terminated needle. */
const char *str_ifind_z(const char *hay, size_t hlen, const char *needle);

/* Case-sensitive search (memmem); for lower-cased copies of texts
 * searched for lower-case needles, the fast way to search many times. */
const char *str_find(const char *hay, size_t hlen, const char *needle,
    size_t nlen);

/* 1 when p[0..n) starts with prefix, ASCII case-insensitively. */
int str_istarts(const char *p, size_t n, const char *prefix);

/* 1 when a and b are equal ignoring ASCII case. */
int str_ieq(const char *a, const char *b);

/* Trim white space at both ends of p[0..*n); returns the new start. */
const char *str_trim(const char *p, size_t *n);

/*
 * Copy p[0..n) into out (size outlen) with every run of white space
 * (including line breaks) made one space and the ends trimmed; returns the
 * length written, which is cut at outlen - 1.  out is NUL-terminated.
 */
size_t str_flatten(char *out, size_t outlen, const char *p, size_t n);

/* Replace each byte that does not start a valid UTF-8 sequence with '?'
 * in place; returns how many were replaced. */
size_t str_utf8_fix(char *s, size_t n);

/* Write code point c (at most 0x10FFFF) as UTF-8 to o (room for 4);
 * returns the bytes written. */
size_t str_utf8_put(char *o, unsigned int c);

/* Arena: many small allocations freed at once. */
struct arena_chunk;
struct arena {
	struct arena_chunk *head;
	size_t total;	/* bytes handed out, for limits */
};

void arena_init(struct arena *a);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *p, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* arena_strndup() of p[0..n) flattened as str_flatten() does, and made
 * valid UTF-8 (str_utf8_fix). */
char *arena_flatten(struct arena *a, const char *p, size_t n);

#endif
