/*
 * rules.c - classification rules: reading rules files, the built-in table,
 * operator overrides.
 *
 * The format (libbounce/rules/README.md has the whole of it):
 *
 *	# comment
 *	rule ID CATEGORY REASON [!]KEY=VALUE[|VALUE...] ...
 *	disable ID
 *
 * with KEY one of phase, class, code, status, action, mta, text; a line
 * that starts with white space continues the statement above.  The
 * built-in table is the files libbounce/rules/NN-topic.rules, compiled in
 * by scripts/embed-rules.sh and read here at context creation, in file
 * name order, first rule first.  Operator files loaded later with
 * bounce_ctx_load_rules() go in front of everything loaded before them; a
 * rule whose id is already taken replaces that rule where it stands;
 * "disable ID" removes one.
 *
 * A load is all or nothing: the file is read into a memory arena of its
 * own and only joined to the table when every statement is right;
 * otherwise the arena is dropped, the phrases it added are forgotten and
 * bounce_ctx_error() says "FILE:LINE: what is wrong".
 *
 * Limits (rules.h): RULES_MAX active rules, RULE_COND_MAX conditions and
 * RULE_ALT_MAX alternatives per condition, RULE_PATTERN_MAX bytes per
 * phrase, RULE_LINE_MAX bytes per line, RULE_STMT_MAX bytes per statement,
 * RULES_PATTERNS_MAX distinct phrases, RULES_LOADS_MAX loads per context.
 * Memory of a replaced or disabled rule is kept until the context is freed
 * (bounded by the load limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

struct rules_load {
	struct rules_load *next;
	struct arena arena;
};

/* The reasons and their fixed categories (../shared/TAXONOMY.md). */
static const struct {
	const char *name;
	bounce_category category;
} reasons[] = {
	{ "user_unknown", BOUNCE_CAT_HARD },
	{ "domain_unknown", BOUNCE_CAT_HARD },
	{ "no_mailserver", BOUNCE_CAT_HARD },
	{ "mailbox_disabled", BOUNCE_CAT_HARD },
	{ "recipient_block", BOUNCE_CAT_HARD },
	{ "address_invalid", BOUNCE_CAT_HARD },
	{ "mailbox_full", BOUNCE_CAT_SOFT },
	{ "greylisted", BOUNCE_CAT_SOFT },
	{ "recipient_rate", BOUNCE_CAT_SOFT },
	{ "server_busy", BOUNCE_CAT_SOFT },
	{ "network", BOUNCE_CAT_SOFT },
	{ "lookup_failure", BOUNCE_CAT_SOFT },
	{ "shutdown", BOUNCE_CAT_SOFT },
	{ "expired", BOUNCE_CAT_SOFT },
	{ "other_temporary", BOUNCE_CAT_SOFT },
	{ "blocklisted", BOUNCE_CAT_REPUTATION },
	{ "poor_reputation", BOUNCE_CAT_REPUTATION },
	{ "rate_limited", BOUNCE_CAT_REPUTATION },
	{ "auth_failure", BOUNCE_CAT_REPUTATION },
	{ "sender_config", BOUNCE_CAT_REPUTATION },
	{ "sender_rejected", BOUNCE_CAT_REPUTATION },
	{ "spam_content", BOUNCE_CAT_CONTENT },
	{ "virus", BOUNCE_CAT_CONTENT },
	{ "url_reputation", BOUNCE_CAT_CONTENT },
	{ "policy", BOUNCE_CAT_CONTENT },
	{ "too_large", BOUNCE_CAT_CONTENT },
	{ "protocol", BOUNCE_CAT_CONTENT },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const phase_words[] = {
	"none", "connect", "helo", "mail", "rcpt", "data", "eod"
};

static const char *const action_words[] = {
	"failed", "delayed", "delivered", "relayed", "expanded"
};

/* One statement's worth of parsing state. */
struct parser {
	bounce_ctx *ctx;
	struct rules *rules;
	struct arena *arena;
	const char *name;
	const char *p, *end;
	const char *stmt;	/* start of the current statement */
	unsigned long line;
	/* what the file defines, in file order */
	struct rule **def;
	size_t ndef, def_size;
	struct disable {
		const char *id;
		const char *file;
		unsigned long line;
	} *dis;
	size_t ndis, dis_size;
};

static int ps_error(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
ps_error(struct parser *ps, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	/* truncation is fine: the message is for people */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ctx_error(ps->ctx, BOUNCE_ERULES, "%s:%lu: %s", ps->name,
	    ps->line, msg);
}

/* ------------------------------------------------------------------ */
/* Phrases: interned, normalised, one id each                          */
/* ------------------------------------------------------------------ */

static uint32_t
pattern_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

/* Put every phrase below npattern in a fresh hash table of size hsize. */
static int
pattern_rehash(struct rules *r, size_t hsize)
{
	uint32_t *h, id;
	size_t i;

	if ((h = calloc(hsize, sizeof(*h))) == NULL)
		return BOUNCE_ENOMEM;
	for (id = 0; id < r->npattern; id++) {
		i = pattern_hash(r->pattern[id], r->pattern_len[id]) &
		    (hsize - 1);
		while (h[i] != 0)
			i = (i + 1) & (hsize - 1);
		h[i] = id + 1;
	}
	free(r->pattern_hash);
	r->pattern_hash = h;
	r->hash_size = hsize;
	return BOUNCE_OK;
}

/* The id of phrase p[0..n) (normalised), adding it when new. */
static int
pattern_intern(struct parser *ps, const char *p, size_t n, uint32_t *out)
{
	struct rules *r = ps->rules;
	size_t i, size;
	uint32_t id;
	char *copy;
	int err;

	if (r->hash_size == 0 || (r->npattern + 1) * 2 > r->hash_size) {
		if ((err = pattern_rehash(r, r->hash_size ? r->hash_size * 2 :
		    1024)) != BOUNCE_OK)
			return err;
	}
	i = pattern_hash(p, n) & (r->hash_size - 1);
	while ((id = r->pattern_hash[i]) != 0) {
		if (r->pattern_len[id - 1] == n &&
		    memcmp(r->pattern[id - 1], p, n) == 0) {
			*out = id - 1;
			return BOUNCE_OK;
		}
		i = (i + 1) & (r->hash_size - 1);
	}
	if (r->npattern == RULES_PATTERNS_MAX)
		return ps_error(ps, "more than %u distinct phrases in all "
		    "rules", RULES_PATTERNS_MAX);
	if (r->npattern == r->pattern_size) {
		char **np;
		size_t *nl;

		size = r->pattern_size ? r->pattern_size * 2 : 512;
		if ((np = realloc(r->pattern, size * sizeof(*np))) == NULL)
			return BOUNCE_ENOMEM;
		r->pattern = np;
		if ((nl = realloc(r->pattern_len, size * sizeof(*nl))) == NULL)
			return BOUNCE_ENOMEM;
		r->pattern_len = nl;
		r->pattern_size = size;
	}
	if ((copy = arena_strndup(ps->arena, p, n)) == NULL)
		return BOUNCE_ENOMEM;
	r->pattern[r->npattern] = copy;
	r->pattern_len[r->npattern] = n;
	r->pattern_hash[i] = (uint32_t)r->npattern + 1;
	*out = (uint32_t)r->npattern++;
	return BOUNCE_OK;
}

/* ------------------------------------------------------------------ */
/* Lexing                                                              */
/* ------------------------------------------------------------------ */

/*
 * Skip blanks and comments inside a statement, across continuation lines.
 * Returns 1 when a token follows in this statement, 0 at its end (p is
 * then at the newline or the end of the input).
 */
static int
ps_skip(struct parser *ps)
{
	for (;;) {
		while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
		    *ps->p == '\r'))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '#')
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
		if (ps->p == ps->end)
			return 0;
		if (*ps->p != '\n')
			return 1;
		if (ps->p + 1 < ps->end && (ps->p[1] == ' ' ||
		    ps->p[1] == '\t')) {
			ps->p++;
			ps->line++;
			continue;
		}
		return 0;
	}
}

static int
word_char(int c)
{
	return c > ' ' && c != '#' && c != '"' && c != '|' && c != '=' &&
	    c != 0x7f;
}

/* A bare word at p; sets *n to its length (0 when there is none). */
static const char *
ps_word(struct parser *ps, size_t *n)
{
	const char *start = ps->p;

	while (ps->p < ps->end && word_char((unsigned char)*ps->p))
		ps->p++;
	*n = (size_t)(ps->p - start);
	return start;
}

/*
 * One value: "quoted" (\" and \\ escapes) or bare.  Writes it to out (size
 * RULE_PATTERN_MAX + 1), NUL-terminated, length in *n.
 */
static int
ps_value(struct parser *ps, const char *key, char *out, size_t *n)
{
	const char *w;
	size_t len = 0;

	if (ps->p < ps->end && *ps->p == '"') {
		ps->p++;
		for (;;) {
			char c;

			if (ps->p == ps->end || *ps->p == '\n')
				return ps_error(ps, "%s=: the quote is not "
				    "closed on this line", key);
			c = *ps->p++;
			if (c == '"')
				break;
			if (c == '\\') {
				if (ps->p == ps->end || (*ps->p != '"' &&
				    *ps->p != '\\'))
					return ps_error(ps, "%s=: only \\\" "
					    "and \\\\ are escapes in a quoted "
					    "value", key);
				c = *ps->p++;
			}
			if (len == RULE_PATTERN_MAX)
				return ps_error(ps, "%s=: a value is longer "
				    "than %d bytes", key, RULE_PATTERN_MAX);
			out[len++] = c;
		}
		if (len == 0)
			return ps_error(ps, "%s=: empty value \"\"", key);
		if (ps->p < ps->end && word_char((unsigned char)*ps->p))
			return ps_error(ps, "%s=: text right after a closing "
			    "quote; separate alternatives with |", key);
	} else {
		w = ps_word(ps, &len);
		if (len == 0)
			return ps_error(ps, "%s=: expected a value", key);
		if (len > RULE_PATTERN_MAX)
			return ps_error(ps, "%s=: a value is longer than %d "
			    "bytes", key, RULE_PATTERN_MAX);
		if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '='))
			return ps_error(ps, "%s=: unexpected '%c' in a bare "
			    "value; quote values with spaces or symbols", key,
			    *ps->p);
		memcpy(out, w, len);
	}
	out[len] = '\0';
	*n = len;
	return BOUNCE_OK;
}

/* ------------------------------------------------------------------ */
/* Conditions                                                          */
/* ------------------------------------------------------------------ */

static int
word_index(const char *const *words, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(words[i], w) == 0)
			return (int)i;
	return -1;
}

/* "0" or three of [0-9x], the first 1-5 or x. */
static int
code_parse(char out[4], const char *v)
{
	size_t i;

	if (strcmp(v, "0") == 0) {
		memcpy(out, "000", 4);
		return 1;
	}
	if (strlen(v) != 3 || !((v[0] >= '1' && v[0] <= '5') || v[0] == 'x'))
		return 0;
	for (i = 0; i < 3; i++) {
		if (!str_is_digit(v[i]) && v[i] != 'x')
			return 0;
		out[i] = v[i];
	}
	out[3] = '\0';
	return 1;
}

static int
number(const char *p, size_t n, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;
	size_t i;

	if (n == 0 || n > 3)
		return 0;
	for (i = 0; i < n; i++) {
		if (!str_is_digit(p[i]))
			return 0;
		v = v * 10 + (unsigned int)(p[i] - '0');
	}
	if (v > max)
		return 0;
	*out = v;
	return 1;
}

/*
 * A status alternative: "none" (no enhanced code), a glob of digits, dots,
 * * and ? ("5.7.2*", "?.1.1"), or a range "C.S.LO-HI" ("5.7.606-649").
 */
static int
status_parse(struct parser *ps, struct status_alt *a, const char *v,
    size_t n)
{
	const char *dot1, *dot2, *dash;
	unsigned int cls, subj;
	size_t i;

	memset(a, 0, sizeof(*a));
	if (strcmp(v, "none") == 0) {
		a->glob = "";
		return 1;
	}
	if ((dash = strchr(v, '-')) == NULL) {
		for (i = 0; i < n; i++)
			if (!str_is_digit(v[i]) && v[i] != '.' &&
			    v[i] != '*' && v[i] != '?')
				return 0;
		if (v[0] != '2' && v[0] != '4' && v[0] != '5' &&
		    v[0] != '*' && v[0] != '?')
			return 0;
		/* without a '*' it must have the three parts of a code */
		if (strchr(v, '*') == NULL && ((dot1 = strchr(v, '.')) ==
		    NULL || (dot2 = strchr(dot1 + 1, '.')) == NULL ||
		    dot2 == dot1 + 1 || dot2[1] == '\0' ||
		    strchr(dot2 + 1, '.') != NULL))
			return 0;
		return (a->glob = arena_strndup(ps->arena, v, n)) != NULL ?
		    1 : -1;
	}
	if ((dot1 = strchr(v, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL || dot2 > dash ||
	    !number(v, (size_t)(dot1 - v), 5, &cls) ||
	    (cls != 2 && cls != 4 && cls != 5) ||
	    !number(dot1 + 1, (size_t)(dot2 - dot1 - 1), 7, &subj) ||
	    !number(dot2 + 1, (size_t)(dash - dot2 - 1), 999, &a->lo) ||
	    !number(dash + 1, strlen(dash + 1), 999, &a->hi) ||
	    a->lo > a->hi)
		return 0;
	a->cls = (int)cls;
	a->subject = (int)subj;
	return 1;
}

/* Read "[!]key=alt|alt..." at p into c (or into the rule's masks). */
static int
ps_cond(struct parser *ps, struct rule *r, struct cond *c, int *used)
{
	char key[16], val[RULE_PATTERN_MAX + 1];
	unsigned int mask = 0, nalt = 0;
	const char *w;
	size_t n, vlen = 0;
	int negated = 0, k, err, ok;
	enum cond_key ck;
	void *alts = NULL;
	uint32_t pat[RULE_ALT_MAX];
	struct status_alt st[RULE_ALT_MAX];
	char codes[RULE_ALT_MAX][4];
	const char *acts[RULE_ALT_MAX];

	*used = 0;
	if (*ps->p == '!') {
		negated = 1;
		ps->p++;
	}
	w = ps_word(ps, &n);
	if (n == 0 || ps->p == ps->end || *ps->p != '=')
		return ps_error(ps, "expected a condition KEY=VALUE, not "
		    "'%.*s'", (int)(n > 0 ? (n > 40 ? 40 : n) : 1),
		    n > 0 ? w : ps->p);
	if (n >= sizeof(key))
		return ps_error(ps, "unknown condition '%.*s'", (int)n, w);
	memcpy(key, w, n);
	key[n] = '\0';
	ps->p++;
	if (strcmp(key, "phase") == 0 || strcmp(key, "class") == 0)
		ck = COND_TEXT;	/* masks, not stored */
	else if (strcmp(key, "code") == 0)
		ck = COND_CODE;
	else if (strcmp(key, "status") == 0)
		ck = COND_STATUS;
	else if (strcmp(key, "action") == 0)
		ck = COND_ACTION;
	else if (strcmp(key, "mta") == 0)
		ck = COND_MTA;
	else if (strcmp(key, "text") == 0)
		ck = COND_TEXT;
	else
		return ps_error(ps, "unknown condition '%s'; use phase, class, "
		    "code, status, action, mta or text", key);
	for (;;) {
		if ((err = ps_value(ps, key, val, &vlen)) != BOUNCE_OK)
			return err;
		if (nalt == RULE_ALT_MAX)
			return ps_error(ps, "%s=: more than %d alternatives",
			    key, RULE_ALT_MAX);
		if (strcmp(key, "phase") == 0) {
			if ((k = word_index(phase_words, COUNT(phase_words),
			    val)) < 0)
				return ps_error(ps, "phase=%s: use connect, "
				    "helo, mail, rcpt, data, eod or none", val);
			mask |= PHASE_BIT(k);
		} else if (strcmp(key, "class") == 0) {
			if (strcmp(val, "2") == 0)
				mask |= CLASS_2;
			else if (strcmp(val, "4") == 0)
				mask |= CLASS_4;
			else if (strcmp(val, "5") == 0)
				mask |= CLASS_5;
			else if (strcmp(val, "none") == 0)
				mask |= CLASS_NONE;
			else
				return ps_error(ps, "class=%s: use 2, 4, 5 or "
				    "none", val);
		} else if (ck == COND_CODE) {
			if (!code_parse(codes[nalt], val))
				return ps_error(ps, "code=%s: use a reply code "
				    "such as 550, 55x or 5xx, or 0 for none",
				    val);
		} else if (ck == COND_STATUS) {
			if ((ok = status_parse(ps, &st[nalt], val, vlen)) < 0)
				return BOUNCE_ENOMEM;
			if (ok == 0)
				return ps_error(ps, "status=%s: use an "
				    "enhanced code such as 5.1.1, a pattern "
				    "such as 5.7.2* or ?.1.1, a range such as "
				    "5.7.606-649, or none", val);
		} else if (ck == COND_ACTION) {
			if (strcmp(val, "none") == 0)
				acts[nalt] = "";
			else if ((k = word_index(action_words,
			    COUNT(action_words), val)) >= 0)
				acts[nalt] = action_words[k];
			else
				return ps_error(ps, "action=%s: use failed, "
				    "delayed, delivered, relayed, expanded or "
				    "none", val);
		} else {
			vlen = match_normalize(val, val, vlen);
			if (vlen == 0 || (vlen == 1 && val[0] == ' '))
				return ps_error(ps, "%s=: a phrase of white "
				    "space only", key);
			if ((err = pattern_intern(ps, val, vlen, &pat[nalt])) !=
			    BOUNCE_OK)
				return err;
		}
		nalt++;
		/* another alternative? blanks and line breaks may surround | */
		if (!ps_skip(ps) || *ps->p != '|')
			break;
		ps->p++;
		if (!ps_skip(ps))
			return ps_error(ps, "%s=: expected a value after '|'",
			    key);
	}
	if (strcmp(key, "phase") == 0) {
		r->phase_mask &= negated ? ~mask & PHASE_ALL : mask;
		return BOUNCE_OK;
	}
	if (strcmp(key, "class") == 0) {
		r->class_mask &= negated ? ~mask & CLASS_ALL : mask;
		return BOUNCE_OK;
	}
	switch (ck) {
	case COND_CODE:
		n = sizeof(codes[0]);
		alts = codes;
		break;
	case COND_STATUS:
		n = sizeof(st[0]);
		alts = st;
		break;
	case COND_ACTION:
		n = sizeof(acts[0]);
		alts = acts;
		break;
	default:
		n = sizeof(pat[0]);
		alts = pat;
		break;
	}
	c->key = ck;
	c->negated = negated;
	c->nalt = nalt;
	if ((c->alt.pattern = arena_alloc(ps->arena, n * nalt)) == NULL)
		return BOUNCE_ENOMEM;
	memcpy(c->alt.pattern, alts, n * nalt);
	*used = 1;
	return BOUNCE_OK;
}

/* ------------------------------------------------------------------ */
/* Statements                                                          */
/* ------------------------------------------------------------------ */

static int
id_valid(const char *w, size_t n)
{
	size_t i;

	if (n == 0 || n > RULE_ID_MAX || !((w[0] >= 'a' && w[0] <= 'z') ||
	    str_is_digit(w[0])))
		return 0;
	for (i = 0; i < n; i++)
		if (!((w[i] >= 'a' && w[i] <= 'z') || str_is_digit(w[i]) ||
		    w[i] == '.' || w[i] == '_' || w[i] == '-'))
			return 0;
	return 1;
}

/* The next word of a statement, which must be there. */
static int
ps_need_word(struct parser *ps, const char *what, const char **w, size_t *n)
{
	if (!ps_skip(ps))
		return ps_error(ps, "expected %s", what);
	*w = ps_word(ps, n);
	if (*n == 0)
		return ps_error(ps, "expected %s, not '%c'", what, *ps->p);
	return BOUNCE_OK;
}

static int
ps_rule(struct parser *ps)
{
	struct cond cond[RULE_COND_MAX + 1];
	unsigned int ncond = 0, i, j;
	struct rule *r;
	const char *w;
	size_t n, k;
	int err, used;

	if ((r = arena_alloc(ps->arena, sizeof(*r))) == NULL)
		return BOUNCE_ENOMEM;
	memset(r, 0, sizeof(*r));
	r->file = ps->name;
	r->line = ps->line;
	r->phase_mask = PHASE_ALL;
	r->class_mask = CLASS_ALL;
	if ((err = ps_need_word(ps, "a rule id after 'rule'", &w, &n)) !=
	    BOUNCE_OK)
		return err;
	if (!id_valid(w, n))
		return ps_error(ps, "bad rule id '%.*s': use up to %d of a-z, "
		    "0-9, '.', '_', '-', starting with a letter or digit",
		    (int)(n > 80 ? 80 : n), w, RULE_ID_MAX);
	if ((r->id = arena_strndup(ps->arena, w, n)) == NULL)
		return BOUNCE_ENOMEM;
	if ((err = ps_need_word(ps, "a category (hard, soft, reputation, "
	    "content) after the rule id", &w, &n)) != BOUNCE_OK)
		return err;
	if (n == 4 && memcmp(w, "hard", 4) == 0)
		r->category = BOUNCE_CAT_HARD;
	else if (n == 4 && memcmp(w, "soft", 4) == 0)
		r->category = BOUNCE_CAT_SOFT;
	else if (n == 10 && memcmp(w, "reputation", 10) == 0)
		r->category = BOUNCE_CAT_REPUTATION;
	else if (n == 7 && memcmp(w, "content", 7) == 0)
		r->category = BOUNCE_CAT_CONTENT;
	else
		return ps_error(ps, "rule %s: unknown category '%.*s'; use "
		    "hard, soft, reputation or content", r->id,
		    (int)(n > 40 ? 40 : n), w);
	if ((err = ps_need_word(ps, "a reason after the category", &w, &n)) !=
	    BOUNCE_OK)
		return err;
	for (k = 0; k < COUNT(reasons); k++)
		if (strlen(reasons[k].name) == n &&
		    memcmp(reasons[k].name, w, n) == 0)
			break;
	if (k == COUNT(reasons))
		return ps_error(ps, "rule %s: unknown reason '%.*s' (see "
		    "TAXONOMY.md)", r->id, (int)(n > 40 ? 40 : n), w);
	if (reasons[k].category != r->category)
		return ps_error(ps, "rule %s: reason %s belongs to category "
		    "%s, not %s", r->id, reasons[k].name,
		    bounce_category_name(reasons[k].category),
		    bounce_category_name(r->category));
	r->reason = reasons[k].name;
	while (ps_skip(ps)) {
		if (ncond == RULE_COND_MAX)
			return ps_error(ps, "rule %s: more than %d conditions",
			    r->id, RULE_COND_MAX);
		if ((err = ps_cond(ps, r, &cond[ncond], &used)) != BOUNCE_OK)
			return err;
		ncond += (unsigned int)used;
		if ((size_t)(ps->p - ps->stmt) > RULE_STMT_MAX)
			return ps_error(ps, "rule %s: longer than %d bytes",
			    r->id, RULE_STMT_MAX);
	}
	if (r->phase_mask == 0 || r->class_mask == 0)
		return ps_error(ps, "rule %s: its phase or class conditions "
		    "exclude everything", r->id);
	/* cheapest checks first; insertion sort keeps the written order
	 * among conditions of one key */
	for (i = 1; i < ncond; i++) {
		struct cond t = cond[i];

		for (j = i; j > 0 && cond[j - 1].key > t.key; j--)
			cond[j] = cond[j - 1];
		cond[j] = t;
	}
	r->ncond = ncond;
	if (ncond > 0) {
		if ((r->cond = arena_alloc(ps->arena, ncond * sizeof(*cond))) ==
		    NULL)
			return BOUNCE_ENOMEM;
		memcpy(r->cond, cond, ncond * sizeof(*cond));
	}
	if (ps->ndef == ps->def_size) {
		struct rule **nd;

		k = ps->def_size ? ps->def_size * 2 : 64;
		if ((nd = realloc(ps->def, k * sizeof(*nd))) == NULL)
			return BOUNCE_ENOMEM;
		ps->def = nd;
		ps->def_size = k;
	}
	ps->def[ps->ndef++] = r;
	return BOUNCE_OK;
}

static int
ps_disable(struct parser *ps)
{
	const char *w;
	size_t n;
	int err;

	if ((err = ps_need_word(ps, "a rule id after 'disable'", &w, &n)) !=
	    BOUNCE_OK)
		return err;
	if (!id_valid(w, n))
		return ps_error(ps, "bad rule id '%.*s'",
		    (int)(n > 80 ? 80 : n), w);
	if (ps->ndis == ps->dis_size) {
		struct disable *nd;
		size_t size = ps->dis_size ? ps->dis_size * 2 : 16;

		if ((nd = realloc(ps->dis, size * sizeof(*nd))) == NULL)
			return BOUNCE_ENOMEM;
		ps->dis = nd;
		ps->dis_size = size;
	}
	if ((ps->dis[ps->ndis].id = arena_strndup(ps->arena, w, n)) == NULL)
		return BOUNCE_ENOMEM;
	ps->dis[ps->ndis].file = ps->name;
	ps->dis[ps->ndis++].line = ps->line;
	if (ps_skip(ps))
		return ps_error(ps, "disable %.*s: unexpected text after the "
		    "rule id", (int)n, w);
	return BOUNCE_OK;
}

/* Check what the whole text is made of before reading statements. */
static int
ps_check_lines(struct parser *ps)
{
	const char *p = ps->p, *nl;
	size_t len;

	while (p < ps->end) {
		nl = memchr(p, '\n', (size_t)(ps->end - p));
		len = (size_t)((nl != NULL ? nl : ps->end) - p);
		if (len > RULE_LINE_MAX)
			return ps_error(ps, "line longer than %d bytes",
			    RULE_LINE_MAX);
		if (memchr(p, '\0', len) != NULL)
			return ps_error(ps, "NUL byte in the line");
		ps->line++;
		p = nl != NULL ? nl + 1 : ps->end;
	}
	return BOUNCE_OK;
}

/* Read a whole rules text into ps->def and ps->dis. */
static int
ps_text(struct parser *ps, const char *buf, size_t len, const char *name)
{
	const char *w;
	size_t n;
	int err;

	ps->name = name;
	ps->p = buf;
	ps->end = buf + len;
	ps->line = 1;
	if ((err = ps_check_lines(ps)) != BOUNCE_OK)
		return err;
	ps->line = 1;
	while (ps->p < ps->end) {
		if (*ps->p == '\n') {
			ps->p++;
			ps->line++;
			continue;
		}
		if (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r') {
			while (ps->p < ps->end && (*ps->p == ' ' ||
			    *ps->p == '\t' || *ps->p == '\r'))
				ps->p++;
			if (ps->p < ps->end && *ps->p != '\n' && *ps->p != '#')
				return ps_error(ps, "indented line with no "
				    "statement to continue");
		}
		if (ps->p < ps->end && *ps->p == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			continue;
		}
		if (ps->p == ps->end || *ps->p == '\n')
			continue;
		ps->stmt = ps->p;
		w = ps_word(ps, &n);
		if (n == 4 && memcmp(w, "rule", 4) == 0)
			err = ps_rule(ps);
		else if (n == 7 && memcmp(w, "disable", 7) == 0)
			err = ps_disable(ps);
		else
			err = ps_error(ps, "expected 'rule' or 'disable', not "
			    "'%.*s'", (int)(n > 0 ? (n > 40 ? 40 : n) : 1),
			    n > 0 ? w : ps->p);
		if (err != BOUNCE_OK)
			return err;
	}
	return BOUNCE_OK;
}

/* ------------------------------------------------------------------ */
/* Joining a load to the table                                         */
/* ------------------------------------------------------------------ */

/* A small id -> index map, open addressing, for one join. */
struct idmap {
	uint32_t *slot;	/* index + 1, 0 empty */
	size_t size;
	struct rule *const *rules;
};

static int
idmap_init(struct idmap *m, size_t n, struct rule *const *rules)
{
	m->size = 64;
	while (m->size < n * 2)
		m->size *= 2;
	m->rules = rules;
	return (m->slot = calloc(m->size, sizeof(*m->slot))) != NULL ?
	    BOUNCE_OK : BOUNCE_ENOMEM;
}

/* Index of id, or -1; with add >= 0, insert it under that index when
 * absent. */
static long
idmap_find(struct idmap *m, const char *id, long add)
{
	size_t i = pattern_hash(id, strlen(id)) & (m->size - 1);

	while (m->slot[i] != 0) {
		if (strcmp(m->rules[m->slot[i] - 1]->id, id) == 0)
			return (long)m->slot[i] - 1;
		i = (i + 1) & (m->size - 1);
	}
	if (add >= 0)
		m->slot[i] = (uint32_t)add + 1;
	return -1;
}

/* CSR map from phrase to the conditions of one key that hold it. */
static int
map_build(struct rules *r, enum cond_key key, uint32_t **at_out,
    uint32_t **map_out)
{
	uint32_t *at, *map, *fill, cid = 0, total = 0, p;
	size_t i, j, k;

	if ((at = calloc(r->npattern + 2, sizeof(*at))) == NULL)
		return BOUNCE_ENOMEM;
	for (i = 0; i < r->count; i++)
		for (j = 0; j < r->order[i]->ncond; j++) {
			const struct cond *c = &r->order[i]->cond[j];

			if (c->key != key)
				continue;
			for (k = 0; k < c->nalt; k++)
				at[c->alt.pattern[k] + 2]++;
			total += c->nalt;
		}
	for (p = 2; p < r->npattern + 2; p++)
		at[p] += at[p - 1];
	if ((map = malloc((total + 1) * sizeof(*map))) == NULL) {
		free(at);
		return BOUNCE_ENOMEM;
	}
	/* at[p + 1] is where phrase p's list is filled; afterwards it is
	 * where it ends, and at[p] where it starts */
	fill = at + 1;
	for (i = 0; i < r->count; i++)
		for (j = 0; j < r->order[i]->ncond; j++) {
			struct cond *c = &r->order[i]->cond[j];

			if (c->key != COND_TEXT && c->key != COND_MTA)
				continue;
			if (c->key == key)
				for (k = 0; k < c->nalt; k++)
					map[fill[c->alt.pattern[k]]++] =
					    r->ncond + cid;
			cid++;
		}
	*at_out = at;
	*map_out = map;
	return BOUNCE_OK;
}

/*
 * Number the text and mta conditions of the active rules and map phrases
 * to them; with phrases, rebuild the matcher too.  On failure nothing
 * changes.
 */
static int
rules_compile(struct rules *r, int phrases)
{
	struct matcher *m = NULL;
	uint32_t *ta = NULL, *tm = NULL, *ma = NULL, *mm = NULL, *seen = NULL;
	uint32_t ncond = 0;
	size_t i, j;
	int err = BOUNCE_ENOMEM;

	if (phrases && (err = matcher_new(&m, (const char *const *)r->pattern,
	    r->pattern_len, r->npattern)) != BOUNCE_OK)
		return err;
	for (i = 0; i < r->count; i++)
		for (j = 0; j < r->order[i]->ncond; j++)
			if (r->order[i]->cond[j].key == COND_TEXT ||
			    r->order[i]->cond[j].key == COND_MTA)
				ncond++;
	/* condition ids in map_build() count from r->ncond: set it first */
	r->ncond = 0;
	if ((err = map_build(r, COND_TEXT, &ta, &tm)) != BOUNCE_OK ||
	    (err = map_build(r, COND_MTA, &ma, &mm)) != BOUNCE_OK)
		goto cleanup;
	err = BOUNCE_ENOMEM;
	if ((seen = calloc(ncond + 1, sizeof(*seen))) == NULL)
		goto cleanup;
	ncond = 0;
	for (i = 0; i < r->count; i++)
		for (j = 0; j < r->order[i]->ncond; j++)
			if (r->order[i]->cond[j].key == COND_TEXT ||
			    r->order[i]->cond[j].key == COND_MTA)
				r->order[i]->cond[j].cid = ncond++;
	if (m != NULL) {
		matcher_free(r->matcher);
		r->matcher = m;
		m = NULL;
	}
	free(r->text_at);
	free(r->text_map);
	free(r->mta_at);
	free(r->mta_map);
	free(r->cond_seen);
	r->text_at = ta;
	r->text_map = tm;
	r->mta_at = ma;
	r->mta_map = mm;
	r->cond_seen = seen;
	r->ncond = ncond;
	r->generation = 0;
	return BOUNCE_OK;
cleanup:
	matcher_free(m);
	free(ta);
	free(tm);
	free(ma);
	free(mm);
	return err;
}

/*
 * Put the parsed rules in front of the table, replacing rules with the
 * same id in place, and drop the disabled ones.  Fails with nothing
 * changed.
 */
static int
ps_join(struct parser *ps, size_t npattern_before)
{
	struct rules *r = ps->rules;
	struct idmap cur = { 0 }, def = { 0 };
	struct rule **order = NULL, **old;
	unsigned char *drop = NULL;
	size_t i, nnew = 0, ndrop = 0, count, o, old_count = r->count;
	long at;
	int err = BOUNCE_ENOMEM;

	if ((err = idmap_init(&cur, r->count, r->order)) != BOUNCE_OK ||
	    (err = idmap_init(&def, ps->ndef, ps->def)) != BOUNCE_OK)
		goto cleanup;
	err = BOUNCE_ENOMEM;
	if ((drop = calloc(r->count + 1, 1)) == NULL ||
	    (order = calloc(r->count + ps->ndef + 1, sizeof(*order))) == NULL)
		goto cleanup;
	for (i = 0; i < r->count; i++)
		(void)idmap_find(&cur, r->order[i]->id, (long)i);
	for (i = 0; i < ps->ndef; i++) {
		if ((at = idmap_find(&def, ps->def[i]->id, (long)i)) >= 0) {
			/* a built-in load reads several files as one */
			ps->name = ps->def[i]->file;
			ps->line = ps->def[i]->line;
			err = ps_error(ps, "rule %s is defined twice (first "
			    "at %s:%lu)", ps->def[i]->id, ps->def[at]->file,
			    ps->def[at]->line);
			goto cleanup;
		}
		if (idmap_find(&cur, ps->def[i]->id, -1) < 0)
			nnew++;
	}
	for (i = 0; i < ps->ndis; i++) {
		ps->name = ps->dis[i].file;
		ps->line = ps->dis[i].line;
		if (idmap_find(&def, ps->dis[i].id, -1) >= 0) {
			err = ps_error(ps, "disable %s: the rule is defined in "
			    "this same file; remove one of the two",
			    ps->dis[i].id);
			goto cleanup;
		}
		if ((at = idmap_find(&cur, ps->dis[i].id, -1)) < 0) {
			err = ps_error(ps, "disable %s: there is no such rule",
			    ps->dis[i].id);
			goto cleanup;
		}
		if (drop[at]) {
			err = ps_error(ps, "disable %s: disabled twice",
			    ps->dis[i].id);
			goto cleanup;
		}
		drop[at] = 1;
		ndrop++;
	}
	count = r->count - ndrop + nnew;
	if (count > RULES_MAX) {
		if (ps->ndef > 0) {
			ps->name = ps->def[ps->ndef - 1]->file;
			ps->line = ps->def[ps->ndef - 1]->line;
		}
		err = ps_error(ps, "more than %d rules in all", RULES_MAX);
		goto cleanup;
	}
	o = 0;
	for (i = 0; i < ps->ndef; i++)
		if (idmap_find(&cur, ps->def[i]->id, -1) < 0)
			order[o++] = ps->def[i];
	for (i = 0; i < r->count; i++) {
		if (drop[i])
			continue;
		at = idmap_find(&def, r->order[i]->id, -1);
		order[o++] = at >= 0 ? ps->def[at] : r->order[i];
	}
	old = r->order;
	r->order = order;
	r->count = o;
	/* the matcher knows every phrase already unless this load added
	 * some (phrases of replaced or disabled rules stay, unused) */
	if ((err = rules_compile(r, r->matcher == NULL ||
	    r->npattern != npattern_before)) != BOUNCE_OK) {
		order = r->order;
		r->order = old;
		r->count = old_count;
		goto cleanup;
	}
	order = old;
	err = BOUNCE_OK;
cleanup:
	free(cur.slot);
	free(def.slot);
	free(drop);
	free(order);
	return err;
}

/*
 * Read one or more texts as one load; with join, add them to the table.
 * On failure nothing in r changes.
 */
static int
rules_load(bounce_ctx *ctx, struct rules *r,
    const struct rules_builtin_file *files, size_t nfiles)
{
	struct parser ps = { 0 };
	struct rules_load *load;
	size_t i, npattern = r->npattern, count = r->count;
	int err;

	if (r->nloads == RULES_LOADS_MAX)
		return ctx_error(ctx, BOUNCE_ELIMIT, "%s: more than %d rules "
		    "loads in one context", files[0].name, RULES_LOADS_MAX);
	if ((load = calloc(1, sizeof(*load))) == NULL)
		return BOUNCE_ENOMEM;
	arena_init(&load->arena);
	ps.ctx = ctx;
	ps.rules = r;
	ps.arena = &load->arena;
	for (i = 0; i < nfiles; i++) {
		const char *name;

		if ((name = arena_strdup(ps.arena, files[i].name)) == NULL) {
			err = BOUNCE_ENOMEM;
			goto cleanup;
		}
		if ((err = ps_text(&ps, files[i].text, strlen(files[i].text),
		    name)) != BOUNCE_OK)
			goto cleanup;
	}
	err = ps_join(&ps, npattern);
cleanup:
	if (err == BOUNCE_OK) {
		load->next = r->loads;
		r->loads = load;
		r->nloads++;
	} else {
		/* forget the phrases this load added */
		r->npattern = npattern;
		r->count = count;
		if (r->hash_size > 0)
			(void)pattern_rehash(r, r->hash_size);
		arena_free(&load->arena);
		free(load);
		if (err == BOUNCE_ENOMEM)
			(void)ctx_error(ctx, err, "out of memory reading "
			    "rules");
	}
	free(ps.def);
	free(ps.dis);
	return err;
}

int
rules_new(struct rules **out, bounce_ctx *ctx)
{
	struct rules *r;
	int err;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return BOUNCE_ENOMEM;
	r->text_size = ctx->limits.max_field_bytes + 1;
	if ((r->text = malloc(r->text_size)) == NULL) {
		free(r);
		return BOUNCE_ENOMEM;
	}
	if (rules_builtin_count > 0 && (err = rules_load(ctx, r,
	    rules_builtin_files, rules_builtin_count)) != BOUNCE_OK) {
		rules_free(r);
		return err;
	}
	if (r->matcher == NULL && (err = rules_compile(r, 1)) != BOUNCE_OK) {
		rules_free(r);
		return err;
	}
	*out = r;
	return BOUNCE_OK;
}

void
rules_free(struct rules *r)
{
	struct rules_load *l, *next;

	if (r == NULL)
		return;
	for (l = r->loads; l != NULL; l = next) {
		next = l->next;
		arena_free(&l->arena);
		free(l);
	}
	matcher_free(r->matcher);
	free(r->order);
	free(r->pattern);
	free(r->pattern_len);
	free(r->pattern_hash);
	free(r->text_at);
	free(r->text_map);
	free(r->mta_at);
	free(r->mta_map);
	free(r->cond_seen);
	free(r->text);
	free(r);
}

int
bounce_ctx_load_rules(bounce_ctx *ctx, const char *buf, size_t len,
    const char *name)
{
	struct rules_builtin_file f;
	char *copy;
	int err;

	if (ctx == NULL || (buf == NULL && len > 0))
		return BOUNCE_EINVAL;
	ctx_clear_error(ctx);
	/* the parser wants a NUL-free, NUL-terminated text; a NUL inside is
	 * reported with its line */
	if ((copy = str_ndup(buf != NULL ? buf : "", len)) == NULL)
		return BOUNCE_ENOMEM;
	f.name = name != NULL ? name : "rules";
	f.text = copy;
	if (memchr(copy, '\0', len) != NULL) {
		struct parser ps = { 0 };

		ps.ctx = ctx;
		ps.name = f.name;
		ps.p = copy;
		ps.end = copy + len;
		ps.line = 1;
		err = ps_check_lines(&ps);
		free(copy);
		return err;
	}
	err = rules_load(ctx, ctx->rules, &f, 1);
	free(copy);
	return err;
}

size_t
bounce_ctx_rule_count(const bounce_ctx *ctx)
{
	return ctx != NULL && ctx->rules != NULL ? ctx->rules->count : 0;
}
