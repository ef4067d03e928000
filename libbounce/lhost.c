/*
 * lhost.c - the table of format modules and the helpers they share.
 * See lhost.h.  Order matters: a module whose evidence is more specific
 * comes first.
 */
#include <string.h>

#include "hdr.h"
#include "lhost.h"

static const struct lhost *const lhosts[] = {
	&lhost_amazonses,
	&lhost_gmx,
	&lhost_einsundeins,
	&lhost_googlegroups,
	&lhost_gmail,
	&lhost_office365,
	&lhost_exchange2003,
	&lhost_verizon,
	&lhost_zoho,
	NULL
};

int
lhost_from_has(const struct pstate *st, const char *s)
{
	return str_ifind_z(st->from, strlen(st->from), s) != NULL;
}

int
lhost_subject_has(const struct pstate *st, const char *s)
{
	return str_ifind_z(st->subject, strlen(st->subject), s) != NULL;
}

int
lhost_has_header(const struct pstate *st, const char *name)
{
	size_t n;

	return hdr_find(st->v->head, st->v->head_len, name, &n) != NULL;
}

long
lhost_text_find(const struct pstate *st, const char *s)
{
	char low[256];
	size_t n = strlen(s);

	/* the text's lower-cased copy is searched with memmem */
	if (n >= sizeof(low))
		return -1;
	memcpy(low, s, n + 1);
	str_lower(low, n);
	return text_find(st, low);
}

int
lhost_read(struct pstate *st)
{
	size_t i;
	int n;

	for (i = 0; lhosts[i] != NULL; i++) {
		if (!lhosts[i]->detect(st))
			continue;
		if ((n = lhosts[i]->read(st)) > 0) {
			report_set_format(st->r, lhosts[i]->name);
			return n;
		}
	}
	return 0;
}
