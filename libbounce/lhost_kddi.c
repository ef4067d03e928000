/*
 * lhost_kddi.c - bounces of KDDI's au one net mail (dion.ne.jp,
 * auone-net.jp): from no-reply@<host>.dion.ne.jp, Reply-To
 * no-reply@app.auone-net.jp, a Japanese subject ("メールエラー通知") or
 * none that says it is a bounce, and a body the generic reader reads:
 *
 *     Your mail sent on: Thu, 29 Apr 2013 23:45:22 +0900
 *          Could not be delivered to: <addr>
 *          As their mailbox is full.
 *
 * Other reasons seen: "Due to the following SMTP relay error", "As the
 * remote domain doesnt exist".  Only the detection is specific: neither
 * the sender nor the subject looks like a bounce to the generic test.
 */
#include <string.h>

#include "lhost.h"

static int
kddi_detect(const struct pstate *st)
{
	const char *v;
	size_t n;

	if (lhost_from_has(st, "no-reply@") &&
	    lhost_from_has(st, ".dion.ne.jp"))
		return 1;
	v = lhost_header(st, "Reply-To", &n);
	return v != NULL && str_ifind_z(v, n, "no-reply@app.auone-net.jp") !=
	    NULL;
}

static int
kddi_read(struct pstate *st)
{
	size_t before = st->r->nrcpt;

	if (lhost_text_find(st, "Could not be delivered to:") < 0)
		return 0;
	text_read(st);
	return (int)(st->r->nrcpt - before);
}

const struct lhost lhost_kddi = { "kddi", kddi_detect, kddi_read };
