/*
 * check_timeparse.c - tests for bounced/timeparse.c.
 */
#include <stdlib.h>

#include "testutil.h"
#include "timeparse.h"

START_TEST(test_iso)
{
	time_t t;

	ck_assert_int_eq(timeparse(&t, "2026-11-28T01:21:11+00:00", 0), 0);
	ck_assert_int_eq(t, 1795828871);
	ck_assert_int_eq(timeparse(&t, "2026-11-28T02:21:11.123456+01:00", 0),
	    0);
	ck_assert_int_eq(t, 1795828871);
	ck_assert_int_eq(timeparse(&t, "2026-11-28T01:21:11Z", 0), 0);
	ck_assert_int_eq(t, 1795828871);
	ck_assert_int_eq(timeparse(&t, "2026-11-27 20:21:11 -0500", 0), 0);
	ck_assert_int_eq(t, 1795828871);
	ck_assert_int_eq(timeparse(&t, "1795828871", 0), 0);
	ck_assert_int_eq(t, 1795828871);
}
END_TEST

START_TEST(test_local)
{
	time_t t, now = 1795828871;

	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_int_eq(timeparse(&t, "Nov 28 01:21:11", now), 0);
	ck_assert_int_eq(t, 1795828871);
	ck_assert_int_eq(timeparse(&t, "Nov  8 01:21:11", now), 0);
	ck_assert_int_eq(t, 1795828871 - 20 * 86400);
	/* read on 2 January, December is last year */
	ck_assert_int_eq(timeparse(&t, "Dec 31 23:00:00", 1798848000), 0);
	ck_assert_int_eq(t, 1798758000);
	ck_assert_int_eq(timeparse(&t, "2026-11-28 01:21:11", now), 0);
	ck_assert_int_eq(t, 1795828871);
}
END_TEST

START_TEST(test_bad)
{
	time_t t;

	ck_assert_int_eq(timeparse(&t, "", 0), -1);
	ck_assert_int_eq(timeparse(&t, "yesterday", 0), -1);
	ck_assert_int_eq(timeparse(&t, "Foo 28 01:21:11", 0), -1);
	ck_assert_int_eq(timeparse(&t, "Nov 28 25:21:11", 0), -1);
	ck_assert_int_eq(timeparse(&t, "2026-13-28T01:21:11Z", 0), -1);
	ck_assert_int_eq(timeparse(&t, "12x", 0), -1);
	ck_assert_int_eq(timeparse(&t, NULL, 0), -1);
}
END_TEST

static Suite *
timeparse_suite(void)
{
	Suite *s = suite_create("timeparse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_iso);
	tcase_add_test(tc, test_local);
	tcase_add_test(tc, test_bad);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(timeparse_suite)
