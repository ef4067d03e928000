/*
 * diag.h - reading a failure's diagnostic text: the SMTP reply quoted in
 * it ("host mx said: 550 5.1.1 <x>... User unknown (in reply to RCPT TO
 * command)"), its enhanced code and the SMTP phase it names.
 */
#ifndef BOUNCE_DIAG_H
#define BOUNCE_DIAG_H

#include <stddef.h>

#include "bounce.h"

struct diag {
	int code;		/* reply code, 0 when none */
	char enhanced[16];	/* first enhanced code, "" when none */
	bounce_phase phase;	/* phase named by the text, NONE when none */
	const char *reply;	/* start of the quoted reply in the text, or
				 * the text itself */
};

/* Analyse text[0..len).  Never fails. */
void diag_analyze(struct diag *d, const char *text, size_t len);
/* The same without the phase (left NONE): for the many lines the text
 * readers look at only for a reply code. */
void diag_reply(struct diag *d, const char *text, size_t len);

/* The phase a text names ("in reply to RCPT TO command", "after end of
 * data", "while sending MAIL FROM"...), or NONE. */
bounce_phase diag_phase(const char *text, size_t len);

/* 1 when an enhanced code says only that delivery failed (x.0.0) or that
 * the sending MTA gave up (x.4.7), or is NULL. */
int diag_status_generic(const char *s);

/* The first enhanced code in text that is not generic, into out (size >=
 * 16), and its offset; -1 when there is none.  "554 4.4.7 Message
 * expired ... <421 4.4.2 Connection timed out>" gives 4.4.2.  When the
 * code follows a reply code of its class ("421 4.4.2"), *code is set to
 * that reply code, else to 0. */
long diag_specific_status(char *out, size_t outlen, int *code,
    const char *text, size_t len);

/* Offset of the first plausible SMTP reply code in text, or -1. */
long diag_find_reply(const char *text, size_t len, int *code);

#endif
