/* livemig dump: print the events of binlog files (and, later, recordings). */
#ifndef LIVEMIG_RECORD_DUMP_H
#define LIVEMIG_RECORD_DUMP_H

/* argv[0] is the subcommand name ("dump"); then FILE... [--format text|json].
 * Returns the exit status: 0 ok, 1 corrupt or truncated input, 2 usage. */
int lm_dump_main(int argc, char **argv);

#endif
