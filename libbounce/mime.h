/*
 * mime.h - a flat view of a message's MIME tree for the bounce decoders:
 * the top-level headers, and each leaf part that matters, decoded.
 *
 * GMime does the MIME work (RFC 2045-2049: structure, transfer encodings,
 * charsets).  This module walks its tree once, within the context's
 * limits (depth, parts, decoded text bytes), and keeps only what the
 * decoders read.  Parts inside a returned message (message/rfc822 and its
 * kin) are not walked: the returned message matters only for its headers.
 */
#ifndef BOUNCE_MIME_H
#define BOUNCE_MIME_H

#include <stddef.h>

#include "internal.h"

enum part_role {
	PART_TEXT,		/* text/plain (or text/ without a better role),
				 * decoded to UTF-8 */
	PART_HTML,		/* text/html, tags stripped */
	PART_DSN,		/* message/delivery-status */
	PART_GLOBAL_DSN,	/* message/global-delivery-status (RFC 6533) */
	PART_FEEDBACK,		/* message/feedback-report (RFC 5965) */
	PART_HEADERS,		/* text/rfc822-headers, message/global-headers,
				 * and the header block of a message/rfc822 */
};

struct part {
	enum part_role role;
	const char *data;	/* decoded, NUL-terminated */
	size_t len;
	unsigned int depth;
	unsigned int index;	/* position among all parts walked */
};

#define MIME_PARTS_KEPT 32

struct msgview {
	void *message;			/* GMimeMessage */
	const char *head;		/* the raw header block of the message */
	size_t head_len;
	int multipart;			/* the top level is multipart */
	const char *report_type;	/* multipart/report; report-type=... */
	struct part parts[MIME_PARTS_KEPT];
	unsigned int nparts;
	unsigned int walked;		/* parts seen, for the limit */
	struct arena arena;		/* decoded part data */
	size_t text_bytes;		/* decoded text kept */
	const char *error;		/* a limit that was hit, or NULL */
	const char *note;		/* a lesser limit (MIME_PARTS_KEPT) */
};

/*
 * Parse buf into a view.  Returns BOUNCE_OK (with v->error set when a
 * limit cut the walk short), BOUNCE_EPARSE when GMime could not read a
 * message at all, BOUNCE_ENOMEM.
 */
int mime_view_open(struct msgview *v, bounce_ctx *ctx, const char *buf,
    size_t len);
void mime_view_close(struct msgview *v);

/*
 * A view of the first message/rfc822 part at the top level of v: a notice
 * that wraps a whole bounce (some gateways forward the MTA's bounce as an
 * attachment).  Walked like v, its parts counted against the same limits.
 * BOUNCE_ENOTFOUND when there is none; close it with mime_view_close()
 * either way.
 */
int mime_view_open_attached(struct msgview *out, const struct msgview *v,
    bounce_ctx *ctx);

/*
 * p[0..n) converted from ISO-2022-JP into a (UTF-8, length in *outlen)
 * when it holds ISO-2022-JP escapes; NULL when it does not or cannot be
 * converted.  Japanese servers write their text so in fields that should
 * be ASCII (a delivery-status part's Diagnostic-Code).
 */
const char *mime_jis_to_utf8(struct arena *a, const char *p, size_t n,
    size_t *outlen);

/* A top-level header's raw value (unfolded by GMime), or NULL. */
const char *mime_header(const struct msgview *v, const char *name);
/* The decoded Subject (RFC 2047) or NULL; allocated in v->arena. */
const char *mime_subject(struct msgview *v);

#endif
