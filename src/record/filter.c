/* Table filters ("db.t,db2.*,t") and "FILE:POS" arguments. */
#include "record/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lm_rec_filter_parse(lm_rec_filter *f, const char *list, lm_err *err)
{
    char *copy = strdup(list ? list : ""), *save = NULL, *tok;
    int rc = 0;

    if (copy == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dot = strchr(tok, '.'), **ndb, **ntb;
        while (*tok == ' ')
            tok++;
        if (*tok == '\0')
            continue;
        ndb = realloc(f->db, (f->n + 1) * sizeof(char *));
        if (ndb)
            f->db = ndb;
        ntb = realloc(f->tbl, (f->n + 1) * sizeof(char *));
        if (ntb)
            f->tbl = ntb;
        if (ndb == NULL || ntb == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            break;
        }
        if (dot) {
            *dot = '\0';
            f->db[f->n] = strdup(tok);
            f->tbl[f->n] = strdup(dot + 1);
        } else {
            f->db[f->n] = NULL;
            f->tbl[f->n] = strdup(tok);
        }
        f->n++;
        if ((dot && f->db[f->n - 1] == NULL) || f->tbl[f->n - 1] == NULL) {
            rc = lm_err_set(err, LM_ENOMEM, "out of memory");
            break;
        }
        if (f->tbl[f->n - 1][0] == '\0' || (dot && f->db[f->n - 1][0] == '\0')) {
            rc = lm_err_set(err, LM_EINVAL, "invalid table name in '%s'", list);
            break;
        }
    }
    free(copy);
    return rc;
}

bool lm_rec_filter_match(const lm_rec_filter *f, const char *db, const char *tbl)
{
    if (f == NULL || f->n == 0)
        return true;
    for (size_t i = 0; i < f->n; i++) {
        if (f->db[i] && strcmp(f->db[i], db) != 0)
            continue;
        if (strcmp(f->tbl[i], "*") == 0 || strcmp(f->tbl[i], tbl) == 0)
            return true;
    }
    return false;
}

void lm_rec_filter_free(lm_rec_filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->db[i]);
        free(f->tbl[i]);
    }
    free(f->db);
    free(f->tbl);
    memset(f, 0, sizeof(*f));
}

int lm_rec_parse_pos(const char *s, lm_binlog_pos *out, lm_err *err)
{
    const char *colon = strrchr(s, ':');
    char *end;
    unsigned long long pos;

    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(out->file))
        return lm_err_set(err, LM_EINVAL, "invalid position '%s' (expected FILE:POS)", s);
    pos = strtoull(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0')
        return lm_err_set(err, LM_EINVAL, "invalid position '%s' (expected FILE:POS)", s);
    memcpy(out->file, s, (size_t)(colon - s));
    out->file[colon - s] = '\0';
    out->pos = pos;
    return 0;
}
