/*
 * log_reader.h - what the MTA log parsers (log_postfix.c, log_exim.c)
 * share with the reader that dispatches to them (log_reader.c): the
 * reader's body, the queue-id map, the syslog prefix, SMTP phases and
 * reply texts.
 *
 * A parser is handed a private, writable copy of the line, already
 * sanitised (no NUL or control bytes, valid UTF-8, no trailing white
 * space); it cuts fields out of it by writing NULs, so the event's
 * strings point into that copy, the reader's buffers or the map.
 *
 * Limits (see log_reader.c for why): a line is at most LOG_LINE_MAX bytes;
 * the map holds at most LOG_MAP_MAX queue ids, each at most LOG_QID_MAX - 1
 * bytes; senders and message-ids longer than LOG_MAP_STR_MAX are not kept.
 */
#ifndef BOUNCE_LOG_READER_H
#define BOUNCE_LOG_READER_H

#include <stdint.h>
#include <string.h>

#include "internal.h"

#define LOG_LINE_MAX (64 * 1024)
#define LOG_MAP_MAX 100000u
#define LOG_QID_MAX 32
#define LOG_MAP_STR_MAX 512
#define LOG_ENTRY_INLINE 128
#define LOG_NIL UINT32_MAX

/* One queue id and what earlier lines said about its message. */
struct log_entry {
	uint32_t prev, next;	/* recency list, oldest first; free list */
	uint32_t hnext;		/* hash chain */
	uint32_t hash;
	uint16_t sender_len;	/* data = sender NUL message-id NUL */
	uint16_t msgid_len;
	unsigned char has_sender, has_msgid;
	char qid[LOG_QID_MAX];
	char *ext;		/* the data when it does not fit inline */
	char inl[LOG_ENTRY_INLINE];
};

struct log_map {
	struct log_entry *e;
	uint32_t *bucket;	/* chain heads; nbucket is a power of 2 */
	uint32_t nslot, nbucket;
	uint32_t used;		/* slots ever handed out */
	uint32_t count;		/* live entries */
	uint32_t free;		/* free slots, linked by next */
	uint32_t head, tail;	/* least and most recently seen */
	uint32_t max;
};

struct bounce_log_reader {
	bounce_ctx *ctx;
	bounce_log_format format;
	struct log_map map;
	struct buf line;	/* the line being read, cut in place */
	struct buf text;	/* the event's text */
	struct buf scratch;	/* a reply with its escapes undone */
	struct buf relay;	/* a relay put together (Exim) */
	char enhanced[16];
	bounce_log_event ev;
};

/* What a syslog prefix says; every pointer is NUL-terminated. */
struct log_prefix {
	char *time;
	char *host;
	char *tag;	/* "postfix/smtp", "postfix-out/smtp", "exim" */
	char *program;	/* the tag's last component: "smtp" */
};

/* log_postfix.c, log_exim.c: read one sanitised line p[0..end) into
 * r->ev; BOUNCE_OK, BOUNCE_ENOTFOUND or BOUNCE_ENOMEM. */
int log_postfix_parse(bounce_log_reader *r, char *p, char *end);
int log_exim_parse(bounce_log_reader *r, char *p, char *end);

/*
 * Syslog prefixes: "Nov 28 01:21:11 host tag[pid]: ", RFC 3339 time
 * ("2026-11-28T01:21:11.123456+00:00 host tag[pid]: "), either after an
 * RFC 3164 "<PRI>", and RFC 5424 ("<PRI>1 TIME HOST APP PROCID MSGID SD ").
 * Returns 1 and moves *pp past the prefix, or 0 and leaves it.
 */
int log_syslog_prefix(struct log_prefix *out, char **pp, char *end);

/* The phase named at the start of p ("RCPT TO:<x>", "end of data",
 * "the initial server greeting", "EHLO host"); NONE when unknown. */
bounce_phase log_phase_from_cmd(const char *p, const char *end);

/* An SMTP reply: sets r->ev.code, r->enhanced and r->ev.text. */
int log_set_reply(bounce_log_reader *r, const char *p, const char *end);
/* A text with no reply in it: code 0, white space folded. */
int log_set_text(bounce_log_reader *r, const char *p, const char *end);
/* Put prefix before r->ev.text (cut at the text's cap). */
int log_prefix_text(bounce_log_reader *r, const char *prefix);

/* p starts with the literal lit (case-sensitive). */
static inline int
log_starts(const char *p, const char *end, const char *lit, size_t n)
{
	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}
#define LOG_STARTS(p, end, lit) log_starts((p), (end), (lit), sizeof(lit) - 1)

/* The first occurrence of lit in p[0..end), or NULL. */
char *log_find(char *p, char *end, const char *lit, size_t n);
#define LOG_FIND(p, end, lit) log_find((p), (end), (lit), sizeof(lit) - 1)

/* Strip one pair of angle brackets from the NUL-terminated s. */
char *log_unbracket(char *s);

/* The queue-id map (log_reader.c). */
void log_map_init(struct log_map *m, uint32_t max);
void log_map_free(struct log_map *m);
/* Find qid and mark it most recently seen; LOG_NIL when absent. */
uint32_t log_map_find(struct log_map *m, const char *qid, size_t len);
/* Find or add qid, forgetting the least recently seen when full;
 * LOG_NIL when out of memory or qid is too long. */
uint32_t log_map_add(struct log_map *m, const char *qid, size_t len);
void log_map_remove(struct log_map *m, const char *qid, size_t len);
/* Set one of the strings; a string over LOG_MAP_STR_MAX is forgotten. */
int log_map_set(struct log_map *m, uint32_t i, int is_msgid, const char *s,
    size_t len);
/* The strings of entry i, NULL when unknown. */
const char *log_map_sender(const struct log_map *m, uint32_t i);
const char *log_map_msgid(const struct log_map *m, uint32_t i);

/* For tests: change the bound (at least 1) of an empty reader's map, and
 * count its entries. */
int log_reader_set_map_max(bounce_log_reader *r, uint32_t max);
uint32_t log_reader_map_count(const bounce_log_reader *r);

#endif
