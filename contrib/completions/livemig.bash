# bash completion for livemig                                -*- shell-script -*-
# Installed to share/bash-completion/completions/livemig.

_livemig()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="migrate verify dump record replay ctl"
    if [ "$cword" -eq 1 ]; then
        mapfile -t COMPREPLY < <(compgen -W "$commands --help --version" -- "$cur")
        return
    fi

    case $prev in
    --config | --defaults-file | --throttle-flag | --postpone-cutover-flag | --out | --control-socket | \
        --metrics-textfile)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --hooks-dir)
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return
        ;;
    --metrics-listen)
        mapfile -t COMPREPLY < <(compgen -W "127.0.0.1:" -- "$cur")
        compopt -o nospace 2>/dev/null
        return
        ;;
    --log-format | --format)
        mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
        return
        ;;
    --speed)
        mapfile -t COMPREPLY < <(compgen -W "max 1x 2x 10x" -- "$cur")
        return
        ;;
    esac

    local opts=""
    case ${words[1]} in
    migrate)
        opts="--dsn --table --alter --execute --chunk-size --max-lag --throttle-flag
              --max-load --critical-load --critical-load-hibernate --throttle-query --nice-ratio
              --kill-blockers-after --replicas
              --postpone-cutover-flag --cutover-lock-timeout --cutover-retries --control-socket
              --metrics-listen --metrics-textfile --hooks-dir --hook-timeout
              --drop-old --no-verify --force --resume --cleanup --reconnect-timeout
              --changes-from --changes-start --changes-until --changes-table --server-id
              --defaults-file --progress-interval --log-format --verbose --config --help"
        ;;
    verify)
        opts="--dsn --table --against --columns --chunk-size --defaults-file --verbose --config --help"
        ;;
    dump)
        opts="--format --tables --config --help"
        ;;
    record)
        opts="--dsn --out --tables --from --gtid --until --duration --server-id --level
              --frame-size --defaults-file --config --help"
        ;;
    replay)
        opts="--to --tables --rename --speed --from --commit-every --defaults-file --config --help"
        ;;
    ctl)
        if [ "$cword" -eq 2 ]; then
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        elif [ "$cword" -eq 3 ]; then
            mapfile -t COMPREPLY < <(compgen -W "status throttle resume chunk-size= cutover abort" -- "$cur")
        fi
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        # shellcheck disable=SC2086
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _livemig livemig
