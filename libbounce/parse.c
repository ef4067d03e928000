/*
 * parse.c - PLACEHOLDER pipeline.
 */
#include "report.h"

int
bounce_parse(bounce_report **out, bounce_ctx *ctx, const char *buf,
    size_t len, const bounce_parse_options *opts)
{
	bounce_report *r;
	int err;

	(void)opts;
	if (out == NULL || ctx == NULL || (buf == NULL && len > 0))
		return BOUNCE_EINVAL;
	if ((err = report_new(&r, ctx->limits.max_recipients)) != BOUNCE_OK)
		return err;
	report_set_error(r, "not implemented");
	*out = r;
	return BOUNCE_OK;
}
