/*
 * report.h - building a bounce_report: what the parsers (dsn.c, arf.c,
 * the text decoders) call to record recipients and message fields.
 *
 * All strings are copied into the report's arena and live until
 * bounce_report_free().  The recipient count is capped by
 * limits.max_recipients: report_add() past it returns NULL and sets the
 * report's error, and parsing goes on with what it has.
 */
#ifndef BOUNCE_REPORT_H
#define BOUNCE_REPORT_H

#include "internal.h"

struct bounce_report {
	struct arena arena;
	bounce_kind kind;
	const char *error;
	const char *format;
	const char *fields[BOUNCE_FIELD__COUNT];
	bounce_recipient *rcpt;
	size_t nrcpt;
	size_t rcpt_size;
	unsigned int max_recipients;
	int over_recipients;	/* the cap was hit */
};

int report_new(bounce_report **out, unsigned int max_recipients);

/* Copy n bytes of p (flattened: white space runs made one space). */
const char *report_str(bounce_report *r, const char *p, size_t n);
const char *report_strz(bounce_report *r, const char *s);

/* Set a message field (copied, flattened) unless already set. */
void report_set_field(bounce_report *r, bounce_field f, const char *p,
    size_t n);
/* Record an error (copied); the first one stays. */
void report_set_error(bounce_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void report_set_format(bounce_report *r, const char *format);

/*
 * Add a recipient with the given address (copied; trimmed, "<>" and
 * "rfc822;" removed, not lower-cased), or return the existing one with the
 * same address (case-insensitive) when merge is set.  NULL when the
 * address is not an address or the cap is hit.
 */
bounce_recipient *report_add(bounce_report *r, const char *addr, size_t len,
    int merge);
bounce_recipient *report_find(bounce_report *r, const char *addr);
/* Remove recipient i, keeping the order of the others. */
void report_remove(bounce_report *r, size_t i);

#endif
