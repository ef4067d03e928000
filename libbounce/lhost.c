/*
 * lhost.c - the table of format modules and the helpers they share.
 * See lhost.h.  Order matters: a module whose evidence is more specific
 * comes first.
 */
#include <string.h>

#include "hdr.h"
#include "lhost.h"

static const struct lhost *const lhosts[] = {
	/* providers and gateways: their own evidence first */
	&lhost_amazonses,
	&lhost_gmx,
	&lhost_einsundeins,
	&lhost_googlegroups,
	&lhost_gmail,
	&lhost_office365,
	&lhost_exchange2003,
	&lhost_verizon,
	&lhost_zoho,
	/* MTAs, whose layouts providers reuse */
	&lhost_dma,
	&lhost_exim,
	&lhost_fml,
	&lhost_qmail,
	&lhost_sendmail,
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

const char *
lhost_line(const struct pstate *st, const char *p, const char **eol)
{
	const char *end = st->text + st->text_cut, *nl;

	if (p == NULL || p >= end)
		return NULL;
	nl = memchr(p, '\n', (size_t)(end - p));
	*eol = nl != NULL ? nl : end;
	return p;
}

const char *
lhost_angle_addr(const char *p, const char *end, size_t *len)
{
	const char *lt, *gt, *at;

	while (p < end && (lt = memchr(p, '<', (size_t)(end - p))) != NULL) {
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt == NULL)
			return NULL;
		at = memchr(lt, '@', (size_t)(gt - lt));
		if (at != NULL && at > lt + 1 && at + 1 < gt &&
		    memchr(lt + 1, ' ', (size_t)(gt - lt - 1)) == NULL) {
			*len = (size_t)(gt - lt - 1);
			return lt + 1;
		}
		p = gt + 1;
	}
	return NULL;
}

const char *
lhost_skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
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
