/*
 * rulesload.h - make a libbounce context and load operator rules files
 * into it (the library has no I/O, so reading the files is done here).
 */
#ifndef BOUNCED_RULESLOAD_H
#define BOUNCED_RULESLOAD_H

#include <stddef.h>

#include "bounce.h"

/* Most rules files on one command line. */
#define RULES_FILES_MAX 16

/*
 * Create a context with the default limits and load the rules files in
 * order (later ones win).  On failure logs a message naming the file and
 * returns the exit status to use (EX_NOINPUT, EX_CONFIG, EX_SOFTWARE).
 */
int rulesload_ctx(bounce_ctx **out, const char *const *files, size_t n);

struct config;

/*
 * The same with the limits of cfg, and the rules_file files of cfg loaded
 * before files (so the files of the command line win).  A rules_file that
 * cannot be read is a configuration error: EX_CONFIG.
 */
int rulesload_ctx_config(bounce_ctx **out, const struct config *cfg,
    const char *const *files, size_t n);

#endif
