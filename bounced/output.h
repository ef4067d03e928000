/*
 * output.h - how bounced prints reports and verdicts: JSON lines (the
 * contract scripts and ../shared/eval read) or a readable table.
 *
 * The JSON keys are a contract: extend, never rename or drop one.
 */
#ifndef BOUNCED_OUTPUT_H
#define BOUNCED_OUTPUT_H

#include <stdio.h>

#include "bounce.h"

struct json_object;

/*
 * One JSON object per recipient of report (or one for the message when it
 * has none), each on its own line.  file is the name as given; index is
 * the message's 1-based position in an mbox, 0 for a plain file.
 */
int output_report_json(FILE *out, const char *file, unsigned long index,
    const bounce_report *report);

/* The readable form: a header line once, then one row per recipient. */
void output_report_table_header(FILE *out);
void output_report_table(FILE *out, const char *file, unsigned long index,
    const bounce_report *report);

/* Add category, reason and rule of v to obj (for classify --json). */
void output_verdict_json(struct json_object *obj, const bounce_verdict *v);

#endif
