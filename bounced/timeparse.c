/*
 * timeparse.c - log and JSON times to time_t.  See timeparse.h.
 *
 * Hand-written rather than strptime(3): strptime's %b depends on the
 * locale and it cannot read fractions or "+00:00".
 */
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* n digits at p into *v; returns the pointer after them or NULL. */
static const char *
digits(const char *p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return NULL;
		*v = *v * 10 + (p[i] - '0');
	}
	return p + n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), no timezone. */
static long long
days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long long)era * 146097 + doe - 719468;
}

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	return (time_t)(days_from_civil(y, mo, d) * 86400LL + h * 3600 +
	    mi * 60 + s);
}

static time_t
local(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static int
valid(int mo, int d, int h, int mi, int s)
{
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
	    mi <= 59 && s <= 60;
}

/* "+01:00", "-0500", "Z"; seconds east of UTC into *off. */
static int
zone(const char *p, int *off)
{
	int hh, mm = 0, sign;

	if (*p == 'Z' || *p == 'z') {
		*off = 0;
		return 1;
	}
	if (*p != '+' && *p != '-')
		return 0;
	sign = *p == '-' ? -1 : 1;
	if ((p = digits(p + 1, 2, &hh)) == NULL)
		return 0;
	if (*p == ':')
		p++;
	if (digits(p, 2, &mm) == NULL)
		mm = 0;
	*off = sign * (hh * 3600 + mm * 60);
	return 1;
}

static int
iso(time_t *out, const char *p)
{
	int y, mo, d, h, mi, s, off;

	if ((p = digits(p, 4, &y)) == NULL || *p++ != '-' ||
	    (p = digits(p, 2, &mo)) == NULL || *p++ != '-' ||
	    (p = digits(p, 2, &d)) == NULL || (*p != 'T' && *p != ' '))
		return -1;
	p++;
	if ((p = digits(p, 2, &h)) == NULL || *p++ != ':' ||
	    (p = digits(p, 2, &mi)) == NULL || *p++ != ':' ||
	    (p = digits(p, 2, &s)) == NULL || !valid(mo, d, h, mi, s))
		return -1;
	if (*p == '.' || *p == ',')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == ' ')
		p++;
	if (zone(p, &off))
		*out = utc(y, mo, d, h, mi, s) - off;
	else
		*out = local(y, mo, d, h, mi, s);
	return 0;
}

static int
syslog_time(time_t *out, const char *p, time_t now)
{
	const char *m;
	int mo, d, h, mi, s, y;
	struct tm tm;
	time_t t;

	if (strlen(p) < 15 || p[3] != ' ')
		return -1;
	for (m = months; *m != '\0'; m += 3)
		if (strncmp(m, p, 3) == 0)
			break;
	if (*m == '\0')
		return -1;
	mo = (int)((m - months) / 3) + 1;
	p += 4;
	if (*p == ' ')
		p++;
	if (digits(p, 2, &d) == NULL) {
		if (digits(p, 1, &d) == NULL)
			return -1;
		p += 1;
	} else {
		p += 2;
	}
	if (*p++ != ' ' || (p = digits(p, 2, &h)) == NULL || *p++ != ':' ||
	    (p = digits(p, 2, &mi)) == NULL || *p++ != ':' ||
	    digits(p, 2, &s) == NULL || !valid(mo, d, h, mi, s))
		return -1;
	localtime_r(&now, &tm);
	y = tm.tm_year + 1900;
	t = local(y, mo, d, h, mi, s);
	if (t > now + 86400)
		t = local(y - 1, mo, d, h, mi, s);
	*out = t;
	return 0;
}

int
timeparse(time_t *out, const char *s, time_t now)
{
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	while (*s == ' ')
		s++;
	/* strnlen: a shorter string ends before s[4] */
	if (s[0] >= '0' && s[0] <= '9' && strnlen(s, 5) == 5 &&
	    s[4] == '-')
		return iso(out, s);
	if (s[0] >= '0' && s[0] <= '9') {
		v = strtoll(s, &end, 10);
		if ((*end != '\0' && *end != '.') || v < 0 || v > 253402300799LL)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	return syslog_time(out, s, now);
}
