# shellcheck shell=bash disable=SC2034  # globals here are used by the fixtures
# tests/env/common.sh — helpers shared by the service fixtures in tests/env/
# (mariadb.sh, s3rver.sh, rgw.sh). Sourced, never run.
#
# Why: every fixture needs the same few things — find the repository, resolve
# DIR to an absolute path (the env lines must work from any cwd), start a
# daemon detached from the caller's terminal while knowing its exact pid, tell
# "our daemon is running" from "a stale pid file", wait with a timeout, and
# fail with the tail of the daemon's log rather than a bare "timed out".

SLUICE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLUICE_NPM_PREFIX="$SLUICE_ROOT/var/npm"

log() { printf '[%s] %s\n' "${FIXTURE:-env}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# parse_args "$@": the common command line `start|stop|env DIR PORT`.
parse_args() {
  if [[ $# -ne 3 || ! $1 =~ ^(start|stop|env)$ || ! $3 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 start|stop|env DIR PORT" >&2
    exit 2
  fi
  ACTION=$1
  DIR=$(realpath -m -- "$2")
  PORT=$3
  (( PORT > 0 && PORT < 65536 )) || die "bad port $PORT"
  case "$DIR" in
    / | "$HOME" | "$SLUICE_ROOT" | "$SLUICE_ROOT/var") die "refusing to use $DIR as a service folder" ;;
  esac
}

# alive PID: the process exists and is not a zombie (an orphan whose parent
# does not reap it still answers kill -0).
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  state=${state%% *}
  [[ -n $state && $state != Z && $state != X ]]
}

# pid_of PIDFILE PATTERN: prints the pid when the file names a live process whose
# command line contains PATTERN (guards against a recycled pid).
pid_of() {
  local file=$1 pattern=$2 pid
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern" || return 1
  echo "$pid"
}

# port_in_use PORT: something accepts TCP connections on 127.0.0.1:PORT.
# (bash's /dev/tcp, so no iproute2/netcat is needed.)
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# spawn PIDFILE LOGFILE CMD...: runs CMD in its own session (Ctrl-C in the
# caller's terminal does not reach it; `stop` does), stdin from /dev/null,
# output to LOGFILE, and writes its exact pid to PIDFILE (the shell writes $$
# and then execs CMD, so the pid is the daemon's own).
spawn() {
  local pidfile=$1 logfile=$2
  shift 2
  # shellcheck disable=SC2016  # $$, $0 and $@ are the inner shell's
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  local _
  for _ in $(seq 50); do [[ -s $pidfile ]] && return 0; sleep 0.02; done
  die "could not start $1"
}

# wait_until TIMEOUT_SECONDS CMD...: polls CMD every 0.1 s; 1 on timeout.
wait_until() {
  local timeout=$1
  shift
  local deadline=$(( $(date +%s%N) / 1000000 + timeout * 1000 ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s%N) / 1000000 < deadline )) || return 1
    sleep 0.1
  done
}

not_alive() { ! alive "$1"; }

# stop_pid PID TIMEOUT [NAME]: SIGTERM, wait up to TIMEOUT s, then SIGKILL.
stop_pid() {
  local pid=$1 timeout=$2 name=${3:-process}
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_until "$timeout" not_alive "$pid"; then
    log "$name (pid $pid) did not stop in ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 5 not_alive "$pid" || true
  fi
}

# show_logs FILE...: the tail of each log, for a failure message.
show_logs() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 25 "$f" >&2
  done
}

# shell_quote VALUE: a value safe to paste into `export NAME=VALUE`.
shell_quote() { printf '%q' "$1"; }
