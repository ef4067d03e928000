/*
 * check_input.c - tests for bounced/input.c: opening inputs, mbox "From "
 * lines, splitting an mbox.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "testutil.h"

START_TEST(test_from_line)
{
	const char *a = "From MAILER-DAEMON  Thu Jul  2 12:05:05 2020";
	const char *b = "From the desk of the list owner";

	ck_assert_int_eq(mbox_is_from_line(a, strlen(a)), 1);
	ck_assert_int_eq(mbox_is_from_line(b, strlen(b)), 0);
	ck_assert_int_eq(mbox_is_from_line("From:", 5), 0);
	ck_assert_int_eq(mbox_is_from_line("", 0), 0);
}
END_TEST

START_TEST(test_open_directory)
{
	FILE *fp;

	errno = 0;
	fp = input_open("tests");
	ck_assert_ptr_null(fp);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_ptr_null(input_open("tests/no-such-file"));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_eq(input_open("-"), stdin);
}
END_TEST

START_TEST(test_mbox_split)
{
	static const char mbox[] =
	    "From a@example.net Sat Nov 28 09:00:00 2026\n"
	    "Subject: one\n\nFrom here on, body text\n"
	    "From b@example.net Sat Nov 28 09:01:00 2026\n"
	    "Subject: two\n\nbody\n";
	FILE *fp = fmemopen((void *)mbox, sizeof(mbox) - 1, "r");
	struct mbox_reader *mr;
	struct msgbuf mb = { 0 };
	int oversize, n = 0;

	ck_assert_ptr_nonnull(fp);
	mr = mbox_reader_new(fp, 1 << 20);
	ck_assert_ptr_nonnull(mr);
	while (mbox_reader_next(mr, &mb, &oversize) > 0) {
		n++;
		ck_assert_int_eq(oversize, 0);
		ck_assert_ptr_nonnull(strstr(mb.data, n == 1 ? "Subject: one" :
		    "Subject: two"));
	}
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(mbox_reader_is_mbox(mr), 1);
	mbox_reader_free(mr);
	msgbuf_free(&mb);
	fclose(fp);
}
END_TEST

static Suite *
input_suite(void)
{
	Suite *s = suite_create("input");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_from_line);
	tcase_add_test(tc, test_open_directory);
	tcase_add_test(tc, test_mbox_split);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(input_suite)
