#!/usr/bin/env bash
# tests/env/s3rver.sh start|stop|env DIR PORT — a light S3-compatible
# endpoint (npm @20minutes/s3rver 4.0.4, installed by tests/env/deps.sh into
# var/npm) for development and tests.
#
# What: one node process on 127.0.0.1:PORT, path-style only
# (--no-vhost-buckets), account S3RVER/S3RVER, bucket `sluice` created at
# start (--configure-bucket), its objects kept as files under DIR/data (they
# survive a restart — that is why the dev server uses s3rver and not RGW).
# Log in DIR/s3rver.log, pid in DIR/s3rver.pid.
#
# Why this one: unlike s3rver 3.x it verifies SigV4 (a wrong secret is a
# 403), so it catches signer bugs; for AWS-only behaviour (EntityTooSmall,
# ListParts, …) the tests use tests/env/rgw.sh. See /work/shared/ENVIRONMENT.md.
#
#   start  start it (or reuse the one of DIR that answers), wait until it answers
#   stop   SIGTERM, wait (SIGKILL after 15 s); the files stay
#   env    print the `export SLUICE_TEST_S3RVER_*=…` lines for the tests
set -euo pipefail
FIXTURE=s3rver
# shellcheck source=tests/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_args "$@"

BUCKET=sluice
PIDFILE="$DIR/s3rver.pid"
LOGFILE="$DIR/s3rver.log"
LAUNCHER="$SLUICE_NPM_PREFIX/s3rver-cli.js"
ENDPOINT="http://127.0.0.1:$PORT"
START_TIMEOUT=${SLUICE_S3RVER_START_TIMEOUT:-30}

# The node to run it with: the one on PATH if >= 20, else the node 20 that
# deps.sh put into var/npm.
pick_node() {
  local candidate
  for candidate in node "$SLUICE_NPM_PREFIX"/node_modules/node-linux-*/bin/node; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if (( $("$candidate" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0) >= 20 )); then
      command -v "$candidate"
      return 0
    fi
  done
  die "no node >= 20 found: run tests/env/deps.sh"
}

# The bucket answers (HEAD /sluice → 200; s3rver accepts anonymous requests).
bucket_ready() {
  [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' -I "$ENDPOINT/$BUCKET") == 200 ]]
}

start() {
  local pid
  if pid=$(pid_of "$PIDFILE" s3rver-cli.js); then
    if wait_until "$START_TIMEOUT" bucket_ready; then
      log "reusing s3rver (pid $pid) at $ENDPOINT"
      return 0
    fi
    show_logs "$LOGFILE"
    die "s3rver (pid $pid) runs but $ENDPOINT/$BUCKET does not answer"
  fi
  [[ -f $LAUNCHER ]] || die "$LAUNCHER missing: run tests/env/deps.sh"
  if port_in_use "$PORT"; then
    die "127.0.0.1:$PORT is already taken by another process (not the s3rver of $DIR)"
  fi
  local node
  node=$(pick_node)
  mkdir -p "$DIR/data"
  rm -f "$PIDFILE"
  spawn "$PIDFILE" "$LOGFILE" "$node" "$LAUNCHER" -d "$DIR/data" -a 127.0.0.1 -p "$PORT" \
    --configure-bucket "$BUCKET" --no-vhost-buckets
  pid=$(<"$PIDFILE")

  local deadline=$(( SECONDS + START_TIMEOUT ))
  until bucket_ready; do
    if ! alive "$pid"; then
      show_logs "$LOGFILE"
      die "s3rver exited during start-up"
    fi
    if (( SECONDS >= deadline )); then
      show_logs "$LOGFILE"
      stop_pid "$pid" 5 s3rver
      die "s3rver did not answer at $ENDPOINT within ${START_TIMEOUT}s"
    fi
    sleep 0.1
  done
  log "s3rver (pid $pid) serving $ENDPOINT, bucket $BUCKET, files in $DIR/data"
}

stop() {
  local pid
  if ! pid=$(pid_of "$PIDFILE" s3rver-cli.js); then
    log "not running ($DIR)"
    return 0
  fi
  stop_pid "$pid" 15 s3rver
  rm -f "$PIDFILE"
  log "stopped s3rver (pid $pid)"
}

print_env() {
  cat <<EOF
export SLUICE_TEST_S3RVER_ENDPOINT=$ENDPOINT
export SLUICE_TEST_S3RVER_ACCESS_KEY=S3RVER
export SLUICE_TEST_S3RVER_SECRET_KEY=S3RVER
export SLUICE_TEST_S3RVER_BUCKET=$BUCKET
EOF
}

case "$ACTION" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
esac
