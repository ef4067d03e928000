/*
 * check_hostile.c - bounce_parse() on hostile and broken input: nothing
 * crashes, everything is bounded, every report is well-formed (valid
 * UTF-8 strings, an error naming the limit when one was hit).
 *
 * The inputs are generated here rather than stored: a 20 MB message and
 * deep MIME nesting are cheaper to build than to keep in git.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "testutil.h"

static bounce_ctx *ctx;

static void
setup(void)
{
	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
}

static void
teardown(void)
{
	bounce_ctx_free(ctx);
	ctx = NULL;
}

static int
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i;

	if (s == NULL)
		return 1;
	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		len = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
		if (len == 0)
			return 0;
		for (i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += len;
	}
	return 1;
}

/* Parse and check what every report must satisfy. */
static bounce_report *
parse_ok(const char *buf, size_t len)
{
	bounce_report *r = NULL;
	size_t i, n;
	int f;

	ck_assert_int_eq(bounce_parse(&r, ctx, buf, len, NULL), BOUNCE_OK);
	ck_assert_ptr_nonnull(r);
	ck_assert(utf8_valid(bounce_report_error(r)));
	for (f = 0; f < BOUNCE_FIELD__COUNT; f++)
		ck_assert(utf8_valid(bounce_report_field(r, (bounce_field)f)));
	n = bounce_report_recipient_count(r);
	ck_assert_uint_le(n, bounce_ctx_limits(ctx)->max_recipients);
	for (i = 0; i < n; i++) {
		const bounce_recipient *rc = bounce_report_recipient(r, i);

		ck_assert_ptr_nonnull(rc->address);
		ck_assert(utf8_valid(rc->address));
		ck_assert(utf8_valid(rc->diagnostic));
		ck_assert(utf8_valid(rc->remote_mta));
		ck_assert(rc->status == NULL || bounce_esc_valid(rc->status));
	}
	return r;
}

static const char dsn_head[] =
    "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
    "To: list-bounces@lists.example.org\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    "\tboundary=\"B\"\n\n"
    "--B\nContent-Type: text/plain\n\nThe mail system\n\n"
    "<bob@example.net>: host mx.example.net[192.0.2.2] said: 550 5.1.1\n"
    "    user unknown (in reply to RCPT TO command)\n\n"
    "--B\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Final-Recipient: rfc822; bob@example.net\nAction: failed\n"
    "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n"
    "--B--\n";

START_TEST(test_empty)
{
	bounce_report *r = parse_ok("", 0);

	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_UNKNOWN);
	ck_assert_uint_eq(bounce_report_recipient_count(r), 0);
	bounce_report_free(r);
	r = parse_ok("\n\n\n", 3);
	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_UNKNOWN);
	bounce_report_free(r);
}
END_TEST

START_TEST(test_truncated)
{
	size_t full = strlen(dsn_head), cut;
	bounce_report *r;

	/* every prefix of a DSN parses */
	for (cut = 0; cut <= full; cut += 7) {
		r = parse_ok(dsn_head, cut);
		bounce_report_free(r);
	}
	r = parse_ok(dsn_head, full);
	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_BOUNCE);
	ck_assert_str_eq(bounce_report_recipient(r, 0)->address,
	    "bob@example.net");
	bounce_report_free(r);
}
END_TEST

/* Multipart nested depth deep, with a DSN-ish text at the bottom. */
static char *
nested(unsigned int depth, size_t *len)
{
	size_t size = 256 + depth * 160, n = 0;
	char *s = malloc(size);
	unsigned int i;

	n += (size_t)snprintf(s + n, size - n,
	    "From: MAILER-DAEMON@example.org\nSubject: Returned mail\n"
	    "MIME-Version: 1.0\n");
	for (i = 0; i < depth; i++)
		n += (size_t)snprintf(s + n, size - n,
		    "Content-Type: multipart/mixed; boundary=\"b%u\"\n\n"
		    "--b%u\n", i, i);
	n += (size_t)snprintf(s + n, size - n,
	    "Content-Type: text/plain\n\n<deep@example.net>: 550 5.1.1 no\n");
	for (i = depth; i-- > 0;)
		n += (size_t)snprintf(s + n, size - n, "--b%u--\n", i);
	*len = n;
	return s;
}

START_TEST(test_nested_100)
{
	bounce_report *r;
	size_t len;
	char *s = nested(100, &len);

	r = parse_ok(s, len);
	/* deeper than max_mime_depth (32): said so */
	ck_assert_ptr_nonnull(bounce_report_error(r));
	ck_assert_ptr_nonnull(strstr(bounce_report_error(r),
	    "max_mime_depth"));
	bounce_report_free(r);
	free(s);
}
END_TEST

START_TEST(test_nested_shallow)
{
	bounce_report *r;
	size_t len;
	char *s = nested(10, &len);

	r = parse_ok(s, len);
	ck_assert_ptr_null(bounce_report_error(r));
	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_BOUNCE);
	ck_assert_str_eq(bounce_report_recipient(r, 0)->address,
	    "deep@example.net");
	bounce_report_free(r);
	free(s);
}
END_TEST

START_TEST(test_many_parts)
{
	size_t size = 64 * 1024 * 16, n = 0;
	char *s = malloc(size);
	bounce_report *r;
	int i;

	n += (size_t)snprintf(s + n, size - n,
	    "From: MAILER-DAEMON@example.org\nSubject: Returned mail\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"x\"\n\n");
	for (i = 0; i < 5000; i++)
		n += (size_t)snprintf(s + n, size - n,
		    "--x\nContent-Type: text/plain\n\npart %d\n", i);
	n += (size_t)snprintf(s + n, size - n, "--x--\n");
	r = parse_ok(s, n);
	ck_assert_ptr_nonnull(strstr(bounce_report_error(r),
	    "max_mime_parts"));
	bounce_report_free(r);
	free(s);
}
END_TEST

START_TEST(test_20mb)
{
	size_t size = 21u * 1024 * 1024, n, i;
	char *s = malloc(size + 1);
	bounce_report *r;

	n = (size_t)snprintf(s, size, "%.*s", (int)(strlen(dsn_head) - 6),
	    dsn_head);
	n += (size_t)snprintf(s + n, size - n,
	    "--B\nContent-Type: message/rfc822\n\n"
	    "From: list@lists.example.org\nMessage-ID: <big@example.org>\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: base64\n\n");
	/* 20 MB of base64 lines */
	while (n + 80 < size - 16) {
		for (i = 0; i < 76; i++)
			s[n + i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"[i % 32];
		s[n + 76] = '\n';
		n += 77;
	}
	n += (size_t)snprintf(s + n, size + 1 - n, "\n--B--\n");
	r = parse_ok(s, n);
	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_BOUNCE);
	ck_assert_str_eq(bounce_report_recipient(r, 0)->address,
	    "bob@example.net");
	bounce_report_free(r);
	free(s);
}
END_TEST

START_TEST(test_over_size_limit)
{
	bounce_limits l = BOUNCE_LIMITS_INIT;
	bounce_ctx *small;
	bounce_report *r;

	l.max_message_bytes = 100;
	ck_assert_int_eq(bounce_ctx_new(&small, &l), BOUNCE_OK);
	ck_assert_int_eq(bounce_parse(&r, small, dsn_head, strlen(dsn_head),
	    NULL), BOUNCE_OK);
	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(bounce_report_error(r),
	    "max_message_bytes"));
	bounce_report_free(r);
	bounce_ctx_free(small);
}
END_TEST

/* Over the limit, the start is still read: the failure is said there,
 * the bulk is the returned original's. */
START_TEST(test_over_size_limit_reads_the_start)
{
	bounce_limits l = BOUNCE_LIMITS_INIT;
	size_t head = strlen(dsn_head), len = head + 64 * 1024;
	bounce_ctx *small;
	bounce_report *r;
	char *msg = malloc(len);

	ck_assert_ptr_nonnull(msg);
	memcpy(msg, dsn_head, head);
	memset(msg + head, 'x', len - head);
	l.max_message_bytes = head + 1024;
	ck_assert_int_eq(bounce_ctx_new(&small, &l), BOUNCE_OK);
	ck_assert_int_eq(bounce_parse(&r, small, msg, len, NULL), BOUNCE_OK);
	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_BOUNCE);
	ck_assert_uint_eq(bounce_report_recipient_count(r), 1);
	ck_assert_str_eq(bounce_report_recipient(r, 0)->address,
	    "bob@example.net");
	ck_assert_ptr_nonnull(strstr(bounce_report_error(r),
	    "only the first"));
	bounce_report_free(r);
	bounce_ctx_free(small);
	free(msg);
}
END_TEST

START_TEST(test_nul_and_garbage)
{
	size_t n = 256 * 1024, i;
	unsigned char *s = malloc(n);
	unsigned int seed = 12345;
	bounce_report *r;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		s[i] = (unsigned char)(seed >> 16);
	}
	r = parse_ok((const char *)s, n);
	bounce_report_free(r);
	/* a DSN with NUL bytes in it */
	memcpy(s, dsn_head, strlen(dsn_head));
	for (i = 0; i < strlen(dsn_head); i += 50)
		s[i] = '\0';
	r = parse_ok((const char *)s, strlen(dsn_head));
	bounce_report_free(r);
	free(s);
}
END_TEST

START_TEST(test_bad_charsets)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@example.org\nSubject: =?x-bogus?Q?=FF=FE?=\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=\"B\"\n\n"
	    "--B\nContent-Type: text/plain; charset=\"x-no-such-charset\"\n\n"
	    "caf\xe9 \xff\xfe <carol@example.net>: 550 5.1.1 unknown \xc3\n\n"
	    "--B\nContent-Type: text/plain; charset=utf-8\n\n"
	    "\xed\xa0\x80 \xc0\xaf overlong and surrogate\n\n"
	    "--B\nContent-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822; carol@example.net\nAction: failed\n"
	    "Status: 5.1.1\nDiagnostic-Code: smtp; 550 \xff\xfe bad \xc3(\n"
	    "\n--B--\n";
	bounce_report *r = parse_ok(msg, sizeof(msg) - 1);

	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_BOUNCE);
	ck_assert_uint_eq(bounce_report_recipient_count(r), 1);
	bounce_report_free(r);
}
END_TEST

START_TEST(test_long_header_line)
{
	size_t n = 100 * 1024, len;
	char *s = malloc(n + 4096);
	bounce_report *r;

	len = (size_t)snprintf(s, 4096, "From: MAILER-DAEMON@example.org\n"
	    "X-Long: ");
	memset(s + len, 'a', n);
	len += n;
	len += (size_t)snprintf(s + len, 4096, "\nSubject: failure notice\n"
	    "\n<long@example.net>:\n550 5.1.1 no such user\n");
	r = parse_ok(s, len);
	ck_assert_int_eq(bounce_report_kind(r), BOUNCE_KIND_BOUNCE);
	bounce_report_free(r);
	/* and a 100 KB line in the body, where addresses are looked for */
	memset(s + len - 10, 'b', 10);
	r = parse_ok(s, len);
	bounce_report_free(r);
	free(s);
}
END_TEST

START_TEST(test_recipient_cap)
{
	bounce_limits l = BOUNCE_LIMITS_INIT;
	size_t size = 1024 * 1024, n = 0;
	bounce_ctx *small;
	char *s = malloc(size);
	bounce_report *r;
	int i;

	l.max_recipients = 10;
	ck_assert_int_eq(bounce_ctx_new(&small, &l), BOUNCE_OK);
	n += (size_t)snprintf(s + n, size - n, "From: MAILER-DAEMON@example.org"
	    "\nSubject: Returned mail\nMIME-Version: 1.0\n"
	    "Content-Type: message/delivery-status\n\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(s + n, size - n,
		    "Final-Recipient: rfc822; u%d@example.net\nAction: failed\n"
		    "Status: 5.1.1\n\n", i);
	ck_assert_int_eq(bounce_parse(&r, small, s, n, NULL), BOUNCE_OK);
	ck_assert_uint_eq(bounce_report_recipient_count(r), 10);
	ck_assert_ptr_nonnull(strstr(bounce_report_error(r),
	    "max_recipients"));
	bounce_report_free(r);
	bounce_ctx_free(small);
	free(s);
}
END_TEST

static Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_nested_100);
	tcase_add_test(tc, test_nested_shallow);
	tcase_add_test(tc, test_many_parts);
	tcase_add_test(tc, test_20mb);
	tcase_add_test(tc, test_over_size_limit);
	tcase_add_test(tc, test_over_size_limit_reads_the_start);
	tcase_add_test(tc, test_nul_and_garbage);
	tcase_add_test(tc, test_bad_charsets);
	tcase_add_test(tc, test_long_header_line);
	tcase_add_test(tc, test_recipient_cap);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(hostile_suite)
