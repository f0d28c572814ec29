# shellcheck shell=bash
# Shared helpers for the test rig and the scripts/ entry points. Source it.
#
#   rig_need_pkgs PKG...    install the Debian packages that are missing
#   rig_free_port           print a free TCP port on 127.0.0.1
#   rig_log / rig_die MSG   messages on stderr

rig_log() {
    printf '%s\n' "$*" >&2
}

rig_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Install the packages that dpkg does not know as installed. apt-get update
# runs only when a first install attempt fails (the lists may be stale or
# empty on a fresh machine). Services that packages would start (mariadb,
# postgresql) are kept from starting: the tests run their own servers.
rig_need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    rig_log "installing missing packages: ${missing[*]}"
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || rig_die "need root (or sudo) to install: ${missing[*]}"
        sudo=sudo
    fi
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        # exit 101 = "action forbidden": postinst scripts do not start services
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" &&
            made_policy=1
    fi
    local rc=0
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
        $sudo apt-get update -q </dev/null &&
            $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null || rc=$?
    fi
    [ "$made_policy" = 1 ] && $sudo rm -f "$policy"
    [ "$rc" -eq 0 ] || rig_die "apt-get install failed for: ${missing[*]}"
}

# 0 if something listens on 127.0.0.1:$1
rig_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

rig_free_port() {
    local i p
    for i in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if ! rig_port_busy "$p"; then
            if command -v ss >/dev/null && ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
                continue
            fi
            echo "$p"
            return 0
        fi
    done
    rig_die "no free port found on 127.0.0.1"
}

# 0 if the process whose id is in file $1 is alive
rig_pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
