/*
 * ctx.c - the library context: limits, rules, the last error's detail.
 *
 * GMime keeps global state of its own (charset tables, the iconv cache).
 * g_mime_init() runs when the first context is made and GMime then stays
 * initialised for the life of the process: GMime 3.2 cannot be shut down
 * and initialised again (GLib reports critical errors), and a program
 * such as `bounced ingest --follow` may make and free contexts many
 * times.  What GMime keeps is still reachable at exit, not leaked.  The
 * flag is the only process-wide state in libbounce and is not
 * thread-safe: create the first context before starting threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "internal.h"

static int gmime_ready;

int
ctx_error(bounce_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return err;
	va_start(ap, fmt);
	/* truncation is fine: the detail is for people */
	(void)vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	return err;
}

void
ctx_clear_error(bounce_ctx *ctx)
{
	ctx->error[0] = '\0';
}

static int
limits_valid(const bounce_limits *l)
{
	return l->max_message_bytes > 0 && l->max_mime_depth > 0 &&
	    l->max_mime_parts > 0 && l->max_text_bytes > 0 &&
	    l->max_field_bytes >= 64 && l->max_recipients > 0;
}

int
bounce_ctx_new(bounce_ctx **out, const bounce_limits *limits)
{
	static const bounce_limits defaults = BOUNCE_LIMITS_INIT;
	bounce_ctx *ctx;
	int err;

	if (out == NULL)
		return BOUNCE_EINVAL;
	*out = NULL;
	if (limits != NULL && limits->version != BOUNCE_LIMITS_VERSION)
		return BOUNCE_EVERSION;
	if (limits != NULL && !limits_valid(limits))
		return BOUNCE_EINVAL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return BOUNCE_ENOMEM;
	ctx->limits = limits != NULL ? *limits : defaults;
	if (!gmime_ready) {
		g_mime_init();
		gmime_ready = 1;
	}
	if ((err = rules_new(&ctx->rules, ctx)) != BOUNCE_OK) {
		bounce_ctx_free(ctx);
		return err;
	}
	*out = ctx;
	return BOUNCE_OK;
}

void
bounce_ctx_free(bounce_ctx *ctx)
{
	if (ctx == NULL)
		return;
	rules_free(ctx->rules);
	free(ctx);
}

const char *
bounce_ctx_error(const bounce_ctx *ctx)
{
	return ctx != NULL ? ctx->error : "";
}

const bounce_limits *
bounce_ctx_limits(const bounce_ctx *ctx)
{
	return &ctx->limits;
}
