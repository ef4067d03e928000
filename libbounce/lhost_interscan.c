/*
 * lhost_interscan.c - bounces of Trend Micro InterScan Messaging Security
 * Suite (IMSS, InterScan MSS for SMTP).  From "InterScan MSS" or
 * "InterScan Notification", Subject "Mail could not be delivered" (in
 * Japanese "メッセージを配信できません。", "メール配信に失敗しました").
 * Two layouts:
 *
 *     Unable to deliver message to <addr> (and other recipients in the
 *     same domain).
 *
 * (after "Reason:" in newer releases), or the SMTP session, written from
 * InterScan's side ("Sent <<<" is the command, "Received >>>" the reply):
 *
 *     Sent <<< RCPT TO:<addr>
 *     Received >>> 550 5.1.1 <addr>... user unknown
 */
#include <string.h>

#include "lhost.h"

static int
interscan_detect(const struct pstate *st)
{
	return lhost_from_has(st, "InterScan") ||
	    lhost_subject_has(st, "Mail could not be delivered") ||
	    lhost_subject_has(st, "\xe3\x83\xa1\xe3\x83\x83\xe3\x82\xbb"
	    "\xe3\x83\xbc\xe3\x82\xb8\xe3\x82\x92\xe9\x85\x8d\xe4\xbf\xa1"
	    "\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93") ||
	    lhost_subject_has(st, "\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe9"
	    "\x85\x8d\xe4\xbf\xa1\xe3\x81\xab\xe5\xa4\xb1\xe6\x95\x97\xe3\x81"
	    "\x97\xe3\x81\xbe\xe3\x81\x97\xe3\x81\x9f");
}

/* "Sent <<< RCPT TO:<addr>" / "Received >>> 550 ...": the text after the
 * arrows, or NULL. */
static const char *
after_arrows(const char *t, size_t n, const char *lead, const char *arrows,
    size_t *rest)
{
	size_t ll = strlen(lead);
	const char *p;

	if (!str_istarts(t, n, lead))
		return NULL;
	p = t + ll;
	while (p < t + n && (*p == ' ' || *p == '\t'))
		p++;
	if (t + n - p < 3 || memcmp(p, arrows, 3) != 0)
		return NULL;
	p += 3;
	while (p < t + n && (*p == ' ' || *p == '\t'))
		p++;
	*rest = (size_t)(t + n - p);
	return p;
}

static int
interscan_read(struct pstate *st)
{
	struct lhost_lines it;
	bounce_recipient *rc;
	const char *t, *a, *cmd, *reply;
	size_t n, alen, rest, cur = (size_t)-1;
	bounce_phase phase = BOUNCE_PHASE_NONE;
	int found = 0;

	lhost_lines_init(&it, st);
	while (lhost_next_text(&it, &t, &n)) {
		if ((cmd = after_arrows(t, n, "Sent", "<<<", &rest)) != NULL) {
			phase = lhost_verb_phase(cmd, rest);
			if (phase == BOUNCE_PHASE_RCPT &&
			    (a = lhost_address(cmd, rest, &alen)) != NULL &&
			    (rc = lhost_add(st, a, alen)) != NULL) {
				cur = (size_t)(rc - st->r->rcpt);
				found++;
			}
			continue;
		}
		if ((reply = after_arrows(t, n, "Received", ">>>", &rest)) !=
		    NULL) {
			/* a reply to MAIL or DATA fails every recipient; to
			 * RCPT, the recipient just named */
			if (cur >= st->r->nrcpt &&
			    (a = lhost_address(reply, rest, &alen)) != NULL &&
			    (rc = lhost_add(st, a, alen)) != NULL) {
				cur = (size_t)(rc - st->r->rcpt);
				found++;
			}
			if (cur < st->r->nrcpt) {
				rc = &st->r->rcpt[cur];
				rc->diagnostic = report_str(st->r, reply, rest);
				rc->phase = phase;
			}
			cur = (size_t)-1;
			continue;
		}
		if (str_istarts(t, n, "Reason:")) {
			t += 7;
			n -= 7;
			t = str_trim(t, &n);
		}
		if (str_istarts(t, n, "Unable to deliver message to") &&
		    (a = lhost_address(t + 28, n - 28, &alen)) != NULL &&
		    (rc = lhost_add(st, a, alen)) != NULL) {
			found++;
			if (rc->diagnostic == NULL)
				rc->diagnostic = report_str(st->r, t, n);
		}
	}
	return found;
}

const struct lhost lhost_interscan = { "interscan", interscan_detect,
	interscan_read };
