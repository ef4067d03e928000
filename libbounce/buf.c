/*
 * buf.c - growing byte buffers with a cap.  See buf.h.
 *
 * Growth doubles, so appends are amortised O(1); the cap bounds memory per
 * buffer whatever the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "buf.h"

void
buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	b->cap = cap;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->size = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t size;
	char *p;

	if (need > b->cap)
		return BOUNCE_ELIMIT;
	if (need + 1 <= b->size)
		return BOUNCE_OK;
	size = b->size ? b->size : 64;
	while (size < need + 1)
		size *= 2;
	if (size > b->cap + 1)
		size = b->cap + 1;
	p = realloc(b->data, size);
	if (p == NULL)
		return BOUNCE_ENOMEM;
	b->data = p;
	b->size = size;
	return BOUNCE_OK;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	int err;

	if (n > b->cap - b->len)
		return BOUNCE_ELIMIT;
	if ((err = buf_grow(b, b->len + n)) != BOUNCE_OK)
		return err;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return BOUNCE_OK;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_append_char(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return BOUNCE_EINVAL;
	if ((size_t)n > b->cap - b->len)
		return BOUNCE_ELIMIT;
	if ((err = buf_grow(b, b->len + (size_t)n)) != BOUNCE_OK)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return BOUNCE_OK;
}

char *
buf_detach(struct buf *b)
{
	char *p;

	if (b->data == NULL && buf_grow(b, 0) != BOUNCE_OK)
		return NULL;
	if (b->len == 0)
		b->data[0] = '\0';
	p = b->data;
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	return p;
}
