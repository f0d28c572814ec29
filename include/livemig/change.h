/* A row change taken from the stream, owned, immutable once queued (a
 * retried batch must replay the same thing: gh-ost PR #1665). */
#ifndef LIVEMIG_CHANGE_H
#define LIVEMIG_CHANGE_H

#include "livemig/binlog.h"

typedef struct lm_change {
    lm_row_op op;
    /* Which table: 0 the migrated one, i + 1 the child of plan fill i. */
    unsigned source;
    lm_row *before;    /* UPDATE, DELETE; owned */
    lm_row *after;     /* INSERT, UPDATE; owned */
    lm_binlog_pos end; /* stream position after the event carrying it */
    /* Where its transaction began: restarting the stream there replays
     * this change (and its transaction's earlier ones) again, which is
     * harmless because applying is idempotent, and loses nothing. */
    lm_binlog_pos txn_start;
    uint32_t timestamp;
    struct lm_change *next;
} lm_change;

void lm_change_free(lm_change *c);

#endif
