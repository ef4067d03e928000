/*
 * lhost_x6.c - the notice of an unidentified mail service (Sisimai calls
 * it X6), from "mailer-daemon", "There was an error sending your mail":
 *
 *     1 error(s):
 *
 *     SMTP Server <mx> rejected recipient <addr> (Error following RCPT
 *     command). It responded as follows: [550 5.1.1 User unknown]
 *
 *     The following recipients returned permanent errors: addr. Reason:
 *     SMTP Server <192.0.2.1> refused to accept your message (DATA), ...
 *
 *     The attachment contains the original mail headers. ...
 *
 * One line per error; the SMTP verb in it is the phase.  The headers
 * "attachment" is a second text part, which must not be read.
 */
#include <string.h>

#include "lhost.h"

static int
x6_detect(const struct pstate *st)
{
	return str_istarts(st->subject, strlen(st->subject),
	    "There was an error sending your mail");
}

/* The first SMTP verb standing as a word in the line, as a phase. */
static bounce_phase
verb_in(const char *t, size_t n)
{
	bounce_phase ph;
	size_t i;

	for (i = 0; i + 4 <= n; i++) {
		if (i > 0 && ((t[i - 1] >= 'A' && t[i - 1] <= 'Z') ||
		    (t[i - 1] >= 'a' && t[i - 1] <= 'z')))
			continue;
		if (i + 4 < n && ((t[i + 4] >= 'A' && t[i + 4] <= 'Z') ||
		    (t[i + 4] >= 'a' && t[i + 4] <= 'z')))
			continue;
		if ((ph = lhost_verb_phase(t + i, 4)) !=
		    BOUNCE_PHASE_NONE && ph != BOUNCE_PHASE_CONNECT)
			return ph;
	}
	return BOUNCE_PHASE_NONE;
}

/* The reply code of "[550 5.1.1 User unknown]": a bracket is not where
 * the generic reply finder looks for one. */
static int
bracket_code(const char *t, size_t n)
{
	const char *p = t, *end = t + n;

	while ((p = memchr(p, '[', (size_t)(end - p))) != NULL) {
		p++;
		if (end - p > 4 && p[0] >= '2' && p[0] <= '5' &&
		    str_is_digit(p[1]) && str_is_digit(p[2]) && p[3] == ' ')
			return (p[0] - '0') * 100 + (p[1] - '0') * 10 +
			    (p[2] - '0');
	}
	return 0;
}

static int
x6_read(struct pstate *st)
{
	struct lhost_lines it;
	bounce_recipient *rc;
	const char *t, *a, *p;
	size_t n, alen;
	int found = 0, in = 0;

	lhost_lines_init(&it, st);
	while (lhost_next_text(&it, &t, &n)) {
		if (str_istarts(t, n, "The attachment contains the original"))
			break;
		/* "1 error(s):" */
		if (!in) {
			in = str_ifind_z(t, n, " error(s):") != NULL &&
			    str_is_digit(t[0]);
			continue;
		}
		/* the recipient: "<addr>" or after "errors:" */
		a = NULL;
		for (p = t; p < t + n && a == NULL; p++) {
			p = memchr(p, '<', (size_t)(t + n - p));
			if (p == NULL)
				break;
			a = lhost_address(p + 1, (size_t)(t + n - p - 1), &alen);
			if (a != NULL && (a != p + 1 || a + alen >= t + n ||
			    a[alen] != '>'))
				a = NULL;
		}
		if (a == NULL && (p = str_ifind_z(t, n, "errors:")) != NULL)
			a = lhost_address(p + 7, (size_t)(t + n - p - 7), &alen);
		if (a == NULL || (rc = lhost_add(st, a, alen)) == NULL)
			continue;
		found++;
		if (rc->diagnostic == NULL) {
			rc->diagnostic = report_str(st->r, t, n);
			rc->phase = verb_in(t, n);
			rc->reply_code = bracket_code(t, n);
		}
	}
	return found;
}

const struct lhost lhost_x6 = { "x6", x6_detect, x6_read };
