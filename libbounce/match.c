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
 * Cost: building is linear in the total pattern length (times the
 * alphabet for the failure links in the worst case); a scan is linear in
 * the text plus the number of matches.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "match.h"

#define NONE UINT32_MAX

struct mstate {
	uint32_t edge;		/* first edge in ebyte/eto */
	uint32_t nedge;		/* number of edges, sorted by byte */
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

/* The trie while it is built: child/sibling lists. */
struct bnode {
	uint32_t child;		/* first child, 0 when none */
	uint32_t sibling;	/* next child of the same parent, 0 */
	uint32_t out;		/* first output, NONE */
	unsigned char byte;	/* the byte that leads here */
};

struct build {
	struct bnode *node;
	size_t n, size;
	uint32_t *out_id, *out_next;
	size_t nout;
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

static uint32_t
build_child(const struct build *b, uint32_t s, unsigned char c)
{
	uint32_t k;

	for (k = b->node[s].child; k != 0; k = b->node[k].sibling)
		if (b->node[k].byte == c)
			return k;
	return 0;
}

static int
build_add(struct build *b, uint32_t parent, unsigned char c, uint32_t *out)
{
	struct bnode *nn;
	size_t size;

	if (b->n == b->size) {
		size = b->size * 2;
		if ((nn = realloc(b->node, size * sizeof(*nn))) == NULL)
			return BOUNCE_ENOMEM;
		b->node = nn;
		b->size = size;
	}
	nn = &b->node[b->n];
	nn->child = 0;
	nn->out = NONE;
	nn->byte = c;
	/* keep children sorted by byte: the flat edge lists need it */
	if (b->node[parent].child == 0 ||
	    b->node[b->node[parent].child].byte > c) {
		nn->sibling = b->node[parent].child;
		b->node[parent].child = (uint32_t)b->n;
	} else {
		uint32_t k = b->node[parent].child;

		while (b->node[k].sibling != 0 &&
		    b->node[b->node[k].sibling].byte < c)
			k = b->node[k].sibling;
		nn->sibling = b->node[k].sibling;
		b->node[k].sibling = (uint32_t)b->n;
	}
	*out = (uint32_t)b->n++;
	return BOUNCE_OK;
}

/* Insert one normalised pattern with its id. */
static int
build_insert(struct build *b, const char *p, size_t n, uint32_t id)
{
	uint32_t s = 0, t;
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		if ((t = build_child(b, s, (unsigned char)p[i])) == 0 &&
		    (err = build_add(b, s, (unsigned char)p[i], &t)) !=
		    BOUNCE_OK)
			return err;
		s = t;
	}
	b->out_id[b->nout] = id;
	b->out_next[b->nout] = b->node[s].out;
	b->node[s].out = (uint32_t)b->nout++;
	return BOUNCE_OK;
}

/* Turn the built trie into the matcher: BFS order, links, flat edges. */
static int
build_finish(struct matcher *m, struct build *b)
{
	uint32_t *order = NULL, *newid = NULL, head, tail, s, k, f, e;
	int err = BOUNCE_ENOMEM;
	size_t n = b->n;

	if ((order = malloc(n * sizeof(*order))) == NULL ||
	    (newid = malloc(n * sizeof(*newid))) == NULL ||
	    (m->st = calloc(n, sizeof(*m->st))) == NULL ||
	    (m->ebyte = malloc(n)) == NULL ||
	    (m->eto = malloc(n * sizeof(*m->eto))) == NULL)
		goto cleanup;
	m->nstates = (uint32_t)n;
	/* breadth-first numbering; the edges of state i are then the
	 * contiguous run of new ids of its children */
	order[0] = 0;
	newid[0] = 0;
	head = 0;
	tail = 1;
	e = 0;
	while (head < tail) {
		s = order[head];
		m->st[head].edge = e;
		for (k = b->node[s].child; k != 0; k = b->node[k].sibling) {
			newid[k] = tail;
			order[tail++] = k;
			m->ebyte[e] = b->node[k].byte;
			m->eto[e++] = newid[k];
		}
		m->st[head].nedge = e - m->st[head].edge;
		m->st[head].out = b->node[s].out;
		head++;
	}
	for (k = 0; k < 256; k++)
		m->root[k] = 0;
	for (e = 0; e < m->st[0].nedge; e++)
		m->root[m->ebyte[e]] = m->eto[e];
	/* failure and dictionary links, parents before children */
	m->st[0].fail = 0;
	m->st[0].dict = 0;
	for (s = 0; s < n; s++) {
		for (e = m->st[s].edge; e < m->st[s].edge + m->st[s].nedge;
		    e++) {
			uint32_t v = m->eto[e], t = 0;
			unsigned char c = m->ebyte[e];

			if (s != 0) {
				f = m->st[s].fail;
				for (;;) {
					uint32_t i;

					t = 0;
					if (f == 0) {
						t = m->root[c];
						break;
					}
					for (i = m->st[f].edge; i <
					    m->st[f].edge + m->st[f].nedge; i++)
						if (m->ebyte[i] == c) {
							t = m->eto[i];
							break;
						}
					if (t != 0)
						break;
					f = m->st[f].fail;
				}
			}
			m->st[v].fail = t;
			m->st[v].dict = m->st[t].out != NONE ? t :
			    m->st[t].dict;
		}
	}
	m->out_id = b->out_id;
	m->out_next = b->out_next;
	b->out_id = NULL;
	b->out_next = NULL;
	err = BOUNCE_OK;
cleanup:
	free(order);
	free(newid);
	return err;
}

int
matcher_new(struct matcher **out, const char *const *pats,
    const size_t *lens, size_t n)
{
	struct build b = { 0 };
	struct matcher *m = NULL;
	size_t i, total = 0, maxlen = 0, len;
	char *tmp = NULL;
	int err = BOUNCE_ENOMEM;

	*out = NULL;
	if (n > MATCH_PATTERNS_MAX)
		return BOUNCE_ELIMIT;
	for (i = 0; i < n; i++) {
		total += lens[i];
		if (lens[i] > maxlen)
			maxlen = lens[i];
		if (total > MATCH_BYTES_MAX)
			return BOUNCE_ELIMIT;
	}
	b.size = total + 1;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (b.node = malloc(b.size * sizeof(*b.node))) == NULL ||
	    (b.out_id = malloc((n + 1) * sizeof(*b.out_id))) == NULL ||
	    (b.out_next = malloc((n + 1) * sizeof(*b.out_next))) == NULL ||
	    (tmp = malloc(maxlen + 1)) == NULL)
		goto cleanup;
	memset(&b.node[0], 0, sizeof(b.node[0]));
	b.node[0].out = NONE;
	b.n = 1;
	for (i = 0; i < n; i++) {
		len = match_normalize(tmp, pats[i], lens[i]);
		if (len == 0)
			continue;
		if ((err = build_insert(&b, tmp, len, (uint32_t)i)) !=
		    BOUNCE_OK)
			goto cleanup;
	}
	if ((err = build_finish(m, &b)) != BOUNCE_OK)
		goto cleanup;
	*out = m;
	m = NULL;
cleanup:
	free(tmp);
	free(b.node);
	free(b.out_id);
	free(b.out_next);
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
		for (e = st->edge, end = e + st->nedge; e < end; e++) {
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
