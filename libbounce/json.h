/*
 * json.h - a small, bounded JSON reader (RFC 8259) for the notifications
 * some providers mail instead of a bounce (Amazon SES through SNS).
 *
 * No tree is built.  A value is named by a pointer to its first byte in
 * the caller's buffer; json_get() finds an object's member, json_next()
 * walks an array, json_string() unescapes a string into an arena.  Every
 * function stops at end and at JSON_DEPTH levels of nesting, and returns
 * NULL for malformed input: it never reads past end.
 */
#ifndef BOUNCE_JSON_H
#define BOUNCE_JSON_H

#include <stddef.h>

#include "strutil.h"

#define JSON_DEPTH 32

/* p after white space (at most end). */
const char *json_ws(const char *p, const char *end);

/* Just past the value that starts at p (white space first is skipped),
 * or NULL when it is malformed or nested deeper than JSON_DEPTH. */
const char *json_skip(const char *p, const char *end);

/* The value of member key of the object at obj, or NULL (not an object,
 * no such member, malformed).  Keys are compared as written (escaped
 * keys do not match). */
const char *json_get(const char *obj, const char *end, const char *key);

/*
 * The elements of the array at arr: start with *pos = NULL; each call
 * returns the next element and remembers it in *pos; NULL at the end, or
 * when arr is not an array or is malformed.
 */
const char *json_next(const char *arr, const char *end, const char **pos);

/* The string value at v unescaped (UTF-8, NUL-terminated) into a, or NULL
 * when v is not a string. */
char *json_string(struct arena *a, const char *v, const char *end);

/* 1 when the string value at v equals s (as written, no escapes). */
int json_is(const char *v, const char *end, const char *s);

#endif
