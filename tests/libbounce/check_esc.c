/*
 * check_esc.c - tests for libbounce/esc.c (RFC 3463 codes in text).
 */
#include <string.h>

#include "bounce.h"
#include "testutil.h"

static long
find(const char *text, char *out)
{
	return bounce_esc_find(out, 16, text, strlen(text));
}

START_TEST(test_find_plain)
{
	char code[16];

	ck_assert_int_eq(find("550 5.1.1 <a@b.c>... User unknown", code), 4);
	ck_assert_str_eq(code, "5.1.1");
	ck_assert_int_eq(find("(#5.5.0)", code), 2);
	ck_assert_str_eq(code, "5.5.0");
	ck_assert_int_eq(find("421 4.7.28 rate", code), 4);
	ck_assert_str_eq(code, "4.7.28");
	ck_assert_int_ge(find("status 5.7.500 end", code), 0);
	ck_assert_str_eq(code, "5.7.500");
}
END_TEST

START_TEST(test_not_codes)
{
	char code[16];

	ck_assert_int_eq(find("host 192.0.2.5 said", code), -1);
	ck_assert_str_eq(code, "");
	ck_assert_int_eq(find("Postfix 2.10.1 here", code), -1);
	ck_assert_int_eq(find("volume - 4.16.55.1", code), -1);
	ck_assert_int_eq(find("v5.1.1x", code), -1);
	ck_assert_int_eq(find("5.9.1 is no subject", code), -1);
	ck_assert_int_eq(find("3.1.1 is no class", code), -1);
	ck_assert_int_eq(find("", code), -1);
}
END_TEST

START_TEST(test_valid)
{
	ck_assert(bounce_esc_valid("5.1.1"));
	ck_assert(bounce_esc_valid("4.7.26"));
	ck_assert(bounce_esc_valid("2.0.0"));
	ck_assert(!bounce_esc_valid("5.1.1 "));
	ck_assert(!bounce_esc_valid("5.1"));
	ck_assert(!bounce_esc_valid("6.1.1"));
	ck_assert(!bounce_esc_valid("5.1.1234"));
	ck_assert(!bounce_esc_valid(NULL));
}
END_TEST

static Suite *
esc_suite(void)
{
	Suite *s = suite_create("esc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_find_plain);
	tcase_add_test(tc, test_not_codes);
	tcase_add_test(tc, test_valid);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(esc_suite)
