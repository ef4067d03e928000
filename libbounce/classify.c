/*
 * classify.c - decide the category and reason of one SMTP result by the
 * rules table (rules.c, rules.h).
 *
 * One classification:
 *   1. works out what the rules look at: the phase, the reply code as
 *      three characters, the reply class (from the code, else from the
 *      enhanced code, else none), the enhanced code (when the caller gave
 *      none, the first one in the text, RFC 3463 via bounce_esc_find()),
 *      the DSN action;
 *   2. prepares the text in one pass: ASCII lower case, every run of white
 *      space one space, and the reply codes of continuation lines that an
 *      MTA left inside a flattened multi-line reply ("... does not exist.
 *      Please try 550-5.1.1 double-checking ...") taken out, so phrases
 *      match across them, and mail addresses and host names other than
 *      blocklists' masked (token_masked());
 *   3. reads the prepared text and the remote MTA name once each through
 *      the Aho-Corasick matcher of all the phrases of all the rules; each
 *      phrase found marks the conditions that contain it (a generation
 *      number per condition, so nothing is cleared between calls);
 *   4. tries the rules in order, the phase and class masks first, then the
 *      code, action, status, mta and text conditions, and stops at the
 *      first rule whose conditions all hold.
 * So the cost is one pass over the text plus a few comparisons per rule,
 * and does not grow with the number of phrases.
 *
 * When no rule holds (the built-in 90-codes.rules has fallbacks for every
 * reply class, so only an operator who disabled them gets here) the reply
 * class decides, with the rule named fallback.5xx, fallback.4xx,
 * fallback.2xx or fallback.none.
 *
 * Limits: the text and the MTA name are read up to the context's
 * max_field_bytes.  Not thread-safe: the phrase marks live in the context.
 */
#include <string.h>

#include "rules.h"

struct input {
	unsigned int phase_bit;
	unsigned int class_bit;
	char code[4];		/* "550", "000" when none */
	char status[16];	/* "5.7.1", "" when none */
	int st_class, st_subject;
	unsigned int st_detail;
	char action[16];	/* lower case, first word, "" when none */
	const uint32_t *cond_seen;
	uint32_t generation;
};

struct mark {
	const uint32_t *at, *map;
	uint32_t *cond_seen;
	uint32_t generation;
};

/* A phrase was found: mark the conditions that contain it. */
static void
mark_seen(void *arg, unsigned int id)
{
	struct mark *m = arg;
	uint32_t k;

	for (k = m->at[id]; k < m->at[id + 1]; k++)
		m->cond_seen[m->map[k]] = m->generation;
}

/*
 * Length of a reply-code prefix at p ("550-", "550-5.7.1 ", "550 5.7.1 "),
 * or 0.  A bare "550 " is left alone: it may be part of the text.
 */
static size_t
reply_prefix(const char *p, size_t n)
{
	char esc[16];
	long at;
	size_t k;

	if (n < 4 || (p[0] != '2' && p[0] != '4' && p[0] != '5') ||
	    !str_is_digit(p[1]) || !str_is_digit(p[2]) ||
	    (p[3] != '-' && p[3] != ' '))
		return 0;
	k = 4;
	if ((at = bounce_esc_find(esc, sizeof(esc), p + 4,
	    n - 4 < 12 ? n - 4 : 12)) == 0) {
		k += strlen(esc);
		if (k < n && !str_is_space(p[k]))
			return 0;
	} else if (p[3] == ' ') {
		return 0;
	}
	return k;
}

/* Characters that end a mail address or host name in running text. */
static int
token_delim(int c)
{
	return str_is_space(c) || c == '<' || c == '>' || c == '(' ||
	    c == ')' || c == '[' || c == ']' || c == '"' || c == '\'' ||
	    c == ',' || c == ';' || c == '\0';
}

/*
 * Host names that name a reason, not a party: blocklists and reputation
 * services ("blocked using zen.spamhaus.org", "listed in
 * b.barracudacentral.org").  Lower case.
 */
static const char *const host_keep[] = {
	"spamhaus", "spamcop", "barracuda", "sorbs", "abuseat", "uceprotect",
	"mailspike", "manitu", "surriel", "gbudb", "junkemailfilter",
	"spamrats", "backscatterer", "lashback", "senderscore", "invaluement",
	"nordspam", "0spam", "dnsbl", "rbl", "surbl", "uribl", "blocklist.de",
	"cloudmark", "trendmicro", "mail-abuse", "proofpoint",
	"dronebl", "spameatingmonkey", "hostkarma", "s5h.net", "dnswl",
};

static int
host_kept(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(host_keep) / sizeof(host_keep[0]); i++)
		if (str_ifind_z(p, n, host_keep[i]) != NULL)
			return 1;
	return 0;
}

/* [p, p + n) is a host name: labels of letters, digits and '-', a dot
 * between them, the last label 2 to 7 letters (a top-level domain, not
 * "RESOLVER.ADR.RecipNotFound"). */
static int
host_like(const char *p, size_t n)
{
	size_t i, dots = 0, last = 0;

	if (n < 4 || p[0] == '.' || p[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (i + 1 == n || p[i + 1] == '.')
				return 0;
			dots++;
			last = i + 1;
		} else if (!str_is_digit(p[i]) && p[i] != '-' &&
		    !(str_lc(p[i]) >= 'a' && str_lc(p[i]) <= 'z')) {
			return 0;
		}
	}
	if (dots == 0 || n - last < 2 || n - last > 7)
		return 0;
	for (i = last; i < n; i++)
		if (!(str_lc(p[i]) >= 'a' && str_lc(p[i]) <= 'z'))
			return 0;
	return 1;
}

/*
 * What the rules must not read: names that belong to the parties of this
 * message, not to the reason it failed.  At p (a token start) returns how
 * many bytes to mask and sets *mask when the token is
 *   - a mail address, "bob@example.net": a recipient "nospam@..." or a
 *     list's "newsletter-bounces@..." says nothing about spam;
 *   - a host name, "mx.spamexperts.com" (a filtering service's MX is no
 *     spam verdict), unless it names a blocklist (host_keep: "blocked
 *     using zen.spamhaus.org" says why);
 * and 0 otherwise.  Host names inside URLs stay ("https://...").
 */
static size_t
token_masked(const char *p, size_t n, const char **mask)
{
	size_t k, h, at = 0;

	for (k = 0; k < n && !token_delim(p[k]); k++)
		if (p[k] == '@' && at == 0)
			at = k + 1;
	if (at > 1 && at < k && memchr(p + at, '.', k - at) != NULL) {
		*mask = "a@a";
		return k;
	}
	/* a host name may end a sentence or precede a colon: "... talking
	 * to mx.example.net.:", "Name server: ns.example.net: no data" */
	for (h = k; h > 0 && (p[h - 1] == '.' || p[h - 1] == ':'); h--)
		;
	if (at != 0 || !host_like(p, h) || host_kept(p, h))
		return 0;
	*mask = "x.x";
	return h;
}

/* Prepare text[0..len) into out (size > len); returns the new length. */
static size_t
text_prepare(char *out, const char *text, size_t len)
{
	size_t i = 0, o = 0, k;
	int start = 1, tok = 1;
	const char *mask;

	while (i < len) {
		if (str_is_space(text[i])) {
			if (!start)
				out[o++] = ' ';
			start = tok = 1;
			i++;
			continue;
		}
		if (start && (k = reply_prefix(text + i, len - i)) > 0) {
			i += k;
			continue;
		}
		start = 0;
		/* a mask is never longer than what it replaces, so out
		 * stays within len */
		if (tok && (k = token_masked(text + i, len - i, &mask)) > 0 &&
		    strlen(mask) <= k) {
			memcpy(out + o, mask, strlen(mask));
			o += strlen(mask);
			i += k;
			tok = 0;
			continue;
		}
		tok = token_delim(text[i]) || text[i] == ':';
		out[o++] = (char)str_lc(text[i++]);
	}
	if (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

/* Glob with * and ? over a NUL-terminated string. */
static int
glob_match(const char *g, const char *s)
{
	const char *star = NULL, *back = NULL;

	while (*s != '\0') {
		if (*g == '*') {
			star = ++g;
			back = s;
		} else if (*g == '?' || *g == *s) {
			g++;
			s++;
		} else if (star != NULL) {
			g = star;
			s = ++back;
		} else {
			return 0;
		}
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

static int
status_match(const struct status_alt *a, const struct input *in)
{
	if (a->glob != NULL) {
		if (a->glob[0] == '\0')
			return in->status[0] == '\0';
		return in->status[0] != '\0' && glob_match(a->glob, in->status);
	}
	return in->status[0] != '\0' && a->cls == in->st_class &&
	    a->subject == in->st_subject && in->st_detail >= a->lo &&
	    in->st_detail <= a->hi;
}

static int
code_match(const char *alt, const char *code)
{
	return (alt[0] == 'x' || alt[0] == code[0]) &&
	    (alt[1] == 'x' || alt[1] == code[1]) &&
	    (alt[2] == 'x' || alt[2] == code[2]);
}

/* 1 when at least one alternative of c holds (negation aside). */
static int
cond_any(const struct cond *c, const struct input *in)
{
	unsigned int i;

	switch (c->key) {
	case COND_CODE:
		for (i = 0; i < c->nalt; i++)
			if (code_match(c->alt.code[i], in->code))
				return 1;
		return 0;
	case COND_ACTION:
		for (i = 0; i < c->nalt; i++)
			if (strcmp(c->alt.action[i], in->action) == 0)
				return 1;
		return 0;
	case COND_STATUS:
		for (i = 0; i < c->nalt; i++)
			if (status_match(&c->alt.status[i], in))
				return 1;
		return 0;
	case COND_MTA:
	case COND_TEXT:
		return in->cond_seen[c->cid] == in->generation;
	}
	return 0;
}

static int
rule_holds(const struct rule *r, const struct input *in)
{
	unsigned int i;

	if ((r->phase_mask & in->phase_bit) == 0 ||
	    (r->class_mask & in->class_bit) == 0)
		return 0;
	for (i = 0; i < r->ncond; i++)
		if (cond_any(&r->cond[i], in) == r->cond[i].negated)
			return 0;
	return 1;
}

/* Split "5.7.606" for the range conditions. */
static void
input_status(struct input *in)
{
	const char *p = in->status;
	unsigned int v = 0;

	in->st_class = -1;
	in->st_subject = -1;
	in->st_detail = 0;
	if (p[0] == '\0' || p[1] != '.' || p[2] == '\0' || p[3] != '.')
		return;
	in->st_class = p[0] - '0';
	in->st_subject = p[2] - '0';
	for (p += 4; str_is_digit(*p); p++)
		v = v * 10 + (unsigned int)(*p - '0');
	in->st_detail = v;
}

static void
input_fill(struct input *in, const bounce_smtp_result *res, size_t maxlen)
{
	const char *a;
	size_t i;

	in->phase_bit = (unsigned int)res->phase <= BOUNCE_PHASE_EOD ?
	    PHASE_BIT(res->phase) : PHASE_BIT(BOUNCE_PHASE_NONE);
	if (res->code >= 100 && res->code <= 599) {
		in->code[0] = (char)('0' + res->code / 100);
		in->code[1] = (char)('0' + res->code / 10 % 10);
		in->code[2] = (char)('0' + res->code % 10);
	} else {
		memcpy(in->code, "000", 3);
	}
	in->code[3] = '\0';
	in->status[0] = '\0';
	if (res->enhanced != NULL && bounce_esc_valid(res->enhanced))
		/* bounce_esc_valid() bounds it to "5.7.123" */
		memcpy(in->status, res->enhanced, strlen(res->enhanced) + 1);
	/* none, or a generic X.0.0: the text may say more */
	if ((in->status[0] == '\0' || strcmp(in->status + 1, ".0.0") == 0) &&
	    res->text != NULL) {
		char found[16];

		if (bounce_esc_find(found, sizeof(found), res->text,
		    strnlen(res->text, maxlen)) >= 0 &&
		    strcmp(found + 1, ".0.0") != 0)
			memcpy(in->status, found, sizeof(found));
	}
	input_status(in);
	switch (in->code[0]) {
	case '2':
		in->class_bit = CLASS_2;
		break;
	case '4':
		in->class_bit = CLASS_4;
		break;
	case '5':
		in->class_bit = CLASS_5;
		break;
	case '0':
		in->class_bit = in->st_class == 2 ? CLASS_2 :
		    in->st_class == 4 ? CLASS_4 :
		    in->st_class == 5 ? CLASS_5 : CLASS_NONE;
		break;
	default:
		in->class_bit = CLASS_OTHER;
		break;
	}
	in->action[0] = '\0';
	if ((a = res->action) != NULL) {
		while (str_is_space(*a))
			a++;
		for (i = 0; i + 1 < sizeof(in->action) && a[i] != '\0' &&
		    !str_is_space(a[i]) && a[i] != ';' && a[i] != '('; i++)
			in->action[i] = (char)str_lc(a[i]);
		in->action[i] = '\0';
	}
	/* a DSN "Action: delayed" with no code at all is a temporary answer */
	if (in->class_bit == CLASS_NONE && strcmp(in->action, "delayed") == 0)
		in->class_bit = CLASS_4;
}

/* The last resort, by reply class. */
static void
classify_fallback(bounce_verdict *out, const struct input *in)
{
	switch (in->class_bit) {
	case CLASS_5:
		out->category = BOUNCE_CAT_HARD;
		out->reason = "user_unknown";
		out->rule = "fallback.5xx";
		break;
	case CLASS_4:
		out->category = BOUNCE_CAT_SOFT;
		out->reason = "other_temporary";
		out->rule = "fallback.4xx";
		break;
	case CLASS_2:
		out->category = BOUNCE_CAT_NONE;
		out->reason = "delivered";
		out->rule = "fallback.2xx";
		break;
	default:
		out->category = BOUNCE_CAT_SOFT;
		out->reason = "network";
		out->rule = "fallback.none";
		break;
	}
}

int
bounce_classify(bounce_verdict *out, bounce_ctx *ctx,
    const bounce_smtp_result *res)
{
	struct rules *r;
	struct input in;
	struct mark mark;
	size_t i, n, max;

	if (out == NULL || ctx == NULL || res == NULL ||
	    res->version != BOUNCE_SMTP_RESULT_VERSION || ctx->rules == NULL)
		return BOUNCE_EINVAL;
	r = ctx->rules;
	max = ctx->limits.max_field_bytes;
	input_fill(&in, res, max);
	if (++r->generation == 0) {
		memset(r->cond_seen, 0, (r->ncond + 1) *
		    sizeof(*r->cond_seen));
		r->generation = 1;
	}
	mark.cond_seen = r->cond_seen;
	mark.generation = r->generation;
	if (res->text != NULL) {
		n = text_prepare(r->text, res->text, strnlen(res->text,
		    r->text_size - 1));
		mark.at = r->text_at;
		mark.map = r->text_map;
		matcher_scan(r->matcher, r->text, n, mark_seen, &mark);
	}
	if (res->remote_mta != NULL) {
		mark.at = r->mta_at;
		mark.map = r->mta_map;
		matcher_scan(r->matcher, res->remote_mta,
		    strnlen(res->remote_mta, max), mark_seen, &mark);
	}
	in.cond_seen = r->cond_seen;
	in.generation = r->generation;
	for (i = 0; i < r->count; i++) {
		if (rule_holds(r->order[i], &in)) {
			out->category = r->order[i]->category;
			out->reason = r->order[i]->reason;
			out->rule = r->order[i]->id;
			return BOUNCE_OK;
		}
	}
	classify_fallback(out, &in);
	return BOUNCE_OK;
}
