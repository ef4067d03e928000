/*
 * rules.h - the compiled classification rules, shared by rules.c (which
 * reads rules files and keeps the table) and classify.c (which runs it).
 *
 * The format is described in libbounce/rules/README.md.  A rule is a
 * category, a reason and a list of conditions that must all hold; the
 * table is tried in order and the first rule whose conditions hold
 * decides.  All the text and mta phrases of all rules live in one
 * Aho-Corasick matcher, so a classification reads the text once; each
 * phrase found marks the conditions it belongs to, so trying a rule costs
 * a few comparisons whatever the number of its phrases.
 */
#ifndef BOUNCE_RULES_H
#define BOUNCE_RULES_H

#include <stdint.h>

#include "internal.h"
#include "match.h"

/* Limits on rules files (documented in libbounce/rules/README.md). */
#define RULES_MAX		4096	/* active rules in a context */
#define RULES_LOADS_MAX		256	/* bounce_ctx_load_rules() calls */
#define RULE_ID_MAX		64	/* bytes in a rule id */
#define RULE_COND_MAX		16	/* conditions in one rule */
#define RULE_ALT_MAX		64	/* alternatives in one condition */
#define RULE_PATTERN_MAX	256	/* bytes in one text/mta phrase */
#define RULE_STMT_MAX		16384	/* bytes in one statement */
#define RULE_LINE_MAX		4096	/* bytes in one line */
#define RULES_PATTERNS_MAX	32768	/* distinct phrases in a context */

/* Bits for the phase and class masks. */
#define PHASE_BIT(p)	(1u << (unsigned)(p))	/* BOUNCE_PHASE_NONE is 0 */
#define PHASE_ALL	0x7fu
#define CLASS_NONE	0x01u	/* no reply code and no enhanced code */
#define CLASS_2		0x02u
#define CLASS_4		0x04u
#define CLASS_5		0x08u
#define CLASS_OTHER	0x10u	/* 1xx, 3xx: not a result at all */
#define CLASS_ALL	0x1fu

enum cond_key {
	/* in the order rules.c sorts them: cheapest first */
	COND_CODE = 0,
	COND_ACTION,
	COND_STATUS,
	COND_MTA,
	COND_TEXT
};

/* A status alternative: a glob ("5.7.2*", "?.1.1") or a detail range
 * ("5.7.606-649": class, subject, lo..hi). */
struct status_alt {
	const char *glob;	/* NULL for a range */
	int cls, subject;
	unsigned int lo, hi;
};

struct cond {
	enum cond_key key;
	int negated;		/* !key=: none of the alternatives holds */
	unsigned int nalt;
	uint32_t cid;		/* text, mta: index in rules->cond_seen */
	union {
		char (*code)[4];		/* "5x0", "000" */
		const char **action;		/* "failed", "" for none */
		struct status_alt *status;
		uint32_t *pattern;		/* ids in rules->pattern */
	} alt;
};

struct rule {
	const char *id;
	bounce_category category;
	const char *reason;
	const char *file;	/* where it was defined, for messages */
	unsigned long line;
	unsigned int phase_mask;	/* PHASE_BIT()s it applies to */
	unsigned int class_mask;	/* CLASS_*s it applies to */
	unsigned int ncond;
	struct cond *cond;
};

struct rules_load;	/* one file's memory, in rules.c */

struct rules {
	struct rule **order;	/* the active rules, in the order tried */
	size_t count;
	/* distinct phrases, normalised; id = index */
	char **pattern;
	size_t *pattern_len;
	size_t npattern, pattern_size;
	uint32_t *pattern_hash;	/* open addressing: id + 1, 0 = empty */
	size_t hash_size;
	struct matcher *matcher;
	/* phrase id -> the text (mta) conditions of active rules that
	 * contain it: map[at[id]..at[id + 1]) are condition ids */
	uint32_t *text_at, *text_map, *mta_at, *mta_map;
	/* per-classification scratch: condition id -> generation in which
	 * one of its phrases was seen, so a condition costs one look-up */
	uint32_t *cond_seen;
	uint32_t ncond;
	uint32_t generation;
	char *text;		/* the text prepared for matching */
	size_t text_size;	/* max_field_bytes + 1 */
	struct rules_load *loads;
	unsigned int nloads;
};

#endif
