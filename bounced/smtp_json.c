/*
 * smtp_json.c - an SMTP result from a JSON object (see smtp_json.h).
 */
#include <string.h>

#include <json-c/json.h>

#include "smtp_json.h"

const char *
json_string_at(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

void
smtp_json_read(struct smtp_json *r, struct json_object *obj)
{
	bounce_smtp_result init = BOUNCE_SMTP_RESULT_INIT;
	bounce_smtp_result *in = &r->in;
	struct json_object *v;
	const char *phase;

	*in = init;
	r->have_reply = 0;
	if ((phase = json_string_at(obj, "phase")) == NULL ||
	    bounce_phase_from_name(&in->phase, phase) != BOUNCE_OK)
		in->phase = BOUNCE_PHASE_NONE;
	if (json_object_object_get_ex(obj, "code", &v) && v != NULL)
		in->code = json_object_get_int(v);
	in->enhanced = json_string_at(obj, "enhanced");
	in->text = json_string_at(obj, "text");
	in->remote_mta = json_string_at(obj, "remote_mta");
	in->action = json_string_at(obj, "action");
	smtp_json_fill(r);
}

void
smtp_json_fill(struct smtp_json *r)
{
	bounce_smtp_result *in = &r->in;

	if (in->enhanced != NULL && in->enhanced[0] == '\0')
		in->enhanced = NULL;
	if (r->have_reply || in->text == NULL ||
	    (in->code != 0 && in->enhanced != NULL))
		return;
	if (bounce_smtp_reply_parse(&r->reply, in->text, strlen(in->text)) !=
	    BOUNCE_OK)
		return;
	r->have_reply = 1;
	if (in->code == 0)
		in->code = r->reply.code;
	if (in->enhanced == NULL && r->reply.enhanced[0] != '\0')
		in->enhanced = r->reply.enhanced;
}

void
smtp_json_clear(struct smtp_json *r)
{
	if (r->have_reply)
		bounce_smtp_reply_clear(&r->reply);
	r->have_reply = 0;
}
