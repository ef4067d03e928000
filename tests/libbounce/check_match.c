/*
 * check_match.c - tests for libbounce/match.c (Aho-Corasick matcher):
 * the classic overlapping cases, case and white space folding, the
 * virtual spaces at both ends, bytes outside ASCII, duplicates, and a
 * comparison with a naive search over generated texts.
 */
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "match.h"
#include "testutil.h"

#define MAXPAT 64

struct hits {
	unsigned int count[MAXPAT];
	unsigned int total;
};

static void
hit(void *arg, unsigned int id)
{
	struct hits *h = arg;

	ck_assert_uint_lt(id, MAXPAT);
	h->count[id]++;
	h->total++;
}

static struct matcher *
build(const char *const *pats, size_t n)
{
	size_t lens[MAXPAT], i;
	struct matcher *m;

	ck_assert_uint_le(n, MAXPAT);
	for (i = 0; i < n; i++)
		lens[i] = strlen(pats[i]);
	ck_assert_int_eq(matcher_new(&m, pats, lens, n), BOUNCE_OK);
	return m;
}

static void
scan(const struct matcher *m, const char *text, struct hits *h)
{
	memset(h, 0, sizeof(*h));
	matcher_scan(m, text, strlen(text), hit, h);
}

START_TEST(test_overlapping)
{
	static const char *const pats[] = { "he", "she", "his", "hers" };
	struct matcher *m = build(pats, 4);
	struct hits h;

	scan(m, "ushers", &h);
	ck_assert_uint_eq(h.count[0], 1);	/* he */
	ck_assert_uint_eq(h.count[1], 1);	/* she */
	ck_assert_uint_eq(h.count[2], 0);
	ck_assert_uint_eq(h.count[3], 1);	/* hers */
	scan(m, "hishers", &h);
	ck_assert_uint_eq(h.count[2], 1);
	ck_assert_uint_eq(h.count[3], 1);
	scan(m, "nothing here?", &h);
	ck_assert_uint_eq(h.total, 1);		/* "he" in "here" */
	matcher_free(m);
}
END_TEST

START_TEST(test_case_and_space)
{
	static const char *const pats[] = { "user unknown", "Blocked  Using",
		" rbl ", "spam" };
	struct matcher *m = build(pats, 4);
	struct hits h;

	scan(m, "550 5.1.1 <a@b>: USER\tUnknown", &h);
	ck_assert_uint_eq(h.count[0], 1);
	scan(m, "client host blocked\r\n   using zen", &h);
	ck_assert_uint_eq(h.count[1], 1);
	/* the virtual spaces at both ends */
	scan(m, "RBL", &h);
	ck_assert_uint_eq(h.count[2], 1);
	scan(m, "listed in rbl", &h);
	ck_assert_uint_eq(h.count[2], 1);
	scan(m, "rbl-plus", &h);
	ck_assert_uint_eq(h.count[2], 0);
	scan(m, "antispam spam SPAM", &h);
	ck_assert_uint_eq(h.count[3], 3);
	matcher_free(m);
}
END_TEST

START_TEST(test_utf8_and_duplicates)
{
	/* Japanese "meeru" (mail), UTF-8 */
	static const char *const pats[] = {
		"\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab", "full", "FULL", "",
		"x" };
	struct matcher *m = build(pats, 5);
	struct hits h;

	scan(m, "552 \xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab (mailbox full)",
	    &h);
	ck_assert_uint_eq(h.count[0], 1);
	/* two patterns equal after folding both report */
	ck_assert_uint_eq(h.count[1], 1);
	ck_assert_uint_eq(h.count[2], 1);
	/* an empty pattern never matches */
	ck_assert_uint_eq(h.count[3], 0);
	scan(m, "", &h);
	ck_assert_uint_eq(h.total, 0);
	matcher_free(m);
}
END_TEST

START_TEST(test_empty_matcher)
{
	struct matcher *m;
	struct hits h;

	ck_assert_int_eq(matcher_new(&m, NULL, NULL, 0), BOUNCE_OK);
	ck_assert_uint_eq(matcher_states(m), 1);
	scan(m, "anything", &h);
	ck_assert_uint_eq(h.total, 0);
	matcher_free(m);
	matcher_free(NULL);
}
END_TEST

START_TEST(test_normalize)
{
	char out[64];

	ck_assert_uint_eq(match_normalize(out, "  A\t\nB  c ", 10), 7);
	ck_assert_str_eq(out, " a b c ");
	ck_assert_uint_eq(match_normalize(out, "", 0), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* Occurrences of needle in hay, both already normalised, overlapping. */
static unsigned int
naive(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	unsigned int c = 0;
	const char *p;

	for (p = hay; (p = strstr(p, needle)) != NULL; p++)
		c++;
	return n > 0 ? c : 0;
}

START_TEST(test_against_naive)
{
	/* a small alphabet makes many overlaps and failure chains */
	static const char alpha[] = "ab c";
	char pats_buf[MAXPAT][8], text[256], raw[260], norm[260];
	const char *pats[MAXPAT];
	unsigned int seed = 12345, round, i, j, len;
	struct matcher *m;
	struct hits h;

	for (round = 0; round < 200; round++) {
		for (i = 0; i < 24; i++) {
			len = 1 + (seed = seed * 1103515245u + 12345u) % 5;
			for (j = 0; j < len; j++) {
				seed = seed * 1103515245u + 12345u;
				pats_buf[i][j] = alpha[(seed >> 16) % 3];
			}
			pats_buf[i][len] = '\0';
			pats[i] = pats_buf[i];
		}
		m = build(pats, 24);
		len = (seed = seed * 1103515245u + 12345u) % 200;
		for (j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			text[j] = alpha[(seed >> 16) % 4];
		}
		text[len] = '\0';
		scan(m, text, &h);
		/* what the matcher reads: " " + text + " ", normalised */
		raw[0] = ' ';
		memcpy(raw + 1, text, len);
		raw[len + 1] = ' ';
		(void)match_normalize(norm, raw, len + 2);
		for (i = 0; i < 24; i++) {
			char np[8];

			(void)match_normalize(np, pats[i], strlen(pats[i]));
			ck_assert_msg(h.count[i] == naive(norm, np),
			    "round %u: '%s' in '%s': %u, naive %u", round,
			    pats[i], text, h.count[i], naive(norm, np));
		}
		matcher_free(m);
	}
}
END_TEST

static Suite *
match_suite(void)
{
	Suite *s = suite_create("match");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_overlapping);
	tcase_add_test(tc, test_case_and_space);
	tcase_add_test(tc, test_utf8_and_duplicates);
	tcase_add_test(tc, test_empty_matcher);
	tcase_add_test(tc, test_normalize);
	tcase_add_test(tc, test_against_naive);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(match_suite)
