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
extern const struct lhost lhost_ezweb;
extern const struct lhost lhost_kddi;
extern const struct lhost lhost_biglobe;
extern const struct lhost lhost_imail;
extern const struct lhost lhost_domino;
extern const struct lhost lhost_notes;
extern const struct lhost lhost_interscan;
extern const struct lhost lhost_mfilter;
extern const struct lhost lhost_mimecast;
extern const struct lhost lhost_x3;
extern const struct lhost lhost_x6;
extern const struct lhost lhost_forwarded;

/* Helpers for modules. */

/* 1 when the bounce's From or Subject contains s (case-insensitive). */
int lhost_from_has(const struct pstate *st, const char *s);
int lhost_subject_has(const struct pstate *st, const char *s);
/* 1 when the raw header block has a header called name. */
int lhost_has_header(const struct pstate *st, const char *name);
/* Offset of s in the failure text (before the cut), or -1. */
long lhost_text_find(const struct pstate *st, const char *s);
/* The raw value of the bounce's header called name, or NULL. */
const char *lhost_header(const struct pstate *st, const char *name,
    size_t *len);

/* The failure text (before the cut) line by line. */
struct lhost_lines {
	const char *p;
	const char *end;
};

void lhost_lines_init(struct lhost_lines *it, const struct pstate *st);
/* Next line, without its line end and trailing white space; 0 at the end.
 * Every call advances, so a loop over it is bounded by the text. */
int lhost_next_line(struct lhost_lines *it, const char **line, size_t *len);
/* The next line that is not blank, trimmed at both ends; 0 at the end. */
int lhost_next_text(struct lhost_lines *it, const char **text, size_t *len);
/* 1 when the line is empty or white space. */
int lhost_blank(const char *line, size_t len);
/* The first address in line[0..len), its length in *alen, or NULL. */
const char *lhost_address(const char *line, size_t len, size_t *alen);
/* Add a recipient (merged with an existing one of the same address) with
 * source "text"; NULL when the address is not one or the cap is hit. */
bounce_recipient *lhost_add(struct pstate *st, const char *addr,
    size_t len);
/* The phase of an SMTP verb at the start of p ("RCPT TO:<x>", "DATA",
 * "EHLO x"); NONE when p does not start with one. */
bounce_phase lhost_verb_phase(const char *p, size_t n);

/* A diagnostic put together from pieces of text, without allocating:
 * pieces are joined with a space, what does not fit is cut. */
struct lhost_diag {
	size_t len;
	char buf[1024];
};

void lhost_diag_add(struct lhost_diag *d, const char *p, size_t n);
/* Copy into the report (NULL when empty). */
const char *lhost_diag_str(struct pstate *st, const struct lhost_diag *d);

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
