/*
 * store_bench.c - how fast bounced stores a Maildir of bounces into
 * PostgreSQL, next to how fast it parses them.
 *
 *   store_bench make-maildir DIR N [RCPTS]   write N distinct DSNs with
 *                                            RCPTS recipients each (5)
 *
 * bench/store.sh times `bounced parse --json` and `bounced ingest` over
 * such a Maildir (or over unique copies of the shared corpus).
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
#include "rulesload.h"
#include "store.h"

#define RCPT_MAX 64

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
	fprintf(stderr, "usage: store_bench make-maildir DIR N [RCPTS]\n");
	return 64;
}
