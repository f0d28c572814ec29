/* Privilege check for preflight, from SHOW GRANTS: better to say which
 * GRANT is missing now than to fail half-way through a migration. */
#include "livemig/buf.h"
#include "livemig/log.h"
#include "livemig/mysql.h"
#include "mysql/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    P_SELECT = 1 << 0,
    P_INSERT = 1 << 1,
    P_UPDATE = 1 << 2,
    P_DELETE = 1 << 3,
    P_CREATE = 1 << 4,
    P_DROP = 1 << 5,
    P_ALTER = 1 << 6,
    P_LOCK = 1 << 7,
    P_REPL_SLAVE = 1 << 8,
    P_MONITOR = 1 << 9, /* BINLOG MONITOR (MariaDB >= 10.5) / REPLICATION CLIENT */
    P_ALL_DB = (1 << 8) - 1,
    P_ALL = (1 << 10) - 1,
};

static const struct {
    const char *name;
    unsigned bit;
} priv_names[] = {
    {"SELECT", P_SELECT},
    {"INSERT", P_INSERT},
    {"UPDATE", P_UPDATE},
    {"DELETE", P_DELETE},
    {"CREATE", P_CREATE},
    {"DROP", P_DROP},
    {"ALTER", P_ALTER},
    {"LOCK TABLES", P_LOCK},
    {"REPLICATION SLAVE", P_REPL_SLAVE},
    {"REPLICATION REPLICA", P_REPL_SLAVE},
    {"BINLOG MONITOR", P_MONITOR},
    {"REPLICATION CLIENT", P_MONITOR},
    {"ALL PRIVILEGES", P_ALL},
    {"ALL", P_ALL},
};

/* LIKE-style match of a grant's database pattern (% _ and \ escapes). */
static bool db_match(const char *pat, size_t plen, const char *db)
{
    if (plen == 0)
        return *db == '\0';
    if (*pat == '%') {
        for (const char *d = db;; d++) {
            if (db_match(pat + 1, plen - 1, d))
                return true;
            if (*d == '\0')
                return false;
        }
    }
    if (*db == '\0')
        return false;
    if (*pat == '\\' && plen > 1)
        return pat[1] == *db && db_match(pat + 2, plen - 2, db + 1);
    if (*pat == '_' || *pat == *db)
        return db_match(pat + 1, plen - 1, db + 1);
    return false;
}

/* Privilege bits named in "SELECT, INSERT (a, b), LOCK TABLES". */
static unsigned parse_privs(const char *s, size_t len)
{
    unsigned bits = 0;
    size_t i = 0;

    while (i < len) {
        size_t start, end;
        int depth = 0;
        while (i < len && (isspace((unsigned char)s[i]) || s[i] == ','))
            i++;
        start = i;
        while (i < len && (depth > 0 || s[i] != ',')) {
            if (s[i] == '(')
                depth++;
            else if (s[i] == ')')
                depth--;
            i++;
        }
        end = i;
        /* Drop a column list: "SELECT (a, b)" grants only some columns, which
         * is not enough for a whole-table copy, so it counts for nothing. */
        if (memchr(s + start, '(', end - start))
            continue;
        while (end > start && isspace((unsigned char)s[end - 1]))
            end--;
        for (size_t k = 0; k < sizeof(priv_names) / sizeof(priv_names[0]); k++)
            if (strlen(priv_names[k].name) == end - start &&
                strncasecmp(priv_names[k].name, s + start, end - start) == 0)
                bits |= priv_names[k].bit;
    }
    return bits;
}

/* Grants of one SHOW GRANTS line that apply to `db` (or globally). */
static void parse_grant(const char *line, const char *db, unsigned *global, unsigned *on_db,
                        unsigned *on_pattern, bool *roles)
{
    const char *on, *obj, *to;

    if (strncasecmp(line, "GRANT ", 6) != 0)
        return;
    on = strstr(line, " ON ");
    to = strstr(line, " TO ");
    if (on == NULL || (to && to < on)) {
        *roles = true; /* GRANT `role` TO user */
        return;
    }
    obj = on + 4;
    if (strncmp(obj, "*.* ", 4) == 0) {
        *global |= parse_privs(line + 6, (size_t)(on - line - 6));
        return;
    }
    if (*obj == '`') {
        const char *end = strstr(obj + 1, "`.*");
        size_t n = end ? (size_t)(end - obj - 1) : 0;
        if (end == NULL)
            return;
        if (strlen(db) == n && strncmp(obj + 1, db, n) == 0)
            *on_db |= parse_privs(line + 6, (size_t)(on - line - 6));
        else if (db_match(obj + 1, n, db))
            *on_pattern |= parse_privs(line + 6, (size_t)(on - line - 6));
    }
}

static void put_names(lm_buf *b, unsigned bits, bool mariadb_monitor)
{
    static const char *names[] = {"SELECT",        "INSERT",      "UPDATE",
                                  "DELETE",        "CREATE",      "DROP",
                                  "ALTER",         "LOCK TABLES", "REPLICATION SLAVE",
                                  "BINLOG MONITOR"};
    bool first = true;

    for (unsigned i = 0; i < 10; i++) {
        if (!(bits & (1u << i)))
            continue;
        lm_buf_puts(b, first ? "" : ", ");
        lm_buf_puts(b, i == 9 && !mariadb_monitor ? "REPLICATION CLIENT" : names[i]);
        first = false;
    }
}

int lm_my_check_privileges(MYSQL *c, const char *db, bool binlog, lm_err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    char *user = NULL, *at;
    unsigned global = 0, on_db = 0, on_pattern = 0, miss_db, miss_global;
    bool roles = false;
    bool mariadb_monitor = strstr(mysql_get_server_info(c), "MariaDB") != NULL &&
                           mysql_get_server_version(c) >= 100502;
    lm_buf msg = LM_BUF_INIT;
    int rc;

    if ((rc = lm_mysql_query_value(c, "SELECT CURRENT_USER()", &user, err)) < 0)
        return rc;
    if ((rc = lm_my_query(c, "SHOW GRANTS", &res, err)) < 0)
        goto cleanup;
    while ((row = mysql_fetch_row(res)) != NULL)
        if (row[0])
            parse_grant(row[0], db, &global, &on_db, &on_pattern, &roles);
    /* The server uses one database-level grant, not their union: an exact
     * name wins over patterns (among patterns we approximate by the union). */
    miss_db = P_ALL_DB & ~(global | (on_db ? on_db : on_pattern));
    miss_global = binlog ? (P_REPL_SLAVE | P_MONITOR) & ~global : 0;
    if (miss_db == 0 && miss_global == 0)
        goto cleanup;
    at = user ? strrchr(user, '@') : NULL;
    if (at)
        *at++ = '\0';
    lm_buf_puts(&msg, "missing privileges for livemig: ");
    if (miss_db) {
        lm_buf_puts(&msg, "GRANT ");
        put_names(&msg, miss_db, mariadb_monitor);
        lm_buf_printf(&msg, " ON `%s`.* TO '%s'@'%s'", db, user ? user : "?", at ? at : "%");
    }
    if (miss_global) {
        lm_buf_puts(&msg, miss_db ? "; GRANT " : "GRANT ");
        put_names(&msg, miss_global, mariadb_monitor);
        lm_buf_printf(&msg, " ON *.* TO '%s'@'%s'", user ? user : "?", at ? at : "%");
    }
    if (roles) {
        /* Privileges may come from a role SHOW GRANTS did not expand. */
        lm_warn("%s (ignored: the account has roles that may grant them)", msg.data);
        goto cleanup;
    }
    rc = lm_err_set(err, LM_EINVAL, "%s", msg.data ? msg.data : "missing privileges");
cleanup:
    lm_buf_free(&msg);
    if (res)
        mysql_free_result(res);
    free(user);
    return rc;
}
