/*
 * json.c - a small, bounded JSON reader (RFC 8259).  See json.h.
 *
 * Security: the input is hostile.  Every scan checks end before it reads,
 * nesting is cut at JSON_DEPTH (the recursion depth of json_skip()), and
 * each loop consumes at least one byte per turn, so a call costs at most
 * a bounded multiple of the input's length.  Unescaped strings are never
 * longer than their escaped form, so json_string() allocates once.
 */
#include <string.h>

#include "json.h"

const char *
json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/* Just past the string that starts at p (a '"'), or NULL. */
static const char *
string_end(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

static int
scalar_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
}

static const char *
skip_value(const char *p, const char *end, int depth)
{
	char close;

	p = json_ws(p, end);
	if (p >= end)
		return NULL;
	if (*p == '"')
		return string_end(p, end);
	if (*p != '{' && *p != '[') {
		const char *q = p;

		while (q < end && scalar_char(*q))
			q++;
		return q > p ? q : NULL;
	}
	if (depth >= JSON_DEPTH)
		return NULL;
	close = *p == '{' ? '}' : ']';
	p = json_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = string_end(p, end)) == NULL)
				return NULL;
			p = json_ws(p, end);
			if (p >= end || *p != ':')
				return NULL;
			p++;
		}
		if ((p = skip_value(p, end, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = json_ws(p + 1, end);
	}
}

const char *
json_skip(const char *p, const char *end)
{
	return p != NULL ? skip_value(p, end, 0) : NULL;
}

int
json_is(const char *v, const char *end, const char *s)
{
	size_t n = strlen(s);

	return v != NULL && v < end && *v == '"' &&
	    (size_t)(end - v) >= n + 2 && memcmp(v + 1, s, n) == 0 &&
	    v[n + 1] == '"';
}

const char *
json_get(const char *obj, const char *end, const char *key)
{
	const char *p, *k;

	if (obj == NULL)
		return NULL;
	p = json_ws(obj, end);
	if (p >= end || *p != '{')
		return NULL;
	p = json_ws(p + 1, end);
	while (p < end && *p == '"') {
		k = p;
		if ((p = string_end(p, end)) == NULL)
			return NULL;
		p = json_ws(p, end);
		if (p >= end || *p != ':')
			return NULL;
		p = json_ws(p + 1, end);
		if (json_is(k, end, key))
			return p < end ? p : NULL;
		if ((p = skip_value(p, end, 1)) == NULL)
			return NULL;
		p = json_ws(p, end);
		if (p >= end || *p != ',')
			return NULL;
		p = json_ws(p + 1, end);
	}
	return NULL;
}

const char *
json_next(const char *arr, const char *end, const char **pos)
{
	const char *p;

	if (arr == NULL)
		return NULL;
	if (*pos == NULL) {
		p = json_ws(arr, end);
		if (p >= end || *p != '[')
			return NULL;
		p = json_ws(p + 1, end);
		if (p >= end || *p == ']')
			return NULL;
		return *pos = p;
	}
	if ((p = skip_value(*pos, end, 1)) == NULL)
		return NULL;
	p = json_ws(p, end);
	if (p >= end || *p != ',')
		return NULL;
	p = json_ws(p + 1, end);
	return p < end ? (*pos = p) : NULL;
}

static int
hex4(const char *p, const char *end, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	if (end - p < 4)
		return 0;
	for (i = 0; i < 4; i++) {
		if (str_xdigit(p[i]) < 0)
			return 0;
		v = (v << 4) | (unsigned int)str_xdigit(p[i]);
	}
	*out = v;
	return 1;
}

char *
json_string(struct arena *a, const char *v, const char *end)
{
	const char *se, *p;
	unsigned int c, lo;
	char *out, *o;

	if (v == NULL || (se = string_end(v, end)) == NULL)
		return NULL;
	/* unescaping only shrinks: 2..12 bytes of escape give 1..4 */
	if ((out = arena_alloc(a, (size_t)(se - v))) == NULL)
		return NULL;
	o = out;
	for (p = v + 1; p < se - 1; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;	/* string_end() saw the escaped byte */
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'u':
			if (!hex4(p + 1, se - 1, &c)) {
				*o++ = '?';
				break;
			}
			p += 4;
			if (c >= 0xd800 && c < 0xdc00 && se - 1 - p >= 7 &&
			    p[1] == '\\' && p[2] == 'u' &&
			    hex4(p + 3, se - 1, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c < 0xe000) {
				c = 0xfffd;	/* a lone surrogate */
			}
			if (c == 0)
				c = '?';	/* no NUL inside a C string */
			o += str_utf8_put(o, c);
			break;
		default:	/* '"', '\\', '/' and the unknown */
			*o++ = *p;
			break;
		}
	}
	*o = '\0';
	return out;
}
