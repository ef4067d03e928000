/*
 * output.c - JSON lines and readable tables of reports.  See output.h.
 *
 * JSON contract of `bounced parse --json`, one object per (file,
 * recipient): file, kind, recipient, action, status, reply_code,
 * diagnostic, remote_mta, category, reason, rule, message_id, list_id,
 * and more (see README).  Absent values are null, never missing, so a
 * script can rely on every key.
 */
#include <string.h>

#include <json-c/json.h>

#include "output.h"

/*
 * Every key is added once to a new object, and keys are string
 * constants: json-c then neither looks the key up nor copies it, which
 * halves the cost of a line.
 */
#define NEW_CONST_KEY (JSON_C_OBJECT_ADD_KEY_IS_NEW | \
	JSON_C_OBJECT_KEY_IS_CONSTANT)

static void
put_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add_ex(o, key,
	    val != NULL ? json_object_new_string(val) : NULL, NEW_CONST_KEY);
}

static void
put_int_or_null(struct json_object *o, const char *key, int val)
{
	json_object_object_add_ex(o, key,
	    val != 0 ? json_object_new_int(val) : NULL, NEW_CONST_KEY);
}

static struct json_object *
message_object(const char *file, unsigned long index, bounce_kind kind)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "file", file);
	if (index > 0)
		json_object_object_add_ex(o, "message",
		    json_object_new_int64((int64_t)index), NEW_CONST_KEY);
	put_str(o, "kind", bounce_kind_name(kind));
	return o;
}

static void
add_message_fields(struct json_object *o, const bounce_report *report)
{
	static const bounce_field fields[] = {
		BOUNCE_FIELD_MESSAGE_ID, BOUNCE_FIELD_LIST_ID,
		BOUNCE_FIELD_CAMPAIGN_ID, BOUNCE_FIELD_ORIGINAL_FROM,
		BOUNCE_FIELD_ORIGINAL_SUBJECT, BOUNCE_FIELD_FEEDBACK_TYPE,
		BOUNCE_FIELD_REPORTING_MTA,
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		put_str(o, bounce_field_name(fields[i]),
		    bounce_report_field(report, fields[i]));
	put_str(o, "format", bounce_report_format(report));
	if (bounce_report_error(report) != NULL)
		put_str(o, "error", bounce_report_error(report));
}

static int
emit(FILE *out, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = fputs(s, out) < 0 || fputc('\n', out) == EOF ? -1 : 0;

	json_object_put(o);
	return rc;
}

int
output_report_json(FILE *out, const char *file, unsigned long index,
    const bounce_report *report)
{
	size_t i, n = bounce_report_recipient_count(report);
	const bounce_recipient *r;
	struct json_object *o;

	if (n == 0) {
		o = message_object(file, index, bounce_report_kind(report));
		add_message_fields(o, report);
		return emit(out, o);
	}
	for (i = 0; i < n; i++) {
		r = bounce_report_recipient(report, i);
		/* a recipient's own kind (one of a mixed DSN) wins */
		o = message_object(file, index, r->kind);
		put_str(o, "recipient", r->address);
		put_str(o, "original_recipient", r->original_address);
		put_str(o, "action", r->action);
		put_str(o, "status", r->status);
		put_str(o, "dsn_status", r->dsn_status);
		put_int_or_null(o, "reply_code", r->reply_code);
		put_str(o, "diagnostic", r->diagnostic);
		put_str(o, "diagnostic_type", r->diagnostic_type);
		put_str(o, "remote_mta", r->remote_mta);
		put_str(o, "last_attempt_date", r->last_attempt_date);
		put_str(o, "phase", bounce_phase_name(r->phase));
		put_str(o, "category", bounce_category_name(r->category));
		put_str(o, "reason", r->reason);
		put_str(o, "rule", r->rule);
		put_str(o, "recipient_source", r->source);
		add_message_fields(o, report);
		if (emit(out, o) != 0)
			return -1;
	}
	return 0;
}

void
output_report_table_header(FILE *out)
{
	fprintf(out, "%-28s %-9s %-32s %-7s %-4s %-10s %-16s %s\n", "FILE",
	    "KIND", "RECIPIENT", "STATUS", "CODE", "CATEGORY", "REASON",
	    "RULE");
}

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

void
output_report_table(FILE *out, const char *file, unsigned long index,
    const bounce_report *report)
{
	size_t i, n = bounce_report_recipient_count(report);
	const bounce_recipient *r;
	char name[512], code[8];

	if (index > 0)
		snprintf(name, sizeof(name), "%s#%lu", file, index);
	else
		snprintf(name, sizeof(name), "%s", file);
	/* a long name gets a line of its own, so the columns stay put */
	if (strlen(name) > 28) {
		fprintf(out, "%s\n", name);
		name[0] = '\0';
	}
	if (n == 0) {
		fprintf(out, "%-28s %-9s %s\n", name,
		    bounce_kind_name(bounce_report_kind(report)),
		    dash(bounce_report_error(report)));
		return;
	}
	for (i = 0; i < n; i++) {
		r = bounce_report_recipient(report, i);
		if (r->reply_code != 0)
			snprintf(code, sizeof(code), "%d", r->reply_code);
		else
			snprintf(code, sizeof(code), "-");
		fprintf(out, "%-28s %-9s %-32s %-7s %-4s %-10s %-16s %s\n",
		    name, bounce_kind_name(r->kind), dash(r->address),
		    dash(r->status), code,
		    dash(bounce_category_name(r->category)), dash(r->reason),
		    dash(r->rule));
		if (r->diagnostic != NULL)
			fprintf(out, "%-28s   %.150s\n", "", r->diagnostic);
	}
}

void
output_verdict_json(struct json_object *obj, const bounce_verdict *v)
{
	/* the input line may hold these keys already: replace them */
	json_object_object_add(obj, "category",
	    v->category != BOUNCE_CAT_NONE ?
	    json_object_new_string(bounce_category_name(v->category)) : NULL);
	json_object_object_add(obj, "reason", v->reason != NULL ?
	    json_object_new_string(v->reason) : NULL);
	json_object_object_add(obj, "rule", v->rule != NULL ?
	    json_object_new_string(v->rule) : NULL);
}
