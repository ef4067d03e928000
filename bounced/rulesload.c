/*
 * rulesload.c - context creation with operator rules files, from the
 * command line and from the configuration (rules_file).
 */
#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "input.h"
#include "log.h"
#include "rulesload.h"

/* A rules file is small; anything this big is a mistake. */
#define RULES_FILE_MAX (4u * 1024 * 1024)

/*
 * Load files in order.  cfg is set when they are the rules_file list of
 * the configuration: a file that cannot be read is then a configuration
 * error (EX_CONFIG) and the message says where it was configured.
 */
static int
load_files(bounce_ctx *ctx, const char *const *files, size_t n,
    const struct config *cfg)
{
	struct msgbuf mb = { 0 };
	const char *origin;
	int err, status = 0;
	size_t i;
	FILE *fp;

	for (i = 0; i < n; i++) {
		origin = cfg != NULL ? config_list_origin(cfg, "rules_file",
		    i) : NULL;
		err = 0;
		if ((fp = input_open(files[i])) == NULL)
			err = errno != 0 ? errno : EIO;
		else {
			err = input_read_stream(&mb, fp, RULES_FILE_MAX);
			input_close(fp);
		}
		if (err != 0) {
			log_warn("cannot read rules file %s: %s%s%s%s%s",
			    files[i], strerror(err),
			    err == EFBIG ? " (limit 4 MiB)" : "",
			    origin != NULL ? " (rules_file, " : "",
			    origin != NULL ? origin : "",
			    origin != NULL ? ")" : "");
			status = cfg != NULL ? EX_CONFIG : EX_NOINPUT;
			goto cleanup;
		}
		if ((err = bounce_ctx_load_rules(ctx, mb.data, mb.len,
		    files[i])) != BOUNCE_OK) {
			log_warn("%s; fix the rule and try again",
			    bounce_ctx_error(ctx));
			status = EX_CONFIG;
			goto cleanup;
		}
	}
cleanup:
	msgbuf_free(&mb);
	return status;
}

static int
load_ctx(bounce_ctx **out, const struct config *cfg,
    const char *const *files, size_t n)
{
	const char *cfiles[RULES_FILES_MAX];
	bounce_limits limits;
	bounce_ctx *ctx = NULL;
	size_t i, nc = 0;
	int err, status;

	*out = NULL;
	if (cfg != NULL) {
		config_limits(&limits, cfg);
		/* the table caps rules_file at RULES_FILES_MAX */
		nc = config_list_count(cfg, "rules_file");
		for (i = 0; i < nc && i < RULES_FILES_MAX; i++)
			cfiles[i] = config_list_item(cfg, "rules_file", i);
	}
	if ((err = bounce_ctx_new(&ctx, cfg != NULL ? &limits : NULL)) !=
	    BOUNCE_OK) {
		log_warn("cannot start libbounce: %s: %s", bounce_strerror(err),
		    ctx != NULL ? bounce_ctx_error(ctx) : "");
		bounce_ctx_free(ctx);
		return EX_SOFTWARE;
	}
	if ((status = load_files(ctx, cfiles, nc < RULES_FILES_MAX ? nc :
	    RULES_FILES_MAX, cfg)) != 0 ||
	    (status = load_files(ctx, files, n, NULL)) != 0) {
		bounce_ctx_free(ctx);
		return status;
	}
	*out = ctx;
	return 0;
}

int
rulesload_ctx(bounce_ctx **out, const char *const *files, size_t n)
{
	return load_ctx(out, NULL, files, n);
}

int
rulesload_ctx_config(bounce_ctx **out, const struct config *cfg,
    const char *const *files, size_t n)
{
	return load_ctx(out, cfg, files, n);
}
