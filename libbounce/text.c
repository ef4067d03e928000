/*
 * text.c - the generic reader of human-readable bounces: the mechanism
 * behind most non-standard formats (qmail, Exim, old Postfix and
 * Sendmail, Courier, Gmail, Yahoo, Exchange and the rest).
 *
 * Such a bounce says, in some language and layout, "these recipients
 * failed, for this reason", then usually inlines the original message.
 * The reader:
 *   1. cuts the text where the returned original begins (a marker line,
 *      or the first header block after a blank line);
 *   2. walks the rest line by line: a line that begins with an address
 *      (bare, in <>, or after a label such as "Recipient:" or "RCPT TO:")
 *      opens a recipient; the lines after it, up to a blank line, are its
 *      diagnostic;
 *   3. without such lines, takes addresses quoted in SMTP replies
 *      ("550 5.1.1 <x>... User unknown", "RCPT TO:<x>");
 *   4. never takes the bounce's own sender or recipient, postmaster or
 *      MAILER-DAEMON.
 * Format modules (lhost_*.c) handle what this cannot.
 *
 * Limits: lines are read up to the text cut; a diagnostic keeps at most
 * DIAG_LINES lines; addresses are at most 320 bytes (RFC 5321 limits).
 */
#include <string.h>

#include "diag.h"
#include "hdr.h"
#include "pstate.h"

#define DIAG_LINES 12
#define ADDR_MAX 320

static const char *const cut_markers[] = {
	"below this line is a copy of the message",
	"this is a copy of the message, including all the headers",
	"this is a copy of the headers that were received",
	"original message follows",
	"original message headers follow",
	"----- original message -----",
	"------ original message ------",
	"--- original message ---",
	"below is a copy of the original message",
	"the header of the original message is following",
	"unsent message follows",
	"unsent message below",
	"message headers follow",
	"content-type: message/rfc822",
	"the original message was:",
	"original message header:",
	"--- the header of the original message ---",
	"------ this is a copy of your message",
	"your message reads (in part):",
	"----- the following is a copy of the original message",
	"--- the original message ---",
	"original message header follows",
	"headers of the original message",
	"the text you sent follows",
	"------- returned message --------",
	"----- message header follows -----",
	"--- message text follows:",	/* Exim 3 */
	"original message headers:",	/* Exchange 2007+, Office 365 */
	/* Exim-based MXLogic, then a rule line, then the headers */
	"included is a copy of the message header",
};

/* Start of the line holding p. */
static const char *
line_start(const char *text, const char *p)
{
	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

size_t
text_find_cut_lower(const char *lower, size_t len)
{
	const char *p, *end = lower + len, *nl, *line;
	size_t i, best = len;

	for (i = 0; i < sizeof(cut_markers) / sizeof(cut_markers[0]); i++) {
		p = str_find(lower, best, cut_markers[i],
		    strlen(cut_markers[i]));
		if (p != NULL)
			best = (size_t)(line_start(lower, p) - lower);
	}
	if (best < len)
		return best;
	/* no marker: a header block that begins after a blank line */
	for (line = lower; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			break;
		if (line > lower + 1 && line[-2] == '\n' &&
		    (str_istarts(line, (size_t)(end - line), "return-path:") ||
		    str_istarts(line, (size_t)(end - line), "received: from") ||
		    str_istarts(line, (size_t)(end - line), "received: by") ||
		    str_istarts(line, (size_t)(end - line), "message-id:") ||
		    str_istarts(line, (size_t)(end - line), "dkim-signature:")))
			return (size_t)(line - lower);
	}
	return len;
}

long
text_find(const struct pstate *st, const char *lower_word)
{
	const char *p = str_find(st->lower, st->text_cut, lower_word,
	    strlen(lower_word));

	return p != NULL ? p - st->lower : -1;
}

static int
addr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	    c == '+' || c == '=' || c == '%' || c == '\'' || c == '/' ||
	    c == '!' || c == '#' || c == '$' || c == '&' || c == '*' ||
	    c == '?' || c == '^' || c == '`' || c == '{' || c == '|' ||
	    c == '}' || c == '~' || c >= 0x80;
}

static int
domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	    c == '[' || c == ']' || c == ':' || c >= 0x80;
}

/*
 * Find the next address in [p, end): returns its start and sets *len, or
 * NULL.  The domain needs a dot (or an address literal).
 */
const char *
text_next_address(const char *p, const char *end, size_t *len)
{
	const char *at, *s, *e;

	while (p < end && (at = memchr(p, '@', (size_t)(end - p))) != NULL) {
		s = at;
		while (s > p && addr_char((unsigned char)s[-1]))
			s--;
		e = at + 1;
		while (e < end && domain_char((unsigned char)*e))
			e++;
		/* trailing dots and colons belong to the sentence */
		while (e > at + 1 && (e[-1] == '.' || e[-1] == ':' ||
		    e[-1] == '-'))
			e--;
		while (s < at && (*s == '.' || *s == '\'' || *s == '/' ||
		    *s == '|' || *s == '{' || *s == '`' || *s == '=' ||
		    *s == '?' || *s == '!'))
			s++;
		if (s < at && e > at + 1 && (size_t)(e - s) <= ADDR_MAX &&
		    (memchr(at + 1, '.', (size_t)(e - at - 1)) != NULL ||
		    at[1] == '[')) {
			*len = (size_t)(e - s);
			return s;
		}
		p = at + 1;
	}
	return NULL;
}

/* 1 when [a, a + an) and [b, b + bn) are the same address, ignoring
 * case (neither need end in a NUL). */
static int
same_address(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && str_ifind(a, an, b, bn) == a;
}

/* 1 when field (a header value; NULL is none) holds the address [a,
 * a + n) whole, not as a part of another. */
static int
names_address(const char *field, const char *a, size_t n)
{
	const char *hit;
	size_t fl;

	if (field == NULL)
		return 0;
	fl = strlen(field);
	hit = str_ifind(field, fl, a, n);
	return hit != NULL && (hit == field ||
	    !addr_char((unsigned char)hit[-1])) && (hit + n == field + fl ||
	    !domain_char((unsigned char)hit[n]));
}

/* Addresses a bounce names that are never the failed recipient. */
static int
excluded(const struct pstate *st, const char *a, size_t n)
{
	static const char *const roles[] = {
		"postmaster@", "mailer-daemon@", "mailer_daemon@",
		"mail-daemon@", "maildaemon@", "noreply-dmarc", "abuse@",
	};
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (str_istarts(a, n, roles[i]))
			return 1;
	return names_address(st->from, a, n) || names_address(st->to, a, n);
}

/* Labels that may stand before a recipient address at a line's start. */
static const char *const lead_labels[] = {
	"rcpt to:", "recipient:", "recipients:", "to:", "addressee:",
	"original-recipient:", "final-recipient:", "failed recipient:",
	"rfc822;", "address:", "e-mail address:", "email address:",
	"failed address:", "invalid recipient:", "unknown recipient:",
	"recipient address:", "destinataire:", "empf\xc3\xa4nger:",
	"delivery to:", "could not be delivered to:", "mailbox:",
	"user:", "for", "to",
	"delivery failed:",
};

/*
 * A label of a few words that ends in "address:" or "recipient:"
 * ("Target mail address:", "Intended recipient:"): skip it.
 */
static const char *
skip_address_label(const char *p, const char *eol)
{
	const char *q, *colon = NULL;

	for (q = p; q < eol && q - p <= 40; q++) {
		if (*q == ':') {
			colon = q;
			break;
		}
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		    *q == ' ' || *q == '-'))
			return p;
	}
	if (colon == NULL || colon - p < 7)
		return p;
	if (str_istarts(colon - 7, 7, "address") ||
	    (colon - p >= 9 && str_istarts(colon - 9, 9, "recipient")))
		return colon + 1;
	return p;
}

/*
 * If the line (trimmed) begins with an address, possibly after a label
 * or '<' or a quote, return the address and its length.
 */
static const char *
lead_address(const char *line, const char *eol, size_t *len)
{
	const char *p = line, *a;
	size_t i, ll;

	while (p < eol && (*p == ' ' || *p == '\t' || *p == '>' ||
	    *p == '*' || *p == '-'))
		p++;
	for (i = 0; i < sizeof(lead_labels) / sizeof(lead_labels[0]); i++) {
		ll = strlen(lead_labels[i]);
		if (str_istarts(p, (size_t)(eol - p), lead_labels[i]) &&
		    p + ll < eol && (lead_labels[i][ll - 1] == ':' ||
		    lead_labels[i][ll - 1] == ';' || p[ll] == ' ')) {
			p += ll;
			break;
		}
	}
	if (i == sizeof(lead_labels) / sizeof(lead_labels[0]))
		p = skip_address_label(p, eol);
	while (p < eol && (*p == ' ' || *p == '\t' || *p == '<' ||
	    *p == '"' || *p == '\'' || *p == '('))
		p++;
	a = text_next_address(p, eol, len);
	return a == p ? a : NULL;
}

/* 1 when [p, eol) holds nothing but one address in <>, after the '>' or
 * ':' that closes the address before it. */
static int
only_address(const char *p, const char *eol)
{
	const char *a;
	size_t alen;

	while (p < eol && (*p == '>' || *p == ':' || *p == ' ' || *p == '\t'))
		p++;
	while (eol > p && str_is_space(eol[-1]))
		eol--;
	if (eol - p < 3 || *p != '<' || eol[-1] != '>')
		return 0;
	a = text_next_address(p + 1, eol, &alen);
	return a == p + 1 && a + alen == eol - 1;
}

/* A heading rule such as "----- Transcript of session follows -----" or
 * "=====": it says what follows, it is no diagnostic. */
static int
separator(const char *line, const char *eol)
{
	while (line < eol && str_is_space(*line))
		line++;
	while (eol > line && str_is_space(eol[-1]))
		eol--;
	return eol - line >= 3 && ((line[0] == '-' && line[1] == '-' &&
	    line[2] == '-' && eol[-1] == '-') || (line[0] == '=' &&
	    line[1] == '=' && line[2] == '=' && eol[-1] == '='));
}

struct block {
	const char *addr;
	size_t addr_len;
	const char *diag;	/* first line of the diagnostic */
	const char *diag_end;
	int lines;
	int blank_seen;
};

static void
block_commit(struct pstate *st, struct block *b)
{
	bounce_recipient *rc;
	const char *d;
	size_t n;

	if (b->addr == NULL)
		return;
	rc = report_add(st->r, b->addr, b->addr_len, 1);
	if (rc != NULL) {
		if (rc->source == NULL)
			rc->source = "text";
		if (rc->diagnostic == NULL && b->diag != NULL &&
		    b->diag_end > b->diag) {
			d = b->diag;
			n = (size_t)(b->diag_end - b->diag);
			/* "<addr>: reason", "addr... reason" */
			while (n > 0 && (*d == ':' || *d == '.' || *d == '>' ||
			    *d == ' ' || *d == '\t' || *d == ',' ||
			    *d == '\r' || *d == '\n' || *d == '"' ||
			    *d == ')' || *d == ';')) {
				d++;
				n--;
			}
			if (n > 0)
				rc->diagnostic = report_str(st->r, d, n);
		}
	}
	memset(b, 0, sizeof(*b));
}

/* Pass 1: recipients at the start of lines, with their diagnostics. */
static int
read_lead_lines(struct pstate *st, const char *text, size_t len)
{
	const char *line, *eol, *end = text + len, *a;
	struct block b;
	size_t alen;
	int found = 0;

	memset(&b, 0, sizeof(b));
	for (line = text; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if (str_blank(line, eol)) {
			if (b.addr != NULL && b.diag != NULL)
				block_commit(st, &b);
			else if (b.addr != NULL && b.blank_seen++ > 1)
				block_commit(st, &b);
			if (eol == end)
				break;
			continue;
		}
		if ((a = lead_address(line, eol, &alen)) != NULL &&
		    !excluded(st, a, alen) && !(b.addr != NULL &&
		    (*line == ' ' || *line == '\t') &&
		    same_address(a, alen, b.addr, b.addr_len))) {
			/* (an indented line that names the block's address
			 * again continues it: Postfix folds "said: 550 5.1.1
			 * <x>: Recipient address rejected" so) */
			block_commit(st, &b);
			b.addr = a;
			b.addr_len = alen;
			if (a + alen < eol) {
				b.diag = a + alen;
				b.diag_end = eol;
				b.lines = 1;
				/* just a closing '>' or ':', or the address
				 * again: "addr <addr>" */
				if (eol - b.diag <= 2 ||
				    only_address(b.diag, eol))
					b.diag = NULL;
			}
			found++;
		} else if (b.addr != NULL && b.lines < DIAG_LINES &&
		    !separator(line, eol)) {
			if (b.diag == NULL)
				b.diag = line;
			b.diag_end = eol;
			b.lines++;
		}
		if (eol == end)
			break;
	}
	block_commit(st, &b);
	return found;
}

/* Pass 2: addresses inside quoted SMTP replies. */
static int
read_reply_addresses(struct pstate *st, const char *text, size_t len)
{
	const char *line, *eol, *end = text + len, *a;
	bounce_recipient *rc;
	struct diag d;
	size_t alen;
	int found = 0;

	for (line = text; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		diag_reply(&d, line, (size_t)(eol - line));
		if (d.code >= 400 || d.enhanced[0] == '4' ||
		    d.enhanced[0] == '5' ||
		    str_ifind_z(line, (size_t)(eol - line), "RCPT TO") !=
		    NULL) {
			const char *p = line;

			while ((a = text_next_address(p, eol, &alen)) != NULL) {
				p = a + alen;
				if (excluded(st, a, alen))
					continue;
				rc = report_add(st->r, a, alen, 1);
				if (rc == NULL)
					continue;
				if (rc->source == NULL)
					rc->source = "text";
				if (rc->diagnostic == NULL)
					rc->diagnostic = report_str(st->r,
					    line, (size_t)(eol - line));
				found++;
			}
		}
		if (eol == end)
			break;
	}
	return found;
}

/*
 * Pass 3: an address in angle brackets anywhere in a line ("User's
 * mailbox is full: <x>", "There was an error delivering your mail to
 * <x>."); the line's paragraph is its diagnostic.
 */
static int message_id_at(const struct pstate *st, const char *a, size_t n);

static int
read_angle_addresses(struct pstate *st, const char *text, size_t len)
{
	const char *line, *eol, *end = text + len, *a, *p, *para_end, *q;
	bounce_recipient *rc;
	size_t alen;
	int found = 0, lines;

	for (line = text; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		for (p = line; (a = text_next_address(p, eol, &alen)) != NULL;
		    p = a + alen) {
			if (a == line || a[-1] != '<' || a + alen >= eol ||
			    a[alen] != '>' || excluded(st, a, alen) ||
			    message_id_at(st, a, alen))
				continue;
			rc = report_add(st->r, a, alen, 1);
			if (rc == NULL)
				continue;
			if (rc->source == NULL)
				rc->source = "text";
			/* the paragraph: up to a blank line */
			for (para_end = eol, lines = 0; para_end < end &&
			    lines < DIAG_LINES; lines++) {
				q = para_end + 1;
				while (q < end && *q != '\n' &&
				    str_is_space(*q))
					q++;
				if (q >= end || *q == '\n')
					break;
				q = memchr(para_end + 1, '\n',
				    (size_t)(end - para_end - 1));
				para_end = q != NULL ? q : end;
			}
			if (rc->diagnostic == NULL)
				rc->diagnostic = report_str(st->r, line,
				    (size_t)(para_end - line));
			found++;
		}
		if (eol == end)
			break;
	}
	return found;
}

/* The failure text proper: from the first line that is not the bounce's
 * greeting, up to the cut. */
int
text_read(struct pstate *st)
{
	int found;

	if (st->text_len == 0)
		return 0;
	found = read_lead_lines(st, st->text, st->text_cut);
	if (found == 0)
		found = read_reply_addresses(st, st->text, st->text_cut);
	if (found == 0)
		found = read_angle_addresses(st, st->text, st->text_cut);
	return found > 0;
}

/*
 * The end of what the text says about the recipient whose address ends
 * at start: the rest of the line and the lines up to a blank one or to
 * the next recipient's line (Exim, mail.ru list them without blank lines
 * between), at most DIAG_LINES lines.
 */
static const char *
paragraph_end(const struct pstate *st, const char *start, const char *addr,
    size_t alen)
{
	const char *eol, *end = st->text + st->text_cut;
	int lines;

	for (eol = start, lines = 0; eol < end && lines < DIAG_LINES;
	    lines++) {
		const char *nl = memchr(eol, '\n', (size_t)(end - eol));
		const char *a;
		size_t al;

		if (nl == NULL)
			nl = end;
		if (lines > 0 && str_blank(eol, nl))
			break;
		if (lines > 0 && (a = lead_address(eol, nl, &al)) != NULL &&
		    !same_address(a, al, addr, alen))
			break;
		eol = nl < end ? nl + 1 : nl;
	}
	return eol;
}

/*
 * The paragraph just before the line at ls, when it introduces a list of
 * recipients ("Unable to deliver message to the following recipients,
 * due to being unable to connect successfully to the destination mail
 * server.", Hotmail): its start, and its end in *pend; else NULL.
 */
static const char *
intro_paragraph(const struct pstate *st, const char *ls, const char **pend)
{
	const char *p = ls, *e, *s;
	int lines = 0;

	while (p > st->text && str_is_space(p[-1]))
		p--;
	e = p;
	while (p > st->text && lines < DIAG_LINES) {
		s = line_start(st->text, p - 1);
		if (s == p - 1 || (p - s <= 2 && str_is_space(*s)))
			break;	/* a blank line */
		p = s;
		lines++;
	}
	/* not a bare heading: "----- The following addresses had
	 * permanent fatal errors -----", "... failed permanently:" */
	if (e <= p || *p == '-' || e[-1] == ':' || e[-1] == '-' ||
	    str_find(st->lower + (p - st->text), (size_t)(e - p),
	    "following", 9) == NULL)
		return NULL;
	*pend = e;
	return p;
}

/* A diagnostic that says nothing: absent, empty, or no letter at all
 * (Sendmail's "X-Unix; 77" exit codes). */
static int
diag_weak(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s != '\0'; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			return 0;
	return 1;
}

/* 1 when the address at p is the value of a delivery-status field
 * ("X-Actual-Recipient: rfc822; x"): no diagnostic follows it there. */
static int
in_dsn_field(const char *text, const char *p)
{
	const char *ls = line_start(text, p);

	return str_ifind_z(ls, (size_t)(p - ls), "recipient:") != NULL;
}

/* 1 when the line of p starts (after blanks) with one of labels, before
 * p. */
static int
line_label_in(const char *text, const char *p, const char *const *labels,
    size_t n)
{
	const char *ls = line_start(text, p);
	size_t i;

	while (ls < p && (*ls == ' ' || *ls == '\t'))
		ls++;
	for (i = 0; i < n; i++)
		if (str_istarts(ls, (size_t)(p - ls), labels[i]))
			return 1;
	return 0;
}

/*
 * 1 when the address at p is the value of a header field the notice
 * quotes ("To: addr" in "This report relates to a message you sent with
 * the following header fields:"): that says nothing of the failure.
 */
static int
in_quoted_header(const char *text, const char *p)
{
	static const char *const fields[] = {
		"to:", "cc:", "bcc:", "from:", "reply-to:", "sender:",
		"delivered-to:", "x-original-to:", "envelope-to:",
	};

	return line_label_in(text, p, fields,
	    sizeof(fields) / sizeof(fields[0]));
}

/* 1 when the address at p is on a header line that names a sender or a
 * message, never a failed recipient ("Return-Path:", "Message-ID:",
 * "List-Post:", "X-...:"), or in a quoted To/From (in_quoted_header). */
static int
on_header_line(const char *text, const char *p)
{
	static const char *const fields[] = {
		"return-path:", "message-id:", "in-reply-to:", "references:",
		"errors-to:", "list-", "resent-", "x-", "dkim-signature:",
		"received:", "arc-", "authentication-results:", "mail from:",
		"envelope-from:", "smtp.mailfrom=",
	};

	return in_quoted_header(text, p) || line_label_in(text, p, fields,
	    sizeof(fields) / sizeof(fields[0]));
}

/*
 * 1 when the address at a is a message id, not a mailbox: the returned
 * message's Message-ID, or an <id> right after the word "message" or a
 * "Message-ID:" label ("Your message <2026...@lists.example.org> could
 * not be delivered to ...").
 */
static int
message_id_at(const struct pstate *st, const char *a, size_t n)
{
	const char *msgid = st->r->fields[BOUNCE_FIELD_MESSAGE_ID];
	const char *ls = line_start(st->text, a), *w;

	if (names_address(msgid, a, n))
		return 1;
	w = a - (a > ls && a[-1] == '<');
	while (w > ls && w[-1] == ' ')
		w--;
	return (w - ls >= 7 && str_istarts(w - 7, 7, "message")) ||
	    (w - ls >= 3 && str_istarts(w - 3, 3, "id:")) ||
	    (w - ls >= 2 && str_istarts(w - 2, 2, "id"));
}

/*
 * The last reader for a bounce no other could take apart ("Failure:
 * bob@example.net", "Could not deliver to bob@example.net"): when the
 * failure text names exactly one address that is not the bounce's own
 * sender or recipient, a role address (excluded()), on a header line, the
 * returned message's id or its sender, that address failed.  Two
 * candidates are ambiguous and give none.  Returns 1 when it added one.
 */
int
text_sole_address(struct pstate *st)
{
	const char *p = st->text, *end = st->text + st->text_cut, *a;
	const char *one = NULL, *ofrom;
	bounce_recipient *rc;
	size_t n, onelen = 0;

	ofrom = st->r->fields[BOUNCE_FIELD_ORIGINAL_FROM];
	while ((a = text_next_address(p, end, &n)) != NULL) {
		p = a + n;
		if (excluded(st, a, n) || on_header_line(st->text, a) ||
		    message_id_at(st, a, n) || names_address(ofrom, a, n))
			continue;
		if (one != NULL && same_address(a, n, one, onelen))
			continue;
		if (one != NULL)
			return 0;
		one = a;
		onelen = n;
	}
	if (one == NULL || (rc = report_add(st->r, one, onelen, 1)) == NULL)
		return 0;
	rc->source = "text";
	return 1;
}

/* 1 when the line [p, eol) begins with an address ("x@y:", "<x@y>"). */
static int
starts_with_address(const char *p, const char *eol)
{
	const char *q;

	while (p < eol && (*p == ' ' || *p == '\t' || *p == '<'))
		p++;
	for (q = p; q < eol && addr_char((unsigned char)*q); q++)
		;
	return q > p && q < eol && *q == '@';
}

/* 1 when the rest of the line at p has a letter or a digit. */
static int
words_after(const char *p, const char *end)
{
	for (; p < end && *p != '\n'; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    str_is_digit(*p))
			return 1;
	return 0;
}

/*
 * The lines about the address at p: the rest of its line and the lines
 * after it up to a blank one (DIAG_LINES at most), from the line's start
 * when a reply code leads it ("550 5.1.1 <x>... User unknown").  Sets
 * *len; returns NULL when there is nothing but punctuation.
 */
static const char *
lines_about(const struct pstate *st, const char *p, size_t alen,
    size_t *len)
{
	const char *end = st->text + st->text_cut, *start = p + alen, *eol;
	const char *ls = line_start(st->text, p);
	struct diag d;
	int lines;

	const char *a;
	size_t al;

	if (p - ls <= 24 && p > ls) {
		diag_reply(&d, ls, (size_t)(p - ls));
		if (d.code >= 200)
			start = ls;
	}
	/* inside a sentence that goes on after the address ("Your message
	 * wasn't delivered to x because ...", "after RCPT TO:<x>: 550 ..."):
	 * the sentence from the line's start */
	if (p > ls && (a = lead_address(ls, p + alen, &al)) != p &&
	    words_after(p + alen, end))
		start = ls;
	for (eol = p + alen, lines = 0; eol < end && lines < DIAG_LINES;
	    lines++) {
		const char *nl = memchr(eol, '\n', (size_t)(end - eol));

		if (nl == NULL)
			nl = end;
		if (lines > 0 && str_blank(eol, nl))
			break;
		/* the next recipient's line ("bob@example.org: 550 ...",
		 * "Recipient: bob@example.org") */
		if (lines > 0 && (starts_with_address(eol, nl) ||
		    ((a = lead_address(eol, nl, &al)) != NULL &&
		    !same_address(a, al, p, alen))))
			break;
		eol = nl < end ? nl + 1 : nl;
	}
	while (start < eol && (*start == '>' || *start == ':' ||
	    *start == '.' || *start == ')' || str_is_space(*start)))
		start++;
	if (eol <= start)
		return NULL;
	*len = (size_t)(eol - start);
	return start;
}

/* 1 when [p, eol) holds only white space. */
static int
blank_line(const char *p, const char *eol)
{
	for (; p < eol; p++)
		if (!str_is_space(*p))
			return 0;
	return 1;
}

/*
 * The paragraph around the address at p (DIAG_LINES lines either side
 * at most), or NULL when it holds little more than the address.
 */
static const char *
paragraph_of(const struct pstate *st, const char *p, size_t alen,
    size_t *len)
{
	const char *end = st->text + st->text_cut, *start, *prev, *e, *nl;
	int lines;

	start = line_start(st->text, p);
	for (lines = 0; start > st->text && lines < DIAG_LINES; lines++) {
		prev = line_start(st->text, start - 1);
		while (prev < start - 1 && (*prev == ' ' || *prev == '\t'))
			prev++;
		/* a blank line or a "----- heading -----" ends it */
		if (blank_line(prev, start - 1) || *prev == '-' ||
		    *prev == '=' || *prev == '*')
			break;
		prev = line_start(st->text, start - 1);
		start = prev;
	}
	e = memchr(p, '\n', (size_t)(end - p));
	e = e != NULL ? e : end;
	for (lines = 0; e < end && lines < DIAG_LINES; lines++) {
		nl = memchr(e + 1, '\n', (size_t)(end - e - 1));
		nl = nl != NULL ? nl : end;
		if (blank_line(e + 1, nl))
			break;
		e = nl;
	}
	if ((size_t)(e - start) <= alen + 8)
		return NULL;
	*len = (size_t)(e - start);
	return start;
}

/* The first line of the failure text that quotes a 4xx or 5xx reply,
 * from the reply on; NULL when none does. */
static const char *
first_reply(const struct pstate *st, size_t *len)
{
	const char *p, *eol, *end = st->text + st->text_cut;
	struct diag d;

	for (p = st->text; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		diag_reply(&d, p, (size_t)(eol - p));
		if (d.code >= 400 && d.code < 600) {
			*len = (size_t)(eol - d.reply);
			return d.reply;
		}
		if (eol == end)
			break;
	}
	return NULL;
}

/*
 * A recipient with no diagnostic of its own (a DSN without
 * Diagnostic-Code, X-Failed-Recipients alone) or a weak one (an exit
 * code): the lines about it in the text, those with a reply code first,
 * or else the text's first quoted reply.
 */
void
text_fill_diagnostic(struct pstate *st, bounce_recipient *rc)
{
	const char *p, *eol, *q, *end = st->text + st->text_cut;
	const char *best = NULL, *plain = NULL, *first = NULL;
	size_t alen = strlen(rc->address), n, best_len = 0, plain_len = 0;
	struct diag d;
	int seen;

	if (st->text_cut == 0)
		return;
	if (!diag_weak(rc->diagnostic)) {
		/* words the text reader found by the address, without a
		 * code, when the notice quotes the server's reply further
		 * down ("The error that the other server returned was:" a
		 * paragraph below, MDaemon's "--> Error: 554 ..." under the
		 * returned headers) */
		if (rc->source == NULL || strcmp(rc->source, "text") != 0 ||
		    st->r->nrcpt != 1)
			return;
		diag_reply(&d, rc->diagnostic, strlen(rc->diagnostic));
		if (d.code == 0 && d.enhanced[0] == '\0' &&
		    (q = first_reply(st, &n)) != NULL)
			rc->diagnostic = report_str(st->r, q, n);
		return;
	}
	for (p = st->text, seen = 0; p < end && seen < 16; seen++) {
		if ((p = str_ifind(p, (size_t)(end - p), rc->address,
		    alen)) == NULL)
			break;
		if (in_dsn_field(st->text, p) ||
		    in_quoted_header(st->text, p)) {
			p += alen;
			continue;
		}
		if (first == NULL)
			first = p;
		if ((q = lines_about(st, p, alen, &n)) != NULL) {
			diag_reply(&d, q, n);
			if (d.code >= 400 && d.code < 600) {
				best = q;
				best_len = n;
				break;
			}
			if (plain == NULL && (d.enhanced[0] != '\0' || n > 8)) {
				plain = q;
				plain_len = n;
			}
		}
		p += alen;
	}
	/* the first quoted reply anywhere in the failure text, when the
	 * text is about this recipient alone: better than words without a
	 * code near the address */
	if (best == NULL && st->r->nrcpt == 1)
		best = first_reply(st, &best_len);
	if (best == NULL && plain != NULL) {
		best = plain;
		best_len = plain_len;
	}
	/* nothing after the address: its paragraph ("reject reason: Mailbox
	 * full" above "target mail address: x") */
	if (best == NULL && first != NULL)
		best = paragraph_of(st, first, alen, &best_len);
	/* the sentence that introduced the list the address is in */
	if (best == NULL && first != NULL && (p = intro_paragraph(st,
	    line_start(st->text, first), &eol)) != NULL) {
		best = p;
		best_len = (size_t)(eol - p);
	}
	if (best != NULL)
		rc->diagnostic = report_str(st->r, best, best_len);
}

int
text_specific_status(const struct pstate *st, const char *addr, char *out,
    size_t outlen, int *code)
{
	const char *p, *eol, *ls, *a, *end = st->text + st->text_cut;
	size_t alen = strlen(addr), al;
	int i;

	*code = 0;
	p = str_ifind(st->text, st->text_cut, addr, alen);
	for (i = 0; p != NULL && i < 8; i++) {
		eol = memchr(p, '\n', (size_t)(end - p));
		ls = line_start(st->text, p);
		if ((a = lead_address(ls, eol != NULL ? eol : end, &al)) ==
		    p) {
			eol = paragraph_end(st, p + alen, addr, alen);
			if (diag_specific_status(out, outlen, code, p + alen,
			    (size_t)(eol - p - alen)) >= 0)
				return 1;
		}
		p = str_ifind(p + alen, (size_t)(end - p - alen), addr, alen);
	}
	return 0;
}

bounce_phase
text_phase_near(const struct pstate *st, const char *addr)
{
	const char *p, *end = st->text + st->text_cut, *q;
	size_t alen = strlen(addr);
	int lines = 0;

	p = str_ifind(st->text, st->text_cut, addr, alen);
	if (p == NULL)
		return BOUNCE_PHASE_NONE;
	/* the recipient's paragraph: up to a blank line */
	for (q = p; q < end && lines < DIAG_LINES; q++) {
		if (*q != '\n')
			continue;
		lines++;
		if (q + 1 < end && (q[1] == '\n' || (q[1] == '\r' &&
		    q + 2 < end && q[2] == '\n')))
			break;
	}
	return diag_phase(p, (size_t)(q - p));
}

static const char *const bounce_subjects[] = {
	"undeliver", "returned mail", "delivery status notification",
	"failure notice", "mail delivery failed", "delivery failure",
	"undelivered mail", "delivery failed", "non remis",
	"unzustellbar", "could not send message", "mail system error",
	"delivery notification", "returned to sender", "nondeliverable",
	"non-deliverable", "delivery has failed", "message not delivered",
	"delivery problem", "rejected", "mail delivery system",
	"unable to deliver", "not delivered", "bounce",
	"delivery report", "error sending", "warning: could not",
	"message delivery", "delivery incomplete", "returned message",
};

int
text_looks_like_bounce(const struct pstate *st)
{
	static const char *const senders[] = {
		"mailer-daemon", "postmaster", "mail delivery",
		"mail-daemon", "maildaemon", "mail administrator",
		"mailer_daemon", "delivery subsystem",
	};
	size_t i, n;

	n = strlen(st->from);
	for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		if (str_ifind_z(st->from, n, senders[i]) != NULL)
			return 1;
	n = strlen(st->subject);
	for (i = 0; i < sizeof(bounce_subjects) / sizeof(bounce_subjects[0]);
	    i++)
		if (str_ifind_z(st->subject, n, bounce_subjects[i]) != NULL)
			return 1;
	return 0;
}
