/*
 * lhost_mfilter.c - bounces of m-FILTER (Digital Arts' mail gateway) and
 * the mail systems that copy its layout: X-Mailer: m-FILTER, "failure
 * notice", a Japanese notice, the failed addresses bare, then labelled
 * sections:
 *
 *     以下のメールアドレスへの送信に失敗しました。
 *     addr
 *
 *     -------server message
 *     550 unknown user <addr>
 *
 *     -------SMTP command
 *     DATA
 *
 *     -------original message      (or "-------original mail info")
 *
 * The server message is every recipient's diagnostic and the SMTP command
 * its phase.
 */
#include <string.h>

#include "lhost.h"

static int
mfilter_detect(const struct pstate *st)
{
	const char *v;
	size_t n;

	v = lhost_header(st, "X-Mailer", &n);
	if (v != NULL && str_istarts(v, n, "m-FILTER"))
		return 1;
	return lhost_subject_has(st, "failure notice") &&
	    lhost_text_find(st, "-------server message") >= 0;
}

static int
mfilter_read(struct pstate *st)
{
	enum { ADDRS, SERVER, COMMAND, OTHER } section = ADDRS;
	struct lhost_diag reply;
	struct lhost_lines it;
	bounce_phase phase = BOUNCE_PHASE_NONE;
	const char *t, *a;
	size_t n, alen, i, first = st->r->nrcpt;
	int found = 0;

	memset(&reply, 0, sizeof(reply));
	lhost_lines_init(&it, st);
	while (lhost_next_text(&it, &t, &n)) {
		if (n > 7 && memcmp(t, "-------", 7) == 0) {
			if (str_ifind_z(t, n, "server message") != NULL)
				section = SERVER;
			else if (str_ifind_z(t, n, "SMTP command") != NULL)
				section = COMMAND;
			else if (str_ifind_z(t, n, "original") != NULL)
				break;
			else
				section = OTHER;
			continue;
		}
		if (section == ADDRS && (a = lhost_address(t, n, &alen)) == t &&
		    alen == n && lhost_add(st, a, alen) != NULL)
			found++;
		else if (section == SERVER)
			lhost_diag_add(&reply, t, n);
		else if (section == COMMAND && phase == BOUNCE_PHASE_NONE)
			phase = lhost_verb_phase(t, n);
	}
	for (i = first; i < st->r->nrcpt; i++) {
		if (st->r->rcpt[i].diagnostic == NULL)
			st->r->rcpt[i].diagnostic = lhost_diag_str(st, &reply);
		if (st->r->rcpt[i].phase == BOUNCE_PHASE_NONE)
			st->r->rcpt[i].phase = phase;
	}
	return found;
}

const struct lhost lhost_mfilter = { "mfilter", mfilter_detect,
	mfilter_read };
