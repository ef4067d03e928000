/*
 * classify.c - PLACEHOLDER: decides by reply class only.  Replaced by the
 * rule engine.
 */
#include "internal.h"

int
bounce_classify(bounce_verdict *out, bounce_ctx *ctx,
    const bounce_smtp_result *in)
{
	int cls;

	if (out == NULL || ctx == NULL || in == NULL ||
	    in->version != BOUNCE_SMTP_RESULT_VERSION)
		return BOUNCE_EINVAL;
	cls = in->code / 100;
	if (cls == 0 && in->enhanced != NULL && in->enhanced[0] != '\0')
		cls = in->enhanced[0] - '0';
	if (cls == 5) {
		out->category = BOUNCE_CAT_HARD;
		out->reason = "user_unknown";
		out->rule = "fallback.5xx";
	} else {
		out->category = BOUNCE_CAT_SOFT;
		out->reason = cls == 4 ? "other_temporary" : "network";
		out->rule = cls == 4 ? "fallback.4xx" : "fallback.none";
	}
	return BOUNCE_OK;
}
