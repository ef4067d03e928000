/*
 * config.c - loading the configuration of bounced: defaults from the
 * settings table (config_table.c), then the file, then the environment;
 * and the getters.  See config.h for the lookup order and the API.
 *
 * File format: "name = value" lines.  A '#' at the start of a line, or
 * after a blank, starts a comment; a value holding " #" or leading or
 * trailing blanks is written in double quotes, with \" and \\ inside.
 * Names are lower case.  A setting may appear once (a list may repeat).
 *
 * Limits: the file is at most CONFIG_FILE_MAX bytes and a line at most
 * CONFIG_LINE_MAX; it must be a regular file.  Only the first error is
 * reported: it names FILE:LINE, the setting and what would be accepted.
 *
 * Security: the file is opened once and checked with fstat() on that
 * descriptor (no check-then-open race).  A world-writable file is
 * refused; so is a world-readable one that sets a secret (database_url
 * may carry a password).  Secrets are masked in every output.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "config_priv.h"
#include "log.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 4096

static const char *global_path;

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* a cut message is still the start of the right message; mark it */
	if (n >= 0 && (size_t)n >= errlen && errlen > 4)
		memcpy(err + errlen - 4, "...", 4);
}

static char *
xstrndup(const char *p, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static char *
xstrdup(const char *p)
{
	return xstrndup(p, strlen(p));
}

/* ------------------------------------------------------------------ */
/* Values                                                             */
/* ------------------------------------------------------------------ */

static void
value_clear(struct config_value *v)
{
	size_t i;

	free(v->str);
	free(v->origin);
	for (i = 0; i < v->nitems; i++) {
		free(v->items[i].str);
		free(v->items[i].origin);
	}
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int
list_add(struct config_value *v, const char *p, size_t n, const char *origin)
{
	struct config_item *items, *it;

	items = realloc(v->items, (v->nitems + 1) * sizeof(*items));
	if (items == NULL)
		return -1;
	v->items = items;
	it = &items[v->nitems];
	it->str = xstrndup(p, n);
	it->origin = xstrdup(origin);
	if (it->str == NULL || it->origin == NULL) {
		free(it->str);
		free(it->origin);
		return -1;
	}
	v->nitems++;
	return 0;
}

/*
 * Set setting i from text v (already unquoted).  quoted says the value
 * was in quotes (a quoted list value is one path).  where names the place
 * for messages ("FILE:LINE" or "environment NAME").  Returns 0, EX_CONFIG
 * or EX_OSERR with err set.
 */
static int
value_set(struct config *cfg, size_t i, const char *v, int quoted,
    const char *where, const char *origin, char *err, size_t errlen)
{
	const struct config_setting *s = &config_settings[i];
	struct config_value *val = &cfg->values[i];
	char allowed[160], shown[32];
	const char *word, *p, *q, *shownv;
	size_t wlen;
	long long n;
	char *str;
	int bad;

	config_allowed_text(allowed, sizeof(allowed), s);
	/* error messages quote the value, unless it is a secret */
	shownv = (s->flags & CONFIG_SECRET) ? "(secret)" : v;
	switch (s->type) {
	case CONFIG_STRING:
		if ((str = xstrdup(v)) == NULL)
			goto nomem;
		free(val->str);
		val->str = str;
		break;
	case CONFIG_ENUM:
		if (config_enum_find(&word, &wlen, s->allowed, v) != 0) {
			seterr(err, errlen, "%s: %s: '%s' is not %s", where,
			    s->name, shownv, allowed);
			return EX_CONFIG;
		}
		if ((str = xstrndup(word, wlen)) == NULL)
			goto nomem;
		free(val->str);
		val->str = str;
		break;
	case CONFIG_CHAR:
		if (v[0] == '\0' || v[1] != '\0' ||
		    strchr(s->allowed, v[0]) == NULL) {
			seterr(err, errlen, "%s: %s: '%s' is not %s", where,
			    s->name, shownv, allowed);
			return EX_CONFIG;
		}
		val->num = (unsigned char)v[0];
		break;
	case CONFIG_BOOL:
		if (config_parse_bool(&n, v) != 0) {
			seterr(err, errlen, "%s: %s: '%s' is not %s", where,
			    s->name, shownv, allowed);
			return EX_CONFIG;
		}
		val->num = n;
		break;
	case CONFIG_INT:
	case CONFIG_SIZE:
	case CONFIG_DURATION:
		if (s->type == CONFIG_INT)
			bad = config_parse_int(&n, v);
		else if (s->type == CONFIG_SIZE)
			bad = config_parse_size(&n, v);
		else
			bad = config_parse_duration(&n, v);
		if (bad != 0) {
			seterr(err, errlen, "%s: %s: '%s' is not %s", where,
			    s->name, shownv, allowed);
			return EX_CONFIG;
		}
		if (n < s->min || n > s->max) {
			config_fmt_number(shown, sizeof(shown), s,
			    n < s->min ? s->min : s->max);
			seterr(err, errlen, "%s: %s: %s is %s the %s of %s; "
			    "use %s", where, s->name, shownv,
			    n < s->min ? "below" : "above",
			    n < s->min ? "minimum" : "maximum", shown,
			    allowed);
			return EX_CONFIG;
		}
		val->num = n;
		break;
	case CONFIG_LIST:
		if (quoted) {
			if (v[0] == '\0') {
				seterr(err, errlen, "%s: %s: empty path; "
				    "leave the value unquoted and empty to "
				    "clear the list", where, s->name);
				return EX_CONFIG;
			}
			if (list_add(val, v, strlen(v), origin) != 0)
				goto nomem;
		} else if (v[0] == '\0') {
			value_clear(val);
		} else {
			for (p = v; *p != '\0'; p = q) {
				while (*p == ',' || config_is_blank(*p))
					p++;
				for (q = p; *q != '\0' && *q != ',' &&
				    !config_is_blank(*q); q++)
					;
				if (q > p && list_add(val, p, (size_t)(q - p),
				    origin) != 0)
					goto nomem;
			}
		}
		if (val->nitems > (size_t)s->max) {
			seterr(err, errlen, "%s: %s: more than %lld items",
			    where, s->name, s->max);
			return EX_CONFIG;
		}
		return 0;	/* items carry their own origins */
	}
	if ((str = xstrdup(origin)) == NULL)
		goto nomem;
	free(val->origin);
	val->origin = str;
	return 0;
nomem:
	seterr(err, errlen, "%s: %s: out of memory", where, s->name);
	return EX_OSERR;
}

static int
config_defaults(struct config *cfg, char *err, size_t errlen)
{
	char where[CONFIG_NAME_MAX + 32];
	size_t i;
	int st;

	for (i = 0; i < config_nsettings; i++) {
		snprintf(where, sizeof(where), "default of %s",
		    config_settings[i].name);
		if ((st = value_set(cfg, i, config_settings[i].def, 0, where,
		    "default", err, errlen)) != 0)
			return st;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The file                                                           */
/* ------------------------------------------------------------------ */

/*
 * Split one line into name and value.  line is NUL-terminated, without
 * the newline, and is modified.  Sets *name NULL for a blank or comment
 * line.  Returns 0, or -1 with err set.
 */
static int
split_line(char *line, char **name, char **value, int *quoted,
    const char *where, char *err, size_t errlen)
{
	char *p = line, *n, *v, *w;

	*name = *value = NULL;
	*quoted = 0;
	while (config_is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	n = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
	    *p == '_' || (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '.')
		p++;
	if (p == n) {
		/* the line is not echoed: it may be a pasted secret */
		seterr(err, errlen, "%s: expected \"name = value\"; a name "
		    "is letters, digits and '_'", where);
		return -1;
	}
	if ((size_t)(p - n) > CONFIG_NAME_MAX) {
		seterr(err, errlen, "%s: setting name longer than %d "
		    "characters", where, CONFIG_NAME_MAX);
		return -1;
	}
	w = p;
	while (config_is_blank(*p))
		p++;
	if (*p != '=') {
		*w = '\0';
		seterr(err, errlen, "%s: expected '=' after '%s'", where, n);
		return -1;
	}
	*w = '\0';
	p++;
	while (config_is_blank(*p))
		p++;
	if (*p == '"') {
		/* quoted: \" and \\ are the only escapes */
		*quoted = 1;
		v = w = ++p;
		for (;; p++) {
			if (*p == '\0') {
				seterr(err, errlen, "%s: %s: no closing '\"'",
				    where, n);
				return -1;
			}
			if (*p == '"')
				break;
			if (*p == '\\') {
				p++;
				if (*p != '"' && *p != '\\') {
					seterr(err, errlen, "%s: %s: only \\\" "
					    "and \\\\ may follow a backslash "
					    "in quotes", where, n);
					return -1;
				}
			}
			*w++ = *p;
		}
		*w = '\0';
		p++;
		while (config_is_blank(*p))
			p++;
		if (*p != '\0' && *p != '#') {
			seterr(err, errlen, "%s: %s: text after the closing "
			    "'\"'; a comment starts with '#'", where, n);
			return -1;
		}
	} else {
		/* unquoted: up to a '#' after a blank, trailing blanks cut */
		v = p;
		for (w = p; *w != '\0'; w++)
			if (*w == '#' && (w == v || config_is_blank(w[-1])))
				break;
		*w = '\0';
		while (w > v && config_is_blank(w[-1]))
			*--w = '\0';
	}
	*name = n;
	*value = v;
	return 0;
}

/* Read the whole regular file on fd, at most CONFIG_FILE_MAX bytes. */
static int
read_fd(char **out, size_t *len, int fd, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	size_t size, n = 0;
	char *buf;
	ssize_t got;

	*out = NULL;
	if (fstat(fd, &st) != 0) {
		seterr(err, errlen, "cannot stat config file %s: %s", path,
		    strerror(errno));
		return EX_CONFIG;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "config file %s is not a regular file",
		    path);
		return EX_CONFIG;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		seterr(err, errlen, "config file %s is %lld bytes, over the "
		    "limit of %d", path, (long long)st.st_size,
		    CONFIG_FILE_MAX);
		return EX_CONFIG;
	}
	size = (size_t)st.st_size + 1;
	if ((buf = malloc(size + 1)) == NULL) {
		seterr(err, errlen, "config file %s: out of memory", path);
		return EX_OSERR;
	}
	/* read one byte past the stated size to notice a growing file */
	while (n < size) {
		got = read(fd, buf + n, size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			seterr(err, errlen, "cannot read config file %s: %s",
			    path, strerror(errno));
			free(buf);
			return EX_CONFIG;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > (size_t)CONFIG_FILE_MAX) {
		seterr(err, errlen, "config file %s is over the limit of %d "
		    "bytes", path, CONFIG_FILE_MAX);
		free(buf);
		return EX_CONFIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int
parse_buffer(struct config *cfg, char *buf, size_t len, const char *path,
    char *err, size_t errlen)
{
	unsigned long lineno = 0;
	char where[PATH_MAX + 32];
	char *line, *nl, *name, *value, *end = buf + len;
	struct config_value *val;
	const char *close;
	int quoted, st;
	size_t ll;
	long i;

	for (line = buf; line < end; line = nl + 1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%lu", path, lineno);
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		ll = (size_t)(nl - line);
		if (ll > CONFIG_LINE_MAX) {
			seterr(err, errlen, "%s: line longer than %d bytes",
			    where, CONFIG_LINE_MAX);
			return EX_CONFIG;
		}
		if (memchr(line, '\0', ll) != NULL) {
			seterr(err, errlen, "%s: NUL byte in the line; a "
			    "config file is text", where);
			return EX_CONFIG;
		}
		*nl = '\0';
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		for (i = 0; (size_t)i < ll; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
				seterr(err, errlen, "%s: control character "
				    "0x%02x in the line", where,
				    (unsigned char)line[i]);
				return EX_CONFIG;
			}
		if (split_line(line, &name, &value, &quoted, where, err,
		    errlen) != 0)
			return EX_CONFIG;
		if (name == NULL)
			continue;
		if ((i = config_setting_index(name)) < 0) {
			close = config_suggest(name);
			seterr(err, errlen, "%s: unknown setting '%s'%s%s%s; "
			    "`bounced config --example` lists them all",
			    where, name, close ? " (did you mean '" : "",
			    close ? close : "", close ? "'?)" : "");
			return EX_CONFIG;
		}
		val = &cfg->values[i];
		if (config_settings[i].type != CONFIG_LIST && val->line != 0) {
			seterr(err, errlen, "%s: %s is already set on line "
			    "%lu; set it once", where, name, val->line);
			return EX_CONFIG;
		}
		if ((st = value_set(cfg, (size_t)i, value, quoted, where,
		    where, err, errlen)) != 0)
			return st;
		val->line = lineno;
	}
	return 0;
}

/* The file must not be world-writable, nor world-readable with a secret. */
static int
check_mode(const struct config *cfg, const struct stat *st, const char *path,
    char *err, size_t errlen)
{
	const struct config_setting *s;
	const struct config_value *v;
	size_t i;

	if (st->st_mode & S_IWOTH) {
		seterr(err, errlen, "config file %s is writable by every user "
		    "(mode %04o); run: chmod o-w %s", path,
		    (unsigned int)(st->st_mode & 07777), path);
		return EX_CONFIG;
	}
	if (!(st->st_mode & S_IROTH))
		return 0;
	for (i = 0; i < config_nsettings; i++) {
		s = &config_settings[i];
		v = &cfg->values[i];
		if (!(s->flags & CONFIG_SECRET) || v->line == 0 ||
		    v->str == NULL || v->str[0] == '\0')
			continue;
		seterr(err, errlen, "%s:%lu: %s is a secret but the file is "
		    "readable by every user (mode %04o); run: chmod 640 %s "
		    "(group bounced), or set it in the environment instead "
		    "(%s)", path, v->line, s->name,
		    (unsigned int)(st->st_mode & 07777), path,
		    s->env != NULL ? s->env : "none");
		return EX_CONFIG;
	}
	return 0;
}

static int
apply_env(struct config *cfg, char *err, size_t errlen)
{
	char where[CONFIG_NAME_MAX + 32];
	const struct config_setting *s;
	const char *v;
	size_t i;
	int st;

	for (i = 0; i < config_nsettings; i++) {
		s = &config_settings[i];
		if (s->env == NULL)
			continue;
		/* set but empty counts as unset */
		if ((v = getenv(s->env)) == NULL || v[0] == '\0')
			continue;
		if (s->type == CONFIG_LIST)
			value_clear(&cfg->values[i]);
		snprintf(where, sizeof(where), "env %s", s->env);
		if ((st = value_set(cfg, i, v, 0, where, where, err,
		    errlen)) != 0)
			return st;
		cfg->values[i].line = 0;
	}
	return 0;
}

/* Cross-setting checks. */
static int
check_all(const struct config *cfg, char *err, size_t errlen)
{
	long s = config_setting_index("verp_separator");
	long e = config_setting_index("verp_equals");

	if (cfg->values[s].num == cfg->values[e].num) {
		seterr(err, errlen, "verp_separator (%s) and verp_equals (%s) "
		    "are both '%c'; they must differ",
		    cfg->values[s].origin, cfg->values[e].origin,
		    (int)cfg->values[s].num);
		return EX_CONFIG;
	}
	return 0;
}

int
config_load_file(struct config **out, const char *path, int required,
    char *err, size_t errlen)
{
	struct config *cfg;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, status;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->values = calloc(config_nsettings,
	    sizeof(cfg->values[0]))) == NULL) {
		free(cfg);
		seterr(err, errlen, "config: out of memory");
		return EX_OSERR;
	}
	if ((status = config_defaults(cfg, err, errlen)) != 0)
		goto cleanup;
	if (path != NULL) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 && errno == ENOENT && !required)
			goto env;
		if (fd < 0) {
			seterr(err, errlen, "cannot open config file %s: %s%s",
			    path, strerror(errno), errno == EACCES ?
			    "; is it readable by the group bounced runs as?"
			    : "");
			status = EX_CONFIG;
			goto cleanup;
		}
		if ((status = read_fd(&buf, &len, fd, path, err, errlen)) != 0)
			goto cleanup;
		if (fstat(fd, &st) != 0) {
			seterr(err, errlen, "cannot stat config file %s: %s",
			    path, strerror(errno));
			status = EX_CONFIG;
			goto cleanup;
		}
		if ((cfg->path = xstrdup(path)) == NULL) {
			seterr(err, errlen, "config: out of memory");
			status = EX_OSERR;
			goto cleanup;
		}
		if ((status = parse_buffer(cfg, buf, len, path, err,
		    errlen)) != 0)
			goto cleanup;
		if ((status = check_mode(cfg, &st, path, err, errlen)) != 0)
			goto cleanup;
	}
env:
	if ((status = apply_env(cfg, err, errlen)) != 0)
		goto cleanup;
	if ((status = check_all(cfg, err, errlen)) != 0)
		goto cleanup;
	*out = cfg;
	cfg = NULL;
cleanup:
	if (fd >= 0)
		close(fd);
	free(buf);
	config_free(cfg);
	return status;
}

int
config_load(struct config **out, const char *path_or_null, char *err,
    size_t errlen)
{
	const char *env;

	if (path_or_null != NULL)
		return config_load_file(out, path_or_null, 1, err, errlen);
	if ((env = getenv(CONFIG_PATH_ENV)) != NULL && env[0] != '\0')
		return config_load_file(out, env, 1, err, errlen);
	return config_load_file(out, CONFIG_DEFAULT_PATH, 0, err, errlen);
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < config_nsettings && cfg->values != NULL; i++)
		value_clear(&cfg->values[i]);
	free(cfg->values);
	free(cfg->path);
	free(cfg);
}

const char *
config_path(const struct config *cfg)
{
	return cfg->path;
}

/* ------------------------------------------------------------------ */
/* Getters                                                            */
/* ------------------------------------------------------------------ */

static const struct config_value *
get(const struct config *cfg, const char *name, enum config_type t1,
    enum config_type t2, enum config_type t3)
{
	long i = config_setting_index(name);

	if (i < 0)
		fatal(EX_SOFTWARE, "internal error: no setting '%s'", name);
	if (config_settings[i].type != t1 && config_settings[i].type != t2 &&
	    config_settings[i].type != t3)
		fatal(EX_SOFTWARE, "internal error: setting '%s' read as the "
		    "wrong type", name);
	return &cfg->values[i];
}

const char *
config_string(const struct config *cfg, const char *name)
{
	return get(cfg, name, CONFIG_STRING, CONFIG_ENUM, CONFIG_ENUM)->str;
}

long long
config_number(const struct config *cfg, const char *name)
{
	return get(cfg, name, CONFIG_INT, CONFIG_SIZE, CONFIG_DURATION)->num;
}

int
config_bool(const struct config *cfg, const char *name)
{
	return (int)get(cfg, name, CONFIG_BOOL, CONFIG_BOOL, CONFIG_BOOL)->num;
}

char
config_char(const struct config *cfg, const char *name)
{
	return (char)get(cfg, name, CONFIG_CHAR, CONFIG_CHAR, CONFIG_CHAR)->num;
}

size_t
config_list_count(const struct config *cfg, const char *name)
{
	return get(cfg, name, CONFIG_LIST, CONFIG_LIST, CONFIG_LIST)->nitems;
}

const char *
config_list_item(const struct config *cfg, const char *name, size_t i)
{
	const struct config_value *v;

	v = get(cfg, name, CONFIG_LIST, CONFIG_LIST, CONFIG_LIST);
	return i < v->nitems ? v->items[i].str : NULL;
}

const char *
config_list_origin(const struct config *cfg, const char *name, size_t i)
{
	const struct config_value *v;

	v = get(cfg, name, CONFIG_LIST, CONFIG_LIST, CONFIG_LIST);
	return i < v->nitems ? v->items[i].origin : NULL;
}

const char *
config_origin(const struct config *cfg, const char *name)
{
	long i = config_setting_index(name);

	if (i < 0)
		fatal(EX_SOFTWARE, "internal error: no setting '%s'", name);
	if (config_settings[i].type == CONFIG_LIST)
		return cfg->values[i].nitems > 0 ?
		    cfg->values[i].items[0].origin : "default";
	return cfg->values[i].origin;
}

void
config_limits(bounce_limits *out, const struct config *cfg)
{
	const bounce_limits defaults = BOUNCE_LIMITS_INIT;

	/* ranges in the table keep every value within its field */
	*out = defaults;
	out->max_message_bytes = (size_t)config_number(cfg,
	    "max_message_bytes");
	out->max_mime_depth = (unsigned int)config_number(cfg,
	    "max_mime_depth");
	out->max_mime_parts = (unsigned int)config_number(cfg,
	    "max_mime_parts");
	out->max_text_bytes = (size_t)config_number(cfg, "max_text_bytes");
	out->max_field_bytes = (size_t)config_number(cfg, "max_field_bytes");
	out->max_recipients = (unsigned int)config_number(cfg,
	    "max_recipients");
}

void
config_verp(bounce_verp_options *out, const struct config *cfg)
{
	const bounce_verp_options defaults = BOUNCE_VERP_OPTIONS_INIT;

	*out = defaults;
	out->separator = config_char(cfg, "verp_separator");
	out->equals = config_char(cfg, "verp_equals");
}

int
config_syslog_facility(const struct config *cfg)
{
	static const struct {
		const char *name;
		int facility;
	} map[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	const char *name = config_string(cfg, "syslog_facility");
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].facility;
	return LOG_MAIL;
}

void
config_apply_logging(const struct config *cfg, const char *progname)
{
	if (strcmp(config_string(cfg, "log_target"), "syslog") == 0) {
		log_set_facility(config_syslog_facility(cfg));
		log_init(progname, LOG_TO_SYSLOG);
	} else
		log_init(progname, LOG_TO_STDERR);
}

/* ------------------------------------------------------------------ */
/* For commands                                                       */
/* ------------------------------------------------------------------ */

void
config_set_global_path(const char *path)
{
	global_path = path;
}

int
config_from_args(struct config **out, const char *path_or_null)
{
	char err[1024];
	int status;

	if (path_or_null == NULL)
		path_or_null = global_path;
	if ((status = config_load(out, path_or_null, err, sizeof(err))) != 0)
		log_warn("%s", err);
	return status;
}
