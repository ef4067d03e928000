/*
 * hdr.c - header-like field blocks (RFC 5322 section 2.2, RFC 3464
 * section 2.1).  See hdr.h.
 *
 * Tolerant on purpose: bounces in the wild indent fields, use CRLF or LF,
 * put spaces before the colon and fold values with tabs.  A field name is
 * 1-76 printable characters other than ':' and space.
 */
#include <string.h>

#include "hdr.h"
#include "strutil.h"

#define HDR_NAME_MAX 76

void
hdr_iter_init(struct hdr_iter *it, const char *buf, size_t len)
{
	it->p = buf;
	it->end = buf + len;
}

static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl : end;
}

static int
line_is_blank(const char *p, const char *eol)
{
	for (; p < eol; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

/* Parse "name: value" at p; name bounds into f.  0 when not a field. */
static int
field_start(const char *p, const char *eol, struct hdr_field *f)
{
	const char *q = p, *colon;

	while (q < eol && (*q == ' ' || *q == '\t'))
		q++;
	f->name = q;
	while (q < eol && *q != ':' && *q != ' ' && *q != '\t' &&
	    (unsigned char)*q > 32 && (unsigned char)*q < 127)
		q++;
	f->name_len = (size_t)(q - f->name);
	while (q < eol && (*q == ' ' || *q == '\t'))
		q++;
	if (q >= eol || *q != ':' || f->name_len == 0 ||
	    f->name_len > HDR_NAME_MAX)
		return 0;
	colon = q;
	f->value = colon + 1;
	return 1;
}

int
hdr_next(struct hdr_iter *it, struct hdr_field *f, int skip_junk)
{
	const char *eol, *p;

	for (;;) {
		if (it->p >= it->end)
			return 0;
		eol = line_end(it->p, it->end);
		if (line_is_blank(it->p, eol)) {
			it->p = eol < it->end ? eol + 1 : eol;
			return 0;
		}
		if (field_start(it->p, eol, f))
			break;
		if (!skip_junk)
			return 0;
		it->p = eol < it->end ? eol + 1 : eol;
	}
	/* the value runs on over continuation lines (leading white space) */
	p = eol < it->end ? eol + 1 : eol;
	while (p < it->end && (*p == ' ' || *p == '\t')) {
		const char *next = line_end(p, it->end);

		if (line_is_blank(p, next))
			break;
		eol = next;
		p = eol < it->end ? eol + 1 : eol;
	}
	f->value_len = (size_t)(eol - f->value);
	while (f->value_len > 0 && (f->value[f->value_len - 1] == '\r' ||
	    str_is_space(f->value[f->value_len - 1])))
		f->value_len--;
	while (f->value_len > 0 && str_is_space(f->value[0])) {
		f->value++;
		f->value_len--;
	}
	it->p = p;
	return 1;
}

int
hdr_skip_blank(struct hdr_iter *it)
{
	const char *eol;

	while (it->p < it->end) {
		eol = line_end(it->p, it->end);
		if (!line_is_blank(it->p, eol))
			return 1;
		it->p = eol < it->end ? eol + 1 : eol;
	}
	return 0;
}

int
hdr_is(const struct hdr_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && str_istarts(f->name, n, name);
}

const char *
hdr_find(const char *buf, size_t len, const char *name, size_t *value_len)
{
	struct hdr_iter it;
	struct hdr_field f;

	hdr_iter_init(&it, buf, len);
	while (hdr_next(&it, &f, 1))
		if (hdr_is(&f, name)) {
			*value_len = f.value_len;
			return f.value;
		}
	return NULL;
}
