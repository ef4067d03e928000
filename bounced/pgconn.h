/*
 * pgconn.h - what the store and the migration runner share about talking
 * to PostgreSQL: connecting with bounced's settings, and sorting server
 * errors into "try again later", "fix the configuration" and "this data is
 * refused" (store_result values).  No SQL here.
 */
#ifndef BOUNCED_PGCONN_H
#define BOUNCED_PGCONN_H

#include <stddef.h>

#include <libpq-fe.h>

/*
 * Connect to conninfo (URL or key=value; NULL or "" is a configuration
 * error naming BOUNCED_DATABASE_URL).  A connect_timeout of 10 s applies
 * unless conninfo sets one.  Returns STORE_STORED (0) with *out set, or
 * STORE_ECONFIG (bad string, unknown database or role, authentication) or
 * STORE_ETEMP (server unreachable) with err saying what to do.
 */
int pgconn_open(PGconn **out, const char *conninfo, char *err, size_t errlen);

/* The store_result for a failed result (res may be NULL: conn's error). */
int pgconn_classify(const PGconn *conn, const PGresult *res);

/* 1 when the failure is a deadlock or serialization failure, which the
 * same transaction run again normally gets past. */
int pgconn_retryable(const PGresult *res);

/* The error of res (or conn) on one line, without "ERROR:  " and the
 * trailing newline, into buf. */
const char *pgconn_message(char *buf, size_t len, const PGconn *conn,
    const PGresult *res);

/* "database D on H" for messages (never the password). */
const char *pgconn_describe(char *buf, size_t len, const PGconn *conn);

/* Write a message into err (errlen bytes, cut when longer). */
void pgconn_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void pgconn_hex(char *out, const unsigned char *p, size_t n);

/* SHA-256 of p[0..n) into out; 0, or -1 when libcrypto failed. */
int pgconn_sha256(unsigned char out[32], const void *p, size_t n);

#endif
