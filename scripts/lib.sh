# Shared by scripts/run and scripts/stop: processes are tracked by pid files under var/run.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
var=${SWITCHBOARD_VAR:-$root/var}
run_dir=$var/run
log_dir=$var/log

# alive PIDFILE: the process of that pid file is still running.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid NAME: SIGTERM the process of var/run/NAME.pid, wait for it, remove the file.
stop_pid() {
    local file=$run_dir/$1.pid
    [ -f "$file" ] || return 0
    local pid; pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then echo "$1 ($pid) did not stop in 15 s; sending SIGKILL" >&2; kill -KILL "$pid"; fi
        echo "stopped $1 ($pid)"
    fi
    rm -f "$file"
}

# wait_for DESCRIPTION COMMAND...: retry COMMAND for up to 30 s.
wait_for() {
    local what=$1; shift
    for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for $what" >&2
    return 1
}
