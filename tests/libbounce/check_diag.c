/*
 * check_diag.c - tests for libbounce/diag.c (the reply, enhanced code and
 * phase a diagnostic quotes) and smtp_unfold_quoted() of smtp.c.
 */
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "internal.h"
#include "testutil.h"

static void
analyze(struct diag *d, const char *s)
{
	diag_analyze(d, s, strlen(s));
}

START_TEST(test_quoted_reply)
{
	struct diag d;
	const char *s = "host mx.example.net[192.0.2.2] said: 550 5.1.1 "
	    "<bob@example.net>: User unknown (in reply to RCPT TO command)";

	analyze(&d, s);
	ck_assert_int_eq(d.code, 550);
	ck_assert_str_eq(d.enhanced, "5.1.1");
	ck_assert_int_eq(d.phase, BOUNCE_PHASE_RCPT);
	ck_assert_ptr_eq(d.reply, strstr(s, "550 5.1.1"));
}
END_TEST

START_TEST(test_phases)
{
	struct diag d;

	analyze(&d, "SMTP error from remote mail server after end of data: "
	    "554 5.7.1 rejected as spam");
	ck_assert_int_eq(d.phase, BOUNCE_PHASE_EOD);
	ck_assert_int_eq(d.code, 554);
	analyze(&d, "SMTP error from remote mail server after MAIL FROM:"
	    "<l-bounces@lists.example.org> SIZE=1234: 553 sender rejected");
	ck_assert_int_eq(d.phase, BOUNCE_PHASE_MAIL);
	analyze(&d, "host mx.example.com[192.0.2.9] refused to talk to me: "
	    "554 5.7.1 blocked");
	ck_assert_int_eq(d.phase, BOUNCE_PHASE_CONNECT);
	analyze(&d, "connect to mx.example.com[192.0.2.9]:25: Connection "
	    "timed out");
	ck_assert_int_eq(d.code, 0);
	ck_assert_int_eq(d.phase, BOUNCE_PHASE_CONNECT);
	ck_assert_int_eq(diag_phase("x (in reply to DATA command)", 28),
	    BOUNCE_PHASE_DATA);
	ck_assert_int_eq(diag_phase("mailbox full", 12), BOUNCE_PHASE_NONE);
}
END_TEST

START_TEST(test_no_reply)
{
	struct diag d;

	analyze(&d, "retry timeout exceeded");
	ck_assert_int_eq(d.code, 0);
	ck_assert_str_eq(d.enhanced, "");
	analyze(&d, "");
	ck_assert_int_eq(d.code, 0);
	/* a version number or an address is no code */
	analyze(&d, "Postfix 3.7.11 on 192.0.2.25 said hello");
	ck_assert_str_eq(d.enhanced, "");
}
END_TEST

START_TEST(test_status)
{
	char out[16];
	int code;
	const char *s = "554 4.4.7 Message expired: unable to deliver in 840 "
	    "minutes.<421 4.4.2 Connection timed out>";

	ck_assert_int_eq(diag_status_generic("5.0.0"), 1);
	ck_assert_int_eq(diag_status_generic("4.4.7"), 1);
	ck_assert_int_eq(diag_status_generic(NULL), 1);
	ck_assert_int_eq(diag_status_generic("5.1.1"), 0);
	ck_assert_int_ge(diag_specific_status(out, sizeof(out), &code, s,
	    strlen(s)), 0);
	ck_assert_str_eq(out, "4.4.2");
	ck_assert_int_eq(code, 421);
	ck_assert_int_lt(diag_specific_status(out, sizeof(out), &code,
	    "5.0.0 failed", 12), 0);
}
END_TEST

START_TEST(test_unfold)
{
	struct buf out;
	const char *s = "host said: 550-5.7.26 Unauthenticated email is "
	    "550-5.7.26 not accepted. 550 5.7.26 https://example.net/x";
	const char *ses = "Unknown address error 550-'5.1.1 <a@b.example> "
	    "User unknown' (delivery attempts: 0)";

	buf_init(&out, 1024);
	ck_assert_int_eq(smtp_unfold_quoted(&out, s, strlen(s),
	    strstr(s, "550-")), 1);
	ck_assert_str_eq(out.data, "host said: 550 5.7.26 Unauthenticated "
	    "email is not accepted. https://example.net/x");
	/* a reply that only says it goes on is left as it is */
	ck_assert_int_eq(smtp_unfold_quoted(&out, ses, strlen(ses),
	    strstr(ses, "550-")), 0);
	ck_assert_int_eq(smtp_unfold_quoted(&out, s, strlen(s), NULL), 0);
	buf_free(&out);
}
END_TEST

static Suite *
diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_quoted_reply);
	tcase_add_test(tc, test_phases);
	tcase_add_test(tc, test_no_reply);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_unfold);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(diag_suite)
