/* The dry run's plan: what livemig would do, for the operator to read. */
#include "livemig/migrate.h"
#include "livemig/plan.h"
#include "core/run.h"

#include <stdio.h>
#include <string.h>

static bool filled(const lm_plan *p, size_t dst)
{
    for (size_t f = 0; f < p->nfill; f++)
        for (size_t i = 0; i < p->fills[f].ncols; i++)
            if (p->fills[f].cols[i].dst == dst)
                return true;
    return false;
}

static void print_fills(const lm_plan *p)
{
    for (size_t f = 0; f < p->nfill; f++) {
        const lm_fill *fl = &p->fills[f];
        printf("  fill:     from %s (LEFT JOIN ON %s.%s = %s.%s; no row: NULL): ", fl->child->name,
               fl->child->name, fl->child->cols[fl->join_col].name, p->src->name,
               p->src->cols[p->src->key_cols[0]].name);
        for (size_t i = 0; i < fl->ncols; i++) {
            const char *from = fl->child->cols[fl->cols[i].src].name;
            const char *to = p->dst->cols[fl->cols[i].dst].name;
            printf(strcmp(from, to) ? "%s%s -> %s" : "%s%s", i ? ", " : "", from, to);
        }
        printf("\n            its changes are applied too; it is read-locked with %s at the "
               "cutover\n",
               p->src->name);
    }
}

static void print_fk_cols(char **cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", cols[i]);
}

static void print_fks(const lm_plan *p)
{
    for (size_t i = 0; i < p->nfk_out; i++) {
        const lm_fk *f = &p->fk_out[i];
        printf("  fk out:   %s (", f->name);
        print_fk_cols(f->cols, f->ncols);
        printf(") -> %s (", f->ref_table);
        print_fk_cols(f->ref_cols, f->ncols);
        printf("): on the shadow as _%s, renamed back after the swap\n", f->name);
    }
    for (size_t i = 0; i < p->nfk_in; i++) {
        const lm_fk *f = &p->fk_in[i];
        printf("  fk in:    %s.%s (", f->table, f->name);
        print_fk_cols(f->cols, f->ncols);
        printf(") -> %s: dropped before the cutover's lock, added back on the new table right "
               "after the rename (ALTER TABLE %s, metadata only)\n",
               p->src->name, f->table);
    }
}

void lm_run_print_plan(const lm_plan *p, const lm_migrate_opts *o)
{
    const lm_table_def *s = p->src, *d = p->dst;

    printf("livemig plan for %s.%s (dry run: nothing was changed)\n", s->db, s->name);
    printf("  alter:    %s\n", p->alter);
    printf("  key:      %s (", s->key_name);
    for (size_t i = 0; i < s->nkey; i++)
        printf("%s%s", i ? ", " : "", s->cols[s->key_cols[i]].name);
    printf(")\n  rows:     ~%llu (estimate)\n", (unsigned long long)s->rows_estimate);
    printf("  columns:  ");
    for (size_t i = 0; i < p->nmap; i++) {
        const char *from = s->cols[p->map[i].src].name, *to = d->cols[p->map[i].dst].name;
        if (strcmp(from, to) == 0)
            printf("%s%s", i ? ", " : "", from);
        else
            printf("%s%s -> %s", i ? ", " : "", from, to);
    }
    printf("\n");
    for (size_t i = 0; i < s->ncols; i++) {
        bool mapped = false;
        for (size_t k = 0; k < p->nmap; k++)
            mapped |= p->map[k].src == i;
        if (!mapped)
            printf("  dropped:  %s\n", s->cols[i].name);
    }
    for (size_t i = 0; i < d->ncols; i++) {
        bool mapped = filled(p, i);
        for (size_t k = 0; k < p->nmap; k++)
            mapped |= p->map[k].dst == i;
        if (!mapped)
            printf("  added:    %s %s\n", d->cols[i].name, d->cols[i].column_type);
    }
    print_fills(p);
    print_fks(p);
    char chunks[96];
    if (o->chunk_fixed || o->chunk_time <= 0)
        snprintf(chunks, sizeof(chunks), "chunks of %zu rows", o->chunk_size);
    else
        snprintf(chunks, sizeof(chunks), "chunks sized to take %.2gs", o->chunk_time);
    if (o->nchanges_from)
        printf("  shadow:   %s, copied in %s, then the changes of %zu file(s) applied\n",
               p->shadow_name, chunks, o->nchanges_from);
    else
        printf("  shadow:   %s, copied in %s while the binlog is applied\n", p->shadow_name,
               chunks);
    printf("  cutover:  atomic rename, writes blocked at most %.1fs; old table kept as %s%s\n",
           o->cutover_lock_timeout, p->old_name, o->drop_old ? " then dropped" : "");
    printf("run again with --execute to migrate\n");
}
