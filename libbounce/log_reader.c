/*
 * log_reader.c - the MTA log reader: bounce_log_reader_new/free/feed, the
 * line's sanitising, the bounded queue-id map and what the Postfix and
 * Exim parsers share (syslog prefixes, SMTP phases, reply texts).
 *
 * Standards: RFC 3164 and RFC 5424 (syslog prefixes), RFC 3339 (time
 * stamps), RFC 5321 (replies, via smtp.c), RFC 3629 (UTF-8).
 *
 * Speed: a big server logs millions of lines a day, so a line is read in
 * one pass with no regular expressions, and nothing is allocated per line
 * once the buffers have grown: the line is copied into a buffer the reader
 * keeps, fields are cut out of that copy with NULs, and the map's slots
 * come from an array that only grows, up to its bound (only a sender and
 * message-id too long to fit in a slot get an allocation of their own).
 *
 * Limits, to keep a hostile or corrupt log from costing memory or time:
 *   - a line over LOG_LINE_MAX (64 KiB, syslog-ng's default message
 *     size; rsyslog cuts at 8 KiB) is refused with BOUNCE_ELIMIT and not
 *     read;
 *   - the event's text is cut at the context's max_field_bytes;
 *   - the map holds at most LOG_MAP_MAX (100,000) queue ids, about the
 *     most messages a large queue holds at once, and forgets the least
 *     recently seen first; each entry costs about 200 bytes with its
 *     hash bucket, a sender and message-id longer together than
 *     LOG_ENTRY_INLINE (128) bytes are allocated beside it, and one over
 *     LOG_MAP_STR_MAX (512) bytes is not kept: at most about 125 MB
 *     whatever the input, 20 MB in practice.
 *
 * Security: the line is untrusted (anyone can put text in a reply that an
 * MTA logs).  NUL and control bytes become '?', tabs spaces, and bytes
 * that are not valid UTF-8 '?', so every string handed out is one line of
 * valid UTF-8, safe to store or print.
 */
#include <stdlib.h>
#include <string.h>

#include "log_reader.h"

/* ------------------------------------------------------------------ */
/* The reader                                                          */
/* ------------------------------------------------------------------ */

int
bounce_log_reader_new(bounce_log_reader **out, bounce_ctx *ctx,
    bounce_log_format format)
{
	bounce_log_reader *r;

	if (out == NULL)
		return BOUNCE_EINVAL;
	*out = NULL;
	if (ctx == NULL)
		return BOUNCE_EINVAL;
	if (format != BOUNCE_LOG_POSTFIX && format != BOUNCE_LOG_EXIM)
		return ctx_error(ctx, BOUNCE_EINVAL,
		    "unknown MTA log format %d", (int)format);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return BOUNCE_ENOMEM;
	r->ctx = ctx;
	r->format = format;
	log_map_init(&r->map, LOG_MAP_MAX);
	buf_init(&r->line, LOG_LINE_MAX);
	buf_init(&r->text, ctx->limits.max_field_bytes);
	buf_init(&r->scratch, LOG_LINE_MAX);
	buf_init(&r->relay, 1024);
	*out = r;
	return BOUNCE_OK;
}

void
bounce_log_reader_free(bounce_log_reader *r)
{
	if (r == NULL)
		return;
	log_map_free(&r->map);
	buf_free(&r->line);
	buf_free(&r->text);
	buf_free(&r->scratch);
	buf_free(&r->relay);
	free(r);
}

/* Length of the valid UTF-8 sequence at p (2 to 4), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned int c = p[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) ||	/* overlong */
		    (c == 0xed && p[1] >= 0xa0))	/* surrogate */
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) ||	/* overlong */
		    (c == 0xf4 && p[1] >= 0x90))	/* over U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

/* Any byte of w below 0x20, 0x7f or above: a word-at-a-time test. */
static inline int
word_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t high = 0x8080808080808080ull;
	uint64_t del = w ^ (0x7f * ones);

	return (((w - 0x20 * ones) | (del - ones) | w) & high) != 0;
}

/* One line of valid UTF-8 with no control bytes, in place. */
static void
sanitise(char *s, size_t n)
{
	unsigned char *p = (unsigned char *)s, *end = p + n;
	uint64_t w;
	size_t k;

	while (p < end) {
		/* most lines are printable ASCII: 8 bytes at a time */
		while (end - p >= 8) {
			memcpy(&w, p, sizeof(w));
			if (word_special(w))
				break;
			p += 8;
		}
		if (p >= end)
			break;
		if (*p >= 0x20 && *p < 0x7f) {
			p++;
			continue;
		}
		if (*p == '\t') {
			*p++ = ' ';
			continue;
		}
		if (*p >= 0x80 && (k = utf8_seq(p, (size_t)(end - p))) > 0) {
			p += k;
			continue;
		}
		*p++ = '?';
	}
}

int
bounce_log_reader_feed(const bounce_log_event **out, bounce_log_reader *r,
    const char *line, size_t len)
{
	char *p;
	int err;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || r == NULL || (line == NULL && len > 0))
		return BOUNCE_EINVAL;
	/* CRLF, trailing blanks, the padding NULs of a crashed writer */
	while (len > 0 &&
	    (str_is_space(line[len - 1]) || line[len - 1] == '\0'))
		len--;
	if (len > LOG_LINE_MAX)
		return ctx_error(r->ctx, BOUNCE_ELIMIT,
		    "log line of %zu bytes is over the limit of %d bytes; "
		    "skipped", len, LOG_LINE_MAX);
	buf_reset(&r->line);
	if ((err = buf_append(&r->line, line, len)) != BOUNCE_OK)
		return err;
	p = r->line.data != NULL ? r->line.data : (char *)"";
	sanitise(p, len);
	memset(&r->ev, 0, sizeof(r->ev));
	r->enhanced[0] = '\0';
	if (len == 0)
		return BOUNCE_ENOTFOUND;
	if (r->format == BOUNCE_LOG_POSTFIX)
		err = log_postfix_parse(r, p, p + len);
	else
		err = log_exim_parse(r, p, p + len);
	if (err == BOUNCE_OK)
		*out = &r->ev;
	return err;
}

int
log_reader_set_map_max(bounce_log_reader *r, uint32_t max)
{
	if (r == NULL || max == 0 || r->map.count > 0)
		return BOUNCE_EINVAL;
	log_map_free(&r->map);
	log_map_init(&r->map, max);
	return BOUNCE_OK;
}

uint32_t
log_reader_map_count(const bounce_log_reader *r)
{
	return r != NULL ? r->map.count : 0;
}

/* ------------------------------------------------------------------ */
/* The queue-id map                                                    */
/* ------------------------------------------------------------------ */

/*
 * Slots live in one array that doubles up to the bound; a hash table of
 * chains finds them; a doubly linked list through the slots, oldest
 * first, says which to forget.  Indices, not pointers, so the array can
 * move when it grows.
 */

static uint32_t
map_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 16777619u;
	}
	return h;
}

void
log_map_init(struct log_map *m, uint32_t max)
{
	memset(m, 0, sizeof(*m));
	m->max = max;
	m->free = m->head = m->tail = LOG_NIL;
}

void
log_map_free(struct log_map *m)
{
	uint32_t i;

	for (i = m->head; i != LOG_NIL; i = m->e[i].next)
		free(m->e[i].ext);
	free(m->e);
	free(m->bucket);
	log_map_init(m, m->max);
}

static void
list_unlink(struct log_map *m, uint32_t i)
{
	struct log_entry *e = &m->e[i];

	if (e->prev != LOG_NIL)
		m->e[e->prev].next = e->next;
	else
		m->head = e->next;
	if (e->next != LOG_NIL)
		m->e[e->next].prev = e->prev;
	else
		m->tail = e->prev;
}

static void
list_append(struct log_map *m, uint32_t i)
{
	m->e[i].prev = m->tail;
	m->e[i].next = LOG_NIL;
	if (m->tail != LOG_NIL)
		m->e[m->tail].next = i;
	else
		m->head = i;
	m->tail = i;
}

static int
map_grow(struct log_map *m)
{
	struct log_entry *e;
	uint32_t nslot, nbucket, i, *b;

	nslot = m->nslot > 0 ? m->nslot * 2 : 1024;
	if (nslot > m->max || nslot < m->nslot)
		nslot = m->max;
	if (nslot <= m->nslot)
		return BOUNCE_ELIMIT;
	if ((e = realloc(m->e, (size_t)nslot * sizeof(*e))) == NULL)
		return BOUNCE_ENOMEM;
	m->e = e;
	m->nslot = nslot;
	for (nbucket = 16; nbucket < (uint64_t)nslot * 2; nbucket *= 2)
		;
	if (nbucket == m->nbucket)
		return BOUNCE_OK;
	if ((b = malloc((size_t)nbucket * sizeof(*b))) == NULL)
		return BOUNCE_ENOMEM;
	for (i = 0; i < nbucket; i++)
		b[i] = LOG_NIL;
	for (i = m->head; i != LOG_NIL; i = m->e[i].next) {
		m->e[i].hnext = b[m->e[i].hash & (nbucket - 1)];
		b[m->e[i].hash & (nbucket - 1)] = i;
	}
	free(m->bucket);
	m->bucket = b;
	m->nbucket = nbucket;
	return BOUNCE_OK;
}

static uint32_t
map_lookup(const struct log_map *m, const char *qid, size_t len, uint32_t h)
{
	uint32_t i;

	if (m->nbucket == 0)
		return LOG_NIL;
	for (i = m->bucket[h & (m->nbucket - 1)]; i != LOG_NIL;
	    i = m->e[i].hnext)
		if (m->e[i].hash == h && memcmp(m->e[i].qid, qid, len) == 0 &&
		    m->e[i].qid[len] == '\0')
			return i;
	return LOG_NIL;
}

static void
map_drop(struct log_map *m, uint32_t i)
{
	uint32_t *pi = &m->bucket[m->e[i].hash & (m->nbucket - 1)];

	while (*pi != i)
		pi = &m->e[*pi].hnext;
	*pi = m->e[i].hnext;
	list_unlink(m, i);
	free(m->e[i].ext);
	m->e[i].ext = NULL;
	m->e[i].next = m->free;
	m->free = i;
	m->count--;
}

uint32_t
log_map_find(struct log_map *m, const char *qid, size_t len)
{
	uint32_t i;

	if (len == 0 || len >= LOG_QID_MAX)
		return LOG_NIL;
	i = map_lookup(m, qid, len, map_hash(qid, len));
	if (i != LOG_NIL && i != m->tail) {
		list_unlink(m, i);
		list_append(m, i);
	}
	return i;
}

uint32_t
log_map_add(struct log_map *m, const char *qid, size_t len)
{
	struct log_entry *e;
	uint32_t h, i;

	if (len == 0 || len >= LOG_QID_MAX)
		return LOG_NIL;
	if ((i = log_map_find(m, qid, len)) != LOG_NIL)
		return i;
	if (m->count >= m->max)
		map_drop(m, m->head);
	if (m->free != LOG_NIL) {
		i = m->free;
		m->free = m->e[i].next;
	} else {
		if (m->used == m->nslot && map_grow(m) != BOUNCE_OK)
			return LOG_NIL;
		i = m->used++;
	}
	h = map_hash(qid, len);
	e = &m->e[i];
	memcpy(e->qid, qid, len);
	e->qid[len] = '\0';
	e->hash = h;
	e->sender_len = e->msgid_len = 0;
	e->has_sender = e->has_msgid = 0;
	e->ext = NULL;
	e->inl[0] = e->inl[1] = '\0';
	e->hnext = m->bucket[h & (m->nbucket - 1)];
	m->bucket[h & (m->nbucket - 1)] = i;
	list_append(m, i);
	m->count++;
	return i;
}

void
log_map_remove(struct log_map *m, const char *qid, size_t len)
{
	uint32_t i;

	if (len == 0 || len >= LOG_QID_MAX)
		return;
	if ((i = map_lookup(m, qid, len, map_hash(qid, len))) != LOG_NIL)
		map_drop(m, i);
}

int
log_map_set(struct log_map *m, uint32_t i, int is_msgid, const char *s,
    size_t len)
{
	struct log_entry *e = &m->e[i];
	char keep[LOG_MAP_STR_MAX + 1], *data, *dst;
	size_t klen, need;
	int has = 1;

	if (len > LOG_MAP_STR_MAX) {
		has = 0;	/* a wrong string is worse than none */
		len = 0;
	}
	data = e->ext != NULL ? e->ext : e->inl;
	/* keep the other string while the data is rewritten */
	if (is_msgid) {
		klen = e->sender_len;
		memcpy(keep, data, klen);
	} else {
		klen = e->msgid_len;
		memcpy(keep, data + e->sender_len + 1, klen);
	}
	need = klen + 1 + len + 1;
	if (need <= LOG_ENTRY_INLINE) {
		free(e->ext);
		e->ext = NULL;
		dst = e->inl;
	} else {
		if ((dst = malloc(need)) == NULL)
			return BOUNCE_ENOMEM;
		free(e->ext);
		e->ext = dst;
	}
	if (is_msgid) {
		memcpy(dst, keep, klen);
		dst[klen] = '\0';
		memcpy(dst + klen + 1, s, len);
		dst[klen + 1 + len] = '\0';
		e->msgid_len = (uint16_t)len;
		e->has_msgid = (unsigned char)has;
	} else {
		memcpy(dst, s, len);
		dst[len] = '\0';
		memcpy(dst + len + 1, keep, klen);
		dst[len + 1 + klen] = '\0';
		e->sender_len = (uint16_t)len;
		e->has_sender = (unsigned char)has;
	}
	return BOUNCE_OK;
}

const char *
log_map_sender(const struct log_map *m, uint32_t i)
{
	const struct log_entry *e = &m->e[i];

	if (!e->has_sender)
		return NULL;
	return e->ext != NULL ? e->ext : e->inl;
}

const char *
log_map_msgid(const struct log_map *m, uint32_t i)
{
	const struct log_entry *e = &m->e[i];

	if (!e->has_msgid)
		return NULL;
	return (e->ext != NULL ? e->ext : e->inl) + e->sender_len + 1;
}

/* ------------------------------------------------------------------ */
/* Syslog prefixes                                                     */
/* ------------------------------------------------------------------ */

static int
is_digits(const char *p, size_t n)
{
	while (n-- > 0)
		if (!str_is_digit(*p++))
			return 0;
	return 1;
}

/* "2026-11-28T01:21:11..." (RFC 3339, as rsyslog and journald write) */
static int
is_rfc3339(const char *p, const char *end)
{
	return end - p >= 19 && is_digits(p, 4) && p[4] == '-' &&
	    is_digits(p + 5, 2) && p[7] == '-' && is_digits(p + 8, 2) &&
	    p[10] == 'T' && is_digits(p + 11, 2) && p[13] == ':';
}

/* "Nov 28 01:21:11" or "Nov  8 01:21:11" (RFC 3164) */
static int
is_bsd_time(const char *p, const char *end)
{
	return end - p >= 16 && p[0] >= 'A' && p[0] <= 'Z' &&
	    p[1] >= 'a' && p[1] <= 'z' && p[2] >= 'a' && p[2] <= 'z' &&
	    p[3] == ' ' && (p[4] == ' ' || str_is_digit(p[4])) &&
	    str_is_digit(p[5]) && p[6] == ' ' && is_digits(p + 7, 2) &&
	    p[9] == ':' && is_digits(p + 10, 2) && p[12] == ':' &&
	    is_digits(p + 13, 2) && p[15] == ' ';
}

/* Cut the token at *pp (up to a space) and move past it and the spaces
 * after; NULL when there is none. */
static char *
cut_token(char **pp, char *end)
{
	char *p = *pp, *s;

	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return NULL;
	s = p;
	while (p < end && *p != ' ')
		p++;
	if (p < end)
		*p++ = '\0';
	*pp = p;
	return s;
}

/* RFC 5424 structured data: "-" or one or more "[id k="v"...]". */
static char *
skip_sd(char *p, char *end)
{
	if (p < end && *p == '-')
		return p + 1;
	while (p < end && *p == '[') {
		for (p++; p < end && *p != ']'; p++) {
			if (*p != '"')
				continue;
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
		}
		if (p >= end)
			return NULL;
		p++;
	}
	return p;
}

int
log_syslog_prefix(struct log_prefix *out, char **pp, char *end)
{
	char *p = *pp, *q, *tag, *s;
	int rfc5424 = 0;

	memset(out, 0, sizeof(*out));
	if (p < end && *p == '<') {
		for (q = p + 1; q < end && q - p <= 4 && str_is_digit(*q); q++)
			;
		if (q == p + 1 || q >= end || *q != '>')
			return 0;
		p = q + 1;
		if (end - p >= 2 && p[0] == '1' && p[1] == ' ') {
			rfc5424 = 1;
			p += 2;
		}
	}
	if (is_rfc3339(p, end)) {
		out->time = p;
		while (p < end && *p != ' ')
			p++;
	} else if (!rfc5424 && is_bsd_time(p, end)) {
		out->time = p;
		p += 15;
	} else {
		return 0;
	}
	if (p >= end)
		return 0;
	*p++ = '\0';
	if ((out->host = cut_token(&p, end)) == NULL)
		return 0;
	if (rfc5424) {
		/* APP-NAME PROCID MSGID STRUCTURED-DATA MSG */
		if ((tag = cut_token(&p, end)) == NULL ||
		    cut_token(&p, end) == NULL || cut_token(&p, end) == NULL ||
		    (p = skip_sd(p, end)) == NULL)
			return 0;
		if (p < end && *p == ' ')
			p++;
	} else {
		/* "postfix/smtp[123]:" */
		tag = p;
		while (p < end && *p != ' ')
			p++;
		if (p == tag || p[-1] != ':')
			return 0;
		p[-1] = '\0';
		if ((q = memchr(tag, '[', (size_t)(p - tag))) != NULL)
			*q = '\0';
		if (p < end)
			p++;
	}
	out->tag = tag;
	out->program = (s = strrchr(tag, '/')) != NULL ? s + 1 : tag;
	*pp = p;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Phases and texts                                                    */
/* ------------------------------------------------------------------ */

/* How logs name a command or a moment of the session; matched as a
 * prefix, ASCII case-insensitively, on a word boundary. */
static const struct {
	const char *name;
	bounce_phase phase;
} phase_words[] = {
	{ "initial connection", BOUNCE_PHASE_CONNECT },
	{ "initial server greeting", BOUNCE_PHASE_CONNECT },
	{ "initial greeting", BOUNCE_PHASE_CONNECT },
	{ "server greeting", BOUNCE_PHASE_CONNECT },
	{ "greeting", BOUNCE_PHASE_CONNECT },
	{ "banner", BOUNCE_PHASE_CONNECT },
	{ "connect", BOUNCE_PHASE_CONNECT },
	{ "EHLO", BOUNCE_PHASE_HELO },
	{ "HELO", BOUNCE_PHASE_HELO },
	{ "LHLO", BOUNCE_PHASE_HELO },
	{ "STARTTLS", BOUNCE_PHASE_HELO },
	{ "AUTH", BOUNCE_PHASE_HELO },
	{ "XFORWARD", BOUNCE_PHASE_HELO },
	{ "XCLIENT", BOUNCE_PHASE_HELO },
	{ "MAIL FROM", BOUNCE_PHASE_MAIL },
	{ "RCPT TO", BOUNCE_PHASE_RCPT },
	{ "end of data", BOUNCE_PHASE_EOD },
	{ "message body", BOUNCE_PHASE_EOD },
	{ "message content", BOUNCE_PHASE_EOD },
	{ "BDAT", BOUNCE_PHASE_EOD },
	{ "DATA", BOUNCE_PHASE_DATA },
};

/* Words that come before the command and say nothing about it. */
static const char *const phase_noise[] = {
	"pipelined ", "sending ", "receiving ", "performing ", "the ",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

bounce_phase
log_phase_from_cmd(const char *p, const char *end)
{
	size_t i, n;
	int again;

	do {
		again = 0;
		while (p < end && *p == ' ')
			p++;
		for (i = 0; i < COUNT(phase_noise); i++)
			if (str_istarts(p, (size_t)(end - p), phase_noise[i])) {
				p += strlen(phase_noise[i]);
				again = 1;
			}
	} while (again);
	for (i = 0; i < COUNT(phase_words); i++) {
		n = strlen(phase_words[i].name);
		if (!str_istarts(p, (size_t)(end - p), phase_words[i].name))
			continue;
		if (p + n < end && ((p[n] >= 'a' && p[n] <= 'z') ||
		    (p[n] >= 'A' && p[n] <= 'Z') || str_is_digit(p[n])))
			continue;
		return phase_words[i].phase;
	}
	return BOUNCE_PHASE_NONE;
}

int
log_set_reply(bounce_log_reader *r, const char *p, const char *end)
{
	int err;

	err = smtp_reply_parse_buf(&r->text, &r->ev.code, r->enhanced, p,
	    (size_t)(end - p));
	if (err != BOUNCE_OK)
		return err;
	r->ev.text = r->text.data;
	r->ev.enhanced = r->enhanced[0] != '\0' ? r->enhanced : NULL;
	return BOUNCE_OK;
}

int
log_set_text(bounce_log_reader *r, const char *p, const char *end)
{
	int err, space = 0;

	buf_reset(&r->text);
	if ((err = buf_append(&r->text, "", 0)) != BOUNCE_OK)
		return err;
	while (p < end) {
		const char *w;

		if (*p == ' ') {
			space = r->text.len > 0;
			p++;
			continue;
		}
		for (w = p; p < end && *p != ' '; p++)
			;
		if (space && buf_append_char(&r->text, ' ') != BOUNCE_OK)
			break;
		if (buf_append(&r->text, w, (size_t)(p - w)) != BOUNCE_OK) {
			/* a text over the cap is cut there */
			(void)buf_append(&r->text, w,
			    r->text.cap - r->text.len);
			break;
		}
		space = 0;
	}
	r->ev.code = 0;
	r->ev.text = r->text.data;
	return BOUNCE_OK;
}

int
log_prefix_text(bounce_log_reader *r, const char *prefix)
{
	size_t n;
	int err;

	buf_reset(&r->scratch);
	if ((err = buf_append_str(&r->scratch, prefix)) != BOUNCE_OK ||
	    (r->ev.text != NULL && (err = buf_append_str(&r->scratch,
	    r->ev.text)) != BOUNCE_OK))
		return err;
	n = r->scratch.len < r->text.cap ? r->scratch.len : r->text.cap;
	buf_reset(&r->text);
	if ((err = buf_append(&r->text, r->scratch.data, n)) != BOUNCE_OK)
		return err;
	r->ev.text = r->text.data;
	return BOUNCE_OK;
}

char *
log_find(char *p, char *end, const char *lit, size_t n)
{
	char *last;

	/* memchr for the first byte is vectorised; memmem(3) is not in
	 * POSIX */
	if (n == 0 || p > end || (size_t)(end - p) < n)
		return NULL;
	last = end - n;
	while (p <= last &&
	    (p = memchr(p, lit[0], (size_t)(last - p) + 1)) != NULL) {
		if (memcmp(p, lit, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

char *
log_unbracket(char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s[n - 1] = '\0';
		return s + 1;
	}
	return s;
}
