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

# free_port: a TCP port free on loopback now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# build_release PRODUCT...: `swift build -c release` of each, in SWITCHBOARD_SCRATCH (a build
# folder of its own, such as .build-cluster in a second work tree) or .build; sets bin_dir.
build_release() {
    local scratch=(--scratch-path "${SWITCHBOARD_SCRATCH:-$root/.build}") product
    echo "building (release)…" >&2
    for product in "$@"; do swift build -c release "${scratch[@]}" --product "$product" 2>&1 | tail -n 1 >&2; done
    bin_dir=$(swift build -c release "${scratch[@]}" --show-bin-path)
}

# wait_for DESCRIPTION COMMAND...: retry COMMAND for up to 30 s.
wait_for() {
    local what=$1; shift
    for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for $what" >&2
    return 1
}

# verify_capture TRUTH WORK PREFIX EVENTS EXPORT...: compares the collections PREFIX/NAME of a
# capture of every resource with the Front stand-in's truth (its GET /_sandbox/truth, saved in
# TRUTH), one line per document (its id and the fields that change), sorted and compared whole,
# so that a missing, extra, duplicated or stale document shows. `EXPORT... PREFIX/NAME` must
# print that collection as NDJSON (`switchboard export --db FILE`, or a function that fetches it
# through nginx). EVENTS: 1 when the events binding was bound. Needs jq.
# Sets verified (ok|failed), lost (documents of the truth not captured, or stale) and extra
# (captured documents not in the truth, or more than once); leaves WORK/want.NAME and WORK/got.NAME.
# (scripts/bench-capture, scripts/cluster)
verify_capture() {
    local truth=$1 work=$2 prefix=$3 events=$4; shift 4
    verified=ok lost=0 extra=0
    local ms='(. * 1000 | round)' name
    for name in channels inboxes teammates teams; do
        verify_collection "$name" ".$name[] | if type == \"string\" then . else .id end" '.id' "$@"
    done
    verify_collection tags ".tags[] | \"\(.id) \(.updated_at | $ms)\"" "\"\(.id) \(.updated_at | $ms)\"" "$@"
    verify_collection contacts ".contacts[] | \"\(.id) \(.updated_at | $ms)\"" "\"\(.id) \(.updated_at | $ms)\"" "$@"
    verify_collection conversations ".conversations[] | \"\(.id) \(.updated_at | $ms) \(.status)\"" \
        "\"\(.id) \(.updated_at | $ms) \(.status)\"" "$@"
    if [ "$events" = 1 ]; then
        verify_collection events ".events[] | \"\(.id) \(.emitted_at | $ms)\"" "\"\(.id) \(.emitted_at | $ms)\"" "$@"
    fi
}

# verify_collection NAME TRUTH_JQ DOCUMENT_JQ EXPORT...: one collection of verify_capture (whose
# truth, work and prefix it reads). comm pairs equal lines one to one, so a document captured
# twice leaves its second line over, counted in extra.
verify_collection() {
    local name=$1 want_jq=$2 got_jq=$3; shift 3
    jq -r "$want_jq" "$truth" | LC_ALL=C sort >"$work/want.$name"
    "$@" "$prefix/$name" | jq -r "$got_jq" | LC_ALL=C sort >"$work/got.$name"
    local missing surplus
    missing=$(LC_ALL=C comm -23 "$work/want.$name" "$work/got.$name" | wc -l)
    surplus=$(LC_ALL=C comm -13 "$work/want.$name" "$work/got.$name" | wc -l)
    lost=$((lost + missing)) extra=$((extra + surplus))
    if [ "$missing" -ne 0 ] || [ "$surplus" -ne 0 ]; then
        verified=failed
        echo "$prefix/$name does not match the stand-in's truth: $missing lost, $surplus extra (< truth, > captured):" >&2
        diff "$work/want.$name" "$work/got.$name" | head -n 10 >&2 || true
    fi
}
