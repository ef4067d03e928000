/*
 * cmd_classify.c - `bounced classify`: classify synchronous SMTP results.
 *
 * JSON lines on stdin, each with phase, code, enhanced and text (any other
 * keys are kept), written back in order with category, reason and rule
 * added; or one reply from the command line, printed readably.
 *
 * A line that is not a JSON object is answered with an object holding
 * "error" and "line", so answers stay aligned with questions; the exit
 * status is then 65 (EX_DATAERR).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <json-c/json.h>

#include "bounce.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "output.h"
#include "rulesload.h"
#include "smtp_json.h"

/* Longest input line; a longer one is answered with an error. */
#define CLASSIFY_LINE_MAX (1024 * 1024)

static void
classify_usage(FILE *out)
{
	fprintf(out,
	    "usage: bounced classify [--json] [--rules FILE]...   "
	    "(JSON lines on stdin)\n"
	    "       bounced classify [--rules FILE]... [--phase PHASE] "
	    "[--code N]\n"
	    "                        [--enhanced X.Y.Z] [--mta HOST] --text "
	    "TEXT\n\n"
	    "Classify SMTP replies as hard, soft, reputation or content.\n\n"
	    "  --json            read JSON lines (phase, code, enhanced, "
	    "text, remote_mta)\n"
	    "                    and write each back with category, reason "
	    "and rule\n"
	    "  --phase PHASE     connect, helo, mail, rcpt, data or eod\n"
	    "  --code N          SMTP reply code (0: no reply)\n"
	    "  --enhanced X.Y.Z  RFC 3463 enhanced status code\n"
	    "  --text TEXT       the reply text (a leading code is read "
	    "too)\n"
	    "  --mta HOST        the remote MTA\n"
	    "  --rules FILE      load classification rules (repeatable)\n"
	    "  --config FILE     configuration file (rules_file, limits)\n"
	    "  --help            this text\n");
}

static int
classify_json_line(bounce_ctx *ctx, const char *line, size_t len,
    unsigned long lineno)
{
	struct smtp_json r;
	struct json_object *obj, *ans;
	bounce_verdict verdict;
	int status = 0;

	obj = json_tokener_parse(line);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		log_warn("stdin line %lu: not a JSON object (%zu bytes); "
		    "each line must be one object", lineno, len);
		json_object_put(obj);
		ans = json_object_new_object();
		json_object_object_add(ans, "error",
		    json_object_new_string("not a JSON object"));
		json_object_object_add(ans, "line",
		    json_object_new_int64((int64_t)lineno));
		obj = ans;
		status = EX_DATAERR;
		goto emit;
	}
	smtp_json_read(&r, obj);
	if (bounce_classify(&verdict, ctx, &r.in) == BOUNCE_OK)
		output_verdict_json(obj, &verdict);
	smtp_json_clear(&r);
emit:
	puts(json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return status;
}

static int
classify_stream(bounce_ctx *ctx)
{
	unsigned long lineno = 0;
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	int status = 0, st;

	while ((n = getline(&line, &size, stdin)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((size_t)n > CLASSIFY_LINE_MAX) {
			log_warn("stdin line %lu: %zd bytes, over the limit of "
			    "%d", lineno, n, CLASSIFY_LINE_MAX);
			line[0] = '\0';
		}
		if ((st = classify_json_line(ctx, line, (size_t)n, lineno)) !=
		    0)
			status = st;
	}
	if (ferror(stdin)) {
		log_warn("cannot read stdin: %s", strerror(errno));
		status = EX_IOERR;
	}
	free(line);
	return status;
}

int
cmd_classify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "phase", required_argument, NULL, 'p' },
		{ "code", required_argument, NULL, 'c' },
		{ "enhanced", required_argument, NULL, 'e' },
		{ "text", required_argument, NULL, 't' },
		{ "mta", required_argument, NULL, 'm' },
		{ "rules", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bounce_smtp_result in = BOUNCE_SMTP_RESULT_INIT;
	struct smtp_json r;
	const char *rules[RULES_FILES_MAX];
	const char *cfgpath = NULL;
	struct config *cfg;
	bounce_verdict v;
	bounce_ctx *ctx;
	size_t nrules = 0;
	int c, json = 0, one = 0, status, rc;
	char *end;
	long code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jp:c:e:t:m:r:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'p':
			if (bounce_phase_from_name(&in.phase, optarg) !=
			    BOUNCE_OK) {
				log_warn("classify: unknown phase '%s'; use "
				    "connect, helo, mail, rcpt, data or eod",
				    optarg);
				return EX_USAGE;
			}
			one = 1;
			break;
		case 'c':
			errno = 0;
			code = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || code < 0 ||
			    code > 599) {
				log_warn("classify: --code takes an SMTP reply "
				    "code (0, 200-599), not '%s'", optarg);
				return EX_USAGE;
			}
			in.code = (int)code;
			one = 1;
			break;
		case 'e':
			in.enhanced = optarg;
			one = 1;
			break;
		case 't':
			in.text = optarg;
			one = 1;
			break;
		case 'm':
			in.remote_mta = optarg;
			break;
		case 'r':
			if (nrules == RULES_FILES_MAX) {
				log_warn("classify: at most %d --rules files",
				    RULES_FILES_MAX);
				return EX_USAGE;
			}
			rules[nrules++] = optarg;
			break;
		case 'C':
			cfgpath = optarg;
			break;
		case 'h':
			classify_usage(stdout);
			return 0;
		default:
			classify_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		log_warn("classify: unexpected argument '%s'", argv[optind]);
		classify_usage(stderr);
		return EX_USAGE;
	}
	if (json && one) {
		log_warn("classify: --json reads stdin; give either --json or "
		    "one reply's --code/--text");
		return EX_USAGE;
	}
	if ((status = config_from_args(&cfg, cfgpath)) != 0)
		return status;
	status = rulesload_ctx_config(&ctx, cfg, rules, nrules);
	config_free(cfg);
	if (status != 0)
		return status;
	if (!one) {
		status = classify_stream(ctx);
		bounce_ctx_free(ctx);
		return status;
	}
	r.in = in;
	r.have_reply = 0;
	smtp_json_fill(&r);
	rc = bounce_classify(&v, ctx, &r.in);
	smtp_json_clear(&r);
	if (rc != BOUNCE_OK) {
		bounce_ctx_free(ctx);
		return EX_SOFTWARE;
	}
	printf("category: %s\nreason:   %s\nrule:     %s\n",
	    bounce_category_name(v.category), v.reason, v.rule);
	bounce_ctx_free(ctx);
	return 0;
}
