/*
 * hdr.h - reading header-like field blocks: RFC 5322 headers, the field
 * groups of an RFC 3464 delivery-status body, RFC 5965 feedback reports,
 * and the copies of original headers that bounces carry.
 *
 * The reader walks a buffer it does not own and hands out each field's
 * name and value as pointers into that buffer; a folded value spans lines
 * and is unfolded by the caller (report_str() flattens white space).
 */
#ifndef BOUNCE_HDR_H
#define BOUNCE_HDR_H

#include <stddef.h>

struct hdr_iter {
	const char *p;		/* next unread byte */
	const char *end;
};

struct hdr_field {
	const char *name;
	size_t name_len;
	const char *value;	/* raw, may contain folded line breaks */
	size_t value_len;
};

void hdr_iter_init(struct hdr_iter *it, const char *buf, size_t len);

/*
 * Next field of the current block.  Returns 1 with *f set, 0 at the end
 * of the block (a blank line, consumed) or of the buffer.  A line that is
 * not a field ("name: value") ends the block too, unless skip_junk is set,
 * then it is skipped.
 */
int hdr_next(struct hdr_iter *it, struct hdr_field *f, int skip_junk);

/* Skip blank lines; 1 when more data follows. */
int hdr_skip_blank(struct hdr_iter *it);

/* 1 when the field is called name (case-insensitive). */
int hdr_is(const struct hdr_field *f, const char *name);

/*
 * Find a header's value in a header block (stops at the first blank
 * line); NULL when absent.
 */
const char *hdr_find(const char *buf, size_t len, const char *name,
    size_t *value_len);

#endif
