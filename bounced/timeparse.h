/*
 * timeparse.h - the times logs and JSON results write, to time_t:
 *   "Nov 28 01:21:11"                    (syslog; no year, local time)
 *   "2026-11-28T01:21:11.123456+00:00"   (RFC 3339 / ISO 8601, journald)
 *   "2026-11-28 01:21:11"                (Exim; local time)
 *   "2026-11-28 01:21:11.123 +0100"      (Exim with zone)
 *   "1764292871"                         (Unix seconds)
 */
#ifndef BOUNCED_TIMEPARSE_H
#define BOUNCED_TIMEPARSE_H

#include <time.h>

/*
 * Parse s.  now is the reading time: a syslog time has no year, so it is
 * given the year that puts it at most a day after now (a log read on
 * 2 January still holds 31 December's lines).  Returns 0 and sets *out,
 * or -1 when s is none of the forms above.
 */
int timeparse(time_t *out, const char *s, time_t now);

#endif
