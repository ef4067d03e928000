/*
 * log.h - the one logging module of bounced: printf-checked messages to
 * stderr (default) or syslog.
 *
 * Messages never start with a digit: Postfix's pipe(8) reads output that
 * starts like "5.1.1" or "4.0.0" as a delivery status, so every line is
 * prefixed with the program name.
 */
#ifndef BOUNCED_LOG_H
#define BOUNCED_LOG_H

#include <stdnoreturn.h>

enum log_target { LOG_TO_STDERR = 0, LOG_TO_SYSLOG };

void log_init(const char *progname, enum log_target target);
/* syslog facility for LOG_TO_SYSLOG (default LOG_MAIL); call before
 * log_init(). */
void log_set_facility(int facility);
void log_set_verbose(int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
