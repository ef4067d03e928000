/*
 * store_bench.c - how fast the store writes a Maildir of bounces into
 * PostgreSQL, next to how fast they parse.
 *
 *   store_bench make-maildir DIR N [RCPTS]   write N distinct DSNs with
 *                                            RCPTS recipients each (5)
 *   store_bench store URL DIR [BATCH]        read, parse and store every
 *                                            message of DIR/cur and DIR/new
 *                                            in batches of BATCH (500);
 *                                            prints messages/s
 *
 * bench/store.sh runs both against the private cluster and compares with
 * `bounced parse --json` over the same Maildir.
 *
 * The recipients stored are the report's; while the parser cannot read a
 * DSN yet (it is being written), they are made from the Final-Recipient
 * lines so each message still writes RCPTS events: what is measured is
 * the store, with the event count a real run would have.
 */
/* memmem */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bounce.h"
#include "input.h"
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

/* recipients from the Final-Recipient lines (see the file's comment) */
static size_t
fake_recipients(bounce_recipient *out, char addrs[][128], const char *buf,
    size_t len)
{
	const char *p = buf, *end = buf + len, *q;
	size_t n = 0, k;

	while (n < RCPT_MAX && (q = memmem(p, (size_t)(end - p),
	    "Final-Recipient: rfc822; ", 25)) != NULL) {
		q += 25;
		for (k = 0; q + k < end && q[k] != '\n' && k < 127; k++)
			addrs[n][k] = q[k];
		addrs[n][k] = '\0';
		memset(&out[n], 0, sizeof(out[n]));
		out[n].address = addrs[n];
		out[n].kind = BOUNCE_KIND_BOUNCE;
		out[n].action = "failed";
		out[n].status = "5.1.1";
		out[n].dsn_status = "5.1.1";
		out[n].reply_code = 550;
		out[n].diagnostic = "550 5.1.1 Recipient address rejected: "
				    "User unknown in virtual mailbox table";
		out[n].remote_mta = "in.example.net";
		out[n].phase = BOUNCE_PHASE_RCPT;
		out[n].category = BOUNCE_CAT_HARD;
		out[n].reason = "user_unknown";
		out[n].rule = "bench";
		n++;
		p = q;
	}
	return n;
}

/* write the batch; counts: stored, duplicates, failed */
static int
flush(struct store *st, long counts[3])
{
	size_t i;
	int rc;

	rc = store_batch_flush(st);
	if (rc < 0 && rc != STORE_EDATA) {
		fprintf(stderr, "store_bench: %s\n", store_error(st));
		return 1;
	}
	for (i = 0; (rc = store_batch_result(st, i)) != STORE_EINVAL; i++)
		counts[rc == STORE_STORED ? 0 :
		    rc == STORE_DUPLICATE ? 1 : 2]++;
	return 0;
}

static int
store_dir(const char *url, const char *dir, long batch)
{
	static bounce_recipient rcpt[RCPT_MAX];
	static char addrs[RCPT_MAX][128];
	static const char *const subs[] = { "cur", "new" };
	struct msgbuf mb = { 0 };
	struct store *st = NULL;
	bounce_report *report;
	bounce_ctx *ctx = NULL;
	struct store_msg m;
	struct dirent *de;
	char path[4096], err[1024];
	long stored, dup, failed, events = 0, counts[3] = { 0, 0, 0 };
	double t0, t;
	size_t s;
	DIR *d;
	FILE *fp;

	if (bounce_ctx_new(&ctx, NULL) != BOUNCE_OK)
		return 1;
	if (store_open(&st, url, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_bench: %s\n", err);
		return 1;
	}
	t0 = now();
	for (s = 0; s < 2; s++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[s]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", dir, subs[s],
			    de->d_name);
			if ((fp = fopen(path, "rb")) == NULL ||
			    input_read_stream(&mb, fp, 50u << 20) != 0) {
				fprintf(stderr, "store_bench: %s\n", path);
				return 1;
			}
			fclose(fp);
			if (bounce_parse(&report, ctx, mb.data, mb.len, NULL) !=
			    BOUNCE_OK)
				return 1;
			memset(&m, 0, sizeof(m));
			m.raw = mb.data;
			m.len = mb.len;
			m.report = report;
			m.name = path;
			m.source = "batch";
			if (bounce_report_recipient_count(report) == 0) {
				m.recipients = rcpt;
				m.nrecipients = fake_recipients(rcpt, addrs,
				    mb.data, mb.len);
			}
			events += (long)(m.recipients != NULL ? m.nrecipients :
			    bounce_report_recipient_count(report));
			if (store_batch_add_message(st, &m) < 0)
				return 1;
			bounce_report_free(report);
			if ((long)store_batch_count(st) >= batch ||
			    store_batch_full(st))
				if (flush(st, counts) != 0)
					return 1;
		}
		closedir(d);
	}
	if (store_batch_count(st) > 0 && flush(st, counts) != 0)
		return 1;
	stored = counts[0];
	dup = counts[1];
	failed = counts[2];
	t = now() - t0;
	printf("stored %ld, duplicates %ld, failed %ld, events %ld in %.2f s: "
	    "%.0f messages/s, %.0f events/s (batches of %ld)\n", stored, dup,
	    failed, events, t, (double)(stored + dup) / t, (double)events / t,
	    batch);
	store_close(st);
	bounce_ctx_free(ctx);
	msgbuf_free(&mb);
	return failed != 0;
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
		if (k < 1)
			return 64;
		return store_dir(argv[2], argv[3], k);
	}
	fprintf(stderr, "usage: store_bench make-maildir DIR N [RCPTS]\n"
	    "       store_bench store URL DIR [BATCH]\n");
	return 64;
}
