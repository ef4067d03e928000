/*
 * cmd_config.c - `bounced config`: check a configuration file, print the
 * effective settings and where each came from, or print a commented
 * example file with every setting at its default.
 *
 * Exit status: 0; 64 usage; 78 (EX_CONFIG) when the configuration cannot
 * be loaded (the message names FILE:LINE); 74 when stdout fails.
 * Secrets are never printed (see config.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "config.h"
#include "log.h"

static void
config_usage(FILE *out)
{
	fprintf(out,
	    "usage: bounced config [--dump | --check | --example] "
	    "[-c FILE]\n\n"
	    "Check and show the configuration.  The file is -c FILE, else "
	    "$%s,\n"
	    "else %s (which may be missing).\n\n"
	    "  --dump        print every setting's effective value and where "
	    "it came\n"
	    "                from (default, FILE:LINE, env); secrets are "
	    "masked (default)\n"
	    "  --check       load the configuration and say whether it is "
	    "good\n"
	    "  --example     print a config file with every setting "
	    "documented and\n"
	    "                commented out at its default\n"
	    "  -c, --config FILE  the configuration file to use\n"
	    "  --help        this text\n",
	    CONFIG_PATH_ENV, CONFIG_DEFAULT_PATH);
}

int
cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dump", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'k' },
		{ "example", no_argument, NULL, 'e' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *cfg = NULL;
	const char *path = NULL;
	int c, mode = 0, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'k':
		case 'e':
			if (mode != 0 && mode != c) {
				log_warn("config: give one of --dump, --check "
				    "and --example");
				return EX_USAGE;
			}
			mode = c;
			break;
		case 'c':
			path = optarg;
			break;
		case 'h':
			config_usage(stdout);
			return 0;
		default:
			config_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		log_warn("config: unexpected argument '%s'", argv[optind]);
		config_usage(stderr);
		return EX_USAGE;
	}
	if (mode == 'e') {
		if (config_write_example(stdout) != 0 || fflush(stdout) != 0) {
			log_warn("cannot write the output: %s",
			    strerror(errno));
			return EX_IOERR;
		}
		return 0;
	}
	if ((status = config_from_args(&cfg, path)) != 0)
		return status;
	if (mode == 'k') {
		if (config_path(cfg) != NULL)
			printf("%s: good\n", config_path(cfg));
		else
			printf("no config file (%s is absent): defaults "
			    "and environment only: good\n",
			    CONFIG_DEFAULT_PATH);
	} else if (config_dump(stdout, cfg) != 0)
		status = EX_IOERR;
	if (fflush(stdout) != 0)
		status = EX_IOERR;
	if (status == EX_IOERR)
		log_warn("cannot write the output: %s", strerror(errno));
	config_free(cfg);
	return status;
}
