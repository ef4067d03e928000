/*
 * check_smtp.c - tests for libbounce/smtp.c (SMTP reply parsing).
 */
#include <string.h>

#include "bounce.h"
#include "testutil.h"

static void
parse(bounce_smtp_reply *r, const char *s)
{
	ck_assert_int_eq(bounce_smtp_reply_parse(r, s, strlen(s)), BOUNCE_OK);
}

START_TEST(test_single_line)
{
	bounce_smtp_reply r;

	parse(&r, "550 5.1.1 <bob@example.net>: User unknown");
	ck_assert_int_eq(r.code, 550);
	ck_assert_str_eq(r.enhanced, "5.1.1");
	ck_assert_str_eq(r.text, "<bob@example.net>: User unknown");
	bounce_smtp_reply_clear(&r);
}
END_TEST

START_TEST(test_multi_line)
{
	bounce_smtp_reply r;

	parse(&r, "550-5.1.1 The email account that you tried to reach does\r\n"
	    "550-5.1.1 not exist. Please try\r\n"
	    "550 5.1.1 double-checking. x1si - gsmtp\r\n");
	ck_assert_int_eq(r.code, 550);
	ck_assert_str_eq(r.enhanced, "5.1.1");
	ck_assert_str_eq(r.text, "The email account that you tried to reach "
	    "does not exist. Please try double-checking. x1si - gsmtp");
	bounce_smtp_reply_clear(&r);
}
END_TEST

START_TEST(test_flattened)
{
	bounce_smtp_reply r;

	/* as Postfix logs a multi-line reply */
	parse(&r, "550-5.7.1 [192.0.2.1] Our system has detected 550-5.7.1 "
	    "an unusual rate 550 5.7.1 of mail.");
	ck_assert_int_eq(r.code, 550);
	ck_assert_str_eq(r.enhanced, "5.7.1");
	ck_assert_str_eq(r.text,
	    "[192.0.2.1] Our system has detected an unusual rate of mail.");
	bounce_smtp_reply_clear(&r);
}
END_TEST

START_TEST(test_no_code)
{
	bounce_smtp_reply r;

	parse(&r, "  connect to mx.example.net[192.0.2.10]:25:\n Connection "
	    "refused ");
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.enhanced, "");
	ck_assert_str_eq(r.text,
	    "connect to mx.example.net[192.0.2.10]:25: Connection refused");
	bounce_smtp_reply_clear(&r);

	parse(&r, "5.2.2 mailbox full");
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.enhanced, "5.2.2");
	ck_assert_str_eq(r.text, "mailbox full");
	bounce_smtp_reply_clear(&r);

	parse(&r, "");
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.text, "");
	bounce_smtp_reply_clear(&r);
}
END_TEST

START_TEST(test_code_only)
{
	bounce_smtp_reply r;

	parse(&r, "421");
	ck_assert_int_eq(r.code, 421);
	ck_assert_str_eq(r.text, "");
	bounce_smtp_reply_clear(&r);
	/* a number that is not a reply code */
	parse(&r, "5501 things");
	ck_assert_int_eq(r.code, 0);
	bounce_smtp_reply_clear(&r);
}
END_TEST

static Suite *
smtp_suite(void)
{
	Suite *s = suite_create("smtp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_single_line);
	tcase_add_test(tc, test_multi_line);
	tcase_add_test(tc, test_flattened);
	tcase_add_test(tc, test_no_code);
	tcase_add_test(tc, test_code_only);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(smtp_suite)
