#!/usr/bin/env python3
"""Helper of test_binlog_types.sh: read a table from the server in a
canonical text form, and compare livemig dump --format json row images
with it.

  binlog_types_check.py capture TABLE OUT.json
  binlog_types_check.py compare --mode full|min TABLE DUMP.jsonl S1.json S2.json

Server connection: MARIADB_PORT from the environment, user root on 127.0.0.1.
"""
import json
import os
import subprocess
import sys

INTS = {"tinyint": 1, "smallint": 2, "mediumint": 3, "int": 4, "bigint": 8}
TEXTS = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
BINS = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
TEMPORAL = {"date", "time", "datetime", "timestamp"}
GEOMS = {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
         "multipolygon", "geometrycollection"}


def sql(query):
    cmd = ["mariadb", "--no-defaults", "--default-character-set=utf8mb4", "-uroot", "-h127.0.0.1", "-P" + os.environ["MARIADB_PORT"],
           "-N", "-B", "--raw", "test", "-e", query]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def columns(table):
    rows = sql("SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME,'') "
               "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='test' AND TABLE_NAME='%s' "
               "ORDER BY ORDINAL_POSITION" % table)
    return [{"name": r[0], "type": r[1], "ctype": r[2], "cs": r[3]} for r in rows]


def exprs(c):
    n, t = "`%s`" % c["name"], c["type"]
    if t in TEXTS or (t == "longtext" or c["ctype"] == "json"):
        return ["HEX(%s)" % n, "HEX(CONVERT(%s USING utf8mb4))" % n]
    if t in BINS or t in GEOMS:
        return ["HEX(%s)" % n]
    if t == "bit":
        return ["CAST(%s+0 AS CHAR)" % n]
    if t in ("enum", "set"):
        return ["HEX(%s)" % n, "CAST(%s+0 AS CHAR)" % n]
    return ["CAST(%s AS CHAR)" % n]


def capture(table, out):
    cols = columns(table)
    sel = []
    for c in cols:
        for e in exprs(c):
            sel.append("IFNULL(%s, '<NULL>')" % e)
    rows = {}
    for r in sql("SET time_zone='+00:00'; SELECT %s FROM `%s` ORDER BY id" % (", ".join(sel), table)):
        vals, k = {}, 0
        for c in cols:
            n = len(exprs(c))
            v = r[k:k + n]
            k += n
            vals[c["name"]] = None if v[0] == "<NULL>" else v
        rows[vals["id"][0]] = vals
    with open(out, "w") as f:
        json.dump({"cols": cols, "rows": rows}, f)


def decoded_bytes(v):
    if isinstance(v, dict) and "hex" in v:
        return bytes.fromhex(v["hex"]), "hex"
    if isinstance(v, str):
        return v.encode("utf-8"), "str"
    return None, type(v).__name__


def check_value(c, got, want, mode):
    """None when equal, else a reason."""
    t = c["type"]
    full = mode == "full"
    if want is None:
        return None if got is None else "expected NULL"
    if got is None:
        return "unexpected NULL"
    if t in INTS:
        w = int(want[0])
        if not isinstance(got, int):
            return "not a number"
        if got == w:
            return None
        # Without signedness metadata unsigned values read as signed.
        if not full and "unsigned" in c["ctype"] and got == w - (1 << (8 * INTS[t])):
            return None
        return "value differs"
    if t == "decimal" or t in TEMPORAL:
        return None if got == want[0] else "text differs"
    if t in ("float", "double"):
        if not isinstance(got, str):
            return "not a string"
        g, w = float(got), float(want[0])
        if t == "double":
            return None if g == w else "value differs"
        return None if abs(g - w) <= 1e-5 * max(1.0, abs(w)) else "value differs"
    if t == "year":
        return None if got == int(want[0]) else "value differs"
    if t == "bit":
        return None if got == int(want[0]) else "value differs"
    if t in ("enum", "set"):
        if isinstance(got, str):
            return None if got.encode() == bytes.fromhex(want[0]) else "name differs"
        if full:
            return "names expected with full metadata"
        return None if got == int(want[1]) else "index differs"
    raw = bytes.fromhex(want[0])
    b, how = decoded_bytes(got)
    if b is None:
        return "not text or hex"
    if t in BINS or t in GEOMS:
        if full and how != "hex":
            return "binary data must be hex"
        if b == raw or (not full and t == "binary" and b == raw.rstrip(b"\0")):
            return None
        return "bytes differ"
    utf8 = bytes.fromhex(want[1])
    if full and how != "str":
        return "text must be a string"
    if (how == "str" and b == utf8) or b == raw:
        return None
    return "text differs"


def compare(mode, table, dump, s1f, s2f):
    s1, s2 = json.load(open(s1f)), json.load(open(s2f))
    cols = s1["cols"]
    events = [json.loads(l) for l in open(dump) if l.strip()]
    events = [e for e in events if e["table"] == table]
    errors, checked = [], 0

    def image(img, where):
        out = {}
        for i, c in enumerate(cols):
            key = c["name"] if mode == "full" else "@%d" % (i + 1)
            if key not in img:
                errors.append("%s: column %s missing (keys %s)" % (where, key, sorted(img)[:5]))
                continue
            out[c["name"]] = img[key]
        return out

    def cmp(img, want, where):
        nonlocal checked
        got = image(img, where)
        for c in cols:
            if c["name"] not in got:
                continue
            checked += 1
            why = check_value(c, got[c["name"]], want[c["name"]], mode)
            if why:
                errors.append("%s column %s (%s): %s: decoded %r, server %r" %
                              (where, c["name"], c["ctype"], why, got[c["name"]], want[c["name"]]))

    ops = [(e["op"], (e["after"] or e["before"])) for e in events]
    inserts = [e for e in events if e["op"] == "insert"]
    updates = [e for e in events if e["op"] == "update"]
    deletes = [e for e in events if e["op"] == "delete"]
    if (len(inserts), len(updates), len(deletes)) != (4, 2, 1):
        errors.append("expected 4 inserts, 2 updates, 1 delete; got %s" % [o for o, _ in ops])
    idkey = "id" if mode == "full" else "@1"
    for e in inserts:
        rid = str(e["after"][idkey])
        cmp(e["after"], s1["rows"][rid], "insert id=%s after" % rid)
    for e in updates:
        rid = str(e["after"][idkey])
        cmp(e["before"], s1["rows"][rid], "update id=%s before" % rid)
        cmp(e["after"], s2["rows"][rid], "update id=%s after" % rid)
    for e in deletes:
        rid = str(e["before"][idkey])
        cmp(e["before"], s1["rows"][rid], "delete id=%s before" % rid)
    for e in events:
        for k in ("file", "pos", "gtid", "ts", "db", "table", "op", "before", "after"):
            if k not in e:
                errors.append("dump line lacks %r: %s" % (k, e))
    if errors:
        print("binlog type check (%s metadata): %d mismatches" % (mode, len(errors)))
        for line in errors:
            print("  " + line)
        return 1
    print("binlog type check (%s metadata): %d values match" % (mode, checked))
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "capture":
        capture(argv[2], argv[3])
        return 0
    if len(argv) == 8 and argv[1] == "compare" and argv[2] == "--mode":
        return compare(argv[3], argv[4], argv[5], argv[6], argv[7])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
