/*
 * check_cli.c - the command line of ./bounced/bounced as users and MTAs
 * see it: --help everywhere, exit statuses (sysexits), messages that name
 * the input, stdin and mbox input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define BIN "./bounced/bounced"

#define run testutil_sh

START_TEST(test_help_everywhere)
{
	static const char *const cmds[] = {
		BIN " --help", BIN " parse --help", BIN " classify --help",
		BIN " config --help",
	};
	size_t i;
	char *out;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_int_eq(run(cmds[i], &out), 0);
		ck_assert_msg(strstr(out, "usage") != NULL, "%s: %s", cmds[i],
		    out);
		free(out);
	}
}
END_TEST

START_TEST(test_usage_errors)
{
	char *out;

	ck_assert_int_eq(run(BIN, NULL), 64);
	ck_assert_int_eq(run(BIN " no-such-command", &out), 64);
	ck_assert_ptr_nonnull(strstr(out, "no-such-command"));
	free(out);
	ck_assert_int_eq(run(BIN " parse", NULL), 64);
	ck_assert_int_eq(run(BIN " parse --no-such-option x", NULL), 64);
	ck_assert_int_eq(run(BIN " classify --phase nowhere --text x", &out),
	    64);
	ck_assert_ptr_nonnull(strstr(out, "nowhere"));
	free(out);
	ck_assert_int_eq(run(BIN " classify --code 999 --text x", NULL), 64);
}
END_TEST

START_TEST(test_unreadable_input)
{
	char *out;

	ck_assert_int_eq(run(BIN " parse /nonexistent/bounce.eml", &out), 66);
	/* the message names the file */
	ck_assert_ptr_nonnull(strstr(out, "/nonexistent/bounce.eml"));
	free(out);
	/* the other inputs are still parsed */
	ck_assert_int_eq(run(BIN " parse --json /nonexistent.eml "
	    "examples/bounces/exim-bounce.eml", &out), 66);
	ck_assert_ptr_nonnull(strstr(out, "\"recipient\":"));
	free(out);
	/* a directory says so, and what to do */
	ck_assert_int_eq(run(BIN " parse tests/fixtures", &out), 66);
	ck_assert_ptr_nonnull(strstr(out, "cannot open tests/fixtures: it is "
	    "a directory; name the files in it"));
	free(out);
}
END_TEST

START_TEST(test_stdin_and_mbox)
{
	char *out, *p;
	int n = 0;

	ck_assert_int_eq(run(BIN " parse --json - < "
	    "examples/bounces/exim-bounce.eml", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"file\":\"-\""));
	free(out);
	/* two messages in one mbox: numbered */
	ck_assert_int_eq(run("(printf 'From MAILER-DAEMON Sat Nov 28 01:00:00 "
	    "2026\\n'; cat examples/bounces/exim-bounce.eml; printf '\\nFrom "
	    "MAILER-DAEMON Sat Nov 28 01:00:01 2026\\n'; cat "
	    "examples/bounces/postfix-verp-dsn.eml) | " BIN " parse --json -",
	    &out), 0);
	for (p = out; (p = strstr(p, "\"message\":")) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 2);
	ck_assert_ptr_nonnull(strstr(out, "\"message\":2"));
	free(out);
}
END_TEST

START_TEST(test_classify_json_alignment)
{
	char *out;

	/* a bad line is answered in place, and the status says so */
	ck_assert_int_eq(run("printf '%s\\n' '{\"phase\":\"rcpt\",\"code\":550,"
	    "\"text\":\"5.1.1 no such user\",\"id\":7}' 'not json' "
	    "'{\"code\":0,\"text\":\"Connection refused\"}' | " BIN
	    " classify --json", &out), 65);
	ck_assert_ptr_nonnull(strstr(out, "\"id\":7"));
	ck_assert_ptr_nonnull(strstr(out, "\"error\":\"not a JSON object\""));
	ck_assert_ptr_nonnull(strstr(out, "\"line\":2"));
	ck_assert_ptr_nonnull(strstr(out, "\"category\":"));
	free(out);
}
END_TEST

START_TEST(test_classify_one)
{
	char *out;

	ck_assert_int_eq(run(BIN " classify --phase rcpt --code 550 --text "
	    "'5.1.1 <bob@example.net>: user unknown'", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "category:"));
	ck_assert_ptr_nonnull(strstr(out, "rule:"));
	free(out);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("bounced");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_help_everywhere);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_unreadable_input);
	tcase_add_test(tc, test_stdin_and_mbox);
	tcase_add_test(tc, test_classify_json_alignment);
	tcase_add_test(tc, test_classify_one);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(cli_suite)
