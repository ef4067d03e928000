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
	/* Japanese carriers and providers: sender domains */
	&lhost_ezweb,
	&lhost_kddi,
	&lhost_biglobe,
	/* MTAs and gateways known by a header or the subject */
	&lhost_imail,
	&lhost_domino,
	&lhost_notes,
	&lhost_interscan,
	&lhost_mfilter,
	&lhost_mimecast,
	&lhost_x3,
	&lhost_x6,
	/* MTAs, whose layouts providers reuse */
	&lhost_dma,
	&lhost_exim,
	&lhost_fml,
	&lhost_qmail,
	&lhost_sendmail,
	/* a bounce attached to a notice: after everything else */
	&lhost_forwarded,
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

const char *
lhost_header(const struct pstate *st, const char *name, size_t *len)
{
	return hdr_find(st->v->head, st->v->head_len, name, len);
}

void
lhost_lines_init(struct lhost_lines *it, const struct pstate *st)
{
	it->p = st->text;
	it->end = st->text + st->text_cut;
}

int
lhost_next_line(struct lhost_lines *it, const char **line, size_t *len)
{
	const char *nl;
	size_t n;

	if (it->p >= it->end)
		return 0;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	if (nl == NULL)
		nl = it->end;
	n = (size_t)(nl - it->p);
	while (n > 0 && str_is_space(it->p[n - 1]))
		n--;
	*line = it->p;
	*len = n;
	it->p = nl < it->end ? nl + 1 : nl;
	return 1;
}

int
lhost_next_text(struct lhost_lines *it, const char **text, size_t *len)
{
	const char *line;
	size_t n;

	while (lhost_next_line(it, &line, &n)) {
		*text = str_trim(line, &n);
		if (n > 0) {
			*len = n;
			return 1;
		}
	}
	return 0;
}

int
lhost_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!str_is_space(line[i]))
			return 0;
	return 1;
}

const char *
lhost_address(const char *line, size_t len, size_t *alen)
{
	return text_next_address(line, line + len, alen);
}

bounce_recipient *
lhost_add(struct pstate *st, const char *addr, size_t len)
{
	bounce_recipient *rc = report_add(st->r, addr, len, 1);

	if (rc != NULL && rc->source == NULL)
		rc->source = "text";
	return rc;
}

bounce_phase
lhost_verb_phase(const char *p, size_t n)
{
	static const struct {
		const char *verb;
		bounce_phase phase;
	} verbs[] = {
		{ "RCPT", BOUNCE_PHASE_RCPT }, { "MAIL", BOUNCE_PHASE_MAIL },
		{ "DATA", BOUNCE_PHASE_DATA }, { "EHLO", BOUNCE_PHASE_HELO },
		{ "HELO", BOUNCE_PHASE_HELO }, { "LHLO", BOUNCE_PHASE_HELO },
		{ "CONN", BOUNCE_PHASE_CONNECT },
	};
	size_t i;

	if (n < 4 || (n > 4 && p[4] != ' ' && p[4] != ':' && p[4] != '\t'))
		return BOUNCE_PHASE_NONE;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (memcmp(p, verbs[i].verb, 4) == 0)
			return verbs[i].phase;
	return BOUNCE_PHASE_NONE;
}

void
lhost_diag_add(struct lhost_diag *d, const char *p, size_t n)
{
	size_t room;

	p = str_trim(p, &n);
	if (n == 0)
		return;
	if (d->len > 0 && d->len + 1 < sizeof(d->buf))
		d->buf[d->len++] = ' ';
	room = sizeof(d->buf) - 1 - d->len;
	if (n > room)
		n = room;
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	d->buf[d->len] = '\0';
}

const char *
lhost_diag_str(struct pstate *st, const struct lhost_diag *d)
{
	return d->len > 0 ? report_str(st->r, d->buf, d->len) : NULL;
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
