/*
 * lhost_dma.c - the DragonFly Mail Agent (dma), DragonFly BSD's and many
 * small systems' local MTA.
 *
 * dma's bounce (mail.c, bounce()) is one recipient per message:
 *
 *   This is the DragonFly Mail Agent v0.13 at host.example.org.
 *
 *   There was an error delivering your mail to <alice@example.net>.
 *
 *   mx.example.net [192.0.2.25] did not like our RCPT TO:
 *   550 5.1.1 <alice@example.net>: Recipient address rejected
 *
 *   Message headers follow.
 *
 * The recipient is named on purpose, so it is taken even when it is a
 * role address (postmaster@); the text between that line and the cut is
 * the diagnostic, the host before "did not like" the remote MTA.
 */
#include <string.h>

#include "lhost.h"

static const char intro[] = "there was an error delivering your mail to <";

static int
dma_detect(const struct pstate *st)
{
	return lhost_text_find(st, "this is the dragonfly mail agent") >= 0 &&
	    lhost_text_find(st, intro) >= 0;
}

static int
dma_read(struct pstate *st)
{
	const char *end = st->text + st->text_cut, *p, *a, *d, *e, *h;
	bounce_recipient *rc;
	size_t alen;
	long off;

	if ((off = lhost_text_find(st, intro)) < 0)
		return 0;
	p = st->text + off + sizeof(intro) - 2;	/* at the '<' */
	if ((a = lhost_angle_addr(p, end, &alen)) != p + 1 ||
	    (rc = report_add(st->r, a, alen, 1)) == NULL)
		return 0;
	rc->source = "text";
	/* the diagnostic: from the next line to the cut */
	d = memchr(a + alen, '\n', (size_t)(end - (a + alen)));
	if (d == NULL)
		return 1;
	e = end;
	while (e > d && str_is_space(e[-1]))
		e--;
	if (e > d && rc->diagnostic == NULL)
		rc->diagnostic = report_str(st->r, d, (size_t)(e - d));
	/* "mx.example.net [192.0.2.25] did not like our RCPT TO:" */
	d = lhost_skip_blanks(d, e);
	while (d < e && str_is_space(*d))
		d++;
	if (str_ifind_z(d, (size_t)(e - d), " did not like our ") != NULL) {
		for (h = d; h < e && *h != ' '; h++)
			;
		if (h > d && rc->remote_mta == NULL)
			rc->remote_mta = report_str(st->r, d, (size_t)(h - d));
	}
	return 1;
}

const struct lhost lhost_dma = {
	"dma", dma_detect, dma_read,
};
