/*
 * autoreply.c - automatic replies: RFC 3834 (Auto-Submitted:
 * auto-replied) and the vacation / out-of-office conventions that predate
 * it (X-Autoreply, X-Autorespond, Precedence: auto_reply, subjects such as
 * "Automatic reply:", "Out of Office", "Abwesenheitsnotiz").
 *
 * Called only when no bounce decoder claimed the message: Exim marks its
 * bounces "Auto-Submitted: auto-replied" too.  The recipient is the
 * auto-replying address, the reply's From.
 */
#include <string.h>

#include "hdr.h"
#include "pstate.h"

static const char *const subject_prefixes[] = {
	"auto:", "automatic reply", "auto reply", "autoreply", "auto-reply",
	"auto response", "autoresponse", "auto-response", "autorespons",
	"out of office", "out of the office", "ooo:", "away from",
	"vacation", "on vacation", "abwesenheitsnotiz", "automatische antwort",
	"r\xc3\xa9ponse automatique", "risposta automatica",
	"respuesta autom\xc3\xa1tica", "automatisch antwoord",
	"resposta autom\xc3\xa1tica", "resposta automatica",
	"automatiskt svar", "automatisk svar", "automaattinen vastaus",
	"odpowied\xc5\xba automatyczna", "automatick\xc3\xa1 odpov\xc4\x9b\xc4\x8f",
	"otomatik yan\xc4\xb1t",
	/* (а)втоматический ответ: only ASCII folds case, so from the
	 * second letter */
	"\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x82\xd0\xb8"
	"\xd1\x87\xd0\xb5\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9 \xd0\xbe\xd1\x82"
	"\xd0\xb2\xd0\xb5\xd1\x82",
	"\xe8\x87\xaa\xe5\x8a\xa8\xe5\x9b\x9e\xe5\xa4\x8d", /* 自动回复 */
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\x9b\x9e\xe8\xa6\x86", /* 自動回覆 */
	"\xec\x9e\x90\xeb\x8f\x99 \xec\x9d\x91\xeb\x8b\xb5", /* 자동 응답 */
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94", /* 自動応答 */
	"\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1", /* 自動返信 */
	"\xe4\xb8\x8d\xe5\x9c\xa8", /* 不在 */
};

static int
header_says(const struct pstate *st, const char *name, const char *word)
{
	const char *v;
	size_t n;

	if ((v = hdr_find(st->v->head, st->v->head_len, name, &n)) == NULL)
		return 0;
	return word == NULL || str_ifind_z(v, n, word) != NULL;
}

static int
subject_says_autoreply(const char *subject)
{
	size_t i, n = strlen(subject);

	for (i = 0; i < sizeof(subject_prefixes) /
	    sizeof(subject_prefixes[0]); i++)
		if (str_ifind_z(subject, n < 64 ? n : 64,
		    subject_prefixes[i]) != NULL)
			return 1;
	return 0;
}

int
autoreply_read(struct pstate *st)
{
	const char *from, *lt, *gt;
	bounce_recipient *rc;
	int signal = 0;

	if (header_says(st, "Auto-Submitted", "auto-replied") ||
	    header_says(st, "X-Autoreply", NULL) ||
	    header_says(st, "X-Autorespond", NULL) ||
	    header_says(st, "X-Autoresponder", NULL) ||
	    header_says(st, "X-Vacation", NULL) ||
	    header_says(st, "Precedence", "auto_reply") ||
	    header_says(st, "X-Precedence", "auto_reply") ||
	    header_says(st, "X-Mailer", "vacation"))
		signal = 1;
	if (!signal && subject_says_autoreply(st->subject))
		signal = 1;
	if (!signal)
		return 0;
	st->r->kind = BOUNCE_KIND_AUTOREPLY;
	report_set_format(st->r, "rfc3834");
	from = st->from;
	if ((lt = strrchr(from, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL)
		rc = report_add(st->r, lt + 1, (size_t)(gt - lt - 1), 1);
	else
		rc = report_add(st->r, from, strlen(from), 1);
	if (rc != NULL) {
		rc->kind = BOUNCE_KIND_AUTOREPLY;
		rc->source = "header";
	}
	return 1;
}
