/*
 * bounce.h - the whole public API of libbounce.
 *
 * libbounce reads what comes back to a mailing list's bounce address
 * (RFC 3464 / RFC 6533 delivery status notifications, the non-standard
 * bounce formats of real MTAs, RFC 5965 feedback reports, RFC 3834
 * auto-replies) and the synchronous SMTP replies an MTA logs, and says for
 * every failed recipient what happened and whose fault it was: one of four
 * categories (hard, soft, reputation, content), a reason, and the id of the
 * rule that decided.
 *
 * Conventions (see STYLE.md):
 *   - every exported name starts with bounce_ / BOUNCE_;
 *   - functions return BOUNCE_OK (0) or a negative bounce_error; the
 *     detail of the last error is in bounce_ctx_error();
 *   - out-parameters come first and are named out; what comes back through
 *     them the caller frees with the matching bounce_*_free(), which
 *     accepts NULL; getters borrow;
 *   - option and limit structs carry a version and have an _INIT macro;
 *   - the library has no I/O: it is given (buf, len) and a context, and
 *     never opens files, sockets or databases, never logs, never exits.
 *
 * Thread safety: a bounce_ctx is not thread-safe; use one per thread.
 * Rules loaded into a context are read-only while parsing.
 */
#ifndef BOUNCE_H
#define BOUNCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BOUNCE_EXTERN __attribute__((visibility("default")))
#else
#define BOUNCE_EXTERN
#endif

#define BOUNCE_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

typedef enum {
	BOUNCE_OK = 0,
	BOUNCE_ENOMEM = -1,	/* out of memory */
	BOUNCE_EINVAL = -2,	/* bad argument */
	BOUNCE_ELIMIT = -3,	/* input over a configured limit */
	BOUNCE_EPARSE = -4,	/* input could not be parsed */
	BOUNCE_ERULES = -5,	/* a rules file is wrong (detail names line) */
	BOUNCE_ENOTFOUND = -6,	/* nothing of the kind asked for */
	BOUNCE_EVERSION = -7	/* struct version not supported */
} bounce_error;

/* Fixed text for an error code; never NULL. */
BOUNCE_EXTERN const char *bounce_strerror(int err);

/* ------------------------------------------------------------------ */
/* Vocabulary: categories, kinds, phases                               */
/* ------------------------------------------------------------------ */

/* Who must act (../shared/TAXONOMY.md). NONE for non-failures. */
typedef enum {
	BOUNCE_CAT_NONE = 0,
	BOUNCE_CAT_HARD,
	BOUNCE_CAT_SOFT,
	BOUNCE_CAT_REPUTATION,
	BOUNCE_CAT_CONTENT
} bounce_category;

/* What arrived at the bounce address. */
typedef enum {
	BOUNCE_KIND_UNKNOWN = 0,
	BOUNCE_KIND_BOUNCE,
	BOUNCE_KIND_DELAYED,
	BOUNCE_KIND_DELIVERED,
	BOUNCE_KIND_COMPLAINT,
	BOUNCE_KIND_AUTOREPLY
} bounce_kind;

/* The SMTP phase a reply came in; NONE when the source does not say. */
typedef enum {
	BOUNCE_PHASE_NONE = 0,
	BOUNCE_PHASE_CONNECT,
	BOUNCE_PHASE_HELO,
	BOUNCE_PHASE_MAIL,
	BOUNCE_PHASE_RCPT,
	BOUNCE_PHASE_DATA,
	BOUNCE_PHASE_EOD
} bounce_phase;

/* Lower-case names ("hard", "bounce", "rcpt"); NULL for NONE/out of range
 * where the JSON contract wants null ("unknown" for a kind). */
BOUNCE_EXTERN const char *bounce_category_name(bounce_category c);
BOUNCE_EXTERN const char *bounce_kind_name(bounce_kind k);
BOUNCE_EXTERN const char *bounce_phase_name(bounce_phase p);

/* Name to value; return BOUNCE_EINVAL for an unknown name.  Phase names
 * also accept SMTP verbs and log spellings: "RCPT TO", "MAIL FROM",
 * "end of data", "ehlo"... */
BOUNCE_EXTERN int bounce_category_from_name(bounce_category *out,
    const char *name);
BOUNCE_EXTERN int bounce_phase_from_name(bounce_phase *out, const char *name);

/* ------------------------------------------------------------------ */
/* Limits and context                                                  */
/* ------------------------------------------------------------------ */

/*
 * Every input is bounded.  Over a limit the parse still returns a report
 * (kind unknown, error set and naming the limit), never a crash; callers
 * keep the raw message.
 */
typedef struct {
	unsigned int version;
	size_t max_message_bytes;	/* read of a message (the rest is
					 * ignored, the report says so);
					 * default 50 MiB */
	unsigned int max_mime_depth;	/* nesting; default 32 */
	unsigned int max_mime_parts;	/* parts walked; default 512 */
	size_t max_text_bytes;		/* decoded text scanned per message;
					 * default 1 MiB */
	size_t max_field_bytes;		/* one header/DSN field or diagnostic;
					 * default 16 KiB, longer is cut */
	unsigned int max_recipients;	/* per message; default 1000 */
} bounce_limits;

#define BOUNCE_LIMITS_VERSION 1
#define BOUNCE_LIMITS_INIT                                                     \
	{ BOUNCE_LIMITS_VERSION, 50u * 1024 * 1024, 32, 512, 1024u * 1024,      \
	  16u * 1024, 1000 }

typedef struct bounce_ctx bounce_ctx;

/*
 * Create a context.  limits may be NULL for the defaults; it is copied.
 * The built-in rules are loaded.  The first call initialises GMime, which
 * then stays initialised for the life of the process (GMime cannot be
 * initialised twice); make the first context before starting threads.
 */
BOUNCE_EXTERN int bounce_ctx_new(bounce_ctx **out, const bounce_limits *limits);
BOUNCE_EXTERN void bounce_ctx_free(bounce_ctx *ctx);

/* Detail of the last error on this context ("" when none); borrowed,
 * valid until the next call on ctx. */
BOUNCE_EXTERN const char *bounce_ctx_error(const bounce_ctx *ctx);

/* Effective limits (borrowed). */
BOUNCE_EXTERN const bounce_limits *bounce_ctx_limits(const bounce_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Rules                                                               */
/* ------------------------------------------------------------------ */

/*
 * Load operator rules from a rules file's text (format: see
 * libbounce/rules/README and the README's "Adding a rule").  Rules loaded
 * later are tried before earlier ones and before the built-in table; a rule
 * whose id equals an existing rule's id replaces it; "disable ID" removes
 * one.  name labels the input in error messages ("/etc/bounced/local.rules").
 * Copies buf.  On BOUNCE_ERULES nothing is changed and bounce_ctx_error()
 * names the file and line.
 */
BOUNCE_EXTERN int bounce_ctx_load_rules(bounce_ctx *ctx, const char *buf,
    size_t len, const char *name);

/* Number of active rules (built-in and loaded). */
BOUNCE_EXTERN size_t bounce_ctx_rule_count(const bounce_ctx *ctx);

/* ------------------------------------------------------------------ */
/* SMTP replies and enhanced status codes                              */
/* ------------------------------------------------------------------ */

/* One SMTP reply, parsed.  Strings borrow from the ctx scratch or the
 * struct itself; see bounce_smtp_reply_parse(). */
typedef struct {
	int code;		/* 3-digit reply code, 0 when none */
	char enhanced[16];	/* RFC 3463 "5.1.1", "" when none */
	char *text;		/* text with codes and continuations removed,
				 * one line; owned, free with
				 * bounce_smtp_reply_clear() */
} bounce_smtp_reply;

/*
 * Parse an SMTP reply as servers send it or MTAs log it: single or
 * multi-line ("550-5.1.1 ...\r\n550 5.1.1 ..."), with or without the
 * enhanced code, or no code at all (then code is 0 and text is the input
 * flattened).  Copies what it needs.
 */
BOUNCE_EXTERN int bounce_smtp_reply_parse(bounce_smtp_reply *out,
    const char *buf, size_t len);
BOUNCE_EXTERN void bounce_smtp_reply_clear(bounce_smtp_reply *reply);

/*
 * Find the first RFC 3463 enhanced status code ("4.2.2", "5.7.26") in
 * text.  Writes it NUL-terminated to out (size >= 16) and returns its
 * offset, or -1 when there is none.  Dotted quads and version numbers are
 * not codes: the class must be 2, 4 or 5 and the token stand alone.
 */
BOUNCE_EXTERN long bounce_esc_find(char *out, size_t outlen,
    const char *text, size_t len);

/* 1 when s is a syntactically valid enhanced status code. */
BOUNCE_EXTERN int bounce_esc_valid(const char *s);

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

/* What the classifier looks at.  All strings may be NULL. */
typedef struct {
	unsigned int version;
	bounce_phase phase;
	int code;		/* SMTP reply code, 0 when none */
	const char *enhanced;	/* "5.1.1" */
	const char *text;	/* reply or diagnostic text */
	const char *remote_mta;	/* host name or address of the receiver */
	const char *action;	/* DSN Action: "failed", "delayed"... */
} bounce_smtp_result;

#define BOUNCE_SMTP_RESULT_VERSION 1
#define BOUNCE_SMTP_RESULT_INIT                                                \
	{ BOUNCE_SMTP_RESULT_VERSION, BOUNCE_PHASE_NONE, 0, NULL, NULL, NULL,  \
	  NULL }

/* The decision.  reason and rule borrow from the ctx's rules and stay
 * valid until the ctx is freed. */
typedef struct {
	bounce_category category;
	const char *reason;	/* "user_unknown", "blocklisted"... */
	const char *rule;	/* id of the rule that decided */
} bounce_verdict;

/*
 * Classify one SMTP result.  Always decides: when no rule matches, the
 * fallback is from the reply class (5xx hard/other, 4xx soft, 0 network)
 * and rule names the fallback.  Returns BOUNCE_EINVAL only for a bad
 * struct version or NULL arguments.
 */
BOUNCE_EXTERN int bounce_classify(bounce_verdict *out, bounce_ctx *ctx,
    const bounce_smtp_result *in);

/* ------------------------------------------------------------------ */
/* VERP                                                                */
/* ------------------------------------------------------------------ */

/*
 * VERP as Postfix, Exim and Mailman write it:
 *   list-bounces+alice=example.net@lists.example.org -> alice@example.net
 * The part between the separator and the '@' holds the recipient, with
 * its '@' written as equals.
 */
typedef struct {
	unsigned int version;
	char separator;	/* between the local part and the VERP data: '+' */
	char equals;	/* stands for '@' in the VERP data: '=' */
} bounce_verp_options;

#define BOUNCE_VERP_OPTIONS_VERSION 1
#define BOUNCE_VERP_OPTIONS_INIT { BOUNCE_VERP_OPTIONS_VERSION, '+', '=' }

/*
 * Decode a VERP bounce address into out (NUL-terminated, at most outlen
 * bytes with the NUL).  opts may be NULL for the defaults.  Returns
 * BOUNCE_ENOTFOUND when the address carries no VERP data and BOUNCE_ELIMIT
 * when out is too small.
 */
BOUNCE_EXTERN int bounce_verp_decode(char *out, size_t outlen,
    const char *address, const bounce_verp_options *opts);

/* ------------------------------------------------------------------ */
/* Parsing bounce messages                                             */
/* ------------------------------------------------------------------ */

typedef struct {
	unsigned int version;
	/* Envelope recipient of the bounce (the list's bounce address as
	 * the MTA delivered it), used to VERP-decode the recipient; NULL:
	 * look at Delivered-To / X-Original-To / To. */
	const char *bounce_address;
	/* The recipient, already VERP-decoded by the MTA (Postfix
	 * ${extension}, Exim $local_part_suffix); NULL when none. */
	const char *verp_recipient;
	bounce_verp_options verp;
} bounce_parse_options;

#define BOUNCE_PARSE_OPTIONS_VERSION 1
#define BOUNCE_PARSE_OPTIONS_INIT                                              \
	{ BOUNCE_PARSE_OPTIONS_VERSION, NULL, NULL, BOUNCE_VERP_OPTIONS_INIT }

/* One recipient of a report.  Every string is borrowed from the report
 * (valid until bounce_report_free()), NULL when unknown.  New fields are
 * only ever added at the end. */
typedef struct {
	const char *address;		/* the recipient (Final-Recipient) */
	const char *original_address;	/* Original-Recipient */
	bounce_kind kind;		/* bounce, delayed, delivered... */
	const char *action;		/* failed|delayed|delivered|relayed|
					 * expanded */
	const char *status;		/* most specific enhanced code */
	const char *dsn_status;		/* the Status: field as given */
	int reply_code;			/* SMTP reply code, 0 when none */
	const char *diagnostic;		/* reply text, unfolded, one line */
	const char *diagnostic_type;	/* "smtp", "x-postfix", "x-unix"... */
	const char *remote_mta;
	const char *last_attempt_date;
	bounce_phase phase;
	bounce_category category;	/* NONE for non-failures */
	const char *reason;
	const char *rule;
	const char *source;		/* where the address came from:
					 * "dsn", "text", "header", "verp" */
} bounce_recipient;

typedef struct bounce_report bounce_report;

/*
 * Parse one message.  buf is the raw message (headers and body, LF or
 * CRLF line ends); it is only read during the call.  opts may be NULL.
 *
 * Returns BOUNCE_OK with *out set for every message, readable or not: a
 * message that cannot be read gives kind BOUNCE_KIND_UNKNOWN with
 * bounce_report_error() saying why (over a limit, not MIME...).  Returns
 * an error (and *out NULL) only for BOUNCE_ENOMEM and BOUNCE_EINVAL.
 */
BOUNCE_EXTERN int bounce_parse(bounce_report **out, bounce_ctx *ctx,
    const char *buf, size_t len, const bounce_parse_options *opts);
BOUNCE_EXTERN void bounce_report_free(bounce_report *report);

/* Kind of the message as a whole (for a DSN with mixed actions: bounce
 * if any recipient failed, else delayed, else delivered). */
BOUNCE_EXTERN bounce_kind bounce_report_kind(const bounce_report *report);

/* Why the message could not be read, or NULL. */
BOUNCE_EXTERN const char *bounce_report_error(const bounce_report *report);

/* Which decoder read it: "rfc3464", "qmail", "exim", "arf"... */
BOUNCE_EXTERN const char *bounce_report_format(const bounce_report *report);

BOUNCE_EXTERN size_t bounce_report_recipient_count(
    const bounce_report *report);
/* Borrowed; NULL when i is out of range. */
BOUNCE_EXTERN const bounce_recipient *bounce_report_recipient(
    const bounce_report *report, size_t i);

/* Message-level fields, borrowed, NULL when absent. */
typedef enum {
	BOUNCE_FIELD_MESSAGE_ID = 0,	/* original message's Message-ID */
	BOUNCE_FIELD_LIST_ID,		/* original List-Id */
	BOUNCE_FIELD_ORIGINAL_FROM,
	BOUNCE_FIELD_ORIGINAL_TO,
	BOUNCE_FIELD_ORIGINAL_SUBJECT,
	BOUNCE_FIELD_CAMPAIGN_ID,	/* X-Campaign-Id, X-Listmonk-Campaign,
					 * X-Mailgun-Campaign-Id... */
	BOUNCE_FIELD_REPORTING_MTA,
	BOUNCE_FIELD_ARRIVAL_DATE,
	BOUNCE_FIELD_FEEDBACK_TYPE,	/* ARF Feedback-Type */
	BOUNCE_FIELD_USER_AGENT,	/* ARF User-Agent */
	BOUNCE_FIELD_SUBJECT,		/* the bounce's own Subject */
	BOUNCE_FIELD_FROM,		/* the bounce's own From */
	BOUNCE_FIELD_VERP_RECIPIENT,	/* recipient decoded from VERP */
	BOUNCE_FIELD__COUNT
} bounce_field;

BOUNCE_EXTERN const char *bounce_report_field(const bounce_report *report,
    bounce_field field);
/* JSON key for a field ("message_id", "list_id"...). */
BOUNCE_EXTERN const char *bounce_field_name(bounce_field field);

/* ------------------------------------------------------------------ */
/* MTA log lines (synchronous results)                                 */
/* ------------------------------------------------------------------ */

typedef enum {
	BOUNCE_LOG_POSTFIX = 1,
	BOUNCE_LOG_EXIM
} bounce_log_format;

/* What happened to one recipient, read from one log line. */
typedef enum {
	BOUNCE_LOG_NONE = 0,	/* the line is not a delivery result */
	BOUNCE_LOG_SENT,	/* delivered */
	BOUNCE_LOG_DEFERRED,	/* temporary failure, will retry */
	BOUNCE_LOG_BOUNCED	/* permanent failure */
} bounce_log_status;

typedef struct bounce_log_reader bounce_log_reader;

/* One delivery result.  Strings borrow from the reader, valid until the
 * next bounce_log_reader_feed() or _free(); they are NULL when the line
 * does not say, and valid UTF-8 (other bytes become '?').  New fields are
 * only ever added at the end. */
typedef struct {
	bounce_log_status status;
	const char *time;	/* as logged ("Nov 28 01:21:11" or ISO) */
	const char *host;	/* logging host */
	const char *queue_id;
	const char *recipient;
	const char *original_recipient;
	const char *sender;	/* envelope sender, when known */
	const char *message_id;	/* when known from earlier lines */
	const char *relay;	/* remote MTA */
	bounce_phase phase;
	int code;
	const char *enhanced;
	const char *text;	/* the reply or failure text, one line */
	const char *dsn;	/* the MTA's own status code (Postfix
				 * "dsn=4.4.1"), NULL when not logged */
} bounce_log_event;

/*
 * A reader for one log stream.  It keeps a bounded map from queue id to
 * sender and message-id (Postfix and Exim log these on earlier lines), so
 * feed it lines in log order.  The map holds at most 100,000 queue ids
 * (the least recently seen is forgotten first) and drops one when the MTA
 * logs that the message left the queue.
 *
 * A Postfix message that expired in the queue ("from=<...>,
 * status=expired") gives a BOUNCE_LOG_BOUNCED event with recipient NULL:
 * every recipient of queue_id still deferred has now failed.
 */
BOUNCE_EXTERN int bounce_log_reader_new(bounce_log_reader **out,
    bounce_ctx *ctx, bounce_log_format format);
BOUNCE_EXTERN void bounce_log_reader_free(bounce_log_reader *reader);

/*
 * Feed one line (without the newline).  Sets *out to an event and returns
 * BOUNCE_OK when the line is a delivery result; returns BOUNCE_ENOTFOUND
 * for other lines (they may still update the reader's state), and
 * BOUNCE_ELIMIT, with the detail in bounce_ctx_error(), for a line over
 * 64 KiB, which is skipped.
 */
BOUNCE_EXTERN int bounce_log_reader_feed(const bounce_log_event **out,
    bounce_log_reader *reader, const char *line, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* BOUNCE_H */
