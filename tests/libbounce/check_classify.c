/*
 * check_classify.c - tests for libbounce/classify.c and the built-in
 * rules: the labelled SMTP results of tests/fixtures/classify/cases.jsonl
 * (category and reason must both agree; every reason of the taxonomy must
 * be covered), and the engine's own behaviour: enhanced codes found in the
 * text, reply-code continuations inside a flattened reply, the DSN action,
 * limits, bad arguments and the last-resort fallbacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bounce.h"
#include "rules.h"
#include "testutil.h"

#define CASES "tests/fixtures/classify/cases.jsonl"

static const char *const all_reasons[] = {
	"user_unknown", "domain_unknown", "no_mailserver", "mailbox_disabled",
	"recipient_block", "address_invalid", "mailbox_full", "greylisted",
	"recipient_rate", "server_busy", "network", "lookup_failure",
	"shutdown", "expired", "other_temporary", "blocklisted",
	"poor_reputation", "rate_limited", "auth_failure", "sender_config",
	"sender_rejected", "spam_content", "virus", "url_reputation",
	"policy", "too_large", "protocol",
};
#define NREASONS (sizeof(all_reasons) / sizeof(all_reasons[0]))

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

START_TEST(test_fixture_cases)
{
	unsigned int covered[NREASONS] = { 0 }, lineno = 0, ncase = 0, bad = 0;
	char *data, *line, *next;
	bounce_ctx *ctx;
	size_t i;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	data = testutil_read(CASES, NULL);
	for (line = data; line != NULL && *line != '\0'; line = next) {
		bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;
		struct json_object *o, *v;
		const char *want_cat, *want_reason, *phase;
		bounce_verdict got;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0')
			continue;
		o = json_tokener_parse(line);
		ck_assert_msg(o != NULL, CASES ":%u: not JSON", lineno);
		if ((phase = jstr(o, "phase")) != NULL)
			ck_assert_int_eq(bounce_phase_from_name(&in.phase,
			    phase), BOUNCE_OK);
		if (json_object_object_get_ex(o, "code", &v) && v != NULL)
			in.code = json_object_get_int(v);
		in.enhanced = jstr(o, "enhanced");
		in.text = jstr(o, "text");
		in.remote_mta = jstr(o, "remote_mta");
		in.action = jstr(o, "action");
		want_cat = jstr(o, "category");
		want_reason = jstr(o, "reason");
		ck_assert_ptr_nonnull(want_cat);
		ck_assert_ptr_nonnull(want_reason);
		ck_assert_int_eq(bounce_classify(&got, ctx, &in), BOUNCE_OK);
		if (strcmp(bounce_category_name(got.category), want_cat) != 0 ||
		    strcmp(got.reason, want_reason) != 0) {
			fprintf(stderr, CASES ":%u: want %s/%s, got %s/%s "
			    "(rule %s)\n", lineno, want_cat, want_reason,
			    bounce_category_name(got.category), got.reason,
			    got.rule);
			bad++;
		}
		for (i = 0; i < NREASONS; i++)
			if (strcmp(want_reason, all_reasons[i]) == 0)
				covered[i]++;
		ncase++;
		json_object_put(o);
	}
	free(data);
	bounce_ctx_free(ctx);
	ck_assert_uint_ge(ncase, 120);
	for (i = 0; i < NREASONS; i++)
		ck_assert_msg(covered[i] > 0, "no case for reason %s",
		    all_reasons[i]);
	ck_assert_msg(bad == 0, "%u of %u cases classified wrong", bad, ncase);
}
END_TEST

static bounce_verdict
classify(bounce_ctx *ctx, bounce_phase phase, int code, const char *enhanced,
    const char *text)
{
	bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;
	bounce_verdict v;

	in.phase = phase;
	in.code = code;
	in.enhanced = enhanced;
	in.text = text;
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	return v;
}

START_TEST(test_status_from_text)
{
	bounce_ctx *ctx;
	bounce_verdict v;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	/* no enhanced code given: the one in the text counts */
	v = classify(ctx, BOUNCE_PHASE_NONE, 550, NULL, "550 5.1.1 nope");
	ck_assert_str_eq(v.rule, "status.5.1.1");
	/* a generic 5.0.0 gives way to a specific one in the text */
	v = classify(ctx, BOUNCE_PHASE_NONE, 550, "5.0.0", "#5.2.1 nope");
	ck_assert_str_eq(v.rule, "mailbox.disabled.status");
	/* a specific one given is kept */
	v = classify(ctx, BOUNCE_PHASE_NONE, 550, "5.1.1", "#5.2.1 nope");
	ck_assert_str_eq(v.rule, "status.5.1.1");
	/* an invalid one given is ignored */
	v = classify(ctx, BOUNCE_PHASE_NONE, 550, "5.1", "5.1.2 nope");
	ck_assert_str_eq(v.reason, "domain_unknown");
	/* code 0 with a 5.x.x: class 5 */
	v = classify(ctx, BOUNCE_PHASE_NONE, 0, "5.1.1", "?");
	ck_assert_str_eq(v.reason, "user_unknown");
	/* 4xx with a user-unknown text stays soft */
	v = classify(ctx, BOUNCE_PHASE_RCPT, 450, "4.1.1", "User unknown");
	ck_assert_int_eq(v.category, BOUNCE_CAT_SOFT);
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_continuations)
{
	bounce_ctx *ctx;
	bounce_verdict v;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	v = classify(ctx, BOUNCE_PHASE_EOD, 550, "5.7.1",
	    "550-5.7.1 This message is likely 550-5.7.1 unsolicited mail. "
	    "To reduce 550 5.7.1 the amount of spam");
	ck_assert_str_eq(v.rule, "google.spam");
	v = classify(ctx, BOUNCE_PHASE_RCPT, 452, NULL,
	    "452-4.2.2 mailbox\r\n452-4.2.2   full");
	ck_assert_str_eq(v.reason, "mailbox_full");
	/* a bare "550 " inside the text is text */
	v = classify(ctx, BOUNCE_PHASE_RCPT, 0, NULL, "we got 550 blocked "
	    "using zen.spamhaus.org");
	ck_assert_str_eq(v.reason, "blocklisted");
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_action_and_mta)
{
	static const char mta_rule[] =
	    "rule local.mta soft server_busy mta=\".example.net\"\n";
	bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;
	bounce_ctx *ctx;
	bounce_verdict v;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	in.text = "something odd happened";
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_eq(v.rule, "code.none");
	in.action = " Delayed ";
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_eq(v.rule, "code.4xx");
	/* an operator rule keyed on the remote MTA */
	ck_assert_int_eq(bounce_ctx_load_rules(ctx, mta_rule,
	    strlen(mta_rule), "m.rules"), BOUNCE_OK);
	in.remote_mta = "MX.Example.Net";
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_eq(v.rule, "local.mta");
	/* the MTA name is not the text */
	in.remote_mta = NULL;
	in.text = "mx.example.net";
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_ne(v.rule, "local.mta");
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_limits_and_args)
{
	bounce_limits lim = BOUNCE_LIMITS_INIT;
	bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;
	bounce_ctx *ctx;
	bounce_verdict v;
	char *text;
	size_t n = 200;

	lim.max_field_bytes = 128;
	ck_assert_int_eq(bounce_ctx_new(&ctx, &lim), BOUNCE_OK);
	/* a phrase past max_field_bytes is not read */
	text = malloc(n + 32);
	ck_assert_ptr_nonnull(text);
	memset(text, 'x', n);
	memcpy(text + n, " mailbox is full", 17);
	in.code = 550;
	in.text = text;
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_ne(v.reason, "mailbox_full");
	memcpy(text + 64, " mailbox is full", 16);
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_eq(v.reason, "mailbox_full");
	free(text);
	ck_assert_int_eq(bounce_classify(NULL, ctx, &in), BOUNCE_EINVAL);
	ck_assert_int_eq(bounce_classify(&v, NULL, &in), BOUNCE_EINVAL);
	ck_assert_int_eq(bounce_classify(&v, ctx, NULL), BOUNCE_EINVAL);
	in.version = 99;
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_EINVAL);
	bounce_ctx_free(ctx);
}
END_TEST

/* With every rule disabled, the engine's last resort decides. */
START_TEST(test_last_resort)
{
	static const struct {
		int code;
		bounce_category cat;
		const char *rule;
	} want[] = {
		{ 550, BOUNCE_CAT_HARD, "fallback.5xx" },
		{ 451, BOUNCE_CAT_SOFT, "fallback.4xx" },
		{ 250, BOUNCE_CAT_NONE, "fallback.2xx" },
		{ 0, BOUNCE_CAT_SOFT, "fallback.none" },
		{ 354, BOUNCE_CAT_SOFT, "fallback.none" },
	};
	struct buf b;
	bounce_ctx *ctx;
	bounce_verdict v;
	size_t i;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	buf_init(&b, 1024 * 1024);
	for (i = 0; i < ctx->rules->count; i++)
		ck_assert_int_eq(buf_printf(&b, "disable %s\n",
		    ctx->rules->order[i]->id), BOUNCE_OK);
	ck_assert_int_eq(bounce_ctx_load_rules(ctx, b.data, b.len, "all"),
	    BOUNCE_OK);
	buf_free(&b);
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		v = classify(ctx, BOUNCE_PHASE_RCPT, want[i].code, NULL,
		    "user unknown");
		ck_assert_int_eq(v.category, want[i].cat);
		ck_assert_str_eq(v.rule, want[i].rule);
	}
	bounce_ctx_free(ctx);
}
END_TEST

/* Many classifications on one context: the phrase marks never leak from
 * one call into the next. */
START_TEST(test_no_carry_over)
{
	bounce_ctx *ctx;
	bounce_verdict v;
	int i;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	for (i = 0; i < 1000; i++) {
		v = classify(ctx, BOUNCE_PHASE_RCPT, 550, NULL,
		    i % 2 ? "blocked using zen.spamhaus.org" : "no reason");
		ck_assert_str_eq(v.reason, i % 2 ? "blocklisted" :
		    "user_unknown");
	}
	/* wrap the generation counter */
	ctx->rules->generation = UINT32_MAX - 1;
	for (i = 0; i < 4; i++) {
		v = classify(ctx, BOUNCE_PHASE_RCPT, 550, NULL,
		    i % 2 ? "blocked using zen.spamhaus.org" : "no reason");
		ck_assert_str_eq(v.reason, i % 2 ? "blocklisted" :
		    "user_unknown");
	}
	bounce_ctx_free(ctx);
}
END_TEST

static Suite *
classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fixture_cases);
	tcase_add_test(tc, test_status_from_text);
	tcase_add_test(tc, test_continuations);
	tcase_add_test(tc, test_action_and_mta);
	tcase_add_test(tc, test_limits_and_args);
	tcase_add_test(tc, test_last_resort);
	tcase_add_test(tc, test_no_carry_over);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(classify_suite)
