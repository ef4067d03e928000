/*
 * log_exim.c - delivery results in Exim's main log (Exim 4.8x to 4.9x,
 * the spec's chapter "Log files"), written to a file or through syslog.
 *
 * A line is "DATE TIME[.mmm][ +ZZZZ] [[PID]] MSGID FLAG ...", where MSGID
 * is "1tEFGH-002CD3-4D" (4.9x and before) or "1tEFGH-0000000Abc-1a2B"
 * (4.97 and later).  The flags read:
 *
 *   <= SENDER ... id=MESSAGE-ID ...   arrival      -> map: sender, id
 *   => RCPT ...                        delivered    -> sent
 *   -> RCPT ...                        also delivered in the same
 *                                      transaction -> sent
 *   == RCPT ... defer (ERRNO): TEXT    deferred     -> deferred
 *   ** RCPT ...: TEXT                  failed       -> bounced
 *   *> RCPT ...                        suppressed (-N): skipped
 *   Completed                          done         -> map: forget MSGID
 *
 * RCPT may be followed by its parents, "(intermediate)" and
 * "<original>"; then fields: F=<sender>, P=<return path>, R=router,
 * T=transport, H=host [address][:port], X=tls, CV=, DN="...",
 * C="confirmation reply", K, QT=, DT=.  "defer (-44)" and "routing" are
 * words among them.  The text of a failure follows the first ':' that
 * ends a word ("... CV=yes : SMTP error ..." too).
 *
 * Failure texts:
 *   SMTP error from remote mail server after CMD: [host H [A]: ]REPLY
 *       CMD: "RCPT TO:<x>", "MAIL FROM:<x> SIZE=n", "end of data",
 *       "pipelined DATA", "initial connection", "EHLO name"...
 *   SMTP timeout after CMD, Remote host closed connection in response
 *   to CMD                                           code 0, phase of CMD
 *   Connection refused|timed out, No route to host, Network is unreachable
 *                                                    code 0, connect
 *   retry time not reached [for any host for 'D'], Unrouteable address,
 *   all hosts for 'D' have been failing for a long time (and retry time
 *   not reached), retry timeout exceeded ...         code 0, text kept
 * Exim writes a reply's line breaks as the two characters "\n"; they
 * become spaces, and smtp.c takes out the "550-5.1.1" prefixes.  A
 * "retry time not reached" deferral is logged on every queue run without
 * a new attempt; it is reported like any deferral and the caller may
 * want to count only one per message.
 *
 * The relay is written "host[address]:port" as Postfix does.
 *
 * Limits: see log_reader.c.
 */
#include <string.h>

#include "log_reader.h"

static int
is_alnum(char c)
{
	return str_is_digit(c) || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* An Exim message id: 6, 6 to 11 and 2 to 4 base-62 digits. */
static int
ex_msgid_ok(const char *p, const char *end)
{
	const char *q;
	size_t part, n;
	static const size_t lo[] = { 6, 6, 2 }, hi[] = { 6, 11, 4 };

	if (end - p >= LOG_QID_MAX)
		return 0;
	for (part = 0; part < 3; part++) {
		for (q = p; q < end && is_alnum(*q); q++)
			;
		n = (size_t)(q - p);
		if (n < lo[part] || n > hi[part])
			return 0;
		if (part < 2) {
			if (q >= end || *q != '-')
				return 0;
			q++;
		}
		p = q;
	}
	return p == end;
}

/* "2026-11-28 01:21:11" */
static int
ex_is_time(const char *p, const char *end)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	size_t i;

	if ((size_t)(end - p) < sizeof(shape) - 1)
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !str_is_digit(p[i]) : p[i] != shape[i])
			return 0;
	return 1;
}

/* A word: up to a space, with "..." (and its \-escapes) and [...] kept
 * whole.  Skips the spaces and NULs cut before it; 0 at the end. */
static int
ex_word(char **pp, char *end, char **ws, char **we)
{
	char *p = *pp, *q;

	while (p < end && (*p == ' ' || *p == '\0'))
		p++;
	if (p >= end)
		return 0;
	*ws = p;
	while (p < end && *p != ' ') {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p < end)
				p++;
		} else if (*p == '[') {
			q = memchr(p, ']', (size_t)(end - p));
			p = q != NULL ? q + 1 : end;
		} else {
			p++;
		}
	}
	*we = p;
	*pp = p;
	return 1;
}

/* Undo Exim's escapes ("\n", "\"", "\\") of p[0..end) into r->scratch. */
static int
ex_unescape(bounce_log_reader *r, const char *p, const char *end)
{
	const char *run;
	int err;

	buf_reset(&r->scratch);
	if ((err = buf_append(&r->scratch, "", 0)) != BOUNCE_OK)
		return err;
	while (p < end) {
		run = p;
		while (p < end && *p != '\\')
			p++;
		if ((err = buf_append(&r->scratch, run, (size_t)(p - run))) !=
		    BOUNCE_OK)
			return err;
		if (p + 1 >= end) {
			if (p < end)
				err = buf_append_char(&r->scratch, '\\');
			return err;
		}
		switch (p[1]) {
		case 'n':
		case 'r':
		case 't':
			err = buf_append_char(&r->scratch, ' ');
			break;
		case '"':
		case '\\':
			err = buf_append_char(&r->scratch, p[1]);
			break;
		default:
			err = buf_append(&r->scratch, p, 2);
		}
		if (err != BOUNCE_OK)
			return err;
		p += 2;
	}
	return BOUNCE_OK;
}

static int
ex_reply(bounce_log_reader *r, const char *p, const char *end)
{
	int err;

	if ((err = ex_unescape(r, p, end)) != BOUNCE_OK)
		return err;
	return log_set_reply(r, r->scratch.data,
	    r->scratch.data + r->scratch.len);
}

static int
ex_text(bounce_log_reader *r, const char *p, const char *end)
{
	int err;

	if ((err = ex_unescape(r, p, end)) != BOUNCE_OK)
		return err;
	return log_set_text(r, r->scratch.data,
	    r->scratch.data + r->scratch.len);
}

/* The relay as "name[address]:port" from "name" and "[address]:port"
 * (either may be missing). */
static int
ex_relay(bounce_log_reader *r, const char *name, size_t nlen,
    const char *addr, size_t alen)
{
	buf_reset(&r->relay);
	if (buf_append(&r->relay, name, nlen) != BOUNCE_OK ||
	    buf_append(&r->relay, addr, alen) != BOUNCE_OK)
		return BOUNCE_OK;	/* over 1 KiB: no relay */
	if (r->relay.len > 0)
		r->ev.relay = r->relay.data;
	return BOUNCE_OK;
}

static const char *const ex_conn_failures[] = {
	"Connection refused", "Connection timed out", "No route to host",
	"Network is unreachable", "Connection reset by peer",
};

/* What the failure text after the fields says. */
static int
ex_reason(bounce_log_reader *r, char *s, char *e)
{
	static const char smtp_error[] =
	    "SMTP error from remote mail server after ";
	char *c, *q;
	size_t i;

	if (LOG_STARTS(s, e, smtp_error)) {
		c = s + sizeof(smtp_error) - 1;
		r->ev.phase = log_phase_from_cmd(c, e);
		/* the command ends at ": ", past the address of a MAIL FROM
		 * or RCPT TO */
		q = c;
		if (LOG_STARTS(q, e, "pipelined "))
			q += sizeof("pipelined ") - 1;
		if ((LOG_STARTS(q, e, "RCPT TO:<") ||
		    LOG_STARTS(q, e, "MAIL FROM:<")) &&
		    (c = memchr(q, '>', (size_t)(e - q))) != NULL)
			q = c + 1;
		if ((q = LOG_FIND(q, e, ": ")) == NULL)
			return ex_text(r, s, e);
		q += 2;
		/* before 4.90 the host came here: "host H [A]: " */
		if (LOG_STARTS(q, e, "host ") && (c = LOG_FIND(q, e, "]: ")) !=
		    NULL) {
			char *name = q + 5, *sp;

			if (r->ev.relay == NULL && (sp = memchr(name, ' ',
			    (size_t)(c - name))) != NULL)
				(void)ex_relay(r, name, (size_t)(sp - name),
				    sp + 1, (size_t)(c - sp));
			q = c + 3;
		}
		return ex_reply(r, q, e);
	}
	if (LOG_STARTS(s, e, "SMTP timeout after ")) {
		r->ev.phase = log_phase_from_cmd(s + 19, e);
		return ex_text(r, s, e);
	}
	if (LOG_STARTS(s, e, "Remote host ") &&
	    (q = LOG_FIND(s, e, "closed connection in response to ")) != NULL) {
		char *name = s + sizeof("Remote host ") - 1, *sp;

		/* before 4.90: "Remote host H [A] closed ..." */
		if (r->ev.relay == NULL && q - name > 3 && q[-2] == ']' &&
		    (sp = memchr(name, ' ', (size_t)(q - name))) != NULL &&
		    sp[1] == '[')
			(void)ex_relay(r, name, (size_t)(sp - name), sp + 1,
			    (size_t)(q - 1 - sp - 1));
		r->ev.phase = log_phase_from_cmd(q +
		    sizeof("closed connection in response to ") - 1, e);
		return ex_text(r, s, e);
	}
	for (i = 0; i < sizeof(ex_conn_failures) / sizeof(ex_conn_failures[0]);
	    i++)
		if (log_starts(s, e, ex_conn_failures[i],
		    strlen(ex_conn_failures[i]))) {
			r->ev.phase = BOUNCE_PHASE_CONNECT;
			return ex_text(r, s, e);
		}
	if (s < e && str_is_digit(*s))
		return ex_reply(r, s, e);
	return ex_text(r, s, e);
}

/* "<= SENDER ... id=MESSAGE-ID ..." */
static int
ex_arrival(bounce_log_reader *r, const char *id, size_t idlen, char *p,
    char *end)
{
	char *ws, *we, *sender, *msgid = NULL, *msgid_end = NULL;
	size_t slen;
	uint32_t i;

	if (!ex_word(&p, end, &ws, &we))
		return BOUNCE_ENOTFOUND;
	sender = ws;
	slen = (size_t)(we - ws);
	if (slen >= 2 && sender[0] == '<' && sender[slen - 1] == '>') {
		sender++;
		slen -= 2;
	}
	while (ex_word(&p, end, &ws, &we))
		if (LOG_STARTS(ws, we, "id=")) {
			msgid = ws + 3;
			msgid_end = we;
			if (msgid_end - msgid >= 2 && *msgid == '<' &&
			    msgid_end[-1] == '>') {
				msgid++;
				msgid_end--;
			}
		}
	if ((i = log_map_add(&r->map, id, idlen)) == LOG_NIL)
		return BOUNCE_ENOMEM;
	(void)log_map_set(&r->map, i, 0, sender, slen);
	if (msgid != NULL && msgid < msgid_end)
		(void)log_map_set(&r->map, i, 1, msgid,
		    (size_t)(msgid_end - msgid));
	return BOUNCE_ENOTFOUND;
}

/* A word ending in ':' before a space or the end starts the text. */
static int
ex_ends_fields(char *we, char *end)
{
	return we[-1] == ':' && (we == end || *we == ' ');
}

/* "=> RCPT [(parent)] [<orig>] FIELDS[: TEXT]" and the other flags */
static int
ex_delivery(bounce_log_reader *r, const char *id, size_t idlen, char *p,
    char *end)
{
	char *ws, *we, *msg = NULL, *conf = NULL, *conf_end = NULL;
	char *sender = NULL, *ret_path = NULL, *name = NULL, *name_end = NULL;
	char *addr = NULL, *addr_end = NULL;
	int fields = 0, err;
	uint32_t k;

	if (!ex_word(&p, end, &ws, &we))
		return BOUNCE_ENOTFOUND;
	if (ex_ends_fields(we, end)) {
		msg = we;
		we--;
	}
	*we = '\0';
	r->ev.recipient = ws;
	while (msg == NULL && ex_word(&p, end, &ws, &we)) {
		if (ex_ends_fields(we, end)) {
			msg = we;
			we--;
			if (we == ws)
				break;	/* " : " */
		}
		if (*ws == '<' && !fields && r->ev.original_recipient == NULL) {
			*we = '\0';
			r->ev.original_recipient = log_unbracket(ws);
			continue;
		}
		if (*ws == '[' && name != NULL && addr == NULL) {
			/* the address after "H=name" */
			addr = ws;
			addr_end = we;
			continue;
		}
		/* "defer", "(-44)", "(parent)": words, not fields */
		if (!is_alnum(ws[0]) || ((we - ws < 2 || ws[1] != '=') &&
		    (we - ws < 3 || ws[2] != '=')))
			continue;
		fields = 1;
		if (ws[1] != '=')
			continue;	/* CV=, DN=, QT=, DT= */
		switch (ws[0]) {
		case 'F':
			*we = '\0';
			sender = log_unbracket(ws + 2);
			break;
		case 'P':
			if (ws[2] == '<') {
				*we = '\0';
				ret_path = log_unbracket(ws + 2);
			}
			break;
		case 'H':
			if (ws[2] == '[') {
				addr = ws + 2;
				addr_end = we;
			} else {
				name = ws + 2;
				name_end = we;
			}
			break;
		case 'C':
			if (ws[2] == '"' && we - ws >= 4 && we[-1] == '"') {
				conf = ws + 3;
				conf_end = we - 1;
			}
			break;
		}
	}
	if (name != NULL || addr != NULL)
		(void)ex_relay(r, name != NULL ? name : "",
		    name != NULL ? (size_t)(name_end - name) : 0,
		    addr != NULL ? addr : "",
		    addr != NULL ? (size_t)(addr_end - addr) : 0);
	if (msg != NULL) {
		while (msg < end && *msg == ' ')
			msg++;
		if (msg < end && (err = ex_reason(r, msg, end)) != BOUNCE_OK)
			return err;
	} else if (conf != NULL &&
	    (err = ex_reply(r, conf, conf_end)) != BOUNCE_OK) {
		return err;
	}
	r->ev.sender = sender != NULL ? sender : ret_path;
	if ((k = log_map_find(&r->map, id, idlen)) != LOG_NIL) {
		if (r->ev.sender == NULL)
			r->ev.sender = log_map_sender(&r->map, k);
		r->ev.message_id = log_map_msgid(&r->map, k);
	}
	return BOUNCE_OK;
}

int
log_exim_parse(bounce_log_reader *r, char *p, char *end)
{
	struct log_prefix pre;
	char *id, *q;
	size_t idlen;

	if (log_syslog_prefix(&pre, &p, end)) {
		if (str_ifind_z(pre.tag, strlen(pre.tag), "exim") == NULL)
			return BOUNCE_ENOTFOUND;
		r->ev.time = pre.time;
		r->ev.host = pre.host;
	}
	/* Exim's own time stamp, with log_timezone and millisec */
	if (ex_is_time(p, end)) {
		r->ev.time = p;
		p += sizeof("2026-11-28 01:21:11") - 1;
		if (p < end && *p == '.')
			for (p++; p < end && str_is_digit(*p); p++)
				;
		if (end - p >= 6 && p[0] == ' ' && (p[1] == '+' ||
		    p[1] == '-') && str_is_digit(p[2]) && str_is_digit(p[3]) &&
		    str_is_digit(p[4]) && str_is_digit(p[5]))
			p += 6;
		if (p >= end || *p != ' ')
			return BOUNCE_ENOTFOUND;
		*p++ = '\0';
	} else if (r->ev.time == NULL) {
		return BOUNCE_ENOTFOUND;
	}
	if (p < end && *p == '[') {	/* log_selector +pid */
		if ((q = memchr(p, ']', (size_t)(end - p))) == NULL ||
		    q + 1 >= end || q[1] != ' ')
			return BOUNCE_ENOTFOUND;
		p = q + 2;
	}
	for (q = p; q < end && *q != ' '; q++)
		;
	if (q >= end || !ex_msgid_ok(p, q))
		return BOUNCE_ENOTFOUND;
	id = p;
	idlen = (size_t)(q - p);
	*q = '\0';
	p = q + 1;
	r->ev.queue_id = id;
	if (end - p == 9 && memcmp(p, "Completed", 9) == 0) {
		log_map_remove(&r->map, id, idlen);
		return BOUNCE_ENOTFOUND;
	}
	if (LOG_STARTS(p, end, "Completed "))	/* "Completed QT=1s" */
		log_map_remove(&r->map, id, idlen);
	if (end - p < 3 || p[2] != ' ')
		return BOUNCE_ENOTFOUND;
	if (p[0] == '<' && p[1] == '=')
		return ex_arrival(r, id, idlen, p + 3, end);
	if ((p[0] == '=' || p[0] == '-') && p[1] == '>')
		r->ev.status = BOUNCE_LOG_SENT;
	else if (p[0] == '=' && p[1] == '=')
		r->ev.status = BOUNCE_LOG_DEFERRED;
	else if (p[0] == '*' && p[1] == '*')
		r->ev.status = BOUNCE_LOG_BOUNCED;
	else
		return BOUNCE_ENOTFOUND;	/* "*>" and everything else */
	return ex_delivery(r, id, idlen, p + 3, end);
}
