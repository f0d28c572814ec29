#!/usr/bin/env bash
# docker/: no Docker engine here, so check the files' structure: the compose
# rig has the servers livemig needs with the settings it needs and health
# checks, and the Dockerfile builds livemig on Debian 12 with cmake.
. "$(dirname "$0")/lib.sh"

D=$SRC_DIR/docker
for f in docker-compose.yml Dockerfile README.md; do
    [ -s "$D/$f" ] || fail "docker/$f is missing"
done
python3 -c 'import yaml' 2>/dev/null || fail "python3 yaml module missing (apt-get install python3-yaml)"

python3 - "$D" <<'PY' || fail "docker/docker-compose.yml is not what livemig needs"
import os, sys, yaml

d = sys.argv[1]
with open(os.path.join(d, "docker-compose.yml")) as f:
    doc = yaml.safe_load(f)
errors = []
def need(cond, msg):
    if not cond:
        errors.append(msg)

services = doc.get("services") or {}
def args(svc):
    c = svc.get("command") or []
    return " ".join(c) if isinstance(c, list) else str(c)

want = {"mariadb": "mariadb:11.4", "mariadb-replica": "mariadb:11.4",
        "mysql": "mysql:8.4", "mysql-replica": "mysql:8.4", "postgres": "postgres:16"}
for name, image in want.items():
    svc = services.get(name)
    if svc is None:
        errors.append(f"service {name} is missing")
        continue
    need(svc.get("image") == image, f"{name}: image is {svc.get('image')}, want {image}")
    hc = svc.get("healthcheck") or {}
    need(hc.get("test"), f"{name}: no health check")
    need(svc.get("ports"), f"{name}: no published port")

ids = []
for name in ("mariadb", "mariadb-replica", "mysql", "mysql-replica"):
    a = args(services.get(name, {}))
    for opt in ("--log-bin", "--binlog-format=ROW", "--binlog-row-image=FULL", "--server-id="):
        need(opt in a, f"{name}: command lacks {opt}")
    ids += [w.split("=", 1)[1] for w in a.split() if w.startswith("--server-id=")]
need(len(ids) == len(set(ids)), f"server ids are not unique: {ids}")
need("--gtid-strict-mode=ON" in args(services.get("mariadb", {})), "mariadb: no GTID strict mode")
for name in ("mysql", "mysql-replica"):
    need("--gtid-mode=ON" in args(services.get(name, {})), f"{name}: GTID mode off")
rep = services.get("mariadb-replica", {})
need((rep.get("environment") or {}).get("MARIADB_MASTER_HOST") == "mariadb",
     "mariadb-replica does not replicate from mariadb")
need("mariadb" in (rep.get("depends_on") or {}), "mariadb-replica does not wait for mariadb")
mrep = services.get("mysql-replica", {})
need(any("docker-entrypoint-initdb.d" in v for v in mrep.get("volumes") or []),
     "mysql-replica has no replication init script")
need(os.path.exists(os.path.join(d, "mysql-replica-init.sql")), "mysql-replica-init.sql missing")
need("wal_level=logical" in args(services.get("postgres", {})), "postgres: wal_level is not logical")

t = services.get("livemig-tests")
need(t is not None, "service livemig-tests is missing")
if t:
    need((t.get("build") or {}).get("dockerfile") == "docker/Dockerfile",
         "livemig-tests does not build docker/Dockerfile")
    env = t.get("environment") or {}
    need(any(k.startswith("LIVEMIG_TEST_") for k in env), "livemig-tests sets no LIVEMIG_TEST_*")

with open(os.path.join(d, "README.md")) as f:
    readme = f.read()
if t:
    for k in (t.get("environment") or {}):
        need(k in readme, f"README.md does not document {k}")

for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
pass "docker-compose.yml: MariaDB 11.4 and MySQL 8.4 primaries and replicas (GTID), PostgreSQL 16 logical, health checks"

df=$D/Dockerfile
first=$(grep -Ev '^\s*(#|$)' "$df" | head -n 1)
[ "$first" = "FROM debian:12" ] || fail "Dockerfile starts with '$first', not FROM debian:12"
for pkg in build-essential cmake pkg-config libmariadb-dev libpq-dev libzstd-dev zlib1g-dev; do
    grep -Eq "(^|[[:space:]])$pkg([[:space:]]|\$)" "$df" ||
        fail "Dockerfile does not install $pkg"
done
grep -q 'apt-get install' "$df" || fail "Dockerfile does not apt-get install"
grep -Eq 'cmake -S [^ ]+ -B ' "$df" || fail "Dockerfile does not configure with cmake -S -B"
grep -q 'cmake --build' "$df" || fail "Dockerfile does not build with cmake --build"
grep -q '^COPY ' "$df" || fail "Dockerfile does not COPY the sources"
# Every package the Dockerfile installs must exist in Debian (when apt knows it).
if command -v apt-cache >/dev/null; then
    pkgs=$(sed -n '/apt-get install/,/&&\s*rm/p' "$df" | tr ' \\' '\n\n' |
        grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -Ev '^(apt-get|install|rm|y|no)$' || true)
    for p in $pkgs; do
        apt-cache show "$p" >/dev/null 2>&1 || log "note: apt-cache does not know $p here"
    done
fi
pass "Dockerfile: FROM debian:12, installs the build dependencies, builds with cmake"
