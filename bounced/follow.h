/*
 * follow.h - reading a log that grows, as `tail -F` does, for
 * `bounced ingest --smtp FORMAT --follow FILE`.
 *
 * The reader hands out complete lines and knows the offset just after the
 * last one it handed out, with the file's device and inode: that triple
 * is the position the caller stores in the database with the results of
 * those lines, in one transaction, so a restart resumes exactly there.
 *
 * Rotation: when the file at the path is replaced (logrotate's create
 * mode, a new inode) the reader finishes the old file, then opens the new
 * one from its start; when the file shrinks under it (copytruncate) it
 * starts again from the top.  A position whose inode no longer is at the
 * path is looked for at PATH.1 (the rotated file), finished there, and
 * reading goes on at the start of PATH.
 *
 * Limits: a line is at most FOLLOW_LINE_MAX bytes; longer ones are cut
 * (the rest is skipped up to the next newline).
 */
#ifndef BOUNCED_FOLLOW_H
#define BOUNCED_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

#define FOLLOW_LINE_MAX (64u * 1024)

struct follow_pos {
	uint64_t dev;
	uint64_t inode;
	uint64_t offset;
};

struct follow {
	char *path;
	int fd;
	int draining;		/* reading a rotated file to its end */
	struct follow_pos pos;	/* after the last line handed out */
	char *buf;		/* read but not yet handed out */
	size_t start, len, size;
	int skipping;		/* inside an over-long line */
};

/*
 * Open path; resume at *resume when it is not NULL (as stored), else
 * at the start (from_end: at the end, for a first run on a big log).
 * Returns 0 or an errno value.
 */
int follow_open(struct follow *f, const char *path,
    const struct follow_pos *resume, int from_end);
void follow_close(struct follow *f);

/*
 * The next complete line (without its newline; borrowed until the next
 * call).  Returns 1 with a line, 0 when there is none now (the caller
 * may write what it has, then call again after a pause), -1 on a read
 * error (errno set).
 */
int follow_next(struct follow *f, const char **line, size_t *len);

/* Where the reader stands: after the last line handed out. */
const struct follow_pos *follow_position(const struct follow *f);

#endif
