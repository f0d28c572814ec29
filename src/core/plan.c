/* Migration plans: ownership and lookups (built by an engine's preflight). */
#include "livemig/plan.h"

#include <stdlib.h>
#include <strings.h>

void lm_table_def_free(lm_table_def *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].column_type);
        free(t->cols[i].data_type);
        free(t->cols[i].charset);
    }
    free(t->cols);
    free(t->db);
    free(t->name);
    free(t->key_name);
    free(t->key_cols);
    free(t);
}

void lm_plan_free(lm_plan *p)
{
    if (p == NULL)
        return;
    lm_table_def_free(p->src);
    lm_table_def_free(p->dst);
    free(p->map);
    free(p->dst_key_src);
    free(p->alter);
    free(p->shadow_name);
    free(p->old_name);
    free(p->ckpt_name);
    for (size_t i = 0; i < p->nfill; i++) {
        free(p->fills[i].spec);
        lm_table_def_free(p->fills[i].child);
        free(p->fills[i].cols);
    }
    free(p->fills);
    lm_fk_free(p->fk_out, p->nfk_out);
    lm_fk_free(p->fk_in, p->nfk_in);
    free(p);
}

int lm_table_def_find(const lm_table_def *t, const char *name)
{
    /* Column names are case-insensitive in MariaDB/MySQL. */
    for (size_t i = 0; i < t->ncols; i++)
        if (strcasecmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}
