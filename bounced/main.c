/*
 * main.c - bounced: bounce processing for mailing lists.
 *
 * Dispatches to the subcommands; each lives in its own cmd_*.c.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "bounce.h"
#include "commands.h"
#include "config.h"
#include "log.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "parse", cmd_parse, "read bounce messages and print what failed" },
	{ "classify", cmd_classify, "classify SMTP replies" },
	{ "config", cmd_config, "check and show the configuration" },
	{ "db", cmd_db, "create, migrate and inspect the database" },
	{ "ingest", cmd_ingest, "store bounces and SMTP results" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: bounced [-c FILE] COMMAND [OPTIONS] [ARGS]\n\n"
	    "Bounce processing for mailing lists.\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(out, "\n`bounced COMMAND --help` tells more about one "
	    "command.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init("bounced", LOG_TO_STDERR);
	/* bounced -c FILE COMMAND: the config file for any command */
	if (argc >= 3 && (strcmp(argv[1], "-c") == 0 ||
	    strcmp(argv[1], "--config") == 0)) {
		config_set_global_path(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("bounced %s\n", BOUNCE_VERSION);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	log_warn("unknown command '%s'; `bounced --help` lists the commands",
	    argv[1]);
	return EX_USAGE;
}
