/*
 * smtp.c - SMTP replies (RFC 5321 section 4.2) as servers send them and
 * MTAs log or quote them.
 *
 * A reply is "CODE SP text" or, on several lines, "CODE-text" lines ending
 * with "CODE SP text"; RFC 2034 servers put the enhanced code after the
 * reply code on every line.  MTAs quoting a reply often flatten it into
 * one line, keeping each line's "550-5.1.1 " prefix in the middle of the
 * text.  The parse gives the code, the enhanced code and the text once,
 * with those prefixes gone.
 *
 * Limits: the text is cut at 16 KiB; longer replies are hostile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SMTP_TEXT_MAX (16 * 1024)

/* 3-digit reply code at p followed by space, '-' or the end. */
static int
smtp_code_at(const char *p, const char *end)
{
	if (end - p < 3 || p[0] < '2' || p[0] > '5' || !str_is_digit(p[1]) ||
	    !str_is_digit(p[2]))
		return 0;
	if (end - p > 3 && p[3] != ' ' && p[3] != '-' && p[3] != '\t' &&
	    p[3] != '\r' && p[3] != '\n')
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/*
 * If p starts with the reply prefix "CODE[- ]" and optionally the same
 * enhanced code, return its length; otherwise 0.
 */
static size_t
smtp_prefix_len(const char *p, const char *end, int code, const char *esc)
{
	const char *q = p;
	size_t elen = strlen(esc);

	if (code == 0 || smtp_code_at(q, end) != code)
		return 0;
	q += 3;
	if (q < end && (*q == '-' || *q == ' '))
		q++;
	while (q < end && *q == ' ')
		q++;
	if (elen > 0 && (size_t)(end - q) >= elen && memcmp(q, esc, elen) == 0 &&
	    (q + elen == end || str_is_space(q[elen]))) {
		q += elen;
		while (q < end && *q == ' ')
			q++;
	}
	return (size_t)(q - p);
}

int
smtp_reply_parse_buf(struct buf *text, int *code, char *enhanced,
    const char *buf, size_t len)
{
	const char *p, *start, *end;
	size_t n;
	long off;

	*code = 0;
	enhanced[0] = '\0';
	buf_reset(text);
	start = buf != NULL ? buf : "";
	p = str_trim(start, &len);
	end = p + len;

	*code = smtp_code_at(p, end);
	if (*code != 0)
		p += 3;
	if (p < end && (*p == '-' || *p == ' '))
		p++;
	while (p < end && *p == ' ')
		p++;
	off = bounce_esc_find(enhanced, 16, p, (size_t)(end - p));
	if (off == 0) {
		p += strlen(enhanced);
	} else {
		/* an enhanced code later in the text is the reply's only
		 * when nothing but the code came before it */
		enhanced[0] = '\0';
	}

	/* copy the text, dropping each continuation line's prefix and
	 * folding white space; a text over the buffer's cap is cut.  A
	 * prefix can only start a word, so words are copied whole. */
	while (p < end) {
		const char *w;

		if ((p == start || str_is_space(p[-1])) &&
		    (n = smtp_prefix_len(p, end, *code, enhanced)) > 0) {
			p += n;
			if (text->len > 0 && text->data[text->len - 1] != ' ' &&
			    buf_append_char(text, ' ') != BOUNCE_OK)
				break;
			continue;
		}
		if (str_is_space(*p) || *p == '\0') {
			if (text->len > 0 && text->data[text->len - 1] != ' ' &&
			    buf_append_char(text, ' ') != BOUNCE_OK)
				break;
			p++;
			continue;
		}
		for (w = p; p < end && !str_is_space(*p) && *p != '\0'; p++)
			;
		if (buf_append(text, w, (size_t)(p - w)) != BOUNCE_OK) {
			/* cut at the cap, as one character at a time would */
			(void)buf_append(text, w, text->cap - text->len);
			break;
		}
	}
	while (text->len > 0 && text->data[text->len - 1] == ' ')
		text->data[--text->len] = '\0';
	/* an empty buf may have no memory yet */
	if (text->data == NULL && buf_append(text, "", 0) != BOUNCE_OK)
		return BOUNCE_ENOMEM;
	return BOUNCE_OK;
}

int
smtp_unfold_quoted(struct buf *out, const char *text, size_t len,
    const char *reply)
{
	const char *end = text + len, *p;
	char esc[16], num[12];
	struct buf flat;
	int code, err;

	/* only a reply that says it goes on ("550-") and does, with its
	 * code again at a later word ("... 550 5.1.1 https://"), was several
	 * lines; Amazon SES writes "550-'text'" for a one-line reply */
	if (reply == NULL || reply < text || reply >= end ||
	    (code = smtp_code_at(reply, end)) == 0 || end - reply < 4 ||
	    reply[3] != '-')
		return 0;
	for (p = reply + 4; p < end; p++)
		if (str_is_space(p[-1]) && smtp_prefix_len(p, end, code, "") > 0)
			break;
	if (p >= end)
		return 0;
	buf_init(&flat, SMTP_TEXT_MAX);
	err = smtp_reply_parse_buf(&flat, &code, esc, reply,
	    (size_t)(end - reply));
	buf_reset(out);
	snprintf(num, sizeof(num), "%03d", code);
	if (err == BOUNCE_OK)
		err = buf_append(out, text, (size_t)(reply - text));
	if (err == BOUNCE_OK)
		err = buf_append(out, num, strlen(num));
	if (err == BOUNCE_OK && esc[0] != '\0') {
		err = buf_append_char(out, ' ');
		if (err == BOUNCE_OK)
			err = buf_append(out, esc, strlen(esc));
	}
	if (err == BOUNCE_OK && flat.len > 0) {
		err = buf_append_char(out, ' ');
		if (err == BOUNCE_OK)
			err = buf_append(out, flat.data, flat.len);
	}
	buf_free(&flat);
	return err == BOUNCE_OK;
}

int
bounce_smtp_reply_parse(bounce_smtp_reply *out, const char *buf, size_t len)
{
	struct buf text;
	int err;

	if (out == NULL || (buf == NULL && len > 0))
		return BOUNCE_EINVAL;
	memset(out, 0, sizeof(*out));
	buf_init(&text, SMTP_TEXT_MAX);
	err = smtp_reply_parse_buf(&text, &out->code, out->enhanced, buf,
	    len);
	if (err != BOUNCE_OK) {
		buf_free(&text);
		return err;
	}
	out->text = buf_detach(&text);
	if (out->text == NULL)
		return BOUNCE_ENOMEM;
	return BOUNCE_OK;
}

void
bounce_smtp_reply_clear(bounce_smtp_reply *reply)
{
	if (reply == NULL)
		return;
	free(reply->text);
	memset(reply, 0, sizeof(*reply));
}
