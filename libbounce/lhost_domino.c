/*
 * lhost_domino.c - bounces of HCL (IBM, Lotus) Domino, "DELIVERY
 * FAILURE: <reason>" (older releases "DELIVERY_FAILURE:"):
 *
 *     Your message
 *
 *       Subject: Test Bounce
 *
 *     was not delivered to:
 *
 *       addr
 *
 *     because:
 *
 *       User x (addr) not listed in Domino Directory
 *
 * localised by the server ("ユーザー x (addr) は Domino ディレクトリには
 * 見つかりません。", "non répertorié dans l'annuaire Domino").  Domino
 * adds a delivery-status part since release 6, read before this module;
 * this reads the text-only form.
 */
#include <string.h>

#include "lhost.h"

static int
domino_detect(const struct pstate *st)
{
	return str_istarts(st->subject, strlen(st->subject),
	    "DELIVERY FAILURE:") || str_istarts(st->subject,
	    strlen(st->subject), "DELIVERY_FAILURE:");
}

/* The reason read so far goes to the recipients from first on. */
static void
assign(struct pstate *st, size_t first, struct lhost_diag *why)
{
	size_t i;

	for (i = first; i < st->r->nrcpt; i++)
		if (st->r->rcpt[i].diagnostic == NULL)
			st->r->rcpt[i].diagnostic = lhost_diag_str(st, why);
	memset(why, 0, sizeof(*why));
}

static int
domino_read(struct pstate *st)
{
	enum { NONE, TO, BECAUSE } section = NONE;
	struct lhost_diag why;
	struct lhost_lines it;
	const char *line, *t, *a;
	size_t len, n, alen, first = st->r->nrcpt;
	int found = 0;

	memset(&why, 0, sizeof(why));
	lhost_lines_init(&it, st);
	while (lhost_next_line(&it, &line, &len)) {
		n = len;
		t = str_trim(line, &n);
		if (n == 0)
			continue;
		if (str_istarts(t, n, "was not delivered to:")) {
			/* one block per recipient in some releases */
			assign(st, first, &why);
			first = st->r->nrcpt;
			section = TO;
			continue;
		}
		if (str_istarts(t, n, "because:")) {
			section = BECAUSE;
			continue;
		}
		if (section == TO && (a = lhost_address(t, n, &alen)) != NULL) {
			if (lhost_add(st, a, alen) != NULL)
				found++;
		} else if (section == BECAUSE && line[0] == ' ') {
			lhost_diag_add(&why, t, n);
		} else {
			section = NONE;
		}
	}
	assign(st, first, &why);
	return found;
}

const struct lhost lhost_domino = { "domino", domino_detect, domino_read };
