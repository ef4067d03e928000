/*
 * testutil.h - what the Check programs share: running a suite, finding
 * fixtures, reading files.
 *
 * Tests run from the top of the repository (tests/run.sh makes sure).
 */
#ifndef BOUNCED_TESTUTIL_H
#define BOUNCED_TESTUTIL_H

#include <stddef.h>

#include <check.h>

/* Run one suite and return the exit status for main(). */
int testutil_run(Suite *s);

/* Read a whole file (NUL-terminated); aborts the test when it cannot. */
char *testutil_read(const char *path, size_t *len);

/*
 * Run a shell command line; its standard output and error into *out
 * (caller frees; out may be NULL).  Returns its exit status, -1 when it
 * did not exit normally.
 */
int testutil_sh(const char *cmd, char **out);

/* main() for a test program made of one suite. */
#define TEST_MAIN(suite_fn)                                                    \
	int main(void)                                                         \
	{                                                                      \
		return testutil_run(suite_fn());                               \
	}

#endif
