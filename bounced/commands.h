/*
 * commands.h - the subcommands of bounced, one file each (cmd_*.c).
 * Each takes the arguments after the command name (argv[0] is the
 * command) and returns the process exit status (sysexits.h).
 */
#ifndef BOUNCED_COMMANDS_H
#define BOUNCED_COMMANDS_H

int cmd_parse(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_ingest(int argc, char **argv);

#endif
