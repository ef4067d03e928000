/*
 * log_postfix.c - delivery results in Postfix logs (Postfix 2.x and 3.x,
 * through syslog, postlogd's maillog_file, or journald).
 *
 * The lines read, after a syslog prefix whose tag has a '/'
 * ("postfix/smtp", "postfix-out/smtp", "postfix/submission/smtp"):
 *
 *   cleanup: QID: message-id=<ID>                  -> map: message-id
 *   qmgr: QID: from=<SENDER>, size=N, nrcpt=N ...  -> map: sender
 *   qmgr: QID: from=<SENDER>, status=expired, returned to sender
 *                                  -> bounced, no recipient (bounce.h)
 *   qmgr: QID: removed                             -> map: forget QID
 *   smtp|lmtp|local|virtual|pipe|error|retry|discard: QID: to=<RCPT>,
 *       [orig_to=<ORIG>,] relay=R, [conn_use=N,] delay=D, delays=a/b/c/d,
 *       dsn=X.Y.Z, status=sent|deferred|bounced|expired|SOFTBOUNCE (TEXT)
 *
 * The text says what happened (smtp(8), src/smtp/smtp_proto.c and
 * smtp_connect.c of Postfix 3.x word these):
 *   host H[A] said: REPLY (in reply to CMD command)    reply, phase of CMD
 *   host H[A] refused to talk to me: REPLY             reply, connect
 *   ... refused to start TLS: REPLY                    reply, helo
 *   connect to H[A]:25: Connection refused|timed out   code 0, connect
 *   lost connection with H[A] while WHAT               code 0, phase of WHAT
 *   conversation with H[A] timed out while WHAT        code 0, phase of WHAT
 *   delivery temporarily suspended: TEXT               as TEXT
 *   Host or domain name not found. Name service error ...   code 0
 *   250 2.0.0 Ok: queued as ..., unknown user: "x" ...  a reply or a text
 * A multi-line reply is logged flattened ("550-5.1.1 a 550 5.1.1 b");
 * smtp.c takes the prefixes out.  The enhanced code comes from the reply,
 * else from dsn=.  status=expired is a bounce ("message expired" when
 * there is no text), SOFTBOUNCE (soft_bounce = yes) a deferral; address
 * verification probes (status=deliverable|undeliverable) are not
 * deliveries and are skipped.
 *
 * Not read: NOQUEUE rejects by smtpd (the sender's own server refusing
 * mail is not a delivery result) and the per-host lines of smtp(8) without
 * a recipient ("QID: host H[A] said: ..." before the next MX is tried).
 *
 * Limits: queue ids of 5 to 31 bytes; see log_reader.c for the rest.
 */
#include <string.h>

#include "log_reader.h"

/*
 * Short queue ids are upper-case hex; long ones (enable_long_queue_ids)
 * are [0-9A-Za-z] without vowels.  So "warning", "NOQUEUE" and "fatal"
 * are not queue ids.
 */
static int
pf_qid_ok(const char *p, size_t n)
{
	int hex = 1, vowel = 0;
	size_t i;
	char c;

	if (n < 5 || n >= LOG_QID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = p[i];
		if (!str_is_digit(c) && !(c >= 'A' && c <= 'Z') &&
		    !(c >= 'a' && c <= 'z'))
			return 0;
		if (!str_is_digit(c) && !(c >= 'A' && c <= 'F'))
			hex = 0;
		if (strchr("AEIOUaeiou", c) != NULL)
			vowel = 1;
	}
	return hex || !vowel;
}

/* The '>' that closes an address opened before p: the first one followed
 * by ',' or the end of the line.  NULL when there is none. */
static char *
pf_angle_end(char *p, char *end)
{
	char *q;

	for (q = p; q < end && (q = memchr(q, '>', (size_t)(end - q))) != NULL;
	    q++)
		if (q + 1 == end || q[1] == ',')
			return q;
	return NULL;
}

/*
 * A reply ending in "(in reply to CMD command)": the phase of CMD, and
 * *re moved back to before it.
 */
static bounce_phase
pf_in_reply(char *rs, char **re)
{
	static const char lit[] = " (in reply to ";
	char *p, *q, *last = NULL, *e = *re;

	for (p = rs; (q = LOG_FIND(p, e, lit)) != NULL; p = q + 1)
		last = q;
	if (last == NULL || e[-1] != ')')
		return BOUNCE_PHASE_NONE;
	*re = last;
	return log_phase_from_cmd(last + sizeof(lit) - 1, e - 1);
}

/* What the text in parentheses says: code, enhanced code, phase, text. */
static int
pf_reason(bounce_log_reader *r, char *s, char *e)
{
	char *whole = s, *q, *re;

	if (LOG_STARTS(s, e, "delivery temporarily suspended: "))
		s += sizeof("delivery temporarily suspended: ") - 1;
	if (LOG_STARTS(s, e, "host ")) {
		if ((q = LOG_FIND(s, e, " said: ")) != NULL) {
			/* from the space, so that an empty reply before
			 * " (in reply to" is seen as such */
			re = e;
			q += sizeof(" said:") - 1;
			r->ev.phase = pf_in_reply(q, &re);
			q++;
			return log_set_reply(r, q, re > q ? re : q);
		}
		if ((q = LOG_FIND(s, e, " refused to talk to me: ")) != NULL) {
			r->ev.phase = BOUNCE_PHASE_CONNECT;
			return log_set_reply(r,
			    q + sizeof(" refused to talk to me: ") - 1, e);
		}
	}
	if ((q = LOG_FIND(s, e, " refused to start TLS: ")) != NULL) {
		r->ev.phase = BOUNCE_PHASE_HELO;
		q += sizeof(" refused to start TLS: ") - 1;
		return log_set_reply(r, q, e);
	}
	if (LOG_STARTS(s, e, "connect to ")) {
		r->ev.phase = BOUNCE_PHASE_CONNECT;
		return log_set_text(r, whole, e);
	}
	if (LOG_STARTS(s, e, "lost connection with ") ||
	    LOG_STARTS(s, e, "conversation with ")) {
		if ((q = LOG_FIND(s, e, " while ")) != NULL)
			r->ev.phase = log_phase_from_cmd(q + 7, e);
		return log_set_text(r, whole, e);
	}
	if (s < e && str_is_digit(*s) && s == whole)
		return log_set_reply(r, s, e);
	return log_set_text(r, whole, e);
}

static const char expired[] = "message expired";

/* A message's expiry: one event for all its recipients still queued. */
static int
pf_expired(bounce_log_reader *r, const char *qid, size_t qlen,
    char *sender)
{
	uint32_t i;

	r->ev.status = BOUNCE_LOG_BOUNCED;
	r->ev.sender = sender;
	if ((i = log_map_find(&r->map, qid, qlen)) != LOG_NIL)
		r->ev.message_id = log_map_msgid(&r->map, i);
	return log_set_text(r, expired, expired + sizeof(expired) - 1);
}

/* "from=<SENDER>, size=..." or "from=<SENDER>, status=expired, ..." */
static int
pf_from(bounce_log_reader *r, const char *qid, size_t qlen, char *p,
    char *end)
{
	char *ve;
	uint32_t i;

	if ((ve = pf_angle_end(p, end)) == NULL)
		return BOUNCE_ENOTFOUND;
	*ve = '\0';
	if (LOG_STARTS(ve + 1, end, ", status=expired"))
		return pf_expired(r, qid, qlen, p);
	if ((i = log_map_add(&r->map, qid, qlen)) == LOG_NIL)
		return BOUNCE_ENOMEM;
	(void)log_map_set(&r->map, i, 0, p, (size_t)(ve - p));
	return BOUNCE_ENOTFOUND;
}

/* "message-id=<ID>" (cleanup(8)); an id without brackets is kept too */
static int
pf_message_id(bounce_log_reader *r, const char *qid, size_t qlen, char *p,
    char *end)
{
	uint32_t i;

	if (end - p >= 2 && *p == '<' && end[-1] == '>') {
		p++;
		end--;
	}
	if (p >= end)
		return BOUNCE_ENOTFOUND;
	if ((i = log_map_add(&r->map, qid, qlen)) == LOG_NIL)
		return BOUNCE_ENOMEM;
	(void)log_map_set(&r->map, i, 1, p, (size_t)(end - p));
	return BOUNCE_ENOTFOUND;
}

static const struct {
	const char *word;
	bounce_log_status status;
} pf_statuses[] = {
	{ "sent", BOUNCE_LOG_SENT },
	{ "deferred", BOUNCE_LOG_DEFERRED },
	{ "bounced", BOUNCE_LOG_BOUNCED },
	{ "expired", BOUNCE_LOG_BOUNCED },
	{ "SOFTBOUNCE", BOUNCE_LOG_DEFERRED },
};

/* "to=<RCPT>, ..., status=WORD (TEXT)" */
static int
pf_delivery(bounce_log_reader *r, const char *qid, size_t qlen, char *p,
    char *end)
{
	char *ve, *q, *relay = NULL, *relay_end = NULL, *dsn = NULL;
	char *dsn_end = NULL, *st, *text = NULL, *tend = NULL;
	size_t i, n;
	uint32_t k;
	int err;

	if ((ve = pf_angle_end(p, end)) == NULL)
		return BOUNCE_ENOTFOUND;
	*ve = '\0';
	r->ev.recipient = p;
	for (p = ve + 1;;) {
		if (!LOG_STARTS(p, end, ", "))
			return BOUNCE_ENOTFOUND;
		p += 2;
		if (LOG_STARTS(p, end, "orig_to=<")) {
			p += sizeof("orig_to=<") - 1;
			if ((ve = pf_angle_end(p, end)) == NULL)
				return BOUNCE_ENOTFOUND;
			*ve = '\0';
			r->ev.original_recipient = p;
			p = ve + 1;
			continue;
		}
		if (LOG_STARTS(p, end, "status="))
			break;
		if ((q = LOG_FIND(p, end, ", ")) == NULL)
			return BOUNCE_ENOTFOUND;
		if (LOG_STARTS(p, q, "relay=")) {
			relay = p + sizeof("relay=") - 1;
			relay_end = q;
		} else if (LOG_STARTS(p, q, "dsn=")) {
			dsn = p + sizeof("dsn=") - 1;
			dsn_end = q;
		}
		p = q;
	}
	st = p + sizeof("status=") - 1;
	for (p = st; p < end && *p != ' ' && *p != ','; p++)
		;
	n = (size_t)(p - st);
	for (i = 0; i < sizeof(pf_statuses) / sizeof(pf_statuses[0]); i++)
		if (strlen(pf_statuses[i].word) == n &&
		    memcmp(pf_statuses[i].word, st, n) == 0)
			break;
	if (i == sizeof(pf_statuses) / sizeof(pf_statuses[0]))
		return BOUNCE_ENOTFOUND;
	r->ev.status = pf_statuses[i].status;
	if (LOG_STARTS(p, end, " (")) {
		text = p + 2;
		tend = end;
		if (tend > text && tend[-1] == ')')
			tend--;
	}
	/* the spans are cut only now: the scan above needed the commas */
	if (relay != NULL) {
		*relay_end = '\0';
		if (strcmp(relay, "none") != 0)
			r->ev.relay = relay;
	}
	if (dsn != NULL) {
		*dsn_end = '\0';
		if (bounce_esc_valid(dsn))
			r->ev.dsn = dsn;
	}
	if (text != NULL && (err = pf_reason(r, text, tend)) != BOUNCE_OK)
		return err;
	if (n == 7 && memcmp(st, "expired", 7) == 0) {
		/* the last reason, if logged, after what happened */
		err = text != NULL ? log_prefix_text(r, "message expired: ") :
		    log_set_text(r, expired, expired + sizeof(expired) - 1);
		if (err != BOUNCE_OK)
			return err;
	}
	if (r->ev.enhanced == NULL)
		r->ev.enhanced = r->ev.dsn;
	if ((k = log_map_find(&r->map, qid, qlen)) != LOG_NIL) {
		r->ev.sender = log_map_sender(&r->map, k);
		r->ev.message_id = log_map_msgid(&r->map, k);
	}
	return BOUNCE_OK;
}

int
log_postfix_parse(bounce_log_reader *r, char *p, char *end)
{
	struct log_prefix pre;
	char *qid, *q;
	size_t qlen;

	if (!log_syslog_prefix(&pre, &p, end) ||
	    strchr(pre.tag, '/') == NULL)
		return BOUNCE_ENOTFOUND;
	for (q = p; q < end && *q != ':' && *q != ' '; q++)
		;
	if (end - q < 2 || q[0] != ':' || q[1] != ' ' ||
	    !pf_qid_ok(p, (size_t)(q - p)))
		return BOUNCE_ENOTFOUND;
	qid = p;
	qlen = (size_t)(q - p);
	*q = '\0';
	p = q + 2;
	r->ev.time = pre.time;
	r->ev.host = pre.host;
	r->ev.queue_id = qid;
	if (LOG_STARTS(p, end, "to=<"))
		return pf_delivery(r, qid, qlen, p + 4, end);
	if (LOG_STARTS(p, end, "message-id="))
		return pf_message_id(r, qid, qlen,
		    p + sizeof("message-id=") - 1, end);
	if (LOG_STARTS(p, end, "from=<"))
		return pf_from(r, qid, qlen, p + sizeof("from=<") - 1, end);
	if (end - p == 7 && memcmp(p, "removed", 7) == 0)
		log_map_remove(&r->map, qid, qlen);
	return BOUNCE_ENOTFOUND;
}
