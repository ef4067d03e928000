/*
 * pgconn.c - connecting to PostgreSQL and classifying its errors.  See
 * pgconn.h.
 *
 * Classification is by SQLSTATE class (PostgreSQL manual, appendix A):
 *   08 connection, 53 insufficient resources (disk full, too many
 *   connections), 57 operator intervention (shutdown, cannot connect now),
 *   58 system error (I/O), 40 transaction rollback (deadlock,
 *   serialization), 55P03 lock not available, 25006 read-only (a standby)
 *     -> STORE_ETEMP: the same write will work later;
 *   42 syntax or undefined object (no schema, an old one), 28 invalid
 *   authorization -> STORE_ECONFIG;
 *   the rest (22 data exception, 23 integrity constraint...) ->
 *   STORE_EDATA.
 * An error with no SQLSTATE comes from libpq itself: a lost connection or
 * no memory; both are temporary.
 *
 * A failed connection has no SQLSTATE either; its text decides: an unknown
 * database or role, or a refused password, is configuration; anything else
 * (no such socket, refused, timed out, starting up) is temporary.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "pgconn.h"
#include "store.h"

/* seconds to wait for a connection when the conninfo does not say */
#define PGCONN_CONNECT_TIMEOUT "10"

void
pgconn_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	/* a cut message is still a message: truncation is acceptable */
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

/* libpq messages end with a newline and may have several lines */
static void
one_line(char *s)
{
	char *r, *w;

	/* white space runs become one space; none at the end */
	for (r = w = s; *r != '\0'; r++) {
		if (*r == '\n' || *r == '\r' || *r == '\t' || *r == ' ') {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

int
pgconn_open(PGconn **out, const char *conninfo, char *err, size_t errlen)
{
	PQconninfoOption *opts = NULL;
	const char *keys[4], *vals[4];
	char *perr = NULL, msg[512];
	int has_timeout = 0, n = 0, rc;
	PGconn *conn = NULL;
	PQconninfoOption *o;

	*out = NULL;
	if (conninfo == NULL || conninfo[0] == '\0') {
		pgconn_err(err, errlen, "no database configured: set "
		    "BOUNCED_DATABASE_URL or give --database URL "
		    "(scripts/pg.sh start, then scripts/pg.sh url, gives a "
		    "private one)");
		return STORE_ECONFIG;
	}
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		if (perr != NULL)
			one_line(perr);
		pgconn_err(err, errlen, "the database URL is not a libpq "
		    "connection string: %s; see the PostgreSQL manual, "
		    "\"Connection Strings\"",
		    perr != NULL ? perr : "no memory");
		rc = perr != NULL ? STORE_ECONFIG : STORE_ENOMEM;
		goto cleanup;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 &&
		    o->val != NULL)
			has_timeout = 1;
	/* expand_dbname: the first dbname is the whole conninfo, and the
	 * other keywords only fill what it leaves unset */
	keys[n] = "dbname";
	vals[n++] = conninfo;
	if (!has_timeout) {
		keys[n] = "connect_timeout";
		vals[n++] = PGCONN_CONNECT_TIMEOUT;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = "bounced";
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL) {
		pgconn_err(err, errlen, "cannot connect: out of memory");
		rc = STORE_ENOMEM;
		goto cleanup;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		one_line(msg);
		if (strstr(msg, "does not exist") != NULL ||
		    strstr(msg, "authentication failed") != NULL ||
		    strstr(msg, "no password supplied") != NULL ||
		    strstr(msg, "no pg_hba.conf entry") != NULL ||
		    strstr(msg, "permission denied") != NULL) {
			pgconn_err(err, errlen, "cannot use the database: %s; "
			    "check the URL, the role and the database "
			    "(`bounced db init` creates the database)", msg);
			rc = STORE_ECONFIG;
		} else {
			pgconn_err(err, errlen, "cannot reach the database: %s; "
			    "is the server running? (scripts/pg.sh start "
			    "starts the private one); try again once it is",
			    msg);
			rc = STORE_ETEMP;
		}
		goto cleanup;
	}
	*out = conn;
	conn = NULL;
	rc = STORE_STORED;
cleanup:
	PQfinish(conn);
	PQconninfoFree(opts);
	PQfreemem(perr);
	return rc;
}

int
pgconn_classify(const PGconn *conn, const PGresult *res)
{
	const char *state = NULL;

	if (res != NULL)
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL || strlen(state) != 5)
		return STORE_ETEMP;
	if (conn != NULL && PQstatus(conn) != CONNECTION_OK)
		return STORE_ETEMP;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || strncmp(state, "58", 2) == 0 ||
	    strncmp(state, "40", 2) == 0 || strcmp(state, "55P03") == 0 ||
	    strcmp(state, "25006") == 0 || strncmp(state, "XX", 2) == 0)
		return STORE_ETEMP;
	if (strncmp(state, "42", 2) == 0 || strncmp(state, "28", 2) == 0 ||
	    strncmp(state, "3D", 2) == 0 || strncmp(state, "3F", 2) == 0)
		return STORE_ECONFIG;
	return STORE_EDATA;
}

int
pgconn_retryable(const PGresult *res)
{
	const char *state;

	if (res == NULL)
		return 0;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return state != NULL &&
	    (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

const char *
pgconn_message(char *buf, size_t len, const PGconn *conn,
    const PGresult *res)
{
	const char *m = NULL;

	if (len == 0)
		return buf;
	if (res != NULL)
		m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (m == NULL && res != NULL)
		m = PQresultErrorMessage(res);
	if ((m == NULL || m[0] == '\0') && conn != NULL)
		m = PQerrorMessage(conn);
	if (m == NULL || m[0] == '\0')
		m = "unknown error";
	/* cut to fit: the start of a message is what matters */
	if (snprintf(buf, len, "%s", m) < 0)
		buf[0] = '\0';
	one_line(buf);
	return buf;
}

const char *
pgconn_describe(char *buf, size_t len, const PGconn *conn)
{
	const char *db = conn != NULL ? PQdb(conn) : NULL;
	const char *host = conn != NULL ? PQhost(conn) : NULL;

	if (len == 0)
		return buf;
	if (snprintf(buf, len, "database %s on %s", db != NULL ? db : "?",
	    host != NULL && host[0] != '\0' ? host : "the default socket") < 0)
		buf[0] = '\0';
	return buf;
}

void
pgconn_hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
pgconn_sha256(unsigned char out[32], const void *p, size_t n)
{
	unsigned int got = 0;

	if (EVP_Digest(p, n, out, &got, EVP_sha256(), NULL) != 1 || got != 32)
		return -1;
	return 0;
}
