/*
 * lhost_notes.c - bounces of the Lotus Notes SMTP MTA (Notes R4/R5 era,
 * "Lotus SMTP MTA"), "Undeliverable message":
 *
 *     ------- Failure Reasons  --------
 *
 *     User  not listed in public Name & Address Book
 *     addr
 *
 *     ------- Returned Message --------
 *
 * Each address follows its reason, often in the server's language
 * ("ディレクトリのリストにありません" = not in the directory).
 */
#include <string.h>

#include "lhost.h"

static int
notes_detect(const struct pstate *st)
{
	return str_istarts(st->subject, strlen(st->subject),
	    "Undeliverable message") &&
	    lhost_text_find(st, "------- Failure Reasons") >= 0;
}

static int
notes_read(struct pstate *st)
{
	struct lhost_diag why;
	struct lhost_lines it;
	bounce_recipient *rc;
	const char *line, *t, *a;
	size_t len, n, alen;
	int found = 0, in = 0;

	memset(&why, 0, sizeof(why));
	lhost_lines_init(&it, st);
	while (lhost_next_line(&it, &line, &len)) {
		n = len;
		t = str_trim(line, &n);
		if (str_istarts(t, n, "------- Failure Reasons")) {
			in = 1;
			continue;
		}
		if (!in || n == 0)
			continue;
		if (str_istarts(t, n, "-------"))
			break;
		if ((a = lhost_address(t, n, &alen)) == t) {
			if ((rc = lhost_add(st, a, alen)) != NULL) {
				found++;
				if (rc->diagnostic == NULL)
					rc->diagnostic = lhost_diag_str(st,
					    &why);
			}
			memset(&why, 0, sizeof(why));
		} else {
			lhost_diag_add(&why, t, n);
		}
	}
	return found;
}

const struct lhost lhost_notes = { "notes", notes_detect, notes_read };
