/*
 * input.c - reading messages from files, stdin and mbox streams.
 *
 * Limits: a message longer than the caller's hard_limit is cut there and
 * flagged; the mbox reader holds one message and one line at a time.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "log.h"

void
msgbuf_free(struct msgbuf *mb)
{
	free(mb->data);
	mb->data = NULL;
	mb->len = mb->size = 0;
}

static int
msgbuf_reserve(struct msgbuf *mb, size_t need)
{
	size_t size;
	char *p;

	if (need + 1 <= mb->size)
		return 0;
	size = mb->size ? mb->size : 65536;
	while (size < need + 1)
		size *= 2;
	if ((p = realloc(mb->data, size)) == NULL)
		return ENOMEM;
	mb->data = p;
	mb->size = size;
	return 0;
}

static int
msgbuf_append(struct msgbuf *mb, const char *p, size_t n)
{
	int err;

	if ((err = msgbuf_reserve(mb, mb->len + n)) != 0)
		return err;
	memcpy(mb->data + mb->len, p, n);
	mb->len += n;
	mb->data[mb->len] = '\0';
	return 0;
}

int
input_read_stream(struct msgbuf *mb, FILE *fp, size_t hard_limit)
{
	size_t n, want;
	int err;

	mb->len = 0;
	if ((err = msgbuf_reserve(mb, 0)) != 0)
		return err;
	for (;;) {
		if (mb->len >= hard_limit) {
			/* is there more? */
			if (fgetc(fp) != EOF)
				return EFBIG;
			break;
		}
		want = mb->size - 1 - mb->len;
		if (want == 0) {
			if ((err = msgbuf_reserve(mb, mb->size * 2)) != 0)
				return err;
			want = mb->size - 1 - mb->len;
		}
		if (want > hard_limit - mb->len)
			want = hard_limit - mb->len;
		n = fread(mb->data + mb->len, 1, want, fp);
		mb->len += n;
		if (n < want) {
			if (ferror(fp))
				return errno != 0 ? errno : EIO;
			break;
		}
	}
	mb->data[mb->len] = '\0';
	return 0;
}

FILE *
input_open(const char *path)
{
	struct stat sb;
	FILE *fp;

	if (strcmp(path, "-") == 0)
		return stdin;
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	/* a directory opens, and fails only at the first read */
	if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(fp);
		errno = EISDIR;
		return NULL;
	}
	return fp;
}

void
input_open_failed(const char *path, int err)
{
	if (err == EISDIR)
		log_warn("cannot open %s: it is a directory; name the files "
		    "in it (bounced ingest also takes a Maildir)", path);
	else
		log_warn("cannot open %s: %s; check the path and permissions",
		    path, strerror(err));
}

void
input_close(FILE *fp)
{
	if (fp != NULL && fp != stdin)
		fclose(fp);
}

/*
 * "From sender date": the separator has a sender token and a date with a
 * time in it; a body line that merely starts with "From " rarely has both.
 */
int
mbox_is_from_line(const char *line, size_t len)
{
	size_t i, spaces = 0;
	int colon = 0;

	if (len < 5 || memcmp(line, "From ", 5) != 0)
		return 0;
	for (i = 5; i < len && line[i] != '\n'; i++) {
		if (line[i] == ' ')
			spaces++;
		else if (line[i] == ':')
			colon = 1;
	}
	return spaces >= 2 && colon;
}

struct mbox_reader {
	FILE *fp;
	size_t hard_limit;
	char *line;		/* the look-ahead line */
	size_t line_size;
	ssize_t line_len;
	int have_line;
	int started;
	int whole;		/* not an mbox: one message to the end */
};

struct mbox_reader *
mbox_reader_new(FILE *fp, size_t hard_limit)
{
	struct mbox_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->fp = fp;
	r->hard_limit = hard_limit;
	return r;
}

void
mbox_reader_free(struct mbox_reader *r)
{
	if (r == NULL)
		return;
	free(r->line);
	free(r);
}

static int
mbox_getline(struct mbox_reader *r)
{
	errno = 0;
	r->line_len = getline(&r->line, &r->line_size, r->fp);
	if (r->line_len < 0) {
		r->have_line = 0;
		return ferror(r->fp) ? -1 : 0;
	}
	r->have_line = 1;
	return 1;
}

int
mbox_reader_next(struct mbox_reader *r, struct msgbuf *mb, int *oversize)
{
	int rc;

	mb->len = 0;
	*oversize = 0;
	if (msgbuf_reserve(mb, 0) != 0)
		return -1;
	mb->data[0] = '\0';
	if (!r->started) {
		r->started = 1;
		if ((rc = mbox_getline(r)) <= 0)
			return rc;
		r->whole = !mbox_is_from_line(r->line, (size_t)r->line_len);
	}
	if (!r->have_line)
		return 0;
	/* the separator line belongs to the message: the library skips it,
	 * and a single-message file keeps its bytes */
	do {
		if (mb->len + (size_t)r->line_len <= r->hard_limit) {
			if (msgbuf_append(mb, r->line, (size_t)r->line_len) !=
			    0)
				return -1;
		} else {
			*oversize = 1;
		}
		if ((rc = mbox_getline(r)) < 0)
			return -1;
	} while (rc > 0 &&
	    (r->whole || !mbox_is_from_line(r->line, (size_t)r->line_len)));
	return 1;
}

int
mbox_reader_is_mbox(const struct mbox_reader *r)
{
	return r->started && !r->whole;
}
