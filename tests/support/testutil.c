/*
 * testutil.c - shared test helpers.  See testutil.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

int
testutil_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

char *
testutil_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t size = 0, n = 0, got;

	if (fp == NULL)
		ck_abort_msg("cannot open %s: %s", path, strerror(errno));
	for (;;) {
		if (n + 65536 + 1 > size) {
			size = size ? size * 2 : 65536 * 2;
			data = realloc(data, size);
			ck_assert_ptr_nonnull(data);
		}
		got = fread(data + n, 1, size - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	data[n] = '\0';
	if (len != NULL)
		*len = n;
	return data;
}

int
testutil_sh(const char *cmd, char **out)
{
	char *full = NULL, *buf = NULL;
	size_t size = 0;
	FILE *p, *mem;
	int c, status;

	ck_assert_int_ge(asprintf(&full, "%s 2>&1", cmd), 0);
	p = popen(full, "r");
	ck_assert_ptr_nonnull(p);
	mem = open_memstream(&buf, &size);
	ck_assert_ptr_nonnull(mem);
	while ((c = fgetc(p)) != EOF)
		fputc(c, mem);
	fclose(mem);
	status = pclose(p);
	free(full);
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
