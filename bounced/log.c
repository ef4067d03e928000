/*
 * log.c - logging for bounced.  See log.h.
 *
 * One line per message, prefixed "bounced: " (or "bounced ingest: ") so
 * nothing printed starts with a status code, which Postfix pipe(8) would
 * read as the delivery status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "log.h"

static const char *log_progname = "bounced";
static enum log_target log_target_now = LOG_TO_STDERR;
static int log_verbose;
static int log_facility = LOG_MAIL;

void
log_init(const char *progname, enum log_target target)
{
	log_progname = progname;
	log_target_now = target;
	if (target == LOG_TO_SYSLOG)
		openlog(progname, LOG_PID, log_facility);
}

void
log_set_facility(int facility)
{
	log_facility = facility;
}

void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

static void
log_vemit(int priority, const char *fmt, va_list ap)
{
	if (log_target_now == LOG_TO_SYSLOG) {
		vsyslog(priority, fmt, ap);
		return;
	}
	fprintf(stderr, "%s: ", log_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(status);
}
