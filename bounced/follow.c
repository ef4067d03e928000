/*
 * follow.c - tailing a growing log across rotation.  See follow.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "follow.h"
#include "log.h"

#define FOLLOW_READ (64u * 1024)

static int
open_at(struct follow *f, const char *path, uint64_t offset)
{
	struct stat sb;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	if (fstat(fd, &sb) != 0) {
		int e = errno;

		close(fd);
		return e;
	}
	if ((uint64_t)sb.st_size < offset)
		offset = 0;	/* truncated while we were away */
	if (offset > 0 && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		int e = errno;

		close(fd);
		return e;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->pos.dev = (uint64_t)sb.st_dev;
	f->pos.inode = (uint64_t)sb.st_ino;
	f->pos.offset = offset;
	f->start = f->len = 0;
	f->skipping = 0;
	return 0;
}

int
follow_open(struct follow *f, const char *path,
    const struct follow_pos *resume, int from_end)
{
	char rotated[4096];
	struct stat sb;
	int err;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if ((f->path = strdup(path)) == NULL)
		return ENOMEM;
	if ((f->buf = malloc(FOLLOW_LINE_MAX + FOLLOW_READ)) == NULL)
		return ENOMEM;
	f->size = FOLLOW_LINE_MAX + FOLLOW_READ;
	if (resume == NULL) {
		if ((err = open_at(f, path, 0)) != 0)
			return err;
		if (from_end && fstat(f->fd, &sb) == 0 &&
		    lseek(f->fd, sb.st_size, SEEK_SET) >= 0)
			f->pos.offset = (uint64_t)sb.st_size;
		return 0;
	}
	if (stat(path, &sb) == 0 && (uint64_t)sb.st_dev == resume->dev &&
	    (uint64_t)sb.st_ino == resume->inode)
		return open_at(f, path, resume->offset);
	/* rotated while we were away: finish the old file first */
	if ((size_t)snprintf(rotated, sizeof(rotated), "%s.1", path) <
	    sizeof(rotated) && stat(rotated, &sb) == 0 &&
	    (uint64_t)sb.st_dev == resume->dev &&
	    (uint64_t)sb.st_ino == resume->inode &&
	    open_at(f, rotated, resume->offset) == 0) {
		f->draining = 1;
		log_info("%s was rotated since the last run; finishing %s "
		    "first", path, rotated);
		return 0;
	}
	log_warn("%s was rotated since the last run and the old file is not "
	    "at %s; reading %s from its start", path, rotated, path);
	return open_at(f, path, 0);
}

void
follow_close(struct follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->path);
	free(f->buf);
	f->path = NULL;
	f->buf = NULL;
}

const struct follow_pos *
follow_position(const struct follow *f)
{
	return &f->pos;
}

/* At the end of the data: rotated, truncated, or just nothing new? */
static int
check_rotation(struct follow *f)
{
	struct stat now, cur;

	if (fstat(f->fd, &cur) == 0 && (uint64_t)cur.st_size < f->pos.offset) {
		log_info("%s was truncated; reading it from the start",
		    f->path);
		return open_at(f, f->path, 0) == 0;
	}
	if (stat(f->path, &now) != 0)
		return 0;	/* not there yet: keep the old one */
	if (f->draining || (uint64_t)now.st_ino != f->pos.inode ||
	    (uint64_t)now.st_dev != f->pos.dev) {
		/* whatever was left of the old file was read: switch */
		if (open_at(f, f->path, 0) == 0) {
			f->draining = 0;
			return 1;
		}
	}
	return 0;
}

int
follow_next(struct follow *f, const char **line, size_t *len)
{
	char *nl;
	ssize_t n;
	size_t used;

	for (;;) {
		nl = f->len > 0 ? memchr(f->buf + f->start, '\n', f->len) :
		    NULL;
		if (nl != NULL) {
			used = (size_t)(nl - (f->buf + f->start)) + 1;
			*line = f->buf + f->start;
			*len = used - 1;
			f->start += used;
			f->len -= used;
			f->pos.offset += used;
			if (f->skipping) {
				/* the tail of an over-long line */
				f->skipping = 0;
				continue;
			}
			if (*len > 0 && (*line)[*len - 1] == '\r')
				(*len)--;
			return 1;
		}
		/* no newline: keep the partial line, read more */
		if (f->start > 0) {
			memmove(f->buf, f->buf + f->start, f->len);
			f->start = 0;
		}
		if (f->skipping && f->len > 0) {
			/* still inside the over-long line */
			f->pos.offset += f->len;
			f->len = 0;
		}
		if (f->len >= FOLLOW_LINE_MAX) {
			/* hand out the first FOLLOW_LINE_MAX bytes, skip the
			 * rest of that line */
			*line = f->buf;
			*len = FOLLOW_LINE_MAX;
			f->pos.offset += f->len;
			f->len = 0;
			f->skipping = 1;
			return 1;
		}
		n = read(f->fd, f->buf + f->len, f->size - f->len);
		if (n < 0) {
			if (errno == EINTR)
				return 0;
			return -1;
		}
		if (n > 0) {
			f->len += (size_t)n;
			continue;
		}
		/* a rotation drops a partial last line of the old file: the
		 * MTA never finished writing it */
		if (check_rotation(f))
			continue;
		return 0;
	}
}
