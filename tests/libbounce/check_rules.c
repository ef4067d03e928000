/*
 * check_rules.c - tests for libbounce/rules.c: the rules-file format,
 * operator overrides and disabling, and errors that name the file and
 * line and leave the context as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "testutil.h"

static bounce_ctx *
ctx_new(void)
{
	bounce_ctx *ctx;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	return ctx;
}

static int
load(bounce_ctx *ctx, const char *text, const char *name)
{
	return bounce_ctx_load_rules(ctx, text, strlen(text), name);
}

/* Classify (phase, code, enhanced, text) and return the verdict. */
static bounce_verdict
verdict(bounce_ctx *ctx, bounce_phase phase, int code, const char *enhanced,
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

START_TEST(test_builtin_loaded)
{
	bounce_ctx *ctx = ctx_new();

	ck_assert_uint_gt(bounce_ctx_rule_count(ctx), 200);
	ck_assert_uint_eq(bounce_ctx_rule_count(NULL), 0);
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_good_file)
{
	static const char text[] =
	    "# local rules\n"
	    "\n"
	    "rule local.one soft greylisted text=\"please hold\"  # why\n"
	    "rule local.two content policy phase=eod|data\n"
	    "\ttext=\"say \\\"cheese\\\"\" | \"back\\\\slash\"\n"
	    "\t   | bare-word\n"
	    "\t!text=\"not this\"\n"
	    "rule local.three hard recipient_block mta=\"example.net\"\n"
	    "    code=5x0 status=5.7.606-649 class=5 action=failed|none\n";
	bounce_ctx *ctx = ctx_new();
	size_t before = bounce_ctx_rule_count(ctx);
	bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;
	bounce_verdict v;

	ck_assert_int_eq(load(ctx, text, "local.rules"), BOUNCE_OK);
	ck_assert_str_eq(bounce_ctx_error(ctx), "");
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), before + 3);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.1.1", "PLEASE  HOLD");
	ck_assert_str_eq(v.rule, "local.one");
	ck_assert_int_eq(v.category, BOUNCE_CAT_SOFT);
	v = verdict(ctx, BOUNCE_PHASE_EOD, 550, NULL, "Say \"Cheese\" now");
	ck_assert_str_eq(v.rule, "local.two");
	v = verdict(ctx, BOUNCE_PHASE_EOD, 550, NULL, "a back\\slash");
	ck_assert_str_eq(v.rule, "local.two");
	v = verdict(ctx, BOUNCE_PHASE_DATA, 550, NULL, "a BARE-WORD");
	ck_assert_str_eq(v.rule, "local.two");
	/* the negated text and the phase keep it out */
	v = verdict(ctx, BOUNCE_PHASE_EOD, 550, NULL, "bare-word, not this");
	ck_assert_str_ne(v.rule, "local.two");
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, NULL, "bare-word");
	ck_assert_str_ne(v.rule, "local.two");
	/* mta, code pattern, status range */
	in.phase = BOUNCE_PHASE_RCPT;
	in.code = 550;
	in.enhanced = "5.7.612";
	in.text = "Access denied";
	in.remote_mta = "MX1.Example.NET";
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_eq(v.rule, "local.three");
	ck_assert_str_eq(v.reason, "recipient_block");
	in.enhanced = "5.7.650";
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_ne(v.rule, "local.three");
	in.enhanced = "5.7.612";
	in.action = "delayed";
	ck_assert_int_eq(bounce_classify(&v, ctx, &in), BOUNCE_OK);
	ck_assert_str_ne(v.rule, "local.three");
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_order_and_override)
{
	bounce_ctx *ctx = ctx_new();
	size_t n = bounce_ctx_rule_count(ctx);
	bounce_verdict v;

	/* built-in: spamhaus is a block list */
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.7.1",
	    "blocked using zen.spamhaus.org");
	ck_assert_str_eq(v.rule, "bl.spamhaus");
	/* an operator rule goes in front of the built-ins */
	ck_assert_int_eq(load(ctx, "rule op.a soft other_temporary "
	    "text=spamhaus\n", "a.rules"), BOUNCE_OK);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.7.1",
	    "blocked using zen.spamhaus.org");
	ck_assert_str_eq(v.rule, "op.a");
	/* a later file goes in front of the earlier one */
	ck_assert_int_eq(load(ctx, "rule op.b content policy text=zen\n",
	    "b.rules"), BOUNCE_OK);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.7.1",
	    "blocked using zen.spamhaus.org");
	ck_assert_str_eq(v.rule, "op.b");
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), n + 2);
	/* same id: replaced where it stands, count unchanged */
	ck_assert_int_eq(load(ctx, "rule op.b content policy text=nomatch\n",
	    "c.rules"), BOUNCE_OK);
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), n + 2);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.7.1",
	    "blocked using zen.spamhaus.org");
	ck_assert_str_eq(v.rule, "op.a");
	/* a built-in rule retuned in place */
	ck_assert_int_eq(load(ctx, "rule bl.spamhaus hard user_unknown "
	    "text=spamhaus\ndisable op.a\n", "d.rules"), BOUNCE_OK);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.7.1",
	    "blocked using zen.spamhaus.org");
	ck_assert_str_eq(v.rule, "bl.spamhaus");
	ck_assert_int_eq(v.category, BOUNCE_CAT_HARD);
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), n + 1);
	/* disable a built-in: the next rule decides */
	ck_assert_int_eq(load(ctx, "disable bl.spamhaus\n", "e.rules"),
	    BOUNCE_OK);
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), n);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.7.1",
	    "blocked using zen.spamhaus.org");
	ck_assert_str_eq(v.rule, "bl.strong");
	bounce_ctx_free(ctx);
}
END_TEST

/* Each bad text must fail with BOUNCE_ERULES, an error that starts with
 * "bad.rules:LINE:" and contains the words, and change nothing. */
static const struct {
	const char *text;
	unsigned int line;
	const char *words;
} bad[] = {
	{ "rule\n", 1, "expected a rule id" },
	{ "\n\nrule Bad.Id hard user_unknown\n", 3, "bad rule id" },
	{ "rule x hardest user_unknown\n", 1, "unknown category" },
	{ "rule x hard\n", 1, "expected a reason" },
	{ "rule x hard no_such_reason\n", 1, "unknown reason" },
	{ "rule x soft user_unknown\n", 1, "belongs to category hard" },
	{ "rule x hard user_unknown colour=red\n", 1, "unknown condition" },
	{ "rule x hard user_unknown text\n", 1, "expected a condition" },
	{ "rule x hard user_unknown text=\n", 1, "expected a value" },
	{ "rule x hard user_unknown text=\"open\n", 1, "not closed" },
	{ "rule x hard user_unknown text=\"\"\n", 1, "empty value" },
	{ "rule x hard user_unknown text=\"a\\n\"\n", 1, "escapes" },
	{ "rule x hard user_unknown text=\"a\"b\n", 1, "closing quote" },
	{ "rule x hard user_unknown text=a|\n", 1, "after '|'" },
	{ "rule x hard user_unknown text=\"   \"\n", 1, "white space only" },
	{ "rule x hard user_unknown phase=lunch\n", 1, "phase=lunch" },
	{ "rule x hard user_unknown class=3\n", 1, "class=3" },
	{ "rule x hard user_unknown code=6xx\n", 1, "code=6xx" },
	{ "rule x hard user_unknown code=55\n", 1, "code=55" },
	{ "rule x hard user_unknown status=5.7\n", 1, "status=5.7" },
	{ "rule x hard user_unknown status=5.7.9-1\n", 1, "status=5.7.9-1" },
	{ "rule x hard user_unknown status=3.1.1\n", 1, "status=3.1.1" },
	{ "rule x hard user_unknown action=maybe\n", 1, "action=maybe" },
	{ "rule x hard user_unknown phase=rcpt !phase=rcpt\n", 1,
	  "exclude everything" },
	{ "# ok\n  text=\"stray\"\n", 2, "no statement to continue" },
	{ "rules x hard user_unknown\n", 1, "expected 'rule' or 'disable'" },
	{ "rule x hard user_unknown\nrule y soft greylisted\n"
	  "rule x soft greylisted\n", 3, "defined twice" },
	{ "rule x hard user_unknown\n\ndisable x\n", 3, "same file" },
	{ "disable no.such.rule\n", 1, "no such rule" },
	{ "disable code.5xx\ndisable code.5xx\n", 2, "disabled twice" },
	{ "disable code.5xx extra\n", 1, "unexpected text" },
};

START_TEST(test_bad_files)
{
	bounce_ctx *ctx = ctx_new();
	size_t n = bounce_ctx_rule_count(ctx);
	char prefix[64];
	const char *err;
	bounce_verdict v;

	(void)snprintf(prefix, sizeof(prefix), "bad.rules:%u:", bad[_i].line);
	ck_assert_int_eq(load(ctx, bad[_i].text, "bad.rules"), BOUNCE_ERULES);
	err = bounce_ctx_error(ctx);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "case %d: error '%s' does not start with '%s'", _i, err, prefix);
	ck_assert_msg(strstr(err, bad[_i].words) != NULL,
	    "case %d: error '%s' does not say '%s'", _i, err, bad[_i].words);
	/* nothing changed */
	ck_assert_uint_eq(bounce_ctx_rule_count(ctx), n);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.1.1", "x");
	ck_assert_str_eq(v.rule, "status.5.1.1");
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_failed_load_keeps_phrases)
{
	bounce_ctx *ctx = ctx_new();
	bounce_verdict v;

	/* the first rule adds a phrase, the second is wrong */
	ck_assert_int_eq(load(ctx, "rule a.b soft greylisted text=zzqq\n"
	    "rule a.c soft oops\n", "bad.rules"), BOUNCE_ERULES);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.1.1", "zzqq");
	ck_assert_str_eq(v.rule, "status.5.1.1");
	/* the same phrase loads fine afterwards */
	ck_assert_int_eq(load(ctx, "rule a.b soft greylisted text=zzqq\n",
	    "good.rules"), BOUNCE_OK);
	v = verdict(ctx, BOUNCE_PHASE_RCPT, 550, "5.1.1", "ZZQQ");
	ck_assert_str_eq(v.rule, "a.b");
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_limits)
{
	bounce_ctx *ctx = ctx_new();
	char *text;
	size_t i, o;

	text = malloc(64 * 1024);
	ck_assert_ptr_nonnull(text);
	/* 65 alternatives */
	o = (size_t)snprintf(text, 64, "rule x soft greylisted text=a0");
	for (i = 1; i < 65; i++)
		o += (size_t)snprintf(text + o, 64, "|a%zu", i);
	memcpy(text + o, "\n", 2);
	ck_assert_int_eq(load(ctx, text, "l.rules"), BOUNCE_ERULES);
	ck_assert_ptr_nonnull(strstr(bounce_ctx_error(ctx),
	    "more than 64 alternatives"));
	/* a phrase of 257 bytes */
	o = (size_t)snprintf(text, 64, "rule x soft greylisted text=");
	memset(text + o, 'a', 257);
	memcpy(text + o + 257, "\n", 2);
	ck_assert_int_eq(load(ctx, text, "l.rules"), BOUNCE_ERULES);
	ck_assert_ptr_nonnull(strstr(bounce_ctx_error(ctx), "256 bytes"));
	/* a line of 5000 bytes */
	memset(text, '#', 5000);
	memcpy(text + 5000, "\n", 2);
	ck_assert_int_eq(load(ctx, text, "l.rules"), BOUNCE_ERULES);
	ck_assert_ptr_nonnull(strstr(bounce_ctx_error(ctx),
	    "l.rules:1: line longer than 4096"));
	/* 17 conditions */
	o = (size_t)snprintf(text, 64, "rule x soft greylisted");
	for (i = 0; i < 17; i++)
		o += (size_t)snprintf(text + o, 64, " text=a%zu", i);
	memcpy(text + o, "\n", 2);
	ck_assert_int_eq(load(ctx, text, "l.rules"), BOUNCE_ERULES);
	ck_assert_ptr_nonnull(strstr(bounce_ctx_error(ctx),
	    "more than 16 conditions"));
	/* a NUL byte on line 2 */
	memcpy(text, "# a\n#\0b\n", 8);
	ck_assert_int_eq(bounce_ctx_load_rules(ctx, text, 8, "n.rules"),
	    BOUNCE_ERULES);
	ck_assert_str_eq(bounce_ctx_error(ctx), "n.rules:2: NUL byte in the "
	    "line");
	/* a bad id of 65 characters */
	o = (size_t)snprintf(text, 64, "rule ");
	memset(text + o, 'a', 65);
	memcpy(text + o + 65, " hard user_unknown\n", 20);
	ck_assert_int_eq(load(ctx, text, "l.rules"), BOUNCE_ERULES);
	ck_assert_ptr_nonnull(strstr(bounce_ctx_error(ctx), "bad rule id"));
	free(text);
	/* an empty file is fine; bad arguments are not */
	ck_assert_int_eq(bounce_ctx_load_rules(ctx, NULL, 0, NULL), BOUNCE_OK);
	ck_assert_int_eq(bounce_ctx_load_rules(NULL, "", 0, "x"),
	    BOUNCE_EINVAL);
	ck_assert_int_eq(bounce_ctx_load_rules(ctx, NULL, 3, "x"),
	    BOUNCE_EINVAL);
	bounce_ctx_free(ctx);
}
END_TEST

START_TEST(test_load_limit)
{
	bounce_ctx *ctx = ctx_new();
	int i, err = BOUNCE_OK;

	for (i = 0; i < 300 && err == BOUNCE_OK; i++)
		err = load(ctx, "# nothing\n", "loop.rules");
	ck_assert_int_eq(err, BOUNCE_ELIMIT);
	ck_assert_ptr_nonnull(strstr(bounce_ctx_error(ctx), "loads"));
	bounce_ctx_free(ctx);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_builtin_loaded);
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_order_and_override);
	tcase_add_loop_test(tc, test_bad_files, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_failed_load_keeps_phrases);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_load_limit);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(rules_suite)
