/*
 * buf.h - growing byte buffers with a cap (after curl's dynbuf).
 *
 * A buf always holds a NUL after its data, so buf->data is a C string when
 * the data has no NUL of its own.  Appending past the cap fails with
 * BOUNCE_ELIMIT and leaves the buffer as it was: a hostile input can make
 * a buffer full, never unbounded.
 */
#ifndef BOUNCE_BUF_H
#define BOUNCE_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t size;	/* allocated, including the NUL */
	size_t cap;	/* largest len allowed */
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
/* Forget the data, keep the memory. */
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the data over (caller frees); the buf is empty after. */
char *buf_detach(struct buf *b);

#endif
