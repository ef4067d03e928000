/*
 * check_smtp_json.c - tests for bounced/smtp_json.c: the SMTP result a
 * JSON line describes, as classify --json and ingest --smtp json read it.
 */
#include <string.h>

#include <json-c/json.h>

#include "smtp_json.h"
#include "testutil.h"

static struct json_object *
parse(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	ck_assert_ptr_nonnull(o);
	return o;
}

START_TEST(test_fields)
{
	struct json_object *o = parse("{\"phase\":\"rcpt\",\"code\":550,"
	    "\"enhanced\":\"5.1.1\",\"text\":\"user unknown\","
	    "\"remote_mta\":\"mx.example.net\",\"action\":\"failed\"}");
	struct smtp_json r;

	smtp_json_read(&r, o);
	ck_assert_int_eq(r.in.phase, BOUNCE_PHASE_RCPT);
	ck_assert_int_eq(r.in.code, 550);
	ck_assert_str_eq(r.in.enhanced, "5.1.1");
	ck_assert_str_eq(r.in.text, "user unknown");
	ck_assert_str_eq(r.in.remote_mta, "mx.example.net");
	ck_assert_str_eq(r.in.action, "failed");
	smtp_json_clear(&r);
	json_object_put(o);
}
END_TEST

START_TEST(test_code_from_text)
{
	struct json_object *o = parse("{\"text\":\"452 4.2.2 Mailbox full\"}");
	struct smtp_json r;

	smtp_json_read(&r, o);
	ck_assert_int_eq(r.in.phase, BOUNCE_PHASE_NONE);
	ck_assert_int_eq(r.in.code, 452);
	ck_assert_str_eq(r.in.enhanced, "4.2.2");
	smtp_json_clear(&r);
	json_object_put(o);
	/* what the object gives wins over the text */
	o = parse("{\"code\":550,\"enhanced\":\"\",\"text\":"
	    "\"452 4.2.2 Mailbox full\"}");
	smtp_json_read(&r, o);
	ck_assert_int_eq(r.in.code, 550);
	ck_assert_str_eq(r.in.enhanced, "4.2.2");
	smtp_json_clear(&r);
	json_object_put(o);
}
END_TEST

START_TEST(test_odd_values)
{
	struct json_object *o = parse("{\"phase\":\"bogus\",\"code\":null,"
	    "\"text\":null,\"enhanced\":null}");
	struct smtp_json r;

	smtp_json_read(&r, o);
	ck_assert_int_eq(r.in.phase, BOUNCE_PHASE_NONE);
	ck_assert_int_eq(r.in.code, 0);
	ck_assert_ptr_null(r.in.text);
	ck_assert_ptr_null(r.in.enhanced);
	ck_assert_ptr_null(json_string_at(o, "missing"));
	smtp_json_clear(&r);
	json_object_put(o);
	/* a command-line result, filled the same way */
	memset(&r, 0, sizeof(r));
	r.in.version = BOUNCE_SMTP_RESULT_VERSION;
	r.in.text = "550-5.7.1 blocked 550 5.7.1 see https://example.net";
	smtp_json_fill(&r);
	ck_assert_int_eq(r.in.code, 550);
	ck_assert_str_eq(r.in.enhanced, "5.7.1");
	smtp_json_clear(&r);
}
END_TEST

static Suite *
smtp_json_suite(void)
{
	Suite *s = suite_create("smtp_json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_code_from_text);
	tcase_add_test(tc, test_odd_values);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(smtp_json_suite)
