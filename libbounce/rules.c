/*
 * rules.c - PLACEHOLDER: the rules table.  Replaced by the classifier work
 * (rules-file parser, built-in table, operator overrides).
 */
#include <stdlib.h>

#include "internal.h"

struct rules {
	size_t count;
};

int
rules_new(struct rules **out, bounce_ctx *ctx)
{
	(void)ctx;
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? BOUNCE_OK : BOUNCE_ENOMEM;
}

void
rules_free(struct rules *rules)
{
	free(rules);
}

int
bounce_ctx_load_rules(bounce_ctx *ctx, const char *buf, size_t len,
    const char *name)
{
	(void)buf;
	(void)len;
	return ctx_error(ctx, BOUNCE_ERULES, "%s: rules not implemented yet",
	    name != NULL ? name : "rules");
}

size_t
bounce_ctx_rule_count(const bounce_ctx *ctx)
{
	return ctx->rules->count;
}
