/*
 * pstate.h - the state of one bounce_parse(): what every decoder reads
 * (the MIME view, the human-readable text, the bounce's own headers) and
 * the report it writes.
 *
 * Decoders (dsn.c, arf.c, autoreply.c, text.c and the lhost_*.c format
 * modules) add recipients with report_add() and fill what they know:
 * address, action, dsn_status, diagnostic, remote MTA...; parse.c then
 * completes every recipient the same way (reply code, enhanced code,
 * phase, status choice, classification), so decoders stay small.
 */
#ifndef BOUNCE_PSTATE_H
#define BOUNCE_PSTATE_H

#include "mime.h"
#include "report.h"

struct pstate {
	bounce_ctx *ctx;
	bounce_report *r;
	struct msgview *v;
	const bounce_parse_options *opts;

	/* the human-readable text: every text part outside a returned
	 * message, joined with newlines, NUL-terminated */
	const char *text;
	size_t text_len;
	/* the same text with ASCII letters lower-cased, offsets equal: search
	 * it (str_find, memmem) for lower-case words, much faster than a
	 * case-insensitive search of text */
	const char *lower;
	/* where the returned original message starts in text (text_len
	 * when it is not inline) */
	size_t text_cut;

	/* the bounce's own headers, decoded; "" when absent */
	const char *subject;
	const char *from;
	const char *to;

	/* the original message's header block when the bounce carries one
	 * (a message/rfc822 or text/rfc822-headers part, or inline text) */
	const char *orig_head;
	size_t orig_head_len;

	/* dsn.c: delivery-status blocks whose recipient is no address (a
	 * pipe or file an alias expanded to, "@host"), and the last one */
	unsigned int dsn_orphans;
	const char *dsn_orphan;
	size_t dsn_orphan_len;
};

/* dsn.c: read an RFC 3464 / RFC 6533 delivery-status body; returns the
 * number of recipients added. */
int dsn_read(struct pstate *st, const char *data, size_t len);
/* dsn.c: delivery-status fields written inside a text part. */
int dsn_read_inline(struct pstate *st);
/* dsn.c: give the fields of the one orphan block (see dsn_orphans) to
 * rc, the one recipient another reader found; fills only what is
 * missing. */
void dsn_apply_orphan(struct pstate *st, bounce_recipient *rc);

/* arf.c: an RFC 5965 feedback report; 1 when the message is one. */
int arf_read(struct pstate *st);

/* autoreply.c: RFC 3834 and vacation heuristics; 1 when it is one. */
int autoreply_read(struct pstate *st);

/* original.c: message-level fields of the returned original message. */
void original_read(struct pstate *st);

/* text.c: the generic human-readable bounce reader; 1 when it found
 * recipients. */
int text_read(struct pstate *st);
/* text.c: find the start of the returned original in the lower-cased
 * text. */
size_t text_find_cut_lower(const char *lower, size_t len);
/* text.c: offset of a lower-case word in the failure text (before the
 * cut), or -1. */
long text_find(const struct pstate *st, const char *lower_word);
/* text.c: the one address a bounce's failure text names, as its
 * recipient, when no reader found any; 1 when it added it. */
int text_sole_address(struct pstate *st);
/* text.c: fill a recipient's missing diagnostic from the text. */
void text_fill_diagnostic(struct pstate *st, bounce_recipient *rc);
/* text.c: a specific enhanced code (not x.0.0 or x.4.7) in the text's
 * paragraphs about addr, into out (size >= 16), the reply code beside it
 * in *code; 1 when there is one. */
int text_specific_status(const struct pstate *st, const char *addr,
    char *out, size_t outlen, int *code);
/* text.c: the next address in [p, end), its length in *len; NULL when
 * none.  The domain needs a dot or an address literal. */
const char *text_next_address(const char *p, const char *end, size_t *len);
/* text.c: the SMTP phase the text names near an address, or NONE. */
bounce_phase text_phase_near(const struct pstate *st, const char *addr);
/* text.c: 1 when the message looks like a bounce (sender, subject). */
int text_looks_like_bounce(const struct pstate *st);

/* lhost.c: the MTA- and provider-specific decoders, tried in order
 * before the generic ones; 1 when one decoded the message. */
int lhost_read(struct pstate *st);

#endif
