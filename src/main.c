/* livemig: online schema migration for MariaDB/MySQL (and PostgreSQL). */
#include "livemig/buf.h"
#include "livemig/cfgargs.h"
#include "livemig/core.h"
#include "livemig/log.h"
#include "livemig/migrate.h"
#include "livemig/verify.h"
#include "record/dump.h"
#include "record/record.h"

#include <getopt.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static const char usage_text[] =
    "usage: livemig migrate --dsn URI --table T --alter 'SPEC' [--execute] [options]\n"
    "       livemig verify --dsn URI --table T [--against T2] [--columns LIST]\n"
    "       livemig dump FILE... [--format text|json] [--tables db.t,...]\n"
    "       livemig record --dsn URI --out FILE.binlog.zst [--tables db.t,...]\n"
    "              [--from FILE:POS | --gtid G] [--until FILE:POS | --duration S]\n"
    "       livemig replay FILE... --to URI [--tables ...] [--rename db.t=db2.t2]\n"
    "              [--speed max|1x|Nx] [--from FILE:POS]\n"
    "       livemig ctl SOCKET COMMAND\n"
    "       livemig --version | --help\n"
    "\n"
    "every command but ctl also takes:\n"
    "  --config FILE                read options from FILE ([livemig] and [COMMAND]\n"
    "                               sections, keys are long option names); flags win\n"
    "  --section NAME               also read FILE's section [NAME] (one migration)\n"
    "\n"
    "migrate options:\n"
    "  --execute                    migrate (default: validate and print the plan)\n"
    "  --chunk-size N               copy chunks of N rows (default: sized by\n"
    "                               --chunk-time, starting at 1000 rows)\n"
    "  --chunk-time SECS            grow or shrink chunks to take this long\n"
    "                               (default 0.1; 0 = chunks of --chunk-size)\n"
    "  --threads N                  copy N key ranges at once (default 0: the\n"
    "                               server's CPU count, at most 8)\n"
    "  --max-lag SECONDS            pause the copy while the apply or a replica lags\n"
    "                               more (default 10; 0 = never)\n"
    "  --replicas LIST              replicas to watch: HOST:PORT or DSNs, comma-separated\n"
    "                               (default: SHOW SLAVE HOSTS; '' = none)\n"
    "  --throttle-flag FILE         pause the copy while FILE exists\n"
    "  --max-load 'VAR=N,...'       pause the copy while a status variable is above N\n"
    "  --critical-load 'VAR=N,...'  stop (exit 1) when above N twice in a row\n"
    "  --critical-load-hibernate S  pause everything S seconds instead of stopping\n"
    "  --throttle-query SQL         pause the copy while SQL returns non-zero\n"
    "  --nice-ratio R               rest R times each chunk's duration after it\n"
    "  --postpone-cutover-flag FILE cutover waits while FILE exists\n"
    "  --cutover-lock-timeout SECS  longest write block at cutover (default 3)\n";
/* Split: C11 compilers need only support string literals of 4095 bytes. */
static const char usage_text2[] =
    "  --cutover-retries N          cutover attempts (default 10)\n"
    "  --kill-blockers-after SECS   KILL sessions holding up the cutover this long\n"
    "  --control-socket PATH        status/throttle/resume/chunk-size=N/cutover/abort\n"
    "  --metrics-listen HOST:PORT   serve Prometheus metrics at http://HOST:PORT/metrics\n"
    "  --metrics-textfile PATH      write the metrics to PATH (node_exporter textfile)\n"
    "  --hooks-dir DIR              run DIR/on-<event> (on-start, on-copy-complete,\n"
    "                               on-before-cutover, on-success, on-failure, on-throttle)\n"
    "  --hook-timeout SECS          kill a hook after this long (default 60)\n"
    "  --fill-from 'CHILD ON CHILD.COL = T.KEY: col [AS new], ...'\n"
    "                               fill new columns from a 1:1 child table, kept in\n"
    "                               sync from both tables' changes (repeatable)\n"
    "  --foreign-keys refuse|rebuild  tables referencing T: refuse (default) or\n"
    "                               re-point their constraints right after the swap\n"
    "  --drop-old                   drop the old table after cutover\n"
    "  --no-verify                  skip the checksum of table and shadow before cutover\n"
    "  --force                      drop the leftovers of an interrupted run, start over\n"
    "  --resume                     continue an interrupted migration from its checkpoint\n"
    "  --cleanup                    on failure or abort also drop what --resume needs\n"
    "  --reconnect-timeout SECS     keep reconnecting a lost server this long (default 120)\n"
    "  --server-id N                replica id for the binlog stream\n"
    "  --changes-from FILE...       apply the changes in these binlog files or\n"
    "                               recordings instead of the server's stream (a\n"
    "                               table nobody writes: a restored backup)\n"
    "  --changes-start FILE:POS     the table holds everything before POS\n"
    "                               (default: the start of the first file)\n"
    "  --changes-until FILE:POS     stop after the transaction reaching POS\n"
    "  --changes-table DB.T         the table's name in the files (default: T)\n"
    "  --defaults-file FILE         read [client] credentials from FILE\n"
    "  --progress-interval SECS     progress line rhythm (default 5)\n"
    "  --log-format text|json       log and progress format\n"
    "  --verbose                    debug logging\n"
    "exit codes: 0 done (or dry run), 1 failed or aborted (table unchanged), 2 refused\n";

static void print_usage(FILE *f)
{
    fputs(usage_text, f);
    fputs(usage_text2, f);
}

static void on_signal(int sig)
{
    (void)sig;
    lm_interrupted = 1;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (*s == '\0' || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (*s == '\0' || *end || v == 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int bad_value(const char *opt, const char *val)
{
    fprintf(stderr, "livemig: invalid value for --%s: '%s'\n", opt, val);
    return 2;
}

/* files has room for argc entries: --changes-from FILE... */
static int migrate_args(int argc, char **argv, const char **files)
{
    enum {
        O_DSN = 256,
        O_TABLE,
        O_ALTER,
        O_EXECUTE,
        O_CHUNK,
        O_CHUNKTIME,
        O_THREADS,
        O_MAXLAG,
        O_THROTTLE,
        O_POSTPONE,
        O_LOCKTO,
        O_RETRIES,
        O_SOCKET,
        O_DROPOLD,
        O_FORCE,
        O_RESUME,
        O_SERVERID,
        O_DEFAULTS,
        O_INTERVAL,
        O_LOGFMT,
        O_VERBOSE,
        O_NOVERIFY,
        O_CLEANUP,
        O_RECONNECT,
        O_CHFROM,
        O_CHSTART,
        O_CHUNTIL,
        O_CHTABLE,
        O_MAXLOAD,
        O_CRITLOAD,
        O_HIBERNATE,
        O_TQUERY,
        O_NICE,
        O_KILLAFTER,
        O_REPLICAS,
        O_MLISTEN,
        O_MTEXT,
        O_HOOKS,
        O_HOOKTO,
        O_FILL,
        O_FKS
    };
    static const struct option opts[] = {
        {"dsn", required_argument, NULL, O_DSN},
        {"table", required_argument, NULL, O_TABLE},
        {"alter", required_argument, NULL, O_ALTER},
        {"execute", no_argument, NULL, O_EXECUTE},
        {"chunk-size", required_argument, NULL, O_CHUNK},
        {"chunk-time", required_argument, NULL, O_CHUNKTIME},
        {"threads", required_argument, NULL, O_THREADS},
        {"max-lag", required_argument, NULL, O_MAXLAG},
        {"throttle-flag", required_argument, NULL, O_THROTTLE},
        {"postpone-cutover-flag", required_argument, NULL, O_POSTPONE},
        {"cutover-lock-timeout", required_argument, NULL, O_LOCKTO},
        {"cutover-retries", required_argument, NULL, O_RETRIES},
        {"control-socket", required_argument, NULL, O_SOCKET},
        {"drop-old", no_argument, NULL, O_DROPOLD},
        {"force", no_argument, NULL, O_FORCE},
        {"resume", no_argument, NULL, O_RESUME},
        {"server-id", required_argument, NULL, O_SERVERID},
        {"defaults-file", required_argument, NULL, O_DEFAULTS},
        {"progress-interval", required_argument, NULL, O_INTERVAL},
        {"log-format", required_argument, NULL, O_LOGFMT},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"no-verify", no_argument, NULL, O_NOVERIFY},
        {"cleanup", no_argument, NULL, O_CLEANUP},
        {"reconnect-timeout", required_argument, NULL, O_RECONNECT},
        {"changes-from", required_argument, NULL, O_CHFROM},
        {"changes-start", required_argument, NULL, O_CHSTART},
        {"changes-until", required_argument, NULL, O_CHUNTIL},
        {"changes-table", required_argument, NULL, O_CHTABLE},
        {"max-load", required_argument, NULL, O_MAXLOAD},
        {"critical-load", required_argument, NULL, O_CRITLOAD},
        {"critical-load-hibernate", required_argument, NULL, O_HIBERNATE},
        {"throttle-query", required_argument, NULL, O_TQUERY},
        {"nice-ratio", required_argument, NULL, O_NICE},
        {"kill-blockers-after", required_argument, NULL, O_KILLAFTER},
        {"replicas", required_argument, NULL, O_REPLICAS},
        {"metrics-listen", required_argument, NULL, O_MLISTEN},
        {"metrics-textfile", required_argument, NULL, O_MTEXT},
        {"hooks-dir", required_argument, NULL, O_HOOKS},
        {"hook-timeout", required_argument, NULL, O_HOOKTO},
        {"fill-from", required_argument, NULL, O_FILL},
        {"foreign-keys", required_argument, NULL, O_FKS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lm_migrate_opts o = LM_MIGRATE_OPTS_INIT;
    bool json = false, verbose = false;
    size_t n;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DSN:
            o.dsn = optarg;
            break;
        case O_TABLE:
            o.table = optarg;
            break;
        case O_ALTER:
            o.alter = optarg;
            break;
        case O_EXECUTE:
            o.execute = true;
            break;
        case O_CHUNK:
            if (parse_size(optarg, &o.chunk_size) < 0 || o.chunk_size > 1000000)
                return bad_value("chunk-size", optarg);
            o.chunk_fixed = true;
            break;
        case O_CHUNKTIME:
            if (parse_double(optarg, &o.chunk_time) < 0 || o.chunk_time > 3600)
                return bad_value("chunk-time", optarg);
            break;
        case O_THREADS:
            /* 0 asks for the default. */
            if (strcmp(optarg, "0") == 0)
                o.threads = 0;
            else if (parse_size(optarg, &o.threads) < 0 || o.threads > 64)
                return bad_value("threads", optarg);
            break;
        case O_MAXLAG:
            if (parse_double(optarg, &o.max_lag) < 0)
                return bad_value("max-lag", optarg);
            break;
        case O_THROTTLE:
            o.throttle_flag = optarg;
            break;
        case O_POSTPONE:
            o.postpone_flag = optarg;
            break;
        case O_LOCKTO:
            if (parse_double(optarg, &o.cutover_lock_timeout) < 0 || o.cutover_lock_timeout < 0.1)
                return bad_value("cutover-lock-timeout", optarg);
            break;
        case O_RETRIES:
            if (parse_size(optarg, &n) < 0 || n > 1000)
                return bad_value("cutover-retries", optarg);
            o.cutover_retries = (int)n;
            break;
        case O_SOCKET:
            o.control_socket = optarg;
            break;
        case O_DROPOLD:
            o.drop_old = true;
            break;
        case O_FORCE:
            o.force = true;
            break;
        case O_RESUME:
            o.resume = true;
            break;
        case O_SERVERID:
            if (parse_size(optarg, &n) < 0 || n > 4294967295u)
                return bad_value("server-id", optarg);
            o.server_id = (unsigned)n;
            break;
        case O_DEFAULTS:
            o.defaults_file = optarg;
            break;
        case O_INTERVAL:
            if (parse_double(optarg, &o.progress_interval) < 0 || o.progress_interval < 0.1)
                return bad_value("progress-interval", optarg);
            break;
        case O_LOGFMT:
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "text") != 0)
                return bad_value("log-format", optarg);
            break;
        case O_VERBOSE:
            verbose = true;
            break;
        case O_NOVERIFY:
            o.no_verify = true;
            break;
        case O_CLEANUP:
            o.cleanup = true;
            break;
        case O_RECONNECT:
            if (parse_double(optarg, &o.reconnect_timeout) < 0 || o.reconnect_timeout < 0)
                return bad_value("reconnect-timeout", optarg);
            break;
        case O_CHFROM:
            files[o.nchanges_from++] = optarg;
            break;
        case O_CHSTART:
            o.changes_start = optarg;
            break;
        case O_CHUNTIL:
            o.changes_until = optarg;
            break;
        case O_CHTABLE:
            o.changes_table = optarg;
            break;
        case O_MAXLOAD:
            o.max_load = optarg;
            break;
        case O_CRITLOAD:
            o.critical_load = optarg;
            break;
        case O_HIBERNATE:
            if (parse_double(optarg, &o.critical_load_hibernate) < 0)
                return bad_value("critical-load-hibernate", optarg);
            break;
        case O_TQUERY:
            o.throttle_query = optarg;
            break;
        case O_REPLICAS:
            o.replicas = optarg;
            break;
        case O_KILLAFTER:
            if (parse_double(optarg, &o.kill_blockers_after) < 0)
                return bad_value("kill-blockers-after", optarg);
            break;
        case O_NICE:
            if (parse_double(optarg, &o.nice_ratio) < 0 || o.nice_ratio > 1e6)
                return bad_value("nice-ratio", optarg);
            break;
        case O_MLISTEN:
            o.metrics_listen = optarg;
            break;
        case O_MTEXT:
            o.metrics_textfile = optarg;
            break;
        case O_HOOKS:
            o.hooks_dir = optarg;
            break;
        case O_HOOKTO:
            if (parse_double(optarg, &o.hook_timeout) < 0 || o.hook_timeout < 0.1)
                return bad_value("hook-timeout", optarg);
            break;
        case O_FILL:
            if (o.nfill_from == sizeof(o.fill_from) / sizeof(o.fill_from[0])) {
                fprintf(stderr, "livemig: at most %zu --fill-from\n", o.nfill_from);
                return 2;
            }
            o.fill_from[o.nfill_from++] = optarg;
            break;
        case O_FKS:
            if (strcmp(optarg, "rebuild") != 0 && strcmp(optarg, "refuse") != 0)
                return bad_value("foreign-keys", optarg);
            o.fk_rebuild = strcmp(optarg, "rebuild") == 0;
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        default:
            print_usage(stderr);
            return 2;
        }
    }
    if (o.nfill_from > 0 && o.nchanges_from > 0) {
        fprintf(stderr, "livemig: --fill-from does not work with --changes-from\n");
        return 2;
    }
    /* `--changes-from a b c`: the words after the first file are files too. */
    while (o.nchanges_from > 0 && optind < argc)
        files[o.nchanges_from++] = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "livemig: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    o.changes_from = files;
    if (o.nchanges_from == 0 && (o.changes_start || o.changes_until || o.changes_table)) {
        fprintf(stderr, "livemig: --changes-start, --changes-until and --changes-table go with "
                        "--changes-from\n");
        return 2;
    }
    if (o.nchanges_from > 0 && o.resume) {
        fprintf(stderr, "livemig: --resume does not work with --changes-from: run the same "
                        "command with --force to start over\n");
        return 2;
    }
    if (o.resume && o.force) {
        fprintf(stderr, "livemig: --resume continues an interrupted run and --force starts over: "
                        "choose one\n");
        return 2;
    }
    if (!o.dsn || !o.table || !o.alter) {
        fprintf(stderr, "livemig: migrate needs --dsn, --table and --alter (see livemig --help)\n");
        return 2;
    }
    lm_log_setup(verbose ? LM_LOG_DEBUG : LM_LOG_INFO, json);
    return lm_migrate_main(&o);
}

static int cmd_migrate(int argc, char **argv)
{
    const char **files = calloc((size_t)argc + 1, sizeof(*files));
    int rc;

    if (files == NULL) {
        fprintf(stderr, "livemig: out of memory\n");
        return 1;
    }
    rc = migrate_args(argc, argv, files);
    free(files);
    return rc;
}

static int cmd_ctl(int argc, char **argv)
{
    lm_buf answer = LM_BUF_INIT;
    lm_err err = LM_ERR_INIT;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: livemig ctl SOCKET COMMAND\n");
        return 2;
    }
    rc = lm_ctl_send(argv[1], argv[2], &answer, &err);
    if (rc < 0) {
        fprintf(stderr, "livemig: %s\n", err.msg);
        lm_buf_free(&answer);
        return 2;
    }
    if (answer.data)
        fputs(answer.data, stdout);
    rc = answer.data && strncmp(answer.data, "error", 5) == 0 ? 1 : 0;
    lm_buf_free(&answer);
    return rc;
}

static void print_version(void)
{
    int pq = PQlibVersion();

    printf("livemig %s\n", LIVEMIG_VERSION);
    printf("libmariadb %s\n", mysql_get_client_info());
    if (pq >= 100000)
        printf("libpq %d.%d\n", pq / 10000, pq % 10000);
    else
        printf("libpq %d.%d.%d\n", pq / 10000, pq / 100 % 100, pq % 100);
    printf("libzstd %s\n", ZSTD_versionString());
    printf("zlib %s\n", zlibVersion());
}

static int run_command(int argc, char **argv)
{
    if (strcmp(argv[0], "migrate") == 0)
        return cmd_migrate(argc, argv);
    if (strcmp(argv[0], "verify") == 0)
        return lm_verify_main(argc, argv);
    if (strcmp(argv[0], "dump") == 0)
        return lm_dump_main(argc, argv);
    if (strcmp(argv[0], "record") == 0)
        return lm_record_main(argc, argv);
    if (strcmp(argv[0], "replay") == 0)
        return lm_replay_main(argc, argv);
    fprintf(stderr, "livemig: unknown command '%s' (try livemig --help)\n", argv[0]);
    return 2;
}

int main(int argc, char **argv)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    lm_log_setup(LM_LOG_INFO, false);

    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        print_version();
        return 0;
    }
    if (strcmp(argv[1], "ctl") == 0)
        return cmd_ctl(argc - 1, argv + 1);
    {
        lm_cfg_args cfg;
        char **cargv = NULL;
        int cargc = 0, rc;

        memset(&cfg, 0, sizeof(cfg));
        rc = lm_cfg_args_apply(argc - 1, argv + 1, &cfg, &cargc, &cargv);
        if (rc == 0)
            rc = run_command(cargc, cargv);
        free(cargv);
        lm_cfg_args_free(&cfg);
        return rc;
    }
}
