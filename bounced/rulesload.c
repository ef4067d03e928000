/*
 * rulesload.c - context creation with operator rules files.
 */
#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "input.h"
#include "log.h"
#include "rulesload.h"

/* A rules file is small; anything this big is a mistake. */
#define RULES_FILE_MAX (4u * 1024 * 1024)

int
rulesload_ctx(bounce_ctx **out, const char *const *files, size_t n)
{
	struct msgbuf mb = { 0 };
	bounce_ctx *ctx = NULL;
	int err, status = 0;
	size_t i;
	FILE *fp;

	*out = NULL;
	if ((err = bounce_ctx_new(&ctx, NULL)) != BOUNCE_OK) {
		log_warn("cannot start libbounce: %s: %s", bounce_strerror(err),
		    ctx != NULL ? bounce_ctx_error(ctx) : "");
		return EX_SOFTWARE;
	}
	for (i = 0; i < n; i++) {
		if ((fp = input_open(files[i])) == NULL) {
			log_warn("cannot open rules file %s: %s", files[i],
			    strerror(errno));
			status = EX_NOINPUT;
			goto cleanup;
		}
		err = input_read_stream(&mb, fp, RULES_FILE_MAX);
		input_close(fp);
		if (err != 0) {
			log_warn("cannot read rules file %s: %s%s", files[i],
			    strerror(err),
			    err == EFBIG ? " (limit 4 MiB)" : "");
			status = EX_NOINPUT;
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
	*out = ctx;
	ctx = NULL;
cleanup:
	msgbuf_free(&mb);
	bounce_ctx_free(ctx);
	return status;
}
