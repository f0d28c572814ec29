/* `livemig verify`: compare a table with its shadow (or --against any table
 * with the same key) chunk by chunk, each chunk under one consistent
 * snapshot of both tables. A chunk that differs is checked twice more
 * (a live migration's shadow may still be catching up) before it counts. */
#include "livemig/verify.h"

#include "livemig/buf.h"
#include "livemig/clock.h"
#include "livemig/log.h"
#include "livemig/migrate.h"
#include "livemig/mysql.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSES    3
#define DIFF_ROWS 10

static const char verify_usage[] =
    "usage: livemig verify --dsn URI --table T [--against T2] [--columns LIST] [--chunk-size N]\n"
    "  --against T2          the table to compare with (default: the shadow _T_new)\n"
    "  --columns a,b,old:new columns to compare (default: every column of the same name)\n"
    "  --chunk-size N        rows per chunk (default 1000)\n"
    "  --defaults-file FILE  read [client] credentials from FILE\n"
    "exit codes: 0 equal, 1 they differ, 2 bad input\n";

typedef struct vopts {
    const char *dsn, *table, *against, *columns, *defaults_file;
    size_t chunk;
    bool verbose;
} vopts;

static int parse(int argc, char **argv, vopts *o)
{
    enum { O_DSN = 256, O_TABLE, O_AGAINST, O_COLUMNS, O_CHUNK, O_DEFAULTS, O_VERBOSE };
    static const struct option opts[] = {
        {"dsn", required_argument, NULL, O_DSN},
        {"table", required_argument, NULL, O_TABLE},
        {"against", required_argument, NULL, O_AGAINST},
        {"columns", required_argument, NULL, O_COLUMNS},
        {"chunk-size", required_argument, NULL, O_CHUNK},
        {"defaults-file", required_argument, NULL, O_DEFAULTS},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DSN:
            o->dsn = optarg;
            break;
        case O_TABLE:
            o->table = optarg;
            break;
        case O_AGAINST:
            o->against = optarg;
            break;
        case O_COLUMNS:
            o->columns = optarg;
            break;
        case O_CHUNK:
            o->chunk = (size_t)strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end || o->chunk == 0 || o->chunk > 1000000) {
                fprintf(stderr, "livemig: invalid value for --chunk-size: '%s'\n", optarg);
                return 2;
            }
            break;
        case O_DEFAULTS:
            o->defaults_file = optarg;
            break;
        case O_VERBOSE:
            o->verbose = true;
            break;
        case 'h':
            fputs(verify_usage, stdout);
            return 0;
        default:
            fputs(verify_usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "livemig: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o->dsn || !o->table) {
        fprintf(stderr, "livemig: verify needs --dsn and --table (see livemig verify --help)\n");
        return 2;
    }
    return -1;
}

/* One chunk: up to PASSES checks, each in a fresh snapshot. *differs set
 * when every pass differed; the differing rows are appended to report. */
static int verify_chunk(lm_mysql_verify *v, bool *differs, lm_buf *report, lm_err *err)
{
    lm_binlog_pos pos;
    bool equal = false;
    int rc;

    *differs = false;
    for (int pass = 1; pass <= PASSES; pass++) {
        if ((rc = lm_mysql_verify_begin(v, pass > 1, &pos, err)) <= 0)
            return rc;
        if ((rc = lm_mysql_verify_check(v, NULL, &equal, err)) < 0)
            return rc;
        if (equal)
            return 1;
        if (pass < PASSES) {
            lm_mysql_verify_end(v);
            lm_sleep_us(200000);
            continue;
        }
        *differs = true;
        lm_buf_puts(report, "differs: ");
        lm_mysql_verify_range(v, report);
        lm_buf_putc(report, '\n');
        if ((rc = lm_mysql_verify_diff(v, NULL, DIFF_ROWS, report, err)) < 0)
            return rc;
    }
    return 1;
}

int lm_verify_main(int argc, char **argv)
{
    vopts o = {NULL, NULL, NULL, NULL, NULL, 1000, false};
    lm_err err = LM_ERR_INIT;
    lm_dsn dsn;
    MYSQL *c = NULL;
    lm_plan *plan = NULL;
    lm_mysql_verify *v = NULL;
    lm_buf report = LM_BUF_INIT, shadow = LM_BUF_INIT;
    unsigned long long rows = 0, chunks = 0, bad = 0;
    double t0 = lm_now();
    bool differs;
    int rc;

    memset(&dsn, 0, sizeof(dsn));
    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    lm_log_setup(o.verbose ? LM_LOG_DEBUG : LM_LOG_INFO, false);
    if (o.against == NULL) {
        lm_buf_printf(&shadow, "_%s_new", o.table);
        o.against = shadow.data;
    }
    if ((rc = lm_dsn_parse(&dsn, o.dsn, &err)) < 0)
        goto cleanup;
    if (o.defaults_file && (dsn.defaults_file = strdup(o.defaults_file)) == NULL) {
        rc = lm_err_set(&err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (dsn.kind != LM_DSN_MYSQL) {
        rc = lm_err_set(&err, LM_EINVAL, "only mysql:// and mariadb:// DSNs are supported so far");
        goto cleanup;
    }
    if ((rc = lm_mysql_connect(&c, &dsn, &err)) < 0 ||
        (rc = lm_mysql_verify_plan(c, o.table, o.against, o.columns, &plan, &err)) < 0 ||
        (rc = lm_mysql_verify_new(&v, &dsn, plan, o.chunk, &err)) < 0)
        goto cleanup;
    for (;;) {
        if (lm_interrupted) {
            rc = lm_err_set(&err, LM_EABORT, "interrupted");
            break;
        }
        if ((rc = verify_chunk(v, &differs, &report, &err)) <= 0)
            break;
        chunks++;
        rows += lm_mysql_verify_rows(v);
        bad += differs;
        lm_mysql_verify_end(v);
        lm_mysql_verify_next(v);
    }
cleanup:
    if (report.data)
        fputs(report.data, stdout);
    if (rc < 0) {
        fprintf(stderr, "livemig: error: %s\n", err.msg);
        rc = err.code == LM_EINVAL ? 2 : 1;
    } else if (bad) {
        printf("%s and %s differ in %llu of %llu chunks (%llu source rows, %.1fs)\n", o.table,
               o.against, bad, chunks, rows, lm_now() - t0);
        rc = 1;
    } else {
        printf("%s and %s are equal: %llu rows in %llu chunks compared on %zu columns (%.1fs)\n",
               o.table, o.against, rows, chunks, plan ? plan->nmap : 0, lm_now() - t0);
        rc = 0;
    }
    lm_mysql_verify_free(v);
    lm_plan_free(plan);
    if (c)
        mysql_close(c);
    lm_dsn_free(&dsn);
    lm_buf_free(&report);
    lm_buf_free(&shadow);
    return rc;
}
