/*
 * classify_bench.c - how fast the classifier is, with the whole built-in
 * rule table loaded.
 *
 *	classify_bench [CASES.jsonl] [N]
 *
 * Reads labelled SMTP results (tests/fixtures/classify/cases.jsonl by
 * default), classifies N of them (1,000,000 by default, cycling through
 * the file) on one context and prints nanoseconds per classification; then
 * creates and frees contexts (reading and compiling the built-in rules) and
 * prints milliseconds per context.  Both in CPU time of the process and in
 * wall-clock time: on a shared machine the CPU figure is the steadier one.
 *
 * One context is kept open while contexts are timed, so GMime's one-time
 * initialisation (reference counted in ctx.c) is not counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "bounce.h"

#define CASES_MAX 4096

struct clock_pair {
	double cpu, wall;
};

static double
ms(clockid_t id)
{
	struct timespec t;

	(void)clock_gettime(id, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static struct clock_pair
now(void)
{
	struct clock_pair p = { ms(CLOCK_PROCESS_CPUTIME_ID),
		ms(CLOCK_MONOTONIC) };

	return p;
}

static char *
dup_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL ||
	    (s = json_object_get_string(v)) == NULL)
		return NULL;
	return strdup(s);
}

static size_t
read_cases(bounce_smtp_result *cases, const char *path)
{
	char line[65536];
	size_t n = 0;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	while (n < CASES_MAX && fgets(line, sizeof(line), fp) != NULL) {
		bounce_smtp_result r = BOUNCE_SMTP_RESULT_INIT;
		struct json_object *o = json_tokener_parse(line), *v;
		char *phase;

		if (o == NULL)
			continue;
		if ((phase = dup_str(o, "phase")) != NULL &&
		    bounce_phase_from_name(&r.phase, phase) != BOUNCE_OK)
			r.phase = BOUNCE_PHASE_NONE;
		free(phase);
		if (json_object_object_get_ex(o, "code", &v) && v != NULL)
			r.code = json_object_get_int(v);
		r.enhanced = dup_str(o, "enhanced");
		r.text = dup_str(o, "text");
		r.remote_mta = dup_str(o, "remote_mta");
		r.action = dup_str(o, "action");
		cases[n++] = r;
		json_object_put(o);
	}
	fclose(fp);
	return n;
}

int
main(int argc, char **argv)
{
	static bounce_smtp_result cases[CASES_MAX];
	const char *path = argc > 1 ? argv[1] :
	    "tests/fixtures/classify/cases.jsonl";
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	struct clock_pair a, b;
	bounce_ctx *ctx, *tmp;
	bounce_verdict v;
	size_t ncases, i, bytes = 0;
	unsigned long sum = 0;
	long k, nctx = 200;

	if (n <= 0 || n > 1000000000L) {
		fprintf(stderr, "usage: classify_bench [CASES] [N]\n");
		return 2;
	}
	if ((ncases = read_cases(cases, path)) == 0) {
		fprintf(stderr, "%s: no cases\n", path);
		return 1;
	}
	for (i = 0; i < ncases; i++)
		bytes += cases[i].text != NULL ? strlen(cases[i].text) : 0;
	if (bounce_ctx_new(&ctx, NULL) != BOUNCE_OK) {
		fprintf(stderr, "cannot create a context\n");
		return 1;
	}
	/* warm up, then time */
	for (i = 0; i < ncases; i++)
		(void)bounce_classify(&v, ctx, &cases[i]);
	a = now();
	for (k = 0; k < n; k++) {
		(void)bounce_classify(&v, ctx, &cases[(size_t)k % ncases]);
		sum += (unsigned long)v.category;
	}
	b = now();
	printf("classify: %ld results (%zu distinct, mean text %zu bytes), "
	    "%zu rules: %.0f ns each CPU, %.0f ns wall\n", n, ncases,
	    bytes / ncases, bounce_ctx_rule_count(ctx),
	    (b.cpu - a.cpu) * 1e6 / (double)n,
	    (b.wall - a.wall) * 1e6 / (double)n);
	a = now();
	for (k = 0; k < nctx; k++) {
		if (bounce_ctx_new(&tmp, NULL) != BOUNCE_OK) {
			fprintf(stderr, "cannot create a context\n");
			return 1;
		}
		bounce_ctx_free(tmp);
	}
	b = now();
	printf("context: new+free with the built-in rules: %.2f ms CPU, "
	    "%.2f ms wall (mean of %ld)\n", (b.cpu - a.cpu) / (double)nctx,
	    (b.wall - a.wall) / (double)nctx, nctx);
	bounce_ctx_free(ctx);
	for (i = 0; i < ncases; i++) {
		free((char *)cases[i].enhanced);
		free((char *)cases[i].text);
		free((char *)cases[i].remote_mta);
		free((char *)cases[i].action);
	}
	return sum == 0;	/* keep the loop */
}
