/*
 * cmd_parse.c - `bounced parse`: read bounce messages (files, stdin, mbox
 * streams) and print one line per failed recipient, as JSON or a table.
 *
 * Exit status: 0; 64 usage; 66 when an input could not be read (the
 * others are still parsed, and the message names the file).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "bounce.h"
#include "commands.h"
#include "config.h"
#include "input.h"
#include "log.h"
#include "output.h"
#include "rulesload.h"

static void
parse_usage(FILE *out)
{
	fprintf(out,
	    "usage: bounced parse [--json] [--rules FILE]... "
	    "[--bounce-address ADDR]\n"
	    "                     [--verp-separator C] [-c FILE] FILE...\n\n"
	    "Parse bounce messages and print one line per recipient.\n"
	    "FILE is a message, an mbox (split at \"From \" lines) or - "
	    "for stdin.\n\n"
	    "  --json                one JSON object per line (the contract "
	    "in README.md)\n"
	    "  --rules FILE          load classification rules (repeatable; "
	    "later wins)\n"
	    "  --bounce-address A    the address the bounce was delivered "
	    "to, for VERP\n"
	    "  --verp-separator C    VERP separator (default: "
	    "verp_separator, +)\n"
	    "  -c, --config FILE     configuration file (rules_file, VERP, "
	    "limits)\n"
	    "  --help                this text\n");
}

struct parse_run {
	bounce_ctx *ctx;
	bounce_parse_options opts;
	int json;
	struct msgbuf mb;
};

/* Parse every message of one input; returns 0 or an exit status. */
static int
parse_one_input(struct parse_run *run, const char *path)
{
	const size_t hard = bounce_ctx_limits(run->ctx)->max_message_bytes + 1;
	struct mbox_reader *mr;
	unsigned long index = 0;
	bounce_report *report;
	int rc, oversize, err, status = 0, mbox;
	FILE *fp;

	if ((fp = input_open(path)) == NULL) {
		input_open_failed(path, errno);
		return EX_NOINPUT;
	}
	if ((mr = mbox_reader_new(fp, hard)) == NULL) {
		input_close(fp);
		return EX_OSERR;
	}
	while ((rc = mbox_reader_next(mr, &run->mb, &oversize)) > 0) {
		index++;
		err = bounce_parse(&report, run->ctx, run->mb.data,
		    run->mb.len, &run->opts);
		if (err != BOUNCE_OK) {
			log_warn("%s: message %lu: %s", path, index,
			    bounce_strerror(err));
			status = EX_SOFTWARE;
			continue;
		}
		/* an mbox's messages are numbered, a lone message is not */
		mbox = mbox_reader_is_mbox(mr);
		if (run->json)
			output_report_json(stdout, path, mbox ? index : 0,
			    report);
		else
			output_report_table(stdout, path, mbox ? index : 0,
			    report);
		bounce_report_free(report);
	}
	if (rc < 0) {
		log_warn("cannot read %s: %s", path, strerror(errno));
		status = EX_NOINPUT;
	}
	mbox_reader_free(mr);
	input_close(fp);
	return status;
}

int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "rules", required_argument, NULL, 'r' },
		{ "bounce-address", required_argument, NULL, 'b' },
		{ "verp-separator", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules[RULES_FILES_MAX];
	struct parse_run run = { 0 };
	bounce_parse_options defaults = BOUNCE_PARSE_OPTIONS_INIT;
	const char *cfgpath = NULL;
	struct config *cfg;
	size_t nrules = 0;
	int c, i, status = 0, st;
	char verp_sep = 0;

	run.opts = defaults;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jr:b:s:c:h", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'j':
			run.json = 1;
			break;
		case 'r':
			if (nrules == RULES_FILES_MAX) {
				log_warn("parse: at most %d --rules files",
				    RULES_FILES_MAX);
				return EX_USAGE;
			}
			rules[nrules++] = optarg;
			break;
		case 'b':
			run.opts.bounce_address = optarg;
			break;
		case 's':
			if (strlen(optarg) != 1) {
				log_warn("parse: --verp-separator takes one "
				    "character, not '%s'", optarg);
				return EX_USAGE;
			}
			verp_sep = optarg[0];
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'h':
			parse_usage(stdout);
			return 0;
		default:
			parse_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		log_warn("parse: no input; give one or more files, or - for "
		    "stdin");
		parse_usage(stderr);
		return EX_USAGE;
	}
	if ((status = config_from_args(&cfg, cfgpath)) != 0)
		return status;
	config_verp(&run.opts.verp, cfg);
	if (verp_sep != 0)
		run.opts.verp.separator = verp_sep;
	status = rulesload_ctx_config(&run.ctx, cfg, rules, nrules);
	config_free(cfg);
	if (status != 0)
		return status;
	if (!run.json)
		output_report_table_header(stdout);
	for (i = optind; i < argc; i++)
		if ((st = parse_one_input(&run, argv[i])) != 0 && status == 0)
			status = st;
	if (fflush(stdout) != 0) {
		log_warn("cannot write the output: %s", strerror(errno));
		status = EX_IOERR;
	}
	msgbuf_free(&run.mb);
	bounce_ctx_free(run.ctx);
	return status;
}
