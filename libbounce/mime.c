/*
 * mime.c - the MIME walk: GMime's tree flattened into the parts bounce
 * decoders read.  See mime.h.
 *
 * Limits (bounce_limits): nesting depth, parts walked, decoded text kept.
 * GMime itself parses the whole input; the walk below never follows more
 * than max_mime_parts parts or goes deeper than max_mime_depth, and keeps
 * at most max_text_bytes of decoded text, so a hostile message costs at
 * most a bounded amount of our time and memory beyond GMime's own.
 *
 * Charsets: text parts are converted to UTF-8 by GMime from their charset
 * parameter.  An unlabelled part that carries ISO-2022-JP escapes (old
 * Japanese mailers) is converted from ISO-2022-JP.  What cannot be
 * converted is kept as bytes; report strings are made valid UTF-8 later.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "mime.h"

static void
view_error(struct msgview *v, const char *msg)
{
	if (v->error == NULL)
		v->error = msg;
}

/* Keep data (copied into the view's arena) as a part of the given role. */
static void
keep_part(struct msgview *v, enum part_role role, const char *data,
    size_t len, unsigned int depth)
{
	struct part *p;
	char *copy;

	if (v->nparts >= MIME_PARTS_KEPT) {
		/* a note, not an error: a limit named by the user wins */
		if (v->note == NULL)
			v->note = "more text and report parts than libbounce "
			    "reads (32); the rest were ignored";
		return;
	}
	/* an empty part's GByteArray has no data at all */
	if (data == NULL || len == 0) {
		data = "";
		len = 0;
	}
	if ((copy = arena_strndup(&v->arena, data, len)) == NULL)
		return;
	p = &v->parts[v->nparts++];
	p->role = role;
	p->data = copy;
	p->len = len;
	p->depth = depth;
	p->index = v->walked;
}

/* Decoded (transfer encoding only) bytes of a leaf part, in a new stream. */
static GByteArray *
part_bytes(GMimePart *part, GMimeStream **stream)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);

	*stream = NULL;
	if (w == NULL)
		return NULL;
	*stream = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(w, *stream) < 0)
		return NULL;
	return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(*stream));
}

/*
 * Text of a text part in UTF-8, length in *len; g_free() the result.
 * Unlabelled ISO-2022-JP is recognised by its escape sequences.
 */
static char *
text_of(GMimeTextPart *tp, size_t *len)
{
	const char *charset = g_mime_text_part_get_charset(tp);
	GMimeStream *stream = NULL;
	GByteArray *ba;
	char *text = NULL;
	iconv_t cd;
	guint i;

	ba = part_bytes(GMIME_PART(tp), &stream);
	if (ba == NULL)
		goto cleanup;
	/* a NUL (quoted-printable "=00") would end the text early after
	 * the charset conversion: text has no use for one */
	for (i = 0; i < ba->len; i++)
		if (ba->data[i] == '\0')
			ba->data[i] = ' ';
	if (charset == NULL && str_ifind((const char *)ba->data, ba->len, "\x1b$B", 3) != NULL)
		charset = "iso-2022-jp";
	if (charset == NULL || g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	    g_ascii_strcasecmp(charset, "us-ascii") == 0) {
		text = g_strndup((const char *)ba->data, ba->len);
		*len = ba->len;
		goto cleanup;
	}
	cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1) {
		/* unknown charset: keep the bytes */
		text = g_strndup((const char *)ba->data, ba->len);
		*len = ba->len;
		goto cleanup;
	}
	text = g_mime_iconv_strndup(cd, (const char *)ba->data, ba->len);
	g_mime_iconv_close(cd);
	if (text == NULL)
		text = g_strndup((const char *)ba->data, ba->len);
	*len = strlen(text);
cleanup:
	if (stream != NULL)
		g_object_unref(stream);
	return text;
}

/* Strip HTML tags and the common entities; block ends become newlines. */
static size_t
html_to_text(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '<') {
			const char *gt = memchr(s + i, '>', len - i);
			size_t tl = gt != NULL ? (size_t)(gt - (s + i)) : 0;

			if (gt == NULL)
				break;
			if (str_istarts(s + i, tl, "<br") ||
			    str_istarts(s + i, tl, "</p") ||
			    str_istarts(s + i, tl, "</div") ||
			    str_istarts(s + i, tl, "</tr") ||
			    str_istarts(s + i, tl, "<p") ||
			    str_istarts(s + i, tl, "</li") ||
			    str_istarts(s + i, tl, "</h"))
				s[o++] = '\n';
			i += tl;
			continue;
		}
		if (s[i] == '&') {
			static const struct {
				const char *name;
				char c;
			} ent[] = { { "&amp;", '&' }, { "&lt;", '<' },
				{ "&gt;", '>' }, { "&nbsp;", ' ' },
				{ "&quot;", '"' }, { "&#39;", '\'' } };
			size_t k;

			for (k = 0; k < sizeof(ent) / sizeof(ent[0]); k++)
				if (str_istarts(s + i, len - i, ent[k].name))
					break;
			if (k < sizeof(ent) / sizeof(ent[0])) {
				s[o++] = ent[k].c;
				i += strlen(ent[k].name) - 1;
				continue;
			}
		}
		s[o++] = s[i];
	}
	s[o] = '\0';
	return o;
}

static void
keep_text(struct msgview *v, bounce_ctx *ctx, GMimeTextPart *tp, int html,
    unsigned int depth)
{
	size_t len = 0, room;
	char *text;

	room = ctx->limits.max_text_bytes - v->text_bytes;
	if (room == 0) {
		view_error(v, "decoded text over max_text_bytes; the rest "
		    "was not read");
		return;
	}
	if ((text = text_of(tp, &len)) == NULL)
		return;
	if (html)
		len = html_to_text(text, len);
	if (len > room) {
		len = room;
		view_error(v, "decoded text over max_text_bytes; the rest "
		    "was not read");
	}
	v->text_bytes += len;
	keep_part(v, html ? PART_HTML : PART_TEXT, text, len, depth);
	g_free(text);
}

static void
keep_bytes(struct msgview *v, bounce_ctx *ctx, GMimePart *part,
    enum part_role role, unsigned int depth)
{
	GMimeStream *stream = NULL;
	GByteArray *ba = part_bytes(part, &stream);
	size_t len;

	/* an empty part (Gmail sends empty delivery-status parts) has no
	 * data pointer at all */
	if (ba != NULL && ba->data != NULL) {
		len = ba->len;
		if (len > ctx->limits.max_text_bytes) {
			len = ctx->limits.max_text_bytes;
			view_error(v, "a report part is over max_text_bytes "
			    "and was cut");
		}
		keep_part(v, role, (const char *)ba->data, len, depth);
	}
	if (stream != NULL)
		g_object_unref(stream);
}

static void
keep_message_headers(struct msgview *v, GMimeMessage *m, unsigned int depth)
{
	char *head;

	if (m == NULL)
		return;
	head = g_mime_object_get_headers(GMIME_OBJECT(m), NULL);
	if (head != NULL)
		keep_part(v, PART_HEADERS, head, strlen(head), depth);
	g_free(head);
}

/*
 * A multipart whose boundary never occurs (a header edited by hand or by
 * a relay, a boundary cut short) has no parts: GMime leaves the whole
 * body in the prologue.  Keep it as text, so the readers of inline
 * delivery-status fields and of human-readable text still see it.
 */
static void
keep_prologue(struct msgview *v, bounce_ctx *ctx, GMimeMultipart *mp,
    unsigned int depth)
{
	const char *pro = g_mime_multipart_get_prologue(mp);
	size_t len, room;

	if (pro == NULL || (len = strlen(pro)) == 0)
		return;
	room = ctx->limits.max_text_bytes - v->text_bytes;
	if (len > room) {
		len = room;
		view_error(v, "decoded text over max_text_bytes; the rest "
		    "was not read");
	}
	if (len == 0)
		return;
	v->text_bytes += len;
	keep_part(v, PART_TEXT, pro, len, depth);
}

static void
walk(struct msgview *v, bounce_ctx *ctx, GMimeObject *obj,
    unsigned int depth)
{
	GMimeContentType *ct;
	const char *type, *sub;
	int i, n;

	if (obj == NULL)
		return;
	if (depth > ctx->limits.max_mime_depth) {
		view_error(v, "MIME nesting deeper than max_mime_depth; "
		    "deeper parts were not read");
		return;
	}
	if (v->walked >= ctx->limits.max_mime_parts) {
		view_error(v, "more MIME parts than max_mime_parts; the rest "
		    "were not read");
		return;
	}
	v->walked++;
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		if (n == 0)
			keep_prologue(v, ctx, GMIME_MULTIPART(obj), depth);
		for (i = 0; i < n; i++)
			walk(v, ctx, g_mime_multipart_get_part(
			    GMIME_MULTIPART(obj), i), depth + 1);
		if (n == 0)
			keep_prologue(v, ctx, GMIME_MULTIPART(obj), depth);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		keep_message_headers(v, g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj)), depth);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	ct = g_mime_object_get_content_type(obj);
	type = g_mime_content_type_get_media_type(ct);
	sub = g_mime_content_type_get_media_subtype(ct);
	if (type == NULL || sub == NULL)
		return;
	if (g_ascii_strcasecmp(type, "message") == 0) {
		if (g_ascii_strcasecmp(sub, "delivery-status") == 0)
			keep_bytes(v, ctx, GMIME_PART(obj), PART_DSN, depth);
		else if (g_ascii_strcasecmp(sub, "global-delivery-status") ==
		    0)
			keep_bytes(v, ctx, GMIME_PART(obj), PART_GLOBAL_DSN,
			    depth);
		else if (g_ascii_strcasecmp(sub, "feedback-report") == 0)
			keep_bytes(v, ctx, GMIME_PART(obj), PART_FEEDBACK,
			    depth);
		else if (g_ascii_strcasecmp(sub, "global-headers") == 0 ||
		    g_ascii_strcasecmp(sub, "rfc822-headers") == 0)
			keep_bytes(v, ctx, GMIME_PART(obj), PART_HEADERS,
			    depth);
		return;
	}
	if (g_ascii_strcasecmp(type, "text") == 0) {
		if (g_ascii_strcasecmp(sub, "rfc822-headers") == 0)
			keep_bytes(v, ctx, GMIME_PART(obj), PART_HEADERS,
			    depth);
		else if (GMIME_IS_TEXT_PART(obj))
			keep_text(v, ctx, GMIME_TEXT_PART(obj),
			    g_ascii_strcasecmp(sub, "html") == 0, depth);
	}
}

/* The raw header block: up to the first empty line. */
static void
find_head(struct msgview *v, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			p = end;
			break;
		}
		if (nl == p || (nl == p + 1 && *p == '\r'))
			break;
		p = nl + 1;
	}
	v->head = buf;
	v->head_len = (size_t)(p - buf);
}

int
mime_view_open(struct msgview *v, bounce_ctx *ctx, const char *buf,
    size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeObject *top;
	GMimeContentType *ct;

	memset(v, 0, sizeof(*v));
	arena_init(&v->arena);
	find_head(v, buf, len);
	stream = g_mime_stream_mem_new_with_buffer(buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (msg == NULL)
		return BOUNCE_EPARSE;
	v->message = msg;
	top = g_mime_message_get_mime_part(msg);
	if (top != NULL && GMIME_IS_MULTIPART(top)) {
		v->multipart = 1;
		ct = g_mime_object_get_content_type(top);
		v->report_type = g_mime_content_type_get_parameter(ct,
		    "report-type");
	}
	walk(v, ctx, top, 0);
	return BOUNCE_OK;
}

int
mime_view_open_attached(struct msgview *out, const struct msgview *v,
    bounce_ctx *ctx)
{
	GMimeMessage *inner = NULL;
	GMimeObject *top, *part;
	GMimeContentType *ct;
	char *head;
	int i, n;

	memset(out, 0, sizeof(*out));
	arena_init(&out->arena);
	out->head = "";
	if (v->message == NULL)
		return BOUNCE_ENOTFOUND;
	top = g_mime_message_get_mime_part(GMIME_MESSAGE(v->message));
	if (top == NULL || !GMIME_IS_MULTIPART(top))
		return BOUNCE_ENOTFOUND;
	n = g_mime_multipart_get_count(GMIME_MULTIPART(top));
	for (i = 0; i < n && inner == NULL; i++) {
		part = g_mime_multipart_get_part(GMIME_MULTIPART(top), i);
		if (GMIME_IS_MESSAGE_PART(part))
			inner = g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(part));
	}
	if (inner == NULL)
		return BOUNCE_ENOTFOUND;
	/* GMime parsed the attached message with the rest: no new parse */
	g_object_ref(inner);
	out->message = inner;
	head = g_mime_object_get_headers(GMIME_OBJECT(inner), NULL);
	if (head != NULL && (out->head = arena_strdup(&out->arena, head)) !=
	    NULL)
		out->head_len = strlen(out->head);
	else
		out->head = "";
	g_free(head);
	top = g_mime_message_get_mime_part(inner);
	if (top != NULL && GMIME_IS_MULTIPART(top)) {
		out->multipart = 1;
		ct = g_mime_object_get_content_type(top);
		out->report_type = g_mime_content_type_get_parameter(ct,
		    "report-type");
	}
	/* the outer walk's counts go on: the limits hold for both */
	out->walked = v->walked;
	out->text_bytes = v->text_bytes;
	walk(out, ctx, top, 1);
	return BOUNCE_OK;
}

const char *
mime_jis_to_utf8(struct arena *a, const char *p, size_t n, size_t *outlen)
{
	const char *out = NULL;
	iconv_t cd;
	char *u;

	if (str_ifind(p, n, "\x1b$B", 3) == NULL &&
	    str_ifind(p, n, "\x1b$@", 3) == NULL)
		return NULL;
	if ((cd = g_mime_iconv_open("UTF-8", "iso-2022-jp")) == (iconv_t)-1)
		return NULL;
	u = g_mime_iconv_strndup(cd, p, n);
	g_mime_iconv_close(cd);
	if (u != NULL) {
		*outlen = strlen(u);
		out = arena_strndup(a, u, *outlen);
	}
	g_free(u);
	return out;
}

void
mime_view_close(struct msgview *v)
{
	if (v->message != NULL)
		g_object_unref(v->message);
	v->message = NULL;
	arena_free(&v->arena);
}

const char *
mime_header(const struct msgview *v, const char *name)
{
	if (v->message == NULL)
		return NULL;
	return g_mime_object_get_header(GMIME_OBJECT(v->message), name);
}

const char *
mime_subject(struct msgview *v)
{
	if (v->message == NULL)
		return NULL;
	return g_mime_message_get_subject(GMIME_MESSAGE(v->message));
}
