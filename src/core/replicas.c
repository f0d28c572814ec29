/* Replicas for --max-lag: found with SHOW SLAVE HOSTS or given with
 * --replicas, watched through the heartbeat table _<t>_hb that livemig
 * writes on the primary twice a second. */
#include "livemig/clock.h"
#include "livemig/log.h"
#include "core/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEAT_S  0.5
#define CHECK_S 1.0

struct lm_replica {
    char label[96]; /* host:port, for messages */
    lm_dsn dsn;
    MYSQL *c;
};

/* The primary's credentials, another host and port. */
static int dsn_for(const lm_dsn *primary, const char *host, unsigned port, lm_dsn *out, lm_err *err)
{
    memset(out, 0, sizeof(*out));
    out->kind = LM_DSN_MYSQL;
    out->port = port;
    if ((out->host = strdup(host)) == NULL ||
        (primary->user && !(out->user = strdup(primary->user))) ||
        (primary->password && !(out->password = strdup(primary->password))) ||
        (primary->db && !(out->db = strdup(primary->db))) ||
        (primary->defaults_file && !(out->defaults_file = strdup(primary->defaults_file))))
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    return 0;
}

static int add_replica(lm_run *r, lm_dsn *dsn, lm_err *err)
{
    lm_replica *rep = &r->replicas[r->nreplicas];
    int rc;

    memset(rep, 0, sizeof(*rep));
    rep->dsn = *dsn;
    memset(dsn, 0, sizeof(*dsn));
    r->nreplicas++;
    snprintf(rep->label, sizeof(rep->label), "%s:%u", rep->dsn.host ? rep->dsn.host : "localhost",
             rep->dsn.port ? rep->dsn.port : 3306);
    if ((rc = lm_mysql_connect(&rep->c, &rep->dsn, err)) < 0) {
        lm_err_prefix(err,
                      "cannot connect to replica %s (for --max-lag); list the replicas to "
                      "watch with --replicas, or none with --replicas ''",
                      rep->label);
        err->code = rc = LM_EINVAL;
        return rc;
    }
    lm_info("watching the lag of replica %s", rep->label);
    return 0;
}

/* --replicas "host:port,mysql://user@host:port/db,…" */
static int given_replicas(lm_run *r, lm_err *err)
{
    char *list = strdup(r->o->replicas), *save = NULL, *item;
    lm_dsn dsn;
    int rc = 0;

    if (list == NULL)
        return lm_err_set(err, LM_ENOMEM, "out of memory");
    for (item = strtok_r(list, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(item, ':');
        memset(&dsn, 0, sizeof(dsn));
        if (strstr(item, "://"))
            rc = lm_dsn_parse(&dsn, item, err);
        else if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
            *colon = '\0';
            rc = dsn_for(&r->dsn, item, (unsigned)strtoul(colon + 1, NULL, 10), &dsn, err);
        } else
            rc =
                lm_err_set(err, LM_EINVAL, "--replicas: '%s' is neither HOST:PORT nor a DSN", item);
        if (rc == 0)
            rc = add_replica(r, &dsn, err);
        lm_dsn_free(&dsn);
    }
    free(list);
    return rc;
}

static int discovered_replicas(lm_run *r, lm_err *err)
{
    char **hosts = NULL;
    unsigned *ports = NULL;
    size_t n = 0;
    lm_dsn dsn;
    int rc;

    if ((rc = lm_mysql_replica_hosts(r->c, &hosts, &ports, &n, err)) < 0) {
        /* MariaDB wants REPLICATION MASTER ADMIN for SHOW SLAVE HOSTS: not a
         * reason to refuse the migration (preflight checks what it needs). */
        if (err->server_errno == 1227 || err->server_errno == 1045) {
            lm_warn("cannot list the replicas (%s): their lag is not watched; name them with "
                    "--replicas",
                    err->msg);
            lm_err_clear(err);
            rc = 0;
        }
        goto cleanup;
    }
    if ((r->replicas = calloc(n ? n : 1, sizeof(*r->replicas))) == NULL) {
        rc = lm_err_set(err, LM_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if ((rc = dsn_for(&r->dsn, hosts[i], ports[i], &dsn, err)) == 0)
            rc = add_replica(r, &dsn, err);
        lm_dsn_free(&dsn);
    }
cleanup:
    for (size_t i = 0; i < n; i++)
        free(hosts[i]);
    free(hosts);
    free(ports);
    return rc;
}

int lm_run_replicas_start(lm_run *r, lm_err *err)
{
    const char *given = r->o->replicas;
    int rc;

    snprintf(r->hb_name, sizeof(r->hb_name), "_%s_hb", r->o->table);
    if (r->o->max_lag <= 0 || (given && given[0] == '\0'))
        return 0;
    if (given) {
        size_t n = 1;
        for (const char *p = given; *p; p++)
            n += *p == ',';
        if ((r->replicas = calloc(n, sizeof(*r->replicas))) == NULL)
            return lm_err_set(err, LM_ENOMEM, "out of memory");
        rc = given_replicas(r, err);
    } else {
        rc = discovered_replicas(r, err);
    }
    if (rc < 0 || r->nreplicas == 0)
        return rc;
    if ((rc = lm_mysql_heartbeat_create(r->c, r->dsn.db, r->hb_name, err)) < 0)
        return rc;
    r->hb_created = true;
    r->last_beat = lm_now();
    return 0;
}

void lm_run_replicas_stop(lm_run *r)
{
    lm_err err = LM_ERR_INIT;

    if (r->hb_created && r->c && lm_mysql_heartbeat_drop(r->c, r->dsn.db, r->hb_name, &err) < 0)
        lm_warn("could not drop the heartbeat table %s: %s", r->hb_name, err.msg);
    r->hb_created = false;
    for (size_t i = 0; i < r->nreplicas; i++) {
        if (r->replicas[i].c)
            mysql_close(r->replicas[i].c);
        lm_dsn_free(&r->replicas[i].dsn);
    }
    free(r->replicas);
    r->replicas = NULL;
    r->nreplicas = 0;
}

/* One replica's lag; a lost connection is reopened once. -1 = unknown,
 * with the reason in why. */
static double replica_lag(lm_run *r, lm_replica *rep, char *why, size_t cap)
{
    lm_err err = LM_ERR_INIT;
    double lag;

    for (int tries = 0; tries < 2; tries++) {
        if (rep->c == NULL && lm_mysql_connect(&rep->c, &rep->dsn, &err) < 0)
            break;
        if (lm_mysql_heartbeat_lag(rep->c, r->dsn.db, r->hb_name, &lag, &err) == 0) {
            if (lag < 0)
                snprintf(why, cap, "max-lag: replica %.80s has no heartbeat yet", rep->label);
            return lag;
        }
        mysql_close(rep->c);
        rep->c = NULL;
    }
    snprintf(why, cap, "max-lag: replica %.60s unreachable (%.60s)", rep->label, err.msg);
    return -1;
}

int lm_run_replicas_check(lm_run *r, double max_lag, char *why, size_t cap, lm_err *err)
{
    double now = lm_now(), worst = 0, lag;
    int rc;

    if (!r->hb_created)
        return 0;
    if (now - r->last_beat >= BEAT_S) {
        r->last_beat = now;
        if ((rc = lm_mysql_heartbeat_beat(r->c, r->dsn.db, r->hb_name, err)) < 0)
            return rc;
    }
    if (now - r->last_lag_check < CHECK_S) {
        snprintf(why, cap, "%s", r->lag_why);
        return 0;
    }
    r->last_lag_check = now;
    r->lag_why[0] = '\0';
    for (size_t i = 0; i < r->nreplicas && max_lag > 0; i++) {
        char reason[sizeof(r->lag_why)] = "";
        if ((lag = replica_lag(r, &r->replicas[i], reason, sizeof(reason))) < 0) {
            snprintf(r->lag_why, sizeof(r->lag_why), "%s", reason);
            break;
        }
        if (lag > max_lag && lag > worst) {
            worst = lag;
            snprintf(r->lag_why, sizeof(r->lag_why), "max-lag: replica %.80s %.1fs>%gs",
                     r->replicas[i].label, lag, max_lag);
        }
    }
    snprintf(why, cap, "%s", r->lag_why);
    return 0;
}
