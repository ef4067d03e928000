/*
 * smtp_json.h - the SMTP result a JSON object describes, read the one way
 * both `bounced classify --json` and `bounced ingest --smtp json` read it.
 *
 * Keys: phase, code, enhanced, text, remote_mta, action.  A reply code or
 * enhanced code the object leaves out is taken from the text when the
 * text starts with one ("550 5.1.1 ..."): a result logged as text alone
 * must not read as "no reply".
 */
#ifndef BOUNCED_SMTP_JSON_H
#define BOUNCED_SMTP_JSON_H

#include "bounce.h"

struct json_object;

struct smtp_json {
	bounce_smtp_result in;	/* what bounce_classify takes */
	bounce_smtp_reply reply; /* the text, parsed when needed */
	int have_reply;
};

/* The value of key as a string, or NULL when absent or null. */
const char *json_string_at(struct json_object *obj, const char *key);

/*
 * Fill r from obj.  Strings point into obj and into r: both must outlive
 * the use of r->in.  Call smtp_json_clear(r) afterwards.
 */
void smtp_json_read(struct smtp_json *r, struct json_object *obj);

/*
 * Take a code or enhanced code r->in leaves out from r->in.text (what
 * smtp_json_read does; for a result built by hand, such as from the
 * command line).  r->have_reply must be 0 on the first call.
 */
void smtp_json_fill(struct smtp_json *r);
void smtp_json_clear(struct smtp_json *r);

#endif
