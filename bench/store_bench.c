/*
 * store_bench.c - how fast bounced stores a Maildir of bounces into
 * PostgreSQL, next to how fast it parses them.
 *
 *   store_bench make-maildir DIR N [RCPTS]   write N distinct DSNs with
 *                                            RCPTS recipients each (5)
 *   store_bench store URL DIR [BATCH] [sync] read, parse and store every
 *                                            message of DIR/cur and DIR/new
 *                                            in batches of BATCH (500)
 *                                            with ingest_files(), the loop
 *                                            `bounced ingest` runs; "sync"
 *                                            waits for each batch instead
 *                                            of parsing the next meanwhile
 *
 * `store` prints one line: counts, wall-clock seconds, CPU seconds of this
 * process (user + system), and messages per second of each.  Parsing is
 * set up as `bounced parse` sets it up (configuration, built-in rules), so
 * the two do the same work but for storing.  bench/store.sh runs both
 * against the private cluster.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "bounce.h"
#include "config.h"
#include "ingest_batch.h"
#include "rulesload.h"
#include "store.h"

#define RCPT_MAX 64

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
make_maildir(const char *dir, long n, int rcpts)
{
	char path[4096];
	long i;
	int r;
	FILE *fp;

	snprintf(path, sizeof(path), "%s", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/cur", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/new", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	mkdir(path, 0755);
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/cur/%ld.bench:2,", dir,
		    i) >= (int)sizeof(path))
			return 1;
		if ((fp = fopen(path, "w")) == NULL) {
			fprintf(stderr, "store_bench: %s: %s\n", path,
			    strerror(errno));
			return 1;
		}
		fprintf(fp,
		    "Return-Path: <>\n"
		    "Delivered-To: list-bounces@lists.example.org\n"
		    "Received: from mx%ld.example.net (mx.example.net "
		    "[192.0.2.25])\n\tby lists.example.org (Postfix) with "
		    "ESMTP "
		    "id %08lX\n\tfor <list-bounces@lists.example.org>; "
		    "Thu, 28 Nov 2024 01:21:11 +0000 (UTC)\n"
		    "Date: Thu, 28 Nov 2024 01:21:11 +0000 (UTC)\n"
		    "From: MAILER-DAEMON@mx.example.net (Mail Delivery "
		    "System)\n"
		    "Subject: Undelivered Mail Returned to Sender\n"
		    "To: list-bounces@lists.example.org\n"
		    "MIME-Version: 1.0\n"
		    "Content-Type: multipart/report; "
		    "report-type=delivery-status;\n\tboundary=\"B/%ld\"\n"
		    "Message-Id: <%ld.%08lX@mx.example.net>\n\n"
		    "--B/%ld\nContent-Type: text/plain; charset=us-ascii\n\n"
		    "I'm sorry to have to inform you that your message could "
		    "not\nbe delivered to one or more recipients.\n\n"
		    "--B/%ld\nContent-Type: message/delivery-status\n\n"
		    "Reporting-MTA: dns; mx.example.net\n"
		    "Arrival-Date: Thu, 28 Nov 2024 01:21:09 +0000\n",
		    i % 17, i, i, i, i, i, i);
		for (r = 0; r < rcpts; r++)
			fprintf(fp, "\nFinal-Recipient: rfc822; "
			    "user%ld.%d@example%d.net\nAction: failed\n"
			    "Status: 5.1.1\nRemote-MTA: dns; in%d.example.net\n"
			    "Diagnostic-Code: smtp; 550 5.1.1 "
			    "<user%ld.%d@example%d.net>: Recipient address "
			    "rejected: User unknown in virtual mailbox table\n",
			    i, r, r % 7, r % 7, i, r, r % 7);
		fprintf(fp, "\n--B/%ld\nContent-Type: text/rfc822-headers\n\n"
		    "From: news@lists.example.org\n"
		    "To: announce@lists.example.org\n"
		    "Subject: November news, issue %ld\n"
		    "Message-Id: <news-%ld@lists.example.org>\n"
		    "List-Id: <announce.lists.example.org>\n"
		    "X-Campaign-Id: nov-2024\n\n--B/%ld--\n", i, i, i, i);
		if (fclose(fp) != 0)
			return 1;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the files of DIR/cur and DIR/new, sorted (Maildir delivery order) */
static char **
list_maildir(const char *dir, size_t *n)
{
	static const char *const subs[] = { "cur", "new" };
	char path[4096], **v = NULL, **nv;
	struct dirent *de;
	size_t s, size = 0;
	DIR *d;

	*n = 0;
	for (s = 0; s < 2; s++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[s]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (*n == size) {
				size = size ? size * 2 : 1024;
				if ((nv = realloc(v, size * sizeof(*v))) ==
				    NULL)
					exit(1);
				v = nv;
			}
			snprintf(path, sizeof(path), "%s/%s/%s", dir, subs[s],
			    de->d_name);
			if ((v[(*n)++] = strdup(path)) == NULL)
				exit(1);
		}
		closedir(d);
	}
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
failed_file(void *arg, const char *path, int result, const char *why)
{
	(void)arg;
	if (result < 0)
		fprintf(stderr, "store_bench: %s: %s: %s\n", path,
		    store_strerror(result), why);
}

static int
store_dir(const char *url, const char *dir, long batch, int sync)
{
	struct ingest_opts o = INGEST_OPTS_INIT;
	bounce_parse_options popts = BOUNCE_PARSE_OPTIONS_INIT;
	struct ingest_stats s;
	struct store *st = NULL;
	struct config *cfg = NULL;
	bounce_ctx *ctx = NULL;
	char err[1024], **paths;
	double t0, c0, t, c;
	size_t n, i;
	int rc;

	paths = list_maildir(dir, &n);
	if (config_from_args(&cfg, NULL) != 0)
		return 1;
	config_verp(&popts.verp, cfg);
	if (rulesload_ctx_config(&ctx, cfg, NULL, 0) != 0)
		return 1;
	config_free(cfg);
	if (store_open(&st, url, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_bench: %s\n", err);
		return 1;
	}
	o.batch = (size_t)batch;
	o.sync = sync;
	o.done = failed_file;
	t0 = now();
	c0 = cpu_seconds();
	rc = ingest_files(&s, st, ctx, &popts, (const char *const *)paths, n,
	    &o);
	t = now() - t0;
	c = cpu_seconds() - c0;
	printf("stored %zu, duplicates %zu, failed %zu, unreadable %zu, "
	    "events %zu; %.2f s wall, %.2f s CPU: %.0f messages/s, "
	    "%.0f messages/CPU-s (batches of %ld%s)\n", s.stored,
	    s.duplicates, s.failed, s.unreadable, s.events, t, c,
	    (double)(s.stored + s.duplicates) / t,
	    (double)(s.stored + s.duplicates) / c, batch,
	    sync ? ", each waited for" : ", overlapped");
	if (rc != 0)
		fprintf(stderr, "store_bench: %s\n", store_error(st));
	store_close(st);
	bounce_ctx_free(ctx);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc != 0 || s.failed != 0 || s.unreadable != 0;
}

int
main(int argc, char **argv)
{
	char *end;
	long n, k;

	if (argc >= 4 && strcmp(argv[1], "make-maildir") == 0) {
		n = strtol(argv[3], &end, 10);
		k = argc > 4 ? strtol(argv[4], NULL, 10) : 5;
		if (*end != '\0' || n < 1 || k < 0 || k > RCPT_MAX)
			return 64;
		return make_maildir(argv[2], n, (int)k);
	}
	if (argc >= 4 && strcmp(argv[1], "store") == 0) {
		k = argc > 4 ? strtol(argv[4], NULL, 10) : 500;
		if (k < 1 || (argc > 5 && strcmp(argv[5], "sync") != 0))
			return 64;
		return store_dir(argv[2], argv[3], k, argc > 5);
	}
	fprintf(stderr, "usage: store_bench make-maildir DIR N [RCPTS]\n"
	    "       store_bench store URL DIR [BATCH] [sync]\n");
	return 64;
}
