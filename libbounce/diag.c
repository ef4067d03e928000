/*
 * diag.c - what a diagnostic text says: the quoted SMTP reply, its codes
 * and the phase.  See diag.h.
 *
 * MTAs quote replies in many ways: "smtp; 550 5.1.1 ...", "host x said:
 * 550 ...", "<<< 550 ...", "Remote host said: 550-5.1.1 ...", "SMTP error
 * from remote mail server after RCPT TO:<x>: 550 ...", "(#5.5.0)".  A
 * reply code is a 3-digit number 2xx-5xx standing alone and followed by
 * space, '-' or the end; numbers inside addresses, IPs, dates and ids are
 * not codes.  Codes that follow a "said:" or similar marker win over the
 * first one found.
 */
#include <string.h>

#include "diag.h"
#include "strutil.h"

static int
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    str_is_digit(c) || c == '.' || c == '_' || c == '-' || c == '@' ||
	    c == '=' || c == '/' || c == '#' || c == '[' || c == ':';
}

static int
code_at(const char *p, const char *start, const char *end)
{
	int code;

	if (end - p < 3 || p[0] < '2' || p[0] > '5' || !str_is_digit(p[1]) ||
	    !str_is_digit(p[2]))
		return 0;
	if (p > start && is_word_char(p[-1]) && p[-1] != ':')
		return 0;
	if (p > start && p[-1] == ':' && p - 1 > start &&
	    str_is_digit(p[-2]))
		return 0;	/* a time, 12:550 is no code */
	/* "550: 5.2.2 ..." (Yahoo, qmail-like logs) only at the start: a
	 * colon after digits elsewhere is a time or a port */
	if (end - p > 3 && p[3] != ' ' && p[3] != '-' && p[3] != '\t' &&
	    p[3] != '\r' && p[3] != '\n' && p[3] != ',' && p[3] != ';' &&
	    p[3] != ')' && p[3] != '"' && !(p[3] == ':' && p == start))
		return 0;
	/* "550-" must continue with a digit or text, "550 -" is a range */
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	/* reply codes in use: x0x-x5x second digit 0-5 */
	if (p[1] > '5')
		return 0;
	return code;
}

/* 1 when p is preceded (after blanks) by marker, case-insensitively. */
static int
preceded_by(const char *text, const char *p, const char *marker)
{
	size_t ml = strlen(marker);

	while (p > text && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' ||
	    p[-1] == '\r'))
		p--;
	return (size_t)(p - text) >= ml && str_istarts(p - ml, ml, marker);
}

long
diag_find_reply(const char *text, size_t len, int *code)
{
	static const char *const markers[] = {
		"said:", "said", "<<<", "smtp;", "responded:", "response:",
		"reply:", "returned:", "error:", "replied:", "answered:",
		"response was:", "reason:", "(reason:",
	};
	const char *end = text + len, *p;
	long first = -1;
	int c, first_code = 0;
	size_t i;

	*code = 0;
	for (p = text; p < end; p++) {
		if ((c = code_at(p, text, end)) == 0)
			continue;
		if (first < 0) {
			first = p - text;
			first_code = c;
		}
		/* a code right after a marker is the reply for sure */
		for (i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
			if (preceded_by(text, p, markers[i])) {
				*code = c;
				return p - text;
			}
	}
	*code = first_code;
	return first;
}

static const struct {
	const char *text;
	bounce_phase phase;
} phase_words[] = {
	/* Postfix */
	{ "in reply to rcpt to", BOUNCE_PHASE_RCPT },
	{ "in reply to mail from", BOUNCE_PHASE_MAIL },
	{ "in reply to end of data", BOUNCE_PHASE_EOD },
	{ "in reply to data", BOUNCE_PHASE_DATA },
	{ "in reply to helo", BOUNCE_PHASE_HELO },
	{ "in reply to ehlo", BOUNCE_PHASE_HELO },
	{ "in reply to lhlo", BOUNCE_PHASE_HELO },
	{ "in reply to initial greeting", BOUNCE_PHASE_CONNECT },
	{ "while receiving the initial server greeting", BOUNCE_PHASE_CONNECT },
	/* "host mx[192.0.2.9] refused to talk to me: 554 ...": the reply
	 * to the connection, the greeting */
	{ "refused to talk to me", BOUNCE_PHASE_CONNECT },
	{ "while sending rcpt to", BOUNCE_PHASE_RCPT },
	{ "while sending mail from", BOUNCE_PHASE_MAIL },
	{ "while sending end of data", BOUNCE_PHASE_EOD },
	{ "while sending message body", BOUNCE_PHASE_DATA },
	{ "while sending data", BOUNCE_PHASE_DATA },
	{ "while performing the ehlo", BOUNCE_PHASE_HELO },
	/* Exim */
	{ "after rcpt to", BOUNCE_PHASE_RCPT },
	{ "after mail from", BOUNCE_PHASE_MAIL },
	{ "after end of data", BOUNCE_PHASE_EOD },
	{ "after data", BOUNCE_PHASE_DATA },
	{ "after initial connection", BOUNCE_PHASE_CONNECT },
	{ "after ehlo", BOUNCE_PHASE_HELO },
	{ "after helo", BOUNCE_PHASE_HELO },
	{ "after pipelined rcpt to", BOUNCE_PHASE_RCPT },
	{ "after pipelined mail from", BOUNCE_PHASE_MAIL },
	{ "after pipelined data", BOUNCE_PHASE_DATA },
	/* qmail (qmail-remote's wording) */
	{ "does not like recipient", BOUNCE_PHASE_RCPT },
	{ "but sender was rejected", BOUNCE_PHASE_MAIL },
	{ "but my name was rejected", BOUNCE_PHASE_HELO },
	{ "failed after i sent the message", BOUNCE_PHASE_EOD },
	{ "failed on data command", BOUNCE_PHASE_DATA },
	/* DragonFly Mail Agent */
	{ "did not like our rcpt to", BOUNCE_PHASE_RCPT },
	{ "did not like our mail from", BOUNCE_PHASE_MAIL },
	{ "did not like our final data", BOUNCE_PHASE_EOD },
	{ "did not like our data", BOUNCE_PHASE_DATA },
	{ "did not like our ehlo", BOUNCE_PHASE_HELO },
	{ "did not like our helo", BOUNCE_PHASE_HELO },
	/* qmail, Sendmail transcripts */
	{ "rcpt to response", BOUNCE_PHASE_RCPT },
	{ "mail from response", BOUNCE_PHASE_MAIL },
	{ ">>> rcpt to", BOUNCE_PHASE_RCPT },
	{ ">>> mail from", BOUNCE_PHASE_MAIL },
	{ ">>> data", BOUNCE_PHASE_DATA },
	{ "[rcpt_to]", BOUNCE_PHASE_RCPT },
	{ "[mail_from]", BOUNCE_PHASE_MAIL },
	{ "[data]", BOUNCE_PHASE_EOD },
	/* GMX, 1&1 (their TEXT is the message body) */
	{ "after rcpt command", BOUNCE_PHASE_RCPT },
	{ "after mail command", BOUNCE_PHASE_MAIL },
	{ "for rcpt command", BOUNCE_PHASE_RCPT },
	{ "for mail command", BOUNCE_PHASE_MAIL },
	{ "for text command", BOUNCE_PHASE_EOD },
	{ "connection refused", BOUNCE_PHASE_CONNECT },
	{ "connect to ", BOUNCE_PHASE_CONNECT },
};

bounce_phase
diag_phase(const char *text, size_t len)
{
	char lower[2048];
	size_t i, n = 0;
	int space = 0;

	/*
	 * The phase is said near the reply; a lower-cased copy of the first
	 * 2 KiB is searched with memmem.  Runs of white space become one
	 * space in the copy: MTAs fold long lines, and "(in reply to
	 * RCPT\n    TO command)" must still say RCPT.
	 */
	for (i = 0; i < len && n < sizeof(lower); i++) {
		if (str_is_space(text[i])) {
			if (!space)
				lower[n++] = ' ';
			space = 1;
		} else {
			lower[n++] = (char)str_lc(text[i]);
			space = 0;
		}
	}
	for (i = 0; i < sizeof(phase_words) / sizeof(phase_words[0]); i++)
		if (str_find(lower, n, phase_words[i].text,
		    strlen(phase_words[i].text)) != NULL)
			return phase_words[i].phase;
	return BOUNCE_PHASE_NONE;
}

int
diag_status_generic(const char *s)
{
	return s == NULL || s[0] == '\0' || strcmp(s + 1, ".0.0") == 0 ||
	    strcmp(s + 1, ".4.7") == 0;
}

long
diag_specific_status(char *out, size_t outlen, int *code, const char *text,
    size_t len)
{
	size_t off = 0;
	const char *p;
	long o;
	int i;

	*code = 0;
	if (text == NULL)
		return -1;
	/* a diagnostic holds a handful of codes; 16 is plenty */
	for (i = 0; i < 16 && off < len; i++) {
		o = bounce_esc_find(out, outlen, text + off, len - off);
		if (o < 0)
			break;
		off += (size_t)o;
		if (!diag_status_generic(out)) {
			p = text + off;
			if (off >= 4 && p[-1] == ' ' && p[-4] == out[0] &&
			    (*code = code_at(p - 4, text, text + len)) != 0 &&
			    (off == 4 || !str_is_digit(p[-5])))
				return (long)off;
			*code = 0;
			return (long)off;
		}
		off += strlen(out);
	}
	if (outlen > 0)
		out[0] = '\0';
	return -1;
}

void
diag_reply(struct diag *d, const char *text, size_t len)
{
	long off;

	memset(d, 0, sizeof(*d));
	d->reply = text;
	if (text == NULL)
		return;
	off = diag_find_reply(text, len, &d->code);
	if (off >= 0) {
		d->reply = text + off;
		/* the enhanced code of the reply itself, else any */
		if (bounce_esc_find(d->enhanced, sizeof(d->enhanced),
		    text + off, len - (size_t)off) < 0)
			bounce_esc_find(d->enhanced, sizeof(d->enhanced), text,
			    len);
	} else {
		bounce_esc_find(d->enhanced, sizeof(d->enhanced), text, len);
	}
}

void
diag_analyze(struct diag *d, const char *text, size_t len)
{
	diag_reply(d, text, len);
	if (text != NULL)
		d->phase = diag_phase(text, len);
}
