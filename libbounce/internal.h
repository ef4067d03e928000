/*
 * internal.h - what the modules of libbounce share and the API does not
 * show: the context's body and error reporting.
 */
#ifndef BOUNCE_INTERNAL_H
#define BOUNCE_INTERNAL_H

#include <stdarg.h>

#include "bounce.h"
#include "buf.h"
#include "strutil.h"

struct rules;	/* rules.c */

struct bounce_ctx {
	bounce_limits limits;
	struct rules *rules;
	char error[512];
};

/*
 * Record the detail of an error on ctx and return err, so that callers
 * can write: return ctx_error(ctx, BOUNCE_ELIMIT, "...", ...);
 */
int ctx_error(bounce_ctx *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ctx_clear_error(bounce_ctx *ctx);

/* The built-in rules files, compiled in by scripts/embed-rules.sh. */
struct rules_builtin_file {
	const char *name;
	const char *text;
};
extern const struct rules_builtin_file rules_builtin_files[];
extern const size_t rules_builtin_count;

/* rules.c: the built-in table is loaded by bounce_ctx_new(). */
int rules_new(struct rules **out, bounce_ctx *ctx);
void rules_free(struct rules *rules);

/*
 * smtp.c: bounce_smtp_reply_parse() into the caller's buf, which is reset
 * first and keeps its memory, so a parser called per log line does not
 * allocate per line.  enhanced has room for 16 bytes.  The text is cut
 * at text's cap.
 */
int smtp_reply_parse_buf(struct buf *text, int *code, char *enhanced,
    const char *buf, size_t len);

/*
 * smtp.c: a diagnostic that quotes a multi-line reply flattened onto one
 * line ("host x said: 550-5.1.1 The email account ... 550-5.1.1 double-
 * checking ... 550 5.1.1 https://...") written once into out as "host x
 * said: 550 5.1.1 The email account ... double-checking ... https://...".
 * reply is where the quoted reply starts in text (diag_analyze's).
 * Returns 1 when out holds the new text, 0 when text has no such reply
 * and stays as it is.
 */
int smtp_unfold_quoted(struct buf *out, const char *text, size_t len,
    const char *reply);

#endif
