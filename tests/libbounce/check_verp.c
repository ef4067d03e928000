/*
 * check_verp.c - tests for libbounce/verp.c.
 */
#include "bounce.h"
#include "testutil.h"

START_TEST(test_decode)
{
	char out[256];

	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "list-bounces+alice=example.net@lists.example.org", NULL),
	    BOUNCE_OK);
	ck_assert_str_eq(out, "alice@example.net");
	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "<list-bounces+a=b=c=example.net@lists.example.org>", NULL),
	    BOUNCE_OK);
	ck_assert_str_eq(out, "a=b=c@example.net");
	/* Postfix ${extension}: no domain of its own */
	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "x+bob=example.com", NULL), BOUNCE_OK);
	ck_assert_str_eq(out, "bob@example.com");
}
END_TEST

START_TEST(test_separator)
{
	bounce_verp_options o = BOUNCE_VERP_OPTIONS_INIT;
	char out[256];

	o.separator = '-';
	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "bounces-carol=example.org@lists.example.org", &o), BOUNCE_OK);
	ck_assert_str_eq(out, "carol@example.org");
}
END_TEST

START_TEST(test_not_verp)
{
	char out[8];

	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "list-bounces@lists.example.org", NULL), BOUNCE_ENOTFOUND);
	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "list+tag@lists.example.org", NULL), BOUNCE_ENOTFOUND);
	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "list+a=nodot@lists.example.org", NULL), BOUNCE_ENOTFOUND);
	ck_assert_int_eq(bounce_verp_decode(out, sizeof(out),
	    "list+alice=example.net@lists.example.org", NULL),
	    BOUNCE_ELIMIT);
}
END_TEST

static Suite *
verp_suite(void)
{
	Suite *s = suite_create("verp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_separator);
	tcase_add_test(tc, test_not_verp);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(verp_suite)
