/*
 * names.c - the vocabulary's names: error texts, categories, kinds, SMTP
 * phases and report fields, as the JSON contract spells them.
 */
#include <string.h>

#include "internal.h"

const char *
bounce_strerror(int err)
{
	switch (err) {
	case BOUNCE_OK:
		return "success";
	case BOUNCE_ENOMEM:
		return "out of memory";
	case BOUNCE_EINVAL:
		return "invalid argument";
	case BOUNCE_ELIMIT:
		return "input exceeds a configured limit";
	case BOUNCE_EPARSE:
		return "input could not be parsed";
	case BOUNCE_ERULES:
		return "error in rules";
	case BOUNCE_ENOTFOUND:
		return "not found";
	case BOUNCE_EVERSION:
		return "unsupported structure version";
	}
	return "unknown error";
}

static const char *const category_names[] = {
	NULL, "hard", "soft", "reputation", "content"
};

static const char *const kind_names[] = {
	"unknown", "bounce", "delayed", "delivered", "complaint", "autoreply"
};

static const char *const phase_names[] = {
	NULL, "connect", "helo", "mail", "rcpt", "data", "eod"
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *
bounce_category_name(bounce_category c)
{
	return (unsigned)c < COUNT(category_names) ? category_names[c] : NULL;
}

const char *
bounce_kind_name(bounce_kind k)
{
	return (unsigned)k < COUNT(kind_names) ? kind_names[k] : "unknown";
}

const char *
bounce_phase_name(bounce_phase p)
{
	return (unsigned)p < COUNT(phase_names) ? phase_names[p] : NULL;
}

int
bounce_category_from_name(bounce_category *out, const char *name)
{
	size_t i;

	for (i = 1; i < COUNT(category_names); i++)
		if (name != NULL && str_ieq(name, category_names[i])) {
			*out = (bounce_category)i;
			return BOUNCE_OK;
		}
	return BOUNCE_EINVAL;
}

/* Spellings of the phases in logs and bounces, besides our own names. */
static const struct {
	const char *name;
	bounce_phase phase;
} phase_aliases[] = {
	{ "banner", BOUNCE_PHASE_CONNECT },
	{ "greeting", BOUNCE_PHASE_CONNECT },
	{ "connection", BOUNCE_PHASE_CONNECT },
	{ "ehlo", BOUNCE_PHASE_HELO },
	{ "lhlo", BOUNCE_PHASE_HELO },
	{ "starttls", BOUNCE_PHASE_HELO },
	{ "mail from", BOUNCE_PHASE_MAIL },
	{ "mail_from", BOUNCE_PHASE_MAIL },
	{ "rcpt to", BOUNCE_PHASE_RCPT },
	{ "rcpt_to", BOUNCE_PHASE_RCPT },
	{ "end of data", BOUNCE_PHASE_EOD },
	{ "end-of-data", BOUNCE_PHASE_EOD },
	{ "end of message", BOUNCE_PHASE_EOD },
	{ "dot", BOUNCE_PHASE_EOD },
	{ "body", BOUNCE_PHASE_EOD },
	{ "message", BOUNCE_PHASE_EOD },
};

int
bounce_phase_from_name(bounce_phase *out, const char *name)
{
	size_t i;

	if (name == NULL)
		return BOUNCE_EINVAL;
	for (i = 1; i < COUNT(phase_names); i++)
		if (str_ieq(name, phase_names[i])) {
			*out = (bounce_phase)i;
			return BOUNCE_OK;
		}
	for (i = 0; i < COUNT(phase_aliases); i++)
		if (str_ieq(name, phase_aliases[i].name)) {
			*out = phase_aliases[i].phase;
			return BOUNCE_OK;
		}
	return BOUNCE_EINVAL;
}

static const char *const field_names[BOUNCE_FIELD__COUNT] = {
	[BOUNCE_FIELD_MESSAGE_ID] = "message_id",
	[BOUNCE_FIELD_LIST_ID] = "list_id",
	[BOUNCE_FIELD_ORIGINAL_FROM] = "original_from",
	[BOUNCE_FIELD_ORIGINAL_TO] = "original_to",
	[BOUNCE_FIELD_ORIGINAL_SUBJECT] = "original_subject",
	[BOUNCE_FIELD_CAMPAIGN_ID] = "campaign_id",
	[BOUNCE_FIELD_REPORTING_MTA] = "reporting_mta",
	[BOUNCE_FIELD_ARRIVAL_DATE] = "arrival_date",
	[BOUNCE_FIELD_FEEDBACK_TYPE] = "feedback_type",
	[BOUNCE_FIELD_USER_AGENT] = "user_agent",
	[BOUNCE_FIELD_SUBJECT] = "subject",
	[BOUNCE_FIELD_FROM] = "from",
	[BOUNCE_FIELD_VERP_RECIPIENT] = "verp_recipient",
};

const char *
bounce_field_name(bounce_field field)
{
	return (unsigned)field < BOUNCE_FIELD__COUNT ? field_names[field] :
	    NULL;
}
