/* workload: a random, concurrent write workload for integration tests.
 *
 *   workload --dsn mysql://user[:pass]@host[:port]/db --table T --ref R
 *            [--seconds N] [--threads N] [--seed N] [--stop-file PATH]
 *            [--tps N] [--rename OLD=NEW]... [--verbose]
 *
 * T and R start with the same schema and the same rows. Every transaction
 * applies the same random changes (inserts, updates, primary-key changes,
 * deletes) to R and then to T, so at every commit R is what T must hold.
 * A migration of T runs meanwhile; afterwards the test compares T with R.
 *
 * Columns are discovered from information_schema (R's definition) and
 * values are generated per type: integers (signed/unsigned, extremes),
 * DECIMAL, FLOAT/DOUBLE, text in the column's charset (non-ASCII UTF-8,
 * quotes, backslashes, control characters), binary strings with NUL bytes,
 * DATE/DATETIME(n)/TIMESTAMP(n)/TIME(n)/YEAR, ENUM, SET, BIT, JSON.
 *
 * After a cutover T may have lost, gained or renamed columns. When the
 * server reports an unknown column on T, the thread re-reads T's columns:
 * an R column is written to T under the same name, or under NEW given by
 * --rename OLD=NEW, or not at all (dropped). Columns only T has are left to
 * their defaults.
 *
 * Deadlocks, lock wait timeouts and duplicate keys roll back and retry. A
 * matched-row count (CLIENT_FOUND_ROWS) that differs between R and T means T
 * diverged from R; it is counted and makes the exit status 3. Other errors
 * are fatal (1).
 *
 * A lost connection (server restarted or shut down, connection killed,
 * network error) is survived: the thread reconnects with backoff for up to
 * --reconnect-timeout seconds (default 60; then exit 1), re-reads T's
 * columns and goes on with a new transaction. The transaction in flight was
 * rolled back by the server, or, when the connection broke during COMMIT,
 * either committed or rolled back as a whole: R and T are written in the
 * same transaction, so they agree either way. The workload keeps no memory
 * of rows across transactions (rows are picked from R under FOR UPDATE and
 * the matched-row check compares two statements of one transaction), so
 * an unknown outcome cannot look like a divergence.
 * The last line on stdout is a summary of the counts (reconnects= and
 * unknown_commits= count the lost connections and the COMMITs whose outcome
 * was unknown; max_stall_ms= is the longest a statement on T took, which is
 * how long the application's writes were blocked at most, e.g. by a
 * cutover). */
#include <errno.h>
#include <inttypes.h>
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/dsn.h"
#include "livemig/err.h"

/* ---------------------------------------------------------------- options */

typedef struct rename_map {
    char *from;
    char *to;
} rename_map;

typedef struct options {
    lm_dsn dsn;
    const char *table, *ref, *stop_file;
    double seconds;
    double reconnect_timeout;
    int threads;
    uint64_t seed;
    double tps;
    rename_map *renames;
    size_t nrenames;
    bool verbose;
} options;

static options opt;
static atomic_int stop_flag;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("workload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

static void usage(void)
{
    fprintf(stderr,
            "usage: workload --dsn URI --table T --ref R [--seconds N] [--threads N]\n"
            "                [--seed N] [--stop-file PATH] [--tps N] [--rename OLD=NEW]...\n"
            "                [--reconnect-timeout SECONDS] [--verbose]\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    opt.threads = 2;
    opt.reconnect_timeout = 60;
    opt.seed = (uint64_t)time(NULL);
    const char *dsn = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE()                                                                                     \
    do {                                                                                           \
        if (!v)                                                                                    \
            die("%s needs a value", a);                                                            \
        i++;                                                                                       \
    } while (0)
        if (strcmp(a, "--dsn") == 0) {
            TAKE();
            dsn = v;
        } else if (strcmp(a, "--table") == 0) {
            TAKE();
            opt.table = v;
        } else if (strcmp(a, "--ref") == 0) {
            TAKE();
            opt.ref = v;
        } else if (strcmp(a, "--seconds") == 0) {
            TAKE();
            opt.seconds = strtod(v, NULL);
        } else if (strcmp(a, "--threads") == 0) {
            TAKE();
            opt.threads = atoi(v);
        } else if (strcmp(a, "--seed") == 0) {
            TAKE();
            opt.seed = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--stop-file") == 0) {
            TAKE();
            opt.stop_file = v;
        } else if (strcmp(a, "--reconnect-timeout") == 0) {
            TAKE();
            opt.reconnect_timeout = strtod(v, NULL);
        } else if (strcmp(a, "--tps") == 0) {
            TAKE();
            opt.tps = strtod(v, NULL);
        } else if (strcmp(a, "--rename") == 0) {
            TAKE();
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1])
                die("--rename wants OLD=NEW");
            opt.renames = realloc(opt.renames, (opt.nrenames + 1) * sizeof *opt.renames);
            if (!opt.renames)
                die("out of memory");
            opt.renames[opt.nrenames].from = xstrndup(v, (size_t)(eq - v));
            opt.renames[opt.nrenames].to = xstrdup(eq + 1);
            opt.nrenames++;
        } else if (strcmp(a, "--verbose") == 0) {
            opt.verbose = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
        } else {
            fprintf(stderr, "workload: unknown option %s\n", a);
            usage();
        }
#undef TAKE
    }
    if (!dsn || !opt.table || !opt.ref)
        usage();
    if (opt.threads < 1 || opt.threads > 64)
        die("--threads must be 1..64");
    if (opt.seconds <= 0 && !opt.stop_file)
        die("give --seconds or --stop-file (or both)");
    lm_err err = LM_ERR_INIT;
    if (lm_dsn_parse(&opt.dsn, dsn, &err) < 0)
        die("--dsn: %s", err.msg);
    if (opt.dsn.kind != LM_DSN_MYSQL)
        die("--dsn must be mysql:// or mariadb://");
}

/* ---------------------------------------------------------------- random */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    /* xorshift64* */
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * UINT64_C(2685821657736338717);
}

/* Uniform in [0, n); n > 0. */
static uint64_t rnd_below(rng *r, uint64_t n)
{
    return rnd(r) % n;
}

static bool chance(rng *r, unsigned percent)
{
    return rnd_below(r, 100) < percent;
}

/* ---------------------------------------------------------------- schema */

typedef enum {
    K_SKIP = 0, /* not written (generated, unsupported type) */
    K_INT,
    K_DECIMAL,
    K_FLOAT,
    K_DOUBLE,
    K_TEXT,
    K_BINARY,
    K_DATE,
    K_DATETIME,
    K_TIMESTAMP,
    K_TIME,
    K_YEAR,
    K_ENUM,
    K_SET,
    K_BIT,
    K_JSON,
} kind;

typedef enum { CS_ASCII, CS_LATIN1, CS_BMP, CS_FULL } charset_class;

typedef struct column {
    char *name; /* in R */
    kind k;
    bool is_unsigned;
    bool nullable;
    bool is_key;
    int int_bytes;     /* K_INT: 1,2,3,4,8 */
    int bits;          /* K_BIT */
    int prec, scale;   /* K_DECIMAL; scale = fractional digits for temporal types */
    unsigned long len; /* K_TEXT: characters; K_BINARY: bytes */
    bool fixed;        /* CHAR: trailing spaces are not kept */
    charset_class cs;  /* K_TEXT */
    char **members;    /* K_ENUM, K_SET */
    size_t nmembers;
} column;

typedef struct schema {
    column *cols;
    size_t ncols;
    size_t *key; /* indexes into cols */
    size_t nkey;
    bool key_numeric; /* the first key column is K_INT */
    int64_t key_lo;
    atomic_llong key_hi; /* new integer keys are drawn from [1, key_hi] */
    int64_t key_max;     /* largest value the first key column can hold */
    unsigned long est_rows;
} schema;

static schema sch;

/* Connect; NULL (with the reason in errbuf) when the server cannot be
 * reached or refuses. */
static MYSQL *try_connect(char *errbuf, size_t errlen)
{
    MYSQL *c = mysql_init(NULL);
    if (!c)
        die("mysql_init failed");
    unsigned timeout = 10;
    /* No silent reconnect: inside a transaction it would run the rest of
     * it in autocommit mode. */
    my_bool no = 0;
    mysql_optionsv(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(c, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(c, MYSQL_OPT_RECONNECT, &no);
    const lm_dsn *d = &opt.dsn;
    const char *host = d->host;
    if (!host && !d->socket)
        host = "127.0.0.1";
    /* CLIENT_FOUND_ROWS (matched, not changed, rows) is why this is not
     * lm_mysql_connect. */
    const char *password = d->password ? d->password : getenv("MYSQL_PWD");
    if (!mysql_real_connect(c, host, d->user, password, d->db, d->port, d->socket,
                            CLIENT_FOUND_ROWS)) {
        snprintf(errbuf, errlen, "cannot connect to %s:%u: %u %s", host ? host : d->socket, d->port,
                 mysql_errno(c), mysql_error(c));
        mysql_close(c);
        return NULL;
    }
    const char *init[] = {"SET time_zone = '+00:00'", "SET SESSION innodb_lock_wait_timeout = 20",
                          "SET autocommit = 1"};
    for (size_t i = 0; i < sizeof init / sizeof init[0]; i++)
        if (mysql_query(c, init[i])) {
            snprintf(errbuf, errlen, "%s: %u %s", init[i], mysql_errno(c), mysql_error(c));
            mysql_close(c);
            return NULL;
        }
    return c;
}

static MYSQL *connect_db(void)
{
    char why[512];
    MYSQL *c = try_connect(why, sizeof why);
    if (!c)
        die("%s", why);
    return c;
}

static void append_ident(lm_buf *b, const char *name)
{
    lm_buf_putc(b, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`')
            lm_buf_putc(b, '`');
        lm_buf_putc(b, *p);
    }
    lm_buf_putc(b, '`');
}

static void append_escaped(MYSQL *c, lm_buf *b, const char *s, size_t n)
{
    lm_buf_grow(b, 2 * n + 3);
    if (b->oom)
        die("out of memory");
    b->data[b->len++] = '\'';
    b->len += mysql_real_escape_string(c, b->data + b->len, s, (unsigned long)n);
    b->data[b->len++] = '\'';
    b->data[b->len] = '\0';
}

static MYSQL_RES *query(MYSQL *c, const char *sql)
{
    if (mysql_query(c, sql))
        die("%s: %s", sql, mysql_error(c));
    MYSQL_RES *res = mysql_store_result(c);
    if (!res)
        die("%s: no result: %s", sql, mysql_error(c));
    return res;
}

/* Parse enum('a','b''c',...) / set(...) members. */
static void parse_members(column *col, const char *type)
{
    const char *p = strchr(type, '(');
    if (!p)
        return;
    p++;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p != '\'')
            break;
        p++;
        lm_buf m = LM_BUF_INIT;
        for (;;) {
            if (!*p)
                die("cannot parse members of %s", type);
            if (*p == '\'' && p[1] == '\'') {
                lm_buf_putc(&m, '\'');
                p += 2;
            } else if (*p == '\'') {
                p++;
                break;
            } else if (*p == '\\' && p[1]) {
                lm_buf_putc(&m, p[1]);
                p += 2;
            } else {
                lm_buf_putc(&m, *p++);
            }
        }
        col->members = realloc(col->members, (col->nmembers + 1) * sizeof *col->members);
        if (!col->members)
            die("out of memory");
        col->members[col->nmembers++] = m.data ? lm_buf_detach(&m) : xstrdup("");
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void classify(column *col, const char *data_type, const char *column_type,
                     const char *charset, const char *maxlen, const char *prec, const char *scale,
                     const char *dt_prec, const char *extra)
{
    col->k = K_SKIP;
    col->is_unsigned = strstr(column_type, "unsigned") != NULL;
    if (extra && (strstr(extra, "GENERATED") || strstr(extra, "VIRTUAL") ||
                  strstr(extra, "STORED") || strstr(extra, "PERSISTENT")))
        return;
    struct {
        const char *t;
        int bytes;
    } ints[] = {{"tinyint", 1}, {"smallint", 2}, {"mediumint", 3}, {"int", 4}, {"bigint", 8}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (strcmp(data_type, ints[i].t) == 0) {
            col->k = K_INT;
            col->int_bytes = ints[i].bytes;
            return;
        }
    if (strcmp(data_type, "decimal") == 0) {
        col->k = K_DECIMAL;
        col->prec = prec ? atoi(prec) : 10;
        col->scale = scale ? atoi(scale) : 0;
    } else if (strcmp(data_type, "float") == 0) {
        col->k = K_FLOAT;
    } else if (strcmp(data_type, "double") == 0) {
        col->k = K_DOUBLE;
    } else if (strcmp(data_type, "json") == 0) {
        col->k = K_JSON;
    } else if (strcmp(data_type, "char") == 0 || strcmp(data_type, "varchar") == 0 ||
               ends_with(data_type, "text")) {
        col->k = K_TEXT;
        unsigned long n = maxlen ? strtoul(maxlen, NULL, 10) : 30;
        if (ends_with(data_type, "text"))
            n /= 4; /* bytes for TEXT types; leave room for 4-byte characters */
        col->len = n < 30 ? n : 30;
        if (!charset)
            col->cs = CS_ASCII;
        else if (strcmp(charset, "utf8mb4") == 0)
            col->cs = CS_FULL;
        else if (strncmp(charset, "utf8", 4) == 0 || strcmp(charset, "ucs2") == 0 ||
                 strncmp(charset, "utf16", 5) == 0 || strncmp(charset, "utf32", 5) == 0)
            col->cs = strcmp(charset, "utf8mb3") == 0 || strcmp(charset, "ucs2") == 0 ||
                              strcmp(charset, "utf8") == 0
                          ? CS_BMP
                          : CS_FULL;
        else if (strcmp(charset, "latin1") == 0)
            col->cs = CS_LATIN1;
        else
            col->cs = CS_ASCII;
        col->fixed = strcmp(data_type, "char") == 0;
    } else if (strcmp(data_type, "binary") == 0 || strcmp(data_type, "varbinary") == 0 ||
               ends_with(data_type, "blob")) {
        col->k = K_BINARY;
        unsigned long n = maxlen ? strtoul(maxlen, NULL, 10) : 48;
        col->len = n < 48 ? n : 48;
    } else if (strcmp(data_type, "date") == 0) {
        col->k = K_DATE;
    } else if (strcmp(data_type, "datetime") == 0) {
        col->k = K_DATETIME;
        col->scale = dt_prec ? atoi(dt_prec) : 0;
    } else if (strcmp(data_type, "timestamp") == 0) {
        col->k = K_TIMESTAMP;
        col->scale = dt_prec ? atoi(dt_prec) : 0;
    } else if (strcmp(data_type, "time") == 0) {
        col->k = K_TIME;
        col->scale = dt_prec ? atoi(dt_prec) : 0;
    } else if (strcmp(data_type, "year") == 0) {
        col->k = K_YEAR;
    } else if (strcmp(data_type, "enum") == 0) {
        col->k = K_ENUM;
        parse_members(col, column_type);
    } else if (strcmp(data_type, "set") == 0) {
        col->k = K_SET;
        parse_members(col, column_type);
    } else if (strcmp(data_type, "bit") == 0) {
        col->k = K_BIT;
        col->bits = prec ? atoi(prec) : 1;
    }
}

static bool name_in(const char *name, char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void load_schema(MYSQL *c)
{
    lm_buf q = LM_BUF_INIT;
    lm_buf_puts(&q, "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME,"
                    " CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE,"
                    " DATETIME_PRECISION, EXTRA FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    append_escaped(c, &q, opt.ref, strlen(opt.ref));
    lm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
    MYSQL_RES *res = query(c, q.data);
    MYSQL_ROW row;
    sch.cols = xmalloc(mysql_num_rows(res) * sizeof *sch.cols);
    while ((row = mysql_fetch_row(res))) {
        column *col = &sch.cols[sch.ncols++];
        memset(col, 0, sizeof *col);
        col->name = xstrdup(row[0]);
        col->nullable = strcmp(row[3], "YES") == 0;
        classify(col, row[1], row[2], row[4], row[5], row[6], row[7], row[8], row[9]);
    }
    mysql_free_result(res);
    if (sch.ncols == 0)
        die("table %s not found (or has no columns)", opt.ref);

    /* MariaDB's JSON is LONGTEXT with a json_valid() check. */
    lm_buf_reset(&q);
    lm_buf_puts(&q, "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
                    " WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ");
    append_escaped(c, &q, opt.ref, strlen(opt.ref));
    if (mysql_query(c, q.data) == 0) {
        res = mysql_store_result(c);
        while (res && (row = mysql_fetch_row(res))) {
            for (size_t i = 0; i < sch.ncols; i++) {
                lm_buf pat = LM_BUF_INIT;
                lm_buf_printf(&pat, "json_valid(`%s`)", sch.cols[i].name);
                if (row[0] && strstr(row[0], pat.data) && sch.cols[i].k == K_TEXT)
                    sch.cols[i].k = K_JSON;
                lm_buf_free(&pat);
            }
        }
        if (res)
            mysql_free_result(res);
    }

    /* The key: the primary key, else the first unique index of NOT NULL columns. */
    lm_buf_reset(&q);
    lm_buf_puts(&q, "SELECT INDEX_NAME, COLUMN_NAME, NULLABLE FROM information_schema.STATISTICS"
                    " WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 AND TABLE_NAME = ");
    append_escaped(c, &q, opt.ref, strlen(opt.ref));
    lm_buf_puts(&q, " ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX");
    res = query(c, q.data);
    char *chosen = NULL;
    bool bad = false;
    char **keynames = NULL;
    size_t nkeynames = 0;
    while ((row = mysql_fetch_row(res))) {
        if (chosen && strcmp(chosen, row[0]) != 0) {
            if (!bad)
                break;
            free(chosen);
            chosen = NULL;
            nkeynames = 0;
            bad = false;
        }
        if (!chosen)
            chosen = xstrdup(row[0]);
        if (row[2] && strcmp(row[2], "YES") == 0)
            bad = true;
        keynames = realloc(keynames, (nkeynames + 1) * sizeof *keynames);
        if (!keynames)
            die("out of memory");
        keynames[nkeynames++] = xstrdup(row[1]);
    }
    mysql_free_result(res);
    if (!chosen || bad)
        die("table %s has no primary key or unique NOT NULL key", opt.ref);
    sch.key = xmalloc(nkeynames * sizeof *sch.key);
    for (size_t k = 0; k < nkeynames; k++)
        for (size_t i = 0; i < sch.ncols; i++)
            if (strcmp(sch.cols[i].name, keynames[k]) == 0) {
                sch.cols[i].is_key = true;
                sch.key[sch.nkey++] = i;
            }
    for (size_t i = 0; i < sch.ncols; i++)
        if (sch.cols[i].is_key && sch.cols[i].k == K_SKIP)
            die("key column %s has a type the workload cannot generate", sch.cols[i].name);
    for (size_t k = 0; k < nkeynames; k++)
        free(keynames[k]);
    free(keynames);
    free(chosen);

    column *k0 = &sch.cols[sch.key[0]];
    sch.key_numeric = k0->k == K_INT;
    lm_buf_reset(&q);
    lm_buf_puts(&q, "SELECT COUNT(*)");
    if (sch.key_numeric) {
        lm_buf_puts(&q, ", COALESCE(MIN(");
        append_ident(&q, k0->name);
        lm_buf_puts(&q, "), 1), COALESCE(MAX(");
        append_ident(&q, k0->name);
        lm_buf_puts(&q, "), 1)");
    }
    lm_buf_puts(&q, " FROM ");
    append_ident(&q, opt.ref);
    res = query(c, q.data);
    row = mysql_fetch_row(res);
    sch.est_rows = strtoul(row[0], NULL, 10);
    if (sch.key_numeric) {
        int64_t lo = strtoll(row[1], NULL, 10), hi = strtoll(row[2], NULL, 10);
        int bits = k0->int_bytes * 8 - (k0->is_unsigned ? 0 : 1);
        sch.key_max = bits >= 63 ? INT64_MAX : (int64_t)((UINT64_C(1) << bits) - 1);
        int64_t top = hi > sch.key_max / 3 ? sch.key_max : 3 * hi;
        if (top < 1000 && sch.key_max >= 1000)
            top = 1000;
        if (top < 1)
            top = 1;
        sch.key_lo = lo < 1 ? 1 : lo;
        atomic_store(&sch.key_hi, (long long)top);
    }
    mysql_free_result(res);
    lm_buf_free(&q);
}

/* ---------------------------------------------------------------- values */

static const char *const latin1_chars[] = {"é", "ü", "ß", "ñ", "ø", "Å", "©", "±", "µ", "÷", "¿"};
static const char *const bmp_chars[] = {"€", "中", "文", "ж", "☃", "→", "ḁ", "ﬀ"};
static const char *const astral_chars[] = {"😀", "𝄞", "🐬", "𠜎"};
static const char ascii_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                  " _-.,;:!?'\"\\%`()[]{}<>/#";

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A random string of up to maxchars characters representable in cs. */
static void gen_text(rng *r, lm_buf *out, unsigned long maxchars, charset_class cs, bool fixed,
                     bool allow_control)
{
    unsigned long n = maxchars ? rnd_below(r, maxchars + 1) : 0;
    for (unsigned long i = 0; i < n; i++) {
        unsigned pick = (unsigned)rnd_below(r, 100);
        if (pick < 4 && allow_control) {
            lm_buf_putc(out, "\n\t\r"[rnd_below(r, 3)]);
        } else if (pick < 12 && cs >= CS_LATIN1) {
            lm_buf_puts(out, latin1_chars[rnd_below(r, NELEMS(latin1_chars))]);
        } else if (pick < 18 && cs >= CS_BMP) {
            lm_buf_puts(out, bmp_chars[rnd_below(r, NELEMS(bmp_chars))]);
        } else if (pick < 22 && cs >= CS_FULL) {
            lm_buf_puts(out, astral_chars[rnd_below(r, NELEMS(astral_chars))]);
        } else {
            char ch = ascii_chars[rnd_below(r, sizeof ascii_chars - 1)];
            /* CHAR drops trailing spaces; VARCHAR keeps them, which is tested too. */
            if (fixed && ch == ' ' && i + 1 == n)
                ch = 'x';
            lm_buf_putc(out, ch);
        }
    }
}

static void put_digits(rng *r, lm_buf *b, int n, bool no_leading_zero)
{
    for (int i = 0; i < n; i++) {
        int d = (int)rnd_below(r, 10);
        if (i == 0 && no_leading_zero && n > 1 && d == 0)
            d = 1 + (int)rnd_below(r, 9);
        lm_buf_putc(b, (char)('0' + d));
    }
}

static int64_t int_min(const column *col)
{
    if (col->is_unsigned)
        return 0;
    return col->int_bytes == 8 ? INT64_MIN : -(INT64_C(1) << (col->int_bytes * 8 - 1));
}

static void gen_int(rng *r, const column *col, lm_buf *b)
{
    unsigned pick = (unsigned)rnd_below(r, 100);
    if (col->is_unsigned) {
        uint64_t max = col->int_bytes == 8 ? UINT64_MAX : (UINT64_C(1) << (col->int_bytes * 8)) - 1;
        uint64_t v;
        if (pick < 5)
            v = max;
        else if (pick < 10)
            v = 0;
        else if (pick < 50)
            v = rnd_below(r, max < 1000 ? max + 1 : 1000);
        else
            v = max == UINT64_MAX ? rnd(r) : rnd_below(r, max + 1);
        lm_buf_printf(b, "%" PRIu64, v);
    } else {
        int64_t lo = int_min(col);
        int64_t hi = col->int_bytes == 8 ? INT64_MAX : (INT64_C(1) << (col->int_bytes * 8 - 1)) - 1;
        int64_t v;
        if (pick < 5)
            v = hi;
        else if (pick < 10)
            v = lo;
        else if (pick < 50)
            v = (int64_t)rnd_below(r, hi < 1000 ? 2 * (uint64_t)hi + 1 : 2001) -
                (hi < 1000 ? hi : 1000);
        else if (col->int_bytes == 8)
            v = (int64_t)rnd(r);
        else
            v = lo + (int64_t)rnd_below(r, (uint64_t)(hi - lo) + 1);
        lm_buf_printf(b, "%" PRId64, v);
    }
}

static void gen_fraction(rng *r, lm_buf *b, int digits)
{
    if (digits > 0) {
        lm_buf_putc(b, '.');
        put_digits(r, b, digits, false);
    }
}

static void gen_date(rng *r, lm_buf *b)
{
    unsigned pick = (unsigned)rnd_below(r, 100);
    int y = pick < 3 ? 1000 : pick < 6 ? 9999 : 1950 + (int)rnd_below(r, 150);
    lm_buf_printf(b, "%04d-%02d-%02d", y, 1 + (int)rnd_below(r, 12), 1 + (int)rnd_below(r, 28));
}

static void gen_clock(rng *r, lm_buf *b, int max_hours)
{
    lm_buf_printf(b, "%02d:%02d:%02d", (int)rnd_below(r, (uint64_t)max_hours),
                  (int)rnd_below(r, 60), (int)rnd_below(r, 60));
}

static void gen_json(rng *r, MYSQL *c, lm_buf *b)
{
    lm_buf j = LM_BUF_INIT, s = LM_BUF_INIT;
    gen_text(r, &s, 12, CS_FULL, false, true);
    lm_buf_printf(&j, "{\"n\": %" PRId64 ", \"s\": ", (int64_t)rnd_below(r, 2000000) - 1000000);
    lm_buf_json_str(&j, s.data ? s.data : "", s.len);
    lm_buf_printf(&j, ", \"a\": [%d, %d.5, null, %s], \"o\": {\"k\": \"v\"}}",
                  (int)rnd_below(r, 100), (int)rnd_below(r, 100), chance(r, 50) ? "true" : "false");
    append_escaped(c, b, j.data, j.len);
    lm_buf_free(&j);
    lm_buf_free(&s);
}

/* Append a random SQL literal for col. */
static void gen_value(rng *r, MYSQL *c, const column *col, lm_buf *b, bool allow_null)
{
    if (allow_null && col->nullable && chance(r, 8)) {
        lm_buf_puts(b, "NULL");
        return;
    }
    lm_buf tmp = LM_BUF_INIT;
    switch (col->k) {
    case K_SKIP:
        lm_buf_puts(b, "DEFAULT");
        break;
    case K_INT:
        gen_int(r, col, b);
        break;
    case K_DECIMAL: {
        int intd = col->prec - col->scale;
        if (!col->is_unsigned && chance(r, 40))
            lm_buf_putc(b, '-');
        int n = intd > 0 ? (int)rnd_below(r, (uint64_t)intd + 1) : 0;
        if (n == 0)
            lm_buf_putc(b, '0');
        else
            put_digits(r, b, n, true);
        gen_fraction(r, b, col->scale);
        break;
    }
    case K_FLOAT: {
        /* 7 significant digits survive FLOAT's round trip through text. */
        int64_t m = (int64_t)rnd_below(r, 19999999) - 9999999;
        lm_buf_printf(b, "%" PRId64 "e%d", m, (int)rnd_below(r, 21) - 14);
        break;
    }
    case K_DOUBLE: {
        uint64_t m = rnd(r) >> 11; /* 53 bits */
        int e = (int)rnd_below(r, 121) - 60 - 52;
        double d = (double)m;
        for (; e > 0; e--)
            d *= 2;
        for (; e < 0; e++)
            d /= 2;
        if (chance(r, 50))
            d = -d;
        lm_buf_printf(b, "%.17g", d);
        break;
    }
    case K_TEXT:
        gen_text(r, &tmp, col->len, col->cs, col->fixed, true);
        append_escaped(c, b, tmp.data ? tmp.data : "", tmp.len);
        break;
    case K_BINARY: {
        unsigned long n = col->len ? rnd_below(r, col->len + 1) : 0;
        lm_buf_puts(b, "X'");
        for (unsigned long i = 0; i < n; i++) {
            unsigned char byte = chance(r, 10) ? 0 : (unsigned char)rnd_below(r, 256);
            lm_buf_hex(b, &byte, 1);
        }
        lm_buf_putc(b, '\'');
        break;
    }
    case K_DATE:
        lm_buf_putc(b, '\'');
        gen_date(r, b);
        lm_buf_putc(b, '\'');
        break;
    case K_DATETIME:
        lm_buf_putc(b, '\'');
        gen_date(r, b);
        lm_buf_putc(b, ' ');
        gen_clock(r, b, 24);
        gen_fraction(r, b, col->scale);
        lm_buf_putc(b, '\'');
        break;
    case K_TIMESTAMP: {
        time_t t = (time_t)(1 + rnd_below(r, 2147483646));
        struct tm tm;
        gmtime_r(&t, &tm);
        lm_buf_printf(b, "'%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        /* 2038-01-19 03:14:07 is the last second: no fraction there. */
        if (t < 2147483647)
            gen_fraction(r, b, col->scale);
        lm_buf_putc(b, '\'');
        break;
    }
    case K_TIME:
        lm_buf_puts(b, chance(r, 30) ? "'-" : "'");
        gen_clock(r, b, chance(r, 50) ? 24 : 838);
        gen_fraction(r, b, col->scale);
        lm_buf_putc(b, '\'');
        break;
    case K_YEAR:
        lm_buf_printf(b, "%d", 1901 + (int)rnd_below(r, 255));
        break;
    case K_ENUM:
        if (col->nmembers == 0) {
            lm_buf_puts(b, "''");
        } else {
            const char *m = col->members[rnd_below(r, col->nmembers)];
            append_escaped(c, b, m, strlen(m));
        }
        break;
    case K_SET:
        for (size_t i = 0; i < col->nmembers; i++)
            if (chance(r, 40)) {
                if (tmp.len)
                    lm_buf_putc(&tmp, ',');
                lm_buf_puts(&tmp, col->members[i]);
            }
        append_escaped(c, b, tmp.data ? tmp.data : "", tmp.len);
        break;
    case K_BIT: {
        uint64_t v = rnd(r);
        if (col->bits < 64)
            v &= (UINT64_C(1) << col->bits) - 1;
        lm_buf_printf(b, "%" PRIu64, v);
        break;
    }
    case K_JSON:
        gen_json(r, c, b);
        break;
    }
    lm_buf_free(&tmp);
    if (b->oom)
        die("out of memory");
}

/* A new value for a key column: integers in [1, 3 * initial max] for the first key
 * column (so moved rows land both behind and ahead of a copy in progress). */
static void gen_key_value(rng *r, MYSQL *c, size_t keypos, lm_buf *b)
{
    const column *col = &sch.cols[sch.key[keypos]];
    if (keypos == 0 && sch.key_numeric) {
        int64_t hi = (int64_t)atomic_load(&sch.key_hi);
        lm_buf_printf(b, "%" PRId64, 1 + (int64_t)rnd_below(r, (uint64_t)hi));
    } else if (col->k == K_INT) {
        lm_buf_printf(b, "%" PRIu64, rnd_below(r, col->int_bytes == 1 ? 100 : 1000000));
    } else {
        gen_value(r, c, col, b, false);
    }
}

/* ---------------------------------------------------------------- threads */

typedef struct stats {
    unsigned long commits, inserts, updates, key_changes, deletes, retries, dups, refreshes,
        diverged, reconnects, unknown_commits;
    double max_stall_ms; /* longest statement on T */
} stats;

typedef struct worker {
    int id;
    rng r;
    MYSQL *c;
    char **tname; /* per R column: its name in T, NULL = not in T */
    stats st;
    pthread_t thread;
} worker;

static double t_start;

static bool should_stop(void)
{
    if (atomic_load(&stop_flag))
        return true;
    if (opt.seconds > 0 && lm_now() - t_start >= opt.seconds)
        return true;
    if (opt.stop_file && access(opt.stop_file, F_OK) == 0)
        return true;
    return false;
}

/* Errors after which the connection is gone: reconnect. */
static bool conn_lost(unsigned e)
{
    switch (e) {
    case ER_SERVER_SHUTDOWN:
    case ER_ABORTING_CONNECTION:
    case ER_NEW_ABORTING_CONNECTION:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case ER_CONNECTION_KILLED:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case 4031: /* MySQL 8.0.24+: ER_CLIENT_INTERACTION_TIMEOUT */
        return true;
    default:
        return false;
    }
}

/* Re-read T's columns and map R's columns onto them. false = the
 * connection was lost (other errors are fatal). */
static bool refresh_tnames(worker *w)
{
    lm_buf q = LM_BUF_INIT;
    lm_buf_puts(&q, "SELECT COLUMN_NAME FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    append_escaped(w->c, &q, opt.table, strlen(opt.table));
    MYSQL_RES *res = NULL;
    if (mysql_query(w->c, q.data) || !(res = mysql_store_result(w->c))) {
        unsigned e = mysql_errno(w->c);
        if (!conn_lost(e))
            die("thread %d: %s: %u %s", w->id, q.data, e, mysql_error(w->c));
        lm_buf_free(&q);
        return false;
    }
    lm_buf_free(&q);
    size_t n = mysql_num_rows(res), k = 0;
    char **tcols = xmalloc(n * sizeof *tcols);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        tcols[k++] = xstrdup(row[0]);
    mysql_free_result(res);
    for (size_t i = 0; i < sch.ncols; i++) {
        const char *name = sch.cols[i].name;
        for (size_t j = 0; j < opt.nrenames; j++)
            if (strcmp(opt.renames[j].from, name) == 0 && name_in(opt.renames[j].to, tcols, k))
                name = opt.renames[j].to;
        free(w->tname[i]);
        w->tname[i] = name_in(name, tcols, k) ? xstrdup(name) : NULL;
        if (sch.cols[i].is_key && !w->tname[i])
            die("key column %s is missing from %s", sch.cols[i].name, opt.table);
    }
    for (size_t i = 0; i < k; i++)
        free(tcols[i]);
    free(tcols);
    return true;
}

typedef enum { RUN_OK, RUN_RETRY, RUN_REFRESH, RUN_DUP, RUN_LOST } run_result;

static bool retryable(unsigned e)
{
    return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT || e == ER_DUP_ENTRY ||
           e == ER_TABLE_DEF_CHANGED || e == ER_CHECKREAD || e == ER_LOCK_ABORTED ||
           e == ER_QUERY_INTERRUPTED;
}

/* Run one statement; on error return RUN_RETRY / RUN_REFRESH / RUN_DUP /
 * RUN_LOST or die. */
static run_result exec_sql(worker *w, const char *sql, bool on_t, unsigned long long *affected)
{
    double t0 = lm_now();
    int qrc = mysql_query(w->c, sql);
    double ms = (lm_now() - t0) * 1000.0;

    if (on_t && ms > w->st.max_stall_ms)
        w->st.max_stall_ms = ms;
    if (qrc == 0) {
        if (affected)
            *affected = mysql_affected_rows(w->c);
        return RUN_OK;
    }
    unsigned e = mysql_errno(w->c);
    if (opt.verbose)
        fprintf(stderr, "workload[%d]: %u %s (retrying)\n", w->id, e, mysql_error(w->c));
    if (on_t && e == ER_BAD_FIELD_ERROR)
        return RUN_REFRESH;
    if (e == ER_DUP_ENTRY)
        return RUN_DUP;
    if (retryable(e))
        return RUN_RETRY;
    if (conn_lost(e))
        return RUN_LOST;
    die("thread %d: %s\n  error %u: %s", w->id, sql, e, mysql_error(w->c));
}

static void append_where_key(worker *w, lm_buf *b, bool for_t, char **kv, unsigned long *kvlen)
{
    lm_buf_puts(b, " WHERE ");
    for (size_t k = 0; k < sch.nkey; k++) {
        const column *col = &sch.cols[sch.key[k]];
        if (k)
            lm_buf_puts(b, " AND ");
        append_ident(b, for_t ? w->tname[sch.key[k]] : col->name);
        lm_buf_puts(b, " = ");
        if (col->k == K_BINARY) {
            lm_buf_puts(b, "X'");
            lm_buf_hex(b, (const uint8_t *)kv[k], kvlen[k]);
            lm_buf_putc(b, '\'');
        } else {
            append_escaped(w->c, b, kv[k], kvlen[k]);
        }
    }
}

/* Lock and fetch the key of a random existing row of R. 0 = none found. */
static int pick_row(worker *w, char ***kv_out, unsigned long **kvlen_out, run_result *rr)
{
    lm_buf q = LM_BUF_INIT;
    const column *k0 = &sch.cols[sch.key[0]];
    int found = 0;
    for (int attempt = 0; attempt < 2 && !found; attempt++) {
        lm_buf_reset(&q);
        lm_buf_puts(&q, "SELECT ");
        for (size_t k = 0; k < sch.nkey; k++) {
            if (k)
                lm_buf_puts(&q, ", ");
            append_ident(&q, sch.cols[sch.key[k]].name);
        }
        lm_buf_puts(&q, " FROM ");
        append_ident(&q, opt.ref);
        if (sch.key_numeric) {
            int64_t hi = (int64_t)atomic_load(&sch.key_hi);
            int64_t v = sch.key_lo + (int64_t)rnd_below(&w->r, (uint64_t)(hi - sch.key_lo + 1));
            lm_buf_puts(&q, " WHERE ");
            append_ident(&q, k0->name);
            lm_buf_printf(&q, attempt == 0 ? " >= %" PRId64 : " < %" PRId64, v);
            lm_buf_puts(&q, " ORDER BY ");
            for (size_t k = 0; k < sch.nkey; k++) {
                if (k)
                    lm_buf_puts(&q, ", ");
                append_ident(&q, sch.cols[sch.key[k]].name);
                lm_buf_puts(&q, attempt == 0 ? "" : " DESC");
            }
            lm_buf_puts(&q, " LIMIT 1");
        } else {
            unsigned long off = sch.est_rows ? (unsigned long)rnd_below(&w->r, sch.est_rows) : 0;
            lm_buf_printf(&q, " LIMIT 1 OFFSET %lu", attempt == 0 ? off : 0UL);
        }
        lm_buf_puts(&q, " FOR UPDATE");
        MYSQL_RES *res = NULL;
        if (mysql_query(w->c, q.data) || !(res = mysql_store_result(w->c))) {
            /* Errors such as deadlocks can come with the rows. */
            unsigned e = mysql_errno(w->c);
            if (!retryable(e) && !conn_lost(e))
                die("thread %d: %s\n  error %u: %s", w->id, q.data, e, mysql_error(w->c));
            if (opt.verbose)
                fprintf(stderr, "workload[%d]: %u %s (retrying)\n", w->id, e, mysql_error(w->c));
            *rr = conn_lost(e) ? RUN_LOST : RUN_RETRY;
            lm_buf_free(&q);
            return 0;
        }
        MYSQL_ROW row = mysql_fetch_row(res);
        if (row) {
            unsigned long *lens = mysql_fetch_lengths(res);
            char **kv = xmalloc(sch.nkey * sizeof *kv);
            unsigned long *kvlen = xmalloc(sch.nkey * sizeof *kvlen);
            for (size_t k = 0; k < sch.nkey; k++) {
                kv[k] = xstrndup(row[k], lens[k]);
                kvlen[k] = lens[k];
            }
            *kv_out = kv;
            *kvlen_out = kvlen;
            found = 1;
        }
        mysql_free_result(res);
    }
    lm_buf_free(&q);
    *rr = RUN_OK;
    return found;
}

static void free_key(char **kv, unsigned long *kvlen)
{
    if (!kv)
        return;
    for (size_t k = 0; k < sch.nkey; k++)
        free(kv[k]);
    free(kv);
    free(kvlen);
}

/* Pick 1..3 random non-key writable columns (indexes into sch.cols). */
static size_t pick_columns(worker *w, size_t *out, size_t max)
{
    size_t n = 0, want = 1 + (size_t)rnd_below(&w->r, 3);
    for (int tries = 0; n < want && n < max && tries < 20; tries++) {
        size_t i = (size_t)rnd_below(&w->r, sch.ncols);
        if (sch.cols[i].is_key || sch.cols[i].k == K_SKIP)
            continue;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || out[j] == i;
        if (!dup)
            out[n++] = i;
    }
    return n;
}

typedef enum { OP_INSERT, OP_UPDATE, OP_KEY_CHANGE, OP_DELETE } op_kind;

/* Run statement pair (R then T); compare affected rows. A duplicate key on
 * R returns RUN_DUP (nothing happened yet: try other values); on T it is a
 * RUN_RETRY of the whole transaction. */
static run_result run_pair(worker *w, const char *sql_r, const char *sql_t)
{
    unsigned long long ar = 0, at = 0;
    run_result rr = exec_sql(w, sql_r, false, &ar);
    if (rr != RUN_OK || !sql_t)
        return rr;
    rr = exec_sql(w, sql_t, true, &at);
    if (rr != RUN_OK)
        return rr == RUN_DUP ? RUN_RETRY : rr;
    if (ar != at) {
        w->st.diverged++;
        fprintf(stderr,
                "workload[%d]: DIVERGED: %llu row(s) affected in %s but %llu in %s:\n  %s\n", w->id,
                ar, opt.ref, at, opt.table, sql_t);
    }
    return RUN_OK;
}

/* ", " between list items */
static void sep(lm_buf *b, bool *first)
{
    if (!*first)
        lm_buf_puts(b, ", ");
    *first = false;
}

static void build_insert(worker *w, lm_buf *sr, lm_buf *st)
{
    lm_buf v = LM_BUF_INIT;
    const char *tables[2] = {opt.ref, opt.table};
    lm_buf *out[2] = {sr, st};
    for (int x = 0; x < 2; x++) {
        bool first = true;
        lm_buf_puts(out[x], "INSERT INTO ");
        append_ident(out[x], tables[x]);
        lm_buf_puts(out[x], " (");
        for (size_t i = 0; i < sch.ncols; i++) {
            const char *name = x == 0 ? sch.cols[i].name : w->tname[i];
            if (sch.cols[i].k == K_SKIP || !name)
                continue;
            sep(out[x], &first);
            append_ident(out[x], name);
        }
        lm_buf_puts(out[x], ") VALUES (");
    }
    bool first_r = true, first_t = true;
    for (size_t i = 0; i < sch.ncols; i++) {
        if (sch.cols[i].k == K_SKIP)
            continue;
        lm_buf_reset(&v);
        if (sch.cols[i].is_key) {
            size_t keypos = 0;
            while (sch.key[keypos] != i)
                keypos++;
            gen_key_value(&w->r, w->c, keypos, &v);
        } else {
            gen_value(&w->r, w->c, &sch.cols[i], &v, true);
        }
        sep(sr, &first_r);
        lm_buf_append(sr, v.data, v.len);
        if (w->tname[i]) {
            sep(st, &first_t);
            lm_buf_append(st, v.data, v.len);
        }
    }
    lm_buf_puts(sr, ")");
    lm_buf_puts(st, ")");
    lm_buf_free(&v);
}

/* UPDATE of 1..3 random columns and, for key changes, of the key. Returns
 * whether T's statement sets anything (all chosen columns may be gone). */
static bool build_update(worker *w, bool key_change, char **kv, unsigned long *kvlen, lm_buf *sr,
                         lm_buf *st)
{
    lm_buf v = LM_BUF_INIT;
    size_t cols[3];
    size_t ncols = pick_columns(w, cols, key_change ? (size_t)rnd_below(&w->r, 3) : 3);
    bool first_r = true, first_t = true;
    lm_buf_puts(sr, "UPDATE ");
    append_ident(sr, opt.ref);
    lm_buf_puts(sr, " SET ");
    lm_buf_puts(st, "UPDATE ");
    append_ident(st, opt.table);
    lm_buf_puts(st, " SET ");
    for (size_t j = 0; j < ncols + key_change; j++) {
        size_t i, k = 0;
        lm_buf_reset(&v);
        if (j == ncols) { /* the key, last */
            k = sch.nkey == 1 ? 0 : (size_t)rnd_below(&w->r, sch.nkey);
            i = sch.key[k];
            gen_key_value(&w->r, w->c, k, &v);
        } else {
            i = cols[j];
            gen_value(&w->r, w->c, &sch.cols[i], &v, true);
        }
        sep(sr, &first_r);
        append_ident(sr, sch.cols[i].name);
        lm_buf_puts(sr, " = ");
        lm_buf_append(sr, v.data, v.len);
        if (w->tname[i]) {
            sep(st, &first_t);
            append_ident(st, w->tname[i]);
            lm_buf_puts(st, " = ");
            lm_buf_append(st, v.data, v.len);
        }
    }
    append_where_key(w, sr, false, kv, kvlen);
    append_where_key(w, st, true, kv, kvlen);
    lm_buf_free(&v);
    return !first_t;
}

static run_result do_op(worker *w, op_kind op)
{
    lm_buf sr = LM_BUF_INIT, st = LM_BUF_INIT;
    char **kv = NULL;
    unsigned long *kvlen = NULL;
    run_result rr = RUN_OK;

    if (op != OP_INSERT && !pick_row(w, &kv, &kvlen, &rr))
        goto done; /* empty table, or retry */

    /* New keys collide with existing ones now and then: other values. */
    for (int attempt = 0; attempt < 20; attempt++) {
        lm_buf_reset(&sr);
        lm_buf_reset(&st);
        bool any_t = true;
        if (op == OP_INSERT) {
            build_insert(w, &sr, &st);
        } else if (op == OP_DELETE) {
            lm_buf_puts(&sr, "DELETE FROM ");
            append_ident(&sr, opt.ref);
            append_where_key(w, &sr, false, kv, kvlen);
            lm_buf_puts(&st, "DELETE FROM ");
            append_ident(&st, opt.table);
            append_where_key(w, &st, true, kv, kvlen);
        } else {
            any_t = build_update(w, op == OP_KEY_CHANGE, kv, kvlen, &sr, &st);
        }
        if (sr.oom || st.oom)
            die("out of memory");
        rr = run_pair(w, sr.data, any_t ? st.data : NULL);
        if (rr != RUN_DUP)
            break;
        w->st.dups++;
    }
    if (rr == RUN_DUP)
        rr = RUN_RETRY;
    if (rr == RUN_OK) {
        unsigned long *counter[] = {&w->st.inserts, &w->st.updates, &w->st.key_changes,
                                    &w->st.deletes};
        (*counter[op])++;
    }

done:
    free_key(kv, kvlen);
    lm_buf_free(&sr);
    lm_buf_free(&st);
    return rr;
}

static op_kind pick_op(rng *r)
{
    unsigned p = (unsigned)rnd_below(r, 100);
    return p < 30 ? OP_INSERT : p < 65 ? OP_UPDATE : p < 80 ? OP_KEY_CHANGE : OP_DELETE;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* The connection broke during WHAT: connect again, with backoff, for up to
 * --reconnect-timeout seconds (then exit 1), and re-read T's columns (a
 * cutover may have happened meanwhile). false = asked to stop meanwhile. */
static bool reconnect(worker *w, const char *what)
{
    fprintf(stderr, "workload[%d]: connection lost during %s (%u %s); reconnecting\n", w->id, what,
            mysql_errno(w->c), mysql_error(w->c));
    mysql_close(w->c);
    w->c = NULL;
    w->st.reconnects++;
    double t0 = lm_now(), delay = 0.05;
    char why[512] = "";
    while (!should_stop()) {
        w->c = try_connect(why, sizeof why);
        if (w->c) {
            if (refresh_tnames(w)) {
                fprintf(stderr, "workload[%d]: reconnected after %.1f s\n", w->id, lm_now() - t0);
                return true;
            }
            snprintf(why, sizeof why, "re-reading the columns of %s: %u %s", opt.table,
                     mysql_errno(w->c), mysql_error(w->c));
            mysql_close(w->c);
            w->c = NULL;
        }
        if (lm_now() - t0 >= opt.reconnect_timeout)
            die("thread %d: could not reconnect within %.0f s: %s", w->id, opt.reconnect_timeout,
                why);
        sleep_s(delay);
        delay = delay * 2 < 1 ? delay * 2 : 1;
    }
    return false;
}

/* mysql_query, and die unless it worked or the connection was lost (false). */
static bool query_or_lost(worker *w, const char *sql)
{
    if (mysql_query(w->c, sql) == 0)
        return true;
    unsigned e = mysql_errno(w->c);
    if (!conn_lost(e))
        die("thread %d: %s: %u %s", w->id, sql, e, mysql_error(w->c));
    return false;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    mysql_thread_init();
    w->c = connect_db();
    w->tname = xmalloc(sch.ncols * sizeof *w->tname);
    memset(w->tname, 0, sch.ncols * sizeof *w->tname);
    if (!refresh_tnames(w) && !reconnect(w, "the first read of the columns"))
        goto out;
    double interval = opt.tps > 0 ? opt.threads / opt.tps : 0, next = lm_now();
    while (!should_stop()) {
        /* One transaction of 1..4 operations, retried as a whole. */
        rng saved = w->r;
        int attempts = 0;
        for (;;) {
            run_result rr = RUN_OK;
            const char *stage = "a statement";
            if (!query_or_lost(w, "START TRANSACTION")) {
                rr = RUN_LOST;
                stage = "START TRANSACTION";
            }
            int nops = 1 + (int)rnd_below(&w->r, 4);
            for (int i = 0; i < nops && rr == RUN_OK; i++)
                rr = do_op(w, pick_op(&w->r));
            bool unknown = false;
            if (rr == RUN_OK && mysql_query(w->c, "COMMIT")) {
                unsigned e = mysql_errno(w->c);
                if (conn_lost(e)) {
                    /* Committed or not, R and T as a whole: go on. */
                    unknown = true;
                    w->st.unknown_commits++;
                    stage = "COMMIT";
                    rr = RUN_LOST;
                } else if (!retryable(e)) {
                    die("thread %d: COMMIT: %u %s", w->id, e, mysql_error(w->c));
                } else {
                    rr = RUN_RETRY;
                }
            }
            if (rr == RUN_OK) {
                w->st.commits++;
                break;
            }
            if (rr != RUN_LOST && !query_or_lost(w, "ROLLBACK")) {
                rr = RUN_LOST;
                stage = "ROLLBACK";
            }
            if (rr == RUN_LOST) {
                /* The server rolled back what was not committed. */
                if (!reconnect(w, stage))
                    goto out;
                if (unknown)
                    break;
                continue;
            }
            if (rr == RUN_REFRESH) {
                w->st.refreshes++;
                if (!refresh_tnames(w) && !reconnect(w, "re-reading the columns"))
                    goto out;
                if (++attempts > 100)
                    die("thread %d: columns of %s keep changing", w->id, opt.table);
                w->r = saved; /* the same transaction again */
                continue;
            }
            w->st.retries++;
            if (should_stop())
                break;
            if (++attempts > 200)
                die("thread %d: a transaction failed 200 times in a row", w->id);
            /* A duplicate key needs other random values: keep the stream. */
            sleep_s(0.001 * (double)(1 + rnd_below(&w->r, 20)));
        }
        if (interval > 0) {
            next += interval;
            double d = next - lm_now();
            if (d > 0)
                sleep_s(d);
            else if (d < -1)
                next = lm_now();
        }
    }
out:
    if (w->c)
        mysql_close(w->c);
    for (size_t i = 0; i < sch.ncols; i++)
        free(w->tname[i]);
    free(w->tname);
    mysql_thread_end();
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (mysql_library_init(0, NULL, NULL))
        die("mysql_library_init failed");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    MYSQL *c = connect_db();
    load_schema(c);
    mysql_close(c);
    size_t nskip = 0;
    for (size_t i = 0; i < sch.ncols; i++)
        if (sch.cols[i].k == K_SKIP) {
            fprintf(stderr, "workload: column %s is not written (generated or unsupported type)\n",
                    sch.cols[i].name);
            nskip++;
        }

    worker *ws = xmalloc((size_t)opt.threads * sizeof *ws);
    memset(ws, 0, (size_t)opt.threads * sizeof *ws);
    t_start = lm_now();
    fprintf(stderr, "workload: %d thread(s) on %s (reference %s), %zu columns, seed %" PRIu64 "\n",
            opt.threads, opt.table, opt.ref, sch.ncols - nskip, opt.seed);
    for (int i = 0; i < opt.threads; i++) {
        ws[i].id = i;
        ws[i].r.s = opt.seed * UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)i * 7919 + 1;
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]))
            die("pthread_create failed");
    }
    stats total = {0};
    for (int i = 0; i < opt.threads; i++) {
        pthread_join(ws[i].thread, NULL);
        total.commits += ws[i].st.commits;
        total.inserts += ws[i].st.inserts;
        total.updates += ws[i].st.updates;
        total.key_changes += ws[i].st.key_changes;
        total.deletes += ws[i].st.deletes;
        total.retries += ws[i].st.retries;
        total.dups += ws[i].st.dups;
        total.refreshes += ws[i].st.refreshes;
        total.diverged += ws[i].st.diverged;
        total.reconnects += ws[i].st.reconnects;
        total.unknown_commits += ws[i].st.unknown_commits;
        if (ws[i].st.max_stall_ms > total.max_stall_ms)
            total.max_stall_ms = ws[i].st.max_stall_ms;
    }
    printf("workload: seconds=%.1f commits=%lu inserts=%lu updates=%lu key_changes=%lu "
           "deletes=%lu retries=%lu dup_keys=%lu t_refreshes=%lu diverged=%lu reconnects=%lu "
           "unknown_commits=%lu max_stall_ms=%.0f\n",
           lm_now() - t_start, total.commits, total.inserts, total.updates, total.key_changes,
           total.deletes, total.retries, total.dups, total.refreshes, total.diverged,
           total.reconnects, total.unknown_commits, total.max_stall_ms);
    free(ws);
    mysql_library_end();
    return total.diverged ? 3 : 0;
}
