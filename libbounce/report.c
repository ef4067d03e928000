/*
 * report.c - the result of parsing one message.  See report.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int
report_new(bounce_report **out, unsigned int max_recipients)
{
	bounce_report *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return BOUNCE_ENOMEM;
	arena_init(&r->arena);
	r->max_recipients = max_recipients;
	*out = r;
	return BOUNCE_OK;
}

void
bounce_report_free(bounce_report *report)
{
	if (report == NULL)
		return;
	arena_free(&report->arena);
	free(report->rcpt);
	free(report);
}

const char *
report_str(bounce_report *r, const char *p, size_t n)
{
	if (p == NULL)
		return NULL;
	return arena_flatten(&r->arena, p, n);
}

const char *
report_strz(bounce_report *r, const char *s)
{
	return s != NULL ? report_str(r, s, strlen(s)) : NULL;
}

void
report_set_field(bounce_report *r, bounce_field f, const char *p, size_t n)
{
	const char *s;

	if ((unsigned)f >= BOUNCE_FIELD__COUNT || r->fields[f] != NULL ||
	    p == NULL)
		return;
	s = report_str(r, p, n);
	if (s != NULL && s[0] != '\0')
		r->fields[f] = s;
}

void
report_set_error(bounce_report *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->error != NULL)
		return;
	va_start(ap, fmt);
	/* truncation only shortens a message meant for people */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->error = arena_strdup(&r->arena, msg);
}

void
report_set_format(bounce_report *r, const char *format)
{
	r->format = format;
}

/* Strip "rfc822;", white space, quotes and angle brackets. */
static const char *
addr_clean(const char *p, size_t *n)
{
	size_t len = *n;

	p = str_trim(p, &len);
	if (len > 7 && str_istarts(p, len, "rfc822;")) {
		p += 7;
		len -= 7;
		p = str_trim(p, &len);
	}
	while (len >= 2 && ((p[0] == '<' && p[len - 1] == '>') ||
	    (p[0] == '"' && p[len - 1] == '"') ||
	    (p[0] == '\'' && p[len - 1] == '\''))) {
		p++;
		len -= 2;
		p = str_trim(p, &len);
	}
	/* "<addr>:" and "addr." as text formats write them */
	while (len > 0 && (p[len - 1] == ':' || p[len - 1] == '.' ||
	    p[len - 1] == ',' || p[len - 1] == ';' || p[len - 1] == '>'))
		len--;
	while (len > 0 && (p[0] == '<' || p[0] == '('))
		p++, len--;
	*n = len;
	return p;
}

/* An address needs one '@' with something on both sides and no space. */
static int
addr_plausible(const char *p, size_t n)
{
	size_t i, at = 0, ats = 0;

	if (n < 3 || n > 320)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '@') {
			ats++;
			at = i;
		} else if (str_is_space(p[i]) || p[i] == '<' || p[i] == '>' ||
		    p[i] == '\0') {
			return 0;
		}
	}
	return ats >= 1 && at > 0 && at + 1 < n;
}

bounce_recipient *
report_find(bounce_report *r, const char *addr)
{
	size_t i;

	for (i = 0; i < r->nrcpt; i++)
		if (r->rcpt[i].address != NULL &&
		    str_ieq(r->rcpt[i].address, addr))
			return &r->rcpt[i];
	return NULL;
}

bounce_recipient *
report_add(bounce_report *r, const char *addr, size_t len, int merge)
{
	bounce_recipient *rc, *grown;
	const char *p;
	char *s;
	size_t size;

	p = addr_clean(addr, &len);
	if (!addr_plausible(p, len))
		return NULL;
	if ((s = arena_strndup(&r->arena, p, len)) == NULL)
		return NULL;
	if (merge && (rc = report_find(r, s)) != NULL)
		return rc;
	if (r->nrcpt >= r->max_recipients) {
		if (!r->over_recipients)
			report_set_error(r, "more than %u recipients "
			    "(max_recipients); the rest are left out",
			    r->max_recipients);
		r->over_recipients = 1;
		return NULL;
	}
	if (r->nrcpt == r->rcpt_size) {
		size = r->rcpt_size ? r->rcpt_size * 2 : 4;
		grown = realloc(r->rcpt, size * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		r->rcpt = grown;
		r->rcpt_size = size;
	}
	rc = &r->rcpt[r->nrcpt++];
	memset(rc, 0, sizeof(*rc));
	rc->address = s;
	return rc;
}

void
report_remove(bounce_report *r, size_t i)
{
	if (i >= r->nrcpt)
		return;
	memmove(&r->rcpt[i], &r->rcpt[i + 1],
	    (r->nrcpt - i - 1) * sizeof(r->rcpt[0]));
	r->nrcpt--;
}

bounce_kind
bounce_report_kind(const bounce_report *report)
{
	return report != NULL ? report->kind : BOUNCE_KIND_UNKNOWN;
}

const char *
bounce_report_error(const bounce_report *report)
{
	return report != NULL ? report->error : NULL;
}

const char *
bounce_report_format(const bounce_report *report)
{
	return report != NULL ? report->format : NULL;
}

size_t
bounce_report_recipient_count(const bounce_report *report)
{
	return report != NULL ? report->nrcpt : 0;
}

const bounce_recipient *
bounce_report_recipient(const bounce_report *report, size_t i)
{
	if (report == NULL || i >= report->nrcpt)
		return NULL;
	return &report->rcpt[i];
}

const char *
bounce_report_field(const bounce_report *report, bounce_field field)
{
	if (report == NULL || (unsigned)field >= BOUNCE_FIELD__COUNT)
		return NULL;
	return report->fields[field];
}
