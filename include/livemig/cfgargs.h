/* --config FILE for every command but ctl: the file's options, as long
 * options, go in front of the command line's. */
#ifndef LIVEMIG_CFGARGS_H
#define LIVEMIG_CFGARGS_H

#include <stddef.h>

typedef struct lm_cfg_args {
    const char *cmd;
    const char *section; /* --section NAME, or NULL */
    const char *pass;    /* the section being read in this pass */
    int found;           /* lines seen in [section] */
    char **v;
    size_t n, cap;
} lm_cfg_args;

/* Build the argument vector of command argv[0]: the options of --config FILE
 * (if given) first, from its sections [livemig], [COMMAND] and, with
 * --section NAME, [NAME], in that order so that the later ones win; then argv
 * without --config and --section. Returns 0, or 2 after printing the error.
 * *out_argv is freed by the caller with free(); its strings live in a. */
int lm_cfg_args_apply(int argc, char **argv, lm_cfg_args *a, int *out_argc, char ***out_argv);
void lm_cfg_args_free(lm_cfg_args *a);

#endif
