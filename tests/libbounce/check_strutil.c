/*
 * check_strutil.c - tests for libbounce/strutil.c: the byte-string helpers
 * every reader leans on, and the arena.
 */
#include <string.h>

#include "strutil.h"
#include "testutil.h"

START_TEST(test_blank_and_digits)
{
	const char *s = " \t\r x";

	ck_assert_int_eq(str_blank(s, s + 4), 1);
	ck_assert_int_eq(str_blank(s, s + 5), 0);
	ck_assert_int_eq(str_blank(s, s), 1);
	ck_assert_int_eq(str_xdigit('0'), 0);
	ck_assert_int_eq(str_xdigit('9'), 9);
	ck_assert_int_eq(str_xdigit('a'), 10);
	ck_assert_int_eq(str_xdigit('F'), 15);
	ck_assert_int_eq(str_xdigit('g'), -1);
	ck_assert_int_eq(str_xdigit('\0'), -1);
}
END_TEST

START_TEST(test_find)
{
	const char *hay = "550 5.1.1 <Bob@Example.NET>: User Unknown";
	size_t n = strlen(hay);

	ck_assert_ptr_eq(str_ifind_z(hay, n, "user unknown"), hay + 29);
	ck_assert_ptr_eq(str_ifind(hay, n, "bob@example.net", 15), hay + 11);
	ck_assert_ptr_null(str_ifind_z(hay, n, "mailbox full"));
	/* the needle must lie wholly inside the first n bytes */
	ck_assert_ptr_null(str_ifind_z(hay, 30, "user unknown"));
	{
		static const char abc[] = "abcabc";

		ck_assert_ptr_eq(str_find(abc, 6, "cab", 3), abc + 2);
	}
	ck_assert_ptr_null(str_find("abc", 3, "abcd", 4));
}
END_TEST

START_TEST(test_prefix_and_equal)
{
	ck_assert_int_eq(str_istarts("Recipient: x", 12, "recipient:"), 1);
	ck_assert_int_eq(str_istarts("Recip", 5, "recipient"), 0);
	ck_assert_int_eq(str_istarts("", 0, ""), 1);
	ck_assert_int_eq(str_ieq("Delivery-Status", "delivery-status"), 1);
	ck_assert_int_eq(str_ieq("delivery", "delivery-status"), 0);
}
END_TEST

START_TEST(test_trim_and_flatten)
{
	const char *p;
	size_t n = 8;
	char out[32];

	p = str_trim("  a b \t\n", &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(p, "a b", 3), 0);
	n = str_flatten(out, sizeof(out), "550 user\r\n  unknown\t here", 25);
	ck_assert_str_eq(out, "550 user unknown here");
	ck_assert_uint_eq(n, strlen(out));
	/* cut at outlen - 1, still NUL-terminated */
	n = str_flatten(out, 5, "abcdefgh", 8);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(out, "abcd");
}
END_TEST

START_TEST(test_utf8)
{
	char o[8];
	char bad[] = "ok\xff\xc3\xa9\xe2\x82";

	ck_assert_uint_eq(str_utf8_put(o, 'A'), 1);
	ck_assert_uint_eq(str_utf8_put(o, 0xE9), 2);
	ck_assert_int_eq(memcmp(o, "\xc3\xa9", 2), 0);
	ck_assert_uint_eq(str_utf8_put(o, 0x20AC), 3);
	ck_assert_int_eq(memcmp(o, "\xe2\x82\xac", 3), 0);
	ck_assert_uint_eq(str_utf8_put(o, 0x1F600), 4);
	ck_assert_int_eq(memcmp(o, "\xf0\x9f\x98\x80", 4), 0);
	/* a stray byte and a cut sequence become '?', "é" stays */
	ck_assert_uint_eq(str_utf8_fix(bad, strlen(bad)), 3);
	ck_assert_str_eq(bad, "ok?\xc3\xa9??");
}
END_TEST

START_TEST(test_arena)
{
	struct arena a;
	char *s, *t;
	size_t i;

	arena_init(&a);
	s = arena_strndup(&a, "hello world", 5);
	ck_assert_str_eq(s, "hello");
	t = arena_flatten(&a, "a\r\n b\xff", 6);
	ck_assert_str_eq(t, "a b?");
	/* many small pieces, and one larger than a chunk */
	for (i = 0; i < 10000; i++)
		ck_assert_ptr_nonnull(arena_alloc(&a, 24));
	ck_assert_ptr_nonnull(arena_alloc(&a, 1 << 20));
	ck_assert_str_eq(s, "hello");
	arena_free(&a);
}
END_TEST

static Suite *
strutil_suite(void)
{
	Suite *s = suite_create("strutil");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_blank_and_digits);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_prefix_and_equal);
	tcase_add_test(tc, test_trim_and_flatten);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_arena);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(strutil_suite)
