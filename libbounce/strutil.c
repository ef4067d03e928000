/*
 * strutil.c - ASCII string helpers and the report arena.  See strutil.h.
 */
/* memmem(3) is a GNU extension; glibc's is much faster than a loop */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

#define L(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define R4(b) L(b), L(b + 1), L(b + 2), L(b + 3)
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
#define R64(b) R16(b), R16(b + 16), R16(b + 32), R16(b + 48)
const unsigned char str_lower_map[256] = {
	R64(0), R64(64), R64(128), R64(192)
};
#undef L

char *
str_ndup(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void
str_lower(char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)str_lower_map[(unsigned char)p[i]];
}

const char *
str_ifind(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	unsigned char first_lc, first_uc;
	const char *p, *end;
	size_t i;

	if (nlen == 0)
		return hay;
	if (nlen > hlen)
		return NULL;
	first_lc = (unsigned char)str_lc(needle[0]);
	first_uc = first_lc >= 'a' && first_lc <= 'z' ? first_lc - 32 :
	    first_lc;
	end = hay + hlen - nlen + 1;
	for (p = hay; p < end; p++) {
		/* memchr for the rarer of the two spellings would be faster
		 * on long texts; texts here are short, keep it simple */
		if ((unsigned char)*p != first_lc &&
		    (unsigned char)*p != first_uc)
			continue;
		for (i = 1; i < nlen; i++)
			if (str_lc(p[i]) != str_lc(needle[i]))
				break;
		if (i == nlen)
			return p;
	}
	return NULL;
}

const char *
str_find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

const char *
str_ifind_z(const char *hay, size_t hlen, const char *needle)
{
	return str_ifind(hay, hlen, needle, strlen(needle));
}

int
str_istarts(const char *p, size_t n, const char *prefix)
{
	size_t i;

	for (i = 0; prefix[i] != '\0'; i++)
		if (i >= n || str_lc(p[i]) != str_lc(prefix[i]))
			return 0;
	return 1;
}

int
str_ieq(const char *a, const char *b)
{
	while (*a != '\0' && str_lc(*a) == str_lc(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

const char *
str_trim(const char *p, size_t *n)
{
	size_t len = *n;

	while (len > 0 && str_is_space(*p)) {
		p++;
		len--;
	}
	while (len > 0 && str_is_space(p[len - 1]))
		len--;
	*n = len;
	return p;
}

size_t
str_flatten(char *out, size_t outlen, const char *p, size_t n)
{
	size_t i, o = 0;
	int space = 0;

	if (outlen == 0)
		return 0;
	p = str_trim(p, &n);
	for (i = 0; i < n && o + 1 < outlen; i++) {
		if (str_is_space(p[i]) || p[i] == '\0') {
			space = 1;
			continue;
		}
		if (space) {
			out[o++] = ' ';
			space = 0;
			if (o + 1 >= outlen)
				break;
		}
		out[o++] = p[i];
	}
	out[o] = '\0';
	return o;
}

/* Arena chunks: strings of a report live as long as the report. */
#define ARENA_CHUNK 4000

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	max_align_t align[];
};

void
arena_init(struct arena *a)
{
	a->head = NULL;
	a->total = 0;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->total = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t size;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->size - c->used < n) {
		size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		/* a big block goes behind the head so the head's free space
		 * is not wasted */
		if (a->head != NULL && n > ARENA_CHUNK) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c->align + c->used;
	c->used += n;
	a->total += n;
	return p;
}

char *
arena_strndup(struct arena *a, const char *p, size_t n)
{
	char *s = arena_alloc(a, n + 1);

	if (s == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

size_t
str_utf8_fix(char *s, size_t n)
{
	size_t i = 0, k, fixed = 0;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq((unsigned char *)s + i, n - i)) == 0) {
			s[i++] = '?';
			fixed++;
		} else {
			i += k;
		}
	}
	return fixed;
}

char *
arena_flatten(struct arena *a, const char *p, size_t n)
{
	char *s = arena_alloc(a, n + 1);
	size_t len;

	if (s == NULL)
		return NULL;
	len = str_flatten(s, n + 1, p, n);
	/* report strings go out as JSON: they must be valid UTF-8 */
	str_utf8_fix(s, len);
	return s;
}

size_t
str_utf8_put(char *o, unsigned int c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}
