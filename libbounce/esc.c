/*
 * esc.c - RFC 3463 enhanced mail system status codes: "class.subject.detail".
 *
 * A code is found in free text (diagnostics, human-readable bounce parts),
 * where dotted numbers of other kinds abound: IP addresses (192.0.2.5),
 * versions (Postfix 2.10.1), Yahoo's "4.16.55.1" error ids.  So a code is
 * accepted only when the class is 2, 4 or 5, the subject one digit 0-7
 * (RFC 3463 and its registry define no other), the detail 1 to 3 digits,
 * and the token is not part of a longer dotted or alphanumeric run.
 */
#include <string.h>

#include "internal.h"

/* Length of the code at p, or 0 when there is none exactly there. */
static size_t
esc_match(const char *p, const char *end)
{
	const char *q = p;
	size_t digits;

	if (q >= end || (*q != '2' && *q != '4' && *q != '5'))
		return 0;
	q++;
	if (q + 3 > end || q[0] != '.' || q[1] < '0' || q[1] > '7' ||
	    q[2] != '.')
		return 0;
	q += 3;
	for (digits = 0; q < end && str_is_digit(*q) && digits < 4; q++)
		digits++;
	if (digits == 0 || digits > 3)
		return 0;
	/* "5.1.1.2" or "5.1.1x": part of something longer */
	if (q < end && (*q == '.' || *q == '_' || *q == '-') && q + 1 < end &&
	    (str_is_digit(q[1]) || (q[1] >= 'a' && q[1] <= 'z') ||
	    (q[1] >= 'A' && q[1] <= 'Z')))
		return 0;
	if (q < end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
		return 0;
	return (size_t)(q - p);
}

long
bounce_esc_find(char *out, size_t outlen, const char *text, size_t len)
{
	const char *p, *end = text + len;
	size_t n;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (text == NULL)
		return -1;
	for (p = text; p < end; p++) {
		if (*p != '2' && *p != '4' && *p != '5')
			continue;
		if (p > text) {
			char c = p[-1];

			if (str_is_digit(c) || c == '.' ||
			    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
				continue;
		}
		if ((n = esc_match(p, end)) == 0)
			continue;
		if (out != NULL) {
			if (n + 1 > outlen)
				return -1;
			memcpy(out, p, n);
			out[n] = '\0';
		}
		return (long)(p - text);
	}
	return -1;
}

int
bounce_esc_valid(const char *s)
{
	size_t len;

	if (s == NULL)
		return 0;
	len = strlen(s);
	return len > 0 && esc_match(s, s + len) == len;
}
