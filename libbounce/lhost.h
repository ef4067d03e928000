/*
 * lhost.h - the format modules: decoders for the bounce layouts of
 * particular MTAs and providers, where the generic readers (dsn.c,
 * text.c) do not suffice.
 *
 * Each module is a struct lhost in its own lhost_<name>.c and is listed
 * in lhost.c's table.  detect() looks at cheap evidence (From, Subject,
 * a header, a marker line) and says whether the message is of its
 * format; read() adds recipients with report_add() and fills what it
 * knows (diagnostic, remote MTA, action, dsn_status); parse.c completes
 * them.  read() returns the number of recipients added; 0 lets the next
 * module and then the generic readers try.
 */
#ifndef BOUNCE_LHOST_H
#define BOUNCE_LHOST_H

#include "pstate.h"

struct lhost {
	const char *name;	/* bounce_report_format(): "qmail"... */
	int (*detect)(const struct pstate *st);
	int (*read)(struct pstate *st);
};

/* The modules, in lhost_<name>.c. */
extern const struct lhost lhost_amazonses;
extern const struct lhost lhost_einsundeins;
extern const struct lhost lhost_exchange2003;
extern const struct lhost lhost_gmail;
extern const struct lhost lhost_gmx;
extern const struct lhost lhost_googlegroups;
extern const struct lhost lhost_office365;
extern const struct lhost lhost_verizon;
extern const struct lhost lhost_zoho;
extern const struct lhost lhost_dma;
extern const struct lhost lhost_exim;
extern const struct lhost lhost_fml;
extern const struct lhost lhost_qmail;
extern const struct lhost lhost_sendmail;

/* Helpers for modules. */

/* 1 when the bounce's From or Subject contains s (case-insensitive). */
int lhost_from_has(const struct pstate *st, const char *s);
int lhost_subject_has(const struct pstate *st, const char *s);
/* 1 when the raw header block has a header called name. */
int lhost_has_header(const struct pstate *st, const char *name);
/* Offset of s in the failure text (before the cut), or -1. */
long lhost_text_find(const struct pstate *st, const char *s);

/* Lines of the failure text: set *eol for the line at p and return p, or
 * NULL at the cut.  for (l = lhost_line(st, st->text, &e); l != NULL;
 * l = lhost_line(st, e + 1, &e)) */
const char *lhost_line(const struct pstate *st, const char *p,
    const char **eol);
/* The first "<local@domain>" in [p, end): its inside and length, or
 * NULL. */
const char *lhost_angle_addr(const char *p, const char *end, size_t *len);
/* p with leading blanks skipped, up to end. */
const char *lhost_skip_blanks(const char *p, const char *end);

#endif
