/*
 * input.h - reading messages: whole files, stdin, and mbox streams split
 * into messages one at a time (so memory stays flat however long the
 * mbox is).
 */
#ifndef BOUNCED_INPUT_H
#define BOUNCED_INPUT_H

#include <stddef.h>
#include <stdio.h>

struct msgbuf {
	char *data;
	size_t len;
	size_t size;
};

void msgbuf_free(struct msgbuf *mb);

/*
 * Read all of fp into mb (reusing its memory).  Returns 0, or an errno
 * value; EFBIG when the input is longer than hard_limit bytes (then mb
 * holds the first hard_limit bytes).
 */
int input_read_stream(struct msgbuf *mb, FILE *fp, size_t hard_limit);

/* Open path ("-" is stdin) for reading; NULL with errno set. */
FILE *input_open(const char *path);
/* Say why input_open() (or another open of path) failed with err, and
 * what to do. */
void input_open_failed(const char *path, int err);
void input_close(FILE *fp);

/*
 * mbox: messages separated by "From " lines (mboxo/mboxrd; ">From "
 * quoting is left as it is: the parsers do not care).  A file that does
 * not start with a "From " line is one message.
 */
struct mbox_reader;
struct mbox_reader *mbox_reader_new(FILE *fp, size_t hard_limit);
/* Next message into mb; 1 when one was read, 0 at the end, -1 on a read
 * error (errno set).  *oversize is set when the message was cut at
 * hard_limit. */
int mbox_reader_next(struct mbox_reader *r, struct msgbuf *mb, int *oversize);
void mbox_reader_free(struct mbox_reader *r);
/* 1 once the first message showed the input is an mbox. */
int mbox_reader_is_mbox(const struct mbox_reader *r);

/* 1 when line[0..len) is an mbox "From " separator line. */
int mbox_is_from_line(const char *line, size_t len);

#endif
