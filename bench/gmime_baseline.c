/*
 * gmime_baseline.c - the floor `make bench` measures bounced against:
 * GMime alone parsing the same messages, walking every part and
 * transfer-decoding every leaf, and nothing else.
 *
 * usage: gmime_baseline FILE...      (each FILE one message or an mbox)
 *
 * It reads its input the way `bounced parse` does (whole files, mbox
 * split at "From " lines) so the ratio compares parsing, not I/O.
 * Prints the number of messages and leaves to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

static unsigned long leaves;

static void
walk(GMimeObject *obj, GMimeStream *sink)
{
	int i, n;

	if (obj == NULL)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n; i++)
			walk(g_mime_multipart_get_part(GMIME_MULTIPART(obj),
			    i), sink);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));

		if (m != NULL)
			walk(g_mime_message_get_mime_part(m), sink);
		return;
	}
	if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

		if (w != NULL) {
			g_mime_stream_reset(sink);
			g_byte_array_set_size(g_mime_stream_mem_get_byte_array(
			    GMIME_STREAM_MEM(sink)), 0);
			g_mime_data_wrapper_write_to_stream(w, sink);
		}
		leaves++;
	}
}

static void
parse_one(const char *data, size_t len, GMimeStream *sink)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg;

	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (msg != NULL) {
		walk(g_mime_message_get_mime_part(msg), sink);
		g_object_unref(msg);
	}
}

int
main(int argc, char **argv)
{
	unsigned long messages = 0;
	GMimeStream *sink;
	char *line = NULL, *msg = NULL;
	size_t line_size = 0, msg_len = 0, msg_size = 0;
	ssize_t n;
	int i, first;

	g_mime_init();
	sink = g_mime_stream_mem_new();
	for (i = 1; i < argc; i++) {
		FILE *fp = strcmp(argv[i], "-") == 0 ? stdin :
		    fopen(argv[i], "rb");

		if (fp == NULL) {
			perror(argv[i]);
			return 66;
		}
		msg_len = 0;
		first = 1;
		while ((n = getline(&line, &line_size, fp)) >= 0) {
			if (!first && n > 5 && memcmp(line, "From ", 5) == 0 &&
			    strchr(line, ':') != NULL && msg_len > 0) {
				parse_one(msg, msg_len, sink);
				messages++;
				msg_len = 0;
			}
			first = 0;
			if (msg_len + (size_t)n + 1 > msg_size) {
				msg_size = (msg_len + (size_t)n + 1) * 2;
				msg = realloc(msg, msg_size);
			}
			memcpy(msg + msg_len, line, (size_t)n);
			msg_len += (size_t)n;
		}
		if (msg_len > 0) {
			parse_one(msg, msg_len, sink);
			messages++;
		}
		if (fp != stdin)
			fclose(fp);
	}
	fprintf(stderr, "gmime_baseline: %lu messages, %lu leaves\n", messages,
	    leaves);
	free(line);
	free(msg);
	g_object_unref(sink);
	g_mime_shutdown();
	return 0;
}
