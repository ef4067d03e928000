/*
 * check_golden.c - golden-file tests of the whole parse: every
 * tests/fixtures/parse/<name>.eml is parsed and printed as
 * `bounced parse --json` prints it, and compared with
 * <name>.expected.jsonl beside it.
 *
 * After a deliberate change, BOUNCED_GOLDEN_UPDATE=1 rewrites the
 * expected files; review the diff before committing it.
 *
 * The fixtures are written by us, one or more per supported format,
 * including hostile inputs (tests/fixtures/parse/hostile-*).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "output.h"
#include "testutil.h"

#define FIXTURES "tests/fixtures/parse"

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Render one fixture's report to a string; the caller frees it. */
static char *
render(bounce_ctx *ctx, const char *name, size_t *len)
{
	char path[512], *data, *out = NULL;
	bounce_report *r = NULL;
	size_t dlen;
	FILE *mem;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	data = testutil_read(path, &dlen);
	ck_assert_int_eq(bounce_parse(&r, ctx, data, dlen, NULL), BOUNCE_OK);
	mem = open_memstream(&out, len);
	ck_assert_ptr_nonnull(mem);
	output_report_json(mem, name, 0, r);
	fclose(mem);
	bounce_report_free(r);
	free(data);
	return out;
}

START_TEST(test_golden)
{
	int update = getenv("BOUNCED_GOLDEN_UPDATE") != NULL;
	char **names = NULL, path[512], *got, *want;
	size_t n = 0, i, glen, wlen;
	bounce_ctx *ctx;
	struct dirent *de;
	int failed = 0;
	FILE *fp;
	DIR *dir;

	ck_assert_int_eq(bounce_ctx_new(&ctx, NULL), BOUNCE_OK);
	dir = opendir(FIXTURES);
	ck_assert_msg(dir != NULL, "cannot open %s", FIXTURES);
	while ((de = readdir(dir)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".eml") == 0) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(dir);
	ck_assert_msg(n > 0, "no fixtures in %s", FIXTURES);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		got = render(ctx, names[i], &glen);
		snprintf(path, sizeof(path), "%s/%.*s.expected.jsonl",
		    FIXTURES, (int)(strlen(names[i]) - 4), names[i]);
		if (update) {
			fp = fopen(path, "w");
			ck_assert_ptr_nonnull(fp);
			fwrite(got, 1, glen, fp);
			fclose(fp);
			free(got);
			continue;
		}
		fp = fopen(path, "r");
		if (fp == NULL) {
			fprintf(stderr, "golden: %s is missing; run with "
			    "BOUNCED_GOLDEN_UPDATE=1 and review it\n", path);
			failed++;
			free(got);
			continue;
		}
		fclose(fp);
		want = testutil_read(path, &wlen);
		if (wlen != glen || memcmp(want, got, glen) != 0) {
			fprintf(stderr, "golden: %s differs\n--- expected\n%s"
			    "+++ got\n%s", names[i], want, got);
			failed++;
		}
		free(want);
		free(got);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	bounce_ctx_free(ctx);
	ck_assert_msg(failed == 0, "%d golden file(s) differ", failed);
}
END_TEST

static Suite *
golden_suite(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_golden);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(golden_suite)
