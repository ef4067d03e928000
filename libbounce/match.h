/*
 * match.h - find many fixed strings in a text in one pass (Aho-Corasick).
 *
 * The classifier has hundreds of rules, most of which look for phrases in
 * the reply text.  Searching for each phrase in turn would make the cost
 * grow with the table; an Aho-Corasick automaton over all phrases reads the
 * text once, whatever the number of rules.
 *
 * Matching is ASCII case-insensitive and blind to the amount of white
 * space: both the patterns and the text are read lower-cased, with every
 * run of white space (spaces, tabs, line breaks) read as one space, and
 * the text is read as if it had one space before and one after it, so
 * that " spam " also matches "spam" at either end of the text.  Bytes
 * outside ASCII are compared as they are (UTF-8 phrases work, without
 * case folding).
 *
 * Ownership: matcher_new() copies the patterns; the matcher is read-only
 * afterwards and may be shared by any number of scans.
 */
#ifndef BOUNCE_MATCH_H
#define BOUNCE_MATCH_H

#include <stddef.h>

/* Limits, checked by matcher_new(): past them it returns BOUNCE_ELIMIT. */
#define MATCH_PATTERNS_MAX	65536u		/* patterns in one matcher */
#define MATCH_BYTES_MAX		(4u * 1024 * 1024) /* their total length */

struct matcher;

/* Called once for each occurrence of pattern id (its index in pats)
 * ending at each position of the text; arg is the scan's argument. */
typedef void (*match_fn)(void *arg, unsigned int id);

/*
 * Build a matcher for pats[0..n), each lens[i] bytes long (an empty
 * pattern never matches).  Patterns are normalised as the text is (see
 * above); two patterns equal after that both report.  Returns BOUNCE_OK,
 * BOUNCE_ENOMEM or BOUNCE_ELIMIT.
 */
int matcher_new(struct matcher **out, const char *const *pats,
    const size_t *lens, size_t n);
void matcher_free(struct matcher *m);

/* Number of automaton states, for tests and measurements. */
size_t matcher_states(const struct matcher *m);

/* Report every pattern found in text[0..len). */
void matcher_scan(const struct matcher *m, const char *text, size_t len,
    match_fn fn, void *arg);

/*
 * Normalise p[0..n) into out (at least n + 1 bytes) as patterns and texts
 * are read: ASCII lower case, runs of white space made one space.  Returns
 * the new length; out is NUL-terminated.
 */
size_t match_normalize(char *out, const char *p, size_t n);

#endif
