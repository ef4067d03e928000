/*
 * match.c - Aho-Corasick multi-pattern search.  See match.h.
 *
 * The automaton is a trie of the patterns with failure links (the longest
 * proper suffix of a state that is also a state) and dictionary links (the
 * nearest state along the failure chain where a pattern ends).  States are
 * numbered in breadth-first order, so the shallow states a scan visits
 * most sit together in memory.  Transitions are kept sparse (sorted edge
 * lists, most states have one child) rather than as a full table: a full
 * table for a few thousand phrases costs megabytes and milliseconds to
 * build, and bounced builds it at every start.  The root, where a scan
 * spends most of its time, has a full 256-entry table.
 *
 * The automaton is built straight from the sorted patterns, one level of
 * the trie at a time: a state is a run of sorted patterns sharing a
 * prefix, its children the sub-runs that agree on the next byte.  So the
 * states come out in breadth-first order with their edges together, and
 * no intermediate trie is built: building touches little memory, which
 * matters because bounced builds the matcher every time it starts.
 *
 * Cost: building is O(P log P) to sort plus linear in the total pattern
 * length (times the alphabet for the failure links in the worst case); a
 * scan is linear in the text plus the number of matches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "match.h"

#define NONE UINT32_MAX

struct mstate {
	uint32_t edge;		/* first edge in ebyte/eto; the edges run to
				 * the next state's first edge, sorted by
				 * byte (st[nstates] is a sentinel) */
	uint32_t fail;		/* failure link */
	uint32_t dict;		/* next state with output on the fail
				 * chain, 0 when none (the root has none) */
	uint32_t out;		/* first output in out_id/out_next, NONE */
};

struct matcher {
	uint32_t root[256];	/* root transitions; 0 stays at the root */
	uint32_t nstates;
	struct mstate *st;
	unsigned char *ebyte;
	uint32_t *eto;
	uint32_t *out_id;
	uint32_t *out_next;
};

/* A normalised pattern while the automaton is built. */
struct bpat {
	const char *p;
	uint32_t len;
	uint32_t id;
};

static inline int
match_space(int c)
{
	return str_is_space(c);
}

size_t
match_normalize(char *out, const char *p, size_t n)
{
	size_t i, o = 0;
	int space = 0;

	for (i = 0; i < n; i++) {
		if (match_space(p[i])) {
			if (!space)
				out[o++] = ' ';
			space = 1;
			continue;
		}
		space = 0;
		out[o++] = (char)str_lc(p[i]);
	}
	out[o] = '\0';
	return o;
}

static int
bpat_cmp(const void *a, const void *b)
{
	const struct bpat *x = a, *y = b;
	uint32_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * States and edges from the sorted patterns pat[0..npat), breadth first.
 * While a state waits in the queue its run of patterns [lo, hi) is kept
 * in its fail and dict fields, which the link pass fills in afterwards.
 */
static void
build_states(struct matcher *m, const struct bpat *pat, uint32_t npat)
{
	uint32_t head = 0, tail = 1, level_end = 1, depth = 0, e = 0, nout = 0;
	uint32_t lo, hi, j;
	unsigned char c;

	m->st[0].fail = 0;
	m->st[0].dict = npat;
	while (head < tail) {
		if (head == level_end) {
			depth++;
			level_end = tail;
		}
		lo = m->st[head].fail;
		hi = m->st[head].dict;
		m->st[head].edge = e;
		m->st[head].out = NONE;
		/* patterns that end here sort first in the run */
		for (; lo < hi && pat[lo].len == depth; lo++) {
			m->out_id[nout] = pat[lo].id;
			m->out_next[nout] = m->st[head].out;
			m->st[head].out = nout++;
		}
		while (lo < hi) {
			c = (unsigned char)pat[lo].p[depth];
			for (j = lo + 1; j < hi &&
			    (unsigned char)pat[j].p[depth] == c; j++)
				;
			m->ebyte[e] = c;
			m->eto[e++] = tail;
			m->st[tail].fail = lo;
			m->st[tail].dict = j;
			tail++;
			lo = j;
		}
		head++;
	}
	m->nstates = tail;
	m->st[tail].edge = e;
}

/* Failure and dictionary links, parents before children. */
static void
build_links(struct matcher *m)
{
	uint32_t s, e, end, f, i, v, t;
	unsigned char c;

	memset(m->root, 0, sizeof(m->root));
	for (e = 0; e < m->st[1].edge; e++)
		m->root[m->ebyte[e]] = m->eto[e];
	m->st[0].fail = 0;
	m->st[0].dict = 0;
	for (s = 0; s < m->nstates; s++) {
		for (e = m->st[s].edge, end = m->st[s + 1].edge; e < end;
		    e++) {
			v = m->eto[e];
			c = m->ebyte[e];
			t = 0;
			for (f = m->st[s].fail; s != 0; f = m->st[f].fail) {
				if (f == 0) {
					t = m->root[c];
					break;
				}
				for (i = m->st[f].edge; i < m->st[f + 1].edge &&
				    m->ebyte[i] <= c; i++)
					if (m->ebyte[i] == c)
						t = m->eto[i];
				if (t != 0)
					break;
			}
			m->st[v].fail = t;
			m->st[v].dict = m->st[t].out != NONE ? t :
			    m->st[t].dict;
		}
	}
}

int
matcher_new(struct matcher **out, const char *const *pats,
    const size_t *lens, size_t n)
{
	struct bpat *pat = NULL;
	struct matcher *m = NULL;
	size_t i, total = 0;
	uint32_t npat = 0;
	char *norm = NULL, *p;
	int err = BOUNCE_ENOMEM;

	*out = NULL;
	if (n > MATCH_PATTERNS_MAX)
		return BOUNCE_ELIMIT;
	for (i = 0; i < n; i++) {
		total += lens[i];
		if (total > MATCH_BYTES_MAX)
			return BOUNCE_ELIMIT;
	}
	/* at most one state per pattern byte, plus the root; the unused
	 * tail of these arrays is never touched */
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->st = malloc((total + 2) * sizeof(*m->st))) == NULL ||
	    (m->ebyte = malloc(total + 1)) == NULL ||
	    (m->eto = malloc((total + 1) * sizeof(*m->eto))) == NULL ||
	    (m->out_id = malloc((n + 1) * sizeof(*m->out_id))) == NULL ||
	    (m->out_next = malloc((n + 1) * sizeof(*m->out_next))) == NULL ||
	    (pat = malloc((n + 1) * sizeof(*pat))) == NULL ||
	    (norm = malloc(total + n + 1)) == NULL)
		goto cleanup;
	for (i = 0, p = norm; i < n; i++) {
		pat[npat].len = (uint32_t)match_normalize(p, pats[i], lens[i]);
		if (pat[npat].len == 0)
			continue;
		pat[npat].p = p;
		pat[npat].id = (uint32_t)i;
		p += pat[npat++].len + 1;
	}
	qsort(pat, npat, sizeof(*pat), bpat_cmp);
	build_states(m, pat, npat);
	build_links(m);
	*out = m;
	m = NULL;
	err = BOUNCE_OK;
cleanup:
	free(pat);
	free(norm);
	matcher_free(m);
	return err;
}

void
matcher_free(struct matcher *m)
{
	if (m == NULL)
		return;
	free(m->st);
	free(m->ebyte);
	free(m->eto);
	free(m->out_id);
	free(m->out_next);
	free(m);
}

size_t
matcher_states(const struct matcher *m)
{
	return m->nstates;
}

/* The state after reading byte c in state s. */
static inline uint32_t
match_step(const struct matcher *m, uint32_t s, unsigned char c)
{
	const struct mstate *st;
	uint32_t e, end;

	for (;;) {
		if (s == 0)
			return m->root[c];
		st = &m->st[s];
		for (e = st->edge, end = st[1].edge; e < end; e++) {
			if (m->ebyte[e] == c)
				return m->eto[e];
			if (m->ebyte[e] > c)
				break;
		}
		s = st->fail;
	}
}

static inline void
match_report(const struct matcher *m, uint32_t s, match_fn fn, void *arg)
{
	uint32_t o, k;

	for (o = m->st[s].out != NONE ? s : m->st[s].dict; o != 0;
	    o = m->st[o].dict)
		for (k = m->st[o].out; k != NONE; k = m->out_next[k])
			fn(arg, m->out_id[k]);
}

void
matcher_scan(const struct matcher *m, const char *text, size_t len,
    match_fn fn, void *arg)
{
	uint32_t s;
	size_t i;
	int space = 1;

	if (m == NULL || m->nstates <= 1)
		return;
	/* the space read before the text */
	s = match_step(m, 0, ' ');
	match_report(m, s, fn, arg);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (match_space(c)) {
			if (space)
				continue;
			space = 1;
			c = ' ';
		} else {
			space = 0;
			c = str_lower_map[c];
		}
		s = match_step(m, s, c);
		if (m->st[s].out != NONE || m->st[s].dict != 0)
			match_report(m, s, fn, arg);
	}
	if (!space) {
		s = match_step(m, s, ' ');
		match_report(m, s, fn, arg);
	}
}
