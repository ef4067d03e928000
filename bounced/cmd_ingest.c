/*
 * cmd_ingest.c - `bounced ingest`: store bounces and SMTP results.
 *
 *   bounced ingest [options]               one message on stdin (MTA pipe)
 *   bounced ingest [options] PATH...       files, Maildirs, mboxes
 *   bounced ingest --smtp FORMAT [--follow] [FILE]   synchronous results
 *
 * Exit status (sysexits): 0 stored or duplicate; 75 (EX_TEMPFAIL) when it
 * could not store, so the MTA keeps the message and delivers it again;
 * 64 usage; 78 configuration.  One exception, on purpose: with a message
 * on stdin, a configuration error also exits 75.  The MTA treats 78 as a
 * permanent failure and would discard the bounce (Postfix pipe(8) maps it
 * to 5.3.5, and a bounce of a bounce goes nowhere); 75 keeps it queued
 * until the configuration is fixed, and the log says what to fix.
 *
 * Postfix pipe(8) reads output that starts with a status code as the
 * delivery status, so nothing here prints a line that starts with a
 * digit: log lines begin with the program name.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "config.h"
#include "ingest.h"
#include "input.h"
#include "log.h"
#include "rulesload.h"

static void
ingest_usage(FILE *out)
{
	fprintf(out,
	    "usage: bounced ingest [-c FILE] [--database URL] [--list NAME]\n"
	    "                      [--recipient ADDR] [--bounce-address ADDR] "
	    "[--sender ADDR]\n"
	    "                      [PATH...]\n"
	    "       bounced ingest --smtp postfix|exim|json [--follow] "
	    "[--source NAME]\n"
	    "                      [-c FILE] [--database URL] [--list NAME] "
	    "[FILE]\n\n"
	    "Store bounce messages and synchronous SMTP results in "
	    "PostgreSQL.\n\n"
	    "Without PATH: one message on stdin, as Postfix pipe(8), Exim's "
	    "pipe\n"
	    "transport, procmail or .forward deliver it.  With PATHs: every "
	    "message of\n"
	    "the files, Maildirs (cur/ and new/) and mboxes, on one "
	    "connection.\n\n"
	    "  --list NAME          the mailing list the bounce address "
	    "belongs to\n"
	    "  --recipient ADDR     the recipient VERP names (Postfix "
	    "${extension},\n"
	    "                       Exim $local_part_suffix); "
	    "alice=example.net works\n"
	    "  --bounce-address A   the address the bounce was delivered to\n"
	    "  --sender ADDR        the bounce's envelope sender\n"
	    "  --smtp FORMAT        read MTA results: postfix or exim logs, "
	    "or json lines\n"
	    "  --follow             keep reading a growing log across "
	    "rotation; the\n"
	    "                       position is kept in the database\n"
	    "  --source NAME        name of the log for its position "
	    "(default FORMAT:PATH)\n"
	    "  --database URL       libpq URL (default: database_url, "
	    "$BOUNCED_DATABASE_URL)\n"
	    "  -c, --config FILE    configuration file\n"
	    "  -v, --verbose        say what happened to each message\n"
	    "  --help               this text\n\n"
	    "Exit: 0 stored or duplicate; 75 not stored, try again; 64 usage; "
	    "78 configuration\n"
	    "(75 too for a message on stdin, so the MTA keeps it).\n");
}

/* Postfix passes an empty macro as an empty argument: that is "none". */
static const char *
arg(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

const char *
ingest_parse_status(const bounce_report *r)
{
	const char *err;

	if (r == NULL)
		return "error";
	err = bounce_report_error(r);
	if (err != NULL && strstr(err, "max_message_bytes") != NULL)
		return "over_limit";
	if (bounce_report_kind(r) == BOUNCE_KIND_UNKNOWN)
		return err != NULL ? "error" : "unrecognized";
	return "ok";
}

int
ingest_partly_read(const bounce_report *r)
{
	return r != NULL && bounce_report_recipient_count(r) > 0;
}

/* One message on stdin: the MTA pipe. */
static int
ingest_stdin(struct ingest *in)
{
	struct store_msg m = { 0 };
	struct msgbuf mb = { 0 };
	bounce_report *report = NULL;
	int err, rc, oversize = 0;

	err = input_read_stream(&mb, stdin, INGEST_MAX_BYTES);
	if (err == EFBIG) {
		oversize = 1;
	} else if (err != 0) {
		log_warn("cannot read the message on stdin: %s; the MTA will "
		    "deliver it again", strerror(err));
		msgbuf_free(&mb);
		return EX_TEMPFAIL;
	}
	ingest_parse(in, mb.data, mb.len, &report);
	m.raw = mb.data;
	m.len = mb.len;
	m.report = report;
	m.name = "the message on stdin";
	m.list = in->list;
	m.envelope_sender = in->sender;
	m.bounce_address = in->bounce_address;
	m.source = "pipe";
	m.parse_status = oversize ? "over_limit" : ingest_parse_status(report);
	rc = store_message(in->store, &m);
	if (rc == STORE_STORED || rc == STORE_DUPLICATE) {
		if (strcmp(m.parse_status, "ok") != 0) {
			const char *why = report != NULL &&
			    bounce_report_error(report) != NULL ?
			    bounce_report_error(report) :
			    "not a bounce bounced knows";

			if (ingest_partly_read(report))
				log_warn("stored the message on stdin: %s "
				    "(%s)", m.parse_status, why);
			else
				log_warn("stored the message on stdin raw: %s "
				    "(%s); `bounced parse` on it tells more",
				    m.parse_status, why);
		}
		if (rc == STORE_DUPLICATE)
			log_info("the message on stdin was stored before: "
			    "duplicate, not stored again");
		else if (in->verbose)
			log_info("stored the message on stdin: %s, %zu "
			    "recipient(s)", bounce_kind_name(
			    bounce_report_kind(report)),
			    bounce_report_recipient_count(report));
		rc = 0;
	} else {
		log_warn("could not store the message on stdin: %s; the MTA "
		    "keeps it and delivers it again", store_error(in->store));
		rc = EX_TEMPFAIL;
	}
	bounce_report_free(report);
	msgbuf_free(&mb);
	return rc;
}

/* Configuration, rules, store: what every mode needs.  Returns 0 or an
 * exit status. */
static int
ingest_setup(struct ingest *in, const char *cfgpath, const char *database)
{
	char err[512];
	const char *url;
	int rc;

	if ((rc = config_from_args(&in->cfg, cfgpath)) != 0)
		return rc;
	config_apply_logging(in->cfg, "bounced ingest");
	if ((rc = rulesload_ctx_config(&in->ctx, in->cfg, NULL, 0)) != 0)
		return rc;
	config_verp(&in->popts.verp, in->cfg);
	in->popts.bounce_address = in->bounce_address;
	in->popts.verp_recipient = in->recipient;
	in->poll_ms = config_number(in->cfg, "follow_poll_interval") * 1000;
	url = database != NULL ? database : config_string(in->cfg,
	    "database_url");
	if (url == NULL || url[0] == '\0') {
		log_warn("no database configured: set database_url in %s or "
		    "$BOUNCED_DATABASE_URL, or give --database (a private "
		    "test database: scripts/pg.sh start; scripts/pg.sh url)",
		    config_path(in->cfg) != NULL ? config_path(in->cfg) :
		    "the configuration file");
		return EX_CONFIG;
	}
	rc = store_open(&in->store, url, err, sizeof(err));
	if (rc != STORE_STORED) {
		log_warn("%s", err);
		return store_exit_status(rc);
	}
	return 0;
}

int
cmd_ingest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "bounce-address", required_argument, NULL, 'b' },
		{ "sender", required_argument, NULL, 's' },
		{ "smtp", required_argument, NULL, 'S' },
		{ "follow", no_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 'n' },
		{ "database", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL, *database = NULL;
	static const bounce_parse_options popts = BOUNCE_PARSE_OPTIONS_INIT;
	struct ingest in;
	int c, rc, pipe_mode;

	memset(&in, 0, sizeof(in));
	in.popts = popts;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			in.list = arg(optarg);
			break;
		case 'r':
			in.recipient = arg(optarg);
			break;
		case 'b':
			in.bounce_address = arg(optarg);
			break;
		case 's':
			in.sender = arg(optarg);
			break;
		case 'S':
			if (strcmp(optarg, "postfix") == 0)
				in.smtp = INGEST_SMTP_POSTFIX;
			else if (strcmp(optarg, "exim") == 0)
				in.smtp = INGEST_SMTP_EXIM;
			else if (strcmp(optarg, "json") == 0)
				in.smtp = INGEST_SMTP_JSON;
			else {
				log_warn("ingest: --smtp takes postfix, exim "
				    "or json, not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		case 'f':
			in.follow = 1;
			break;
		case 'n':
			in.source_name = arg(optarg);
			break;
		case 'd':
			database = arg(optarg);
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'v':
			in.verbose = 1;
			break;
		case 'h':
			ingest_usage(stdout);
			return 0;
		default:
			ingest_usage(stderr);
			return EX_USAGE;
		}
	}
	pipe_mode = in.smtp == INGEST_SMTP_NONE && optind == argc;
	if (in.smtp == INGEST_SMTP_NONE && (in.follow || in.source_name)) {
		log_warn("ingest: --follow and --source go with --smtp");
		return EX_USAGE;
	}
	if (in.smtp != INGEST_SMTP_NONE && argc - optind > 1) {
		log_warn("ingest: --smtp reads one log (a FILE or stdin)");
		return EX_USAGE;
	}
	if (in.follow && (optind == argc || strcmp(argv[optind], "-") == 0)) {
		log_warn("ingest: --follow needs a log file, not stdin");
		return EX_USAGE;
	}
	rc = ingest_setup(&in, cfgpath, database);
	if (rc != 0) {
		/* a message on stdin must stay with the MTA */
		if (pipe_mode && rc != EX_TEMPFAIL) {
			log_warn("the message on stdin was not stored; exiting "
			    "75 so the MTA keeps it until this is fixed");
			rc = EX_TEMPFAIL;
		}
		goto cleanup;
	}
	if (pipe_mode)
		rc = ingest_stdin(&in);
	else if (in.smtp != INGEST_SMTP_NONE)
		rc = ingest_smtp(&in, optind < argc ? argv[optind] : "-");
	else
		rc = ingest_paths(&in, argv + optind, argc - optind);
cleanup:
	store_close(in.store);
	bounce_ctx_free(in.ctx);
	config_free(in.cfg);
	return rc;
}
