#!/usr/bin/env bash
# tests/env/mariadb.sh start|stop|env DIR PORT — a private MariaDB server for
# development and tests.
#
# What: one mariadbd with everything under DIR (data/, mysqld.sock,
# mysqld.pid, error.log), listening on 127.0.0.1:PORT and on DIR/mysqld.sock,
# with database `sluice` and `sluice_test` and the user sluice/sluice (for
# both '127.0.0.1' and 'localhost', because --skip-name-resolve makes TCP
# logins from 127.0.0.1 match only the '127.0.0.1' account) holding all
# privileges on them (and on `sluice_test_*`, so a test may make a database of
# its own). LOAD DATA LOCAL INFILE works: the server runs with --local-infile=1
# and needs no further privilege for LOCAL than INSERT on the table.
#
# Why this way (see /work/shared/ENVIRONMENT.md): --no-defaults so that
# /etc/mysql/my.cnf is never read (the system server's paths and port stay
# out of it), --user=root only when run as root (mariadbd refuses root
# otherwise), flush_log_at_trx_commit=2 for ingest speed, and utf8mb4 as the
# server character set, as Debian's own 50-server.cnf sets it (the built-in
# default is latin1). The data folder is initialised only when it is empty,
# so a second `start` reuses the data, and a running server (pid file + ping)
# is reused as it is.
#
#   start  start (or reuse) the server, create the databases and the user
#   stop   shut it down cleanly (mariadb-admin shutdown; SIGKILL after 60 s)
#   env    print the `export SLUICE_TEST_MARIADB_*=…` lines for the tests
set -euo pipefail
FIXTURE=mariadb
# shellcheck source=tests/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_args "$@"

SOCK="$DIR/mysqld.sock"
PIDFILE="$DIR/mysqld.pid"
ERRLOG="$DIR/error.log"
DB_USER=sluice
DB_PASSWORD=sluice
START_TIMEOUT=${SLUICE_MARIADB_START_TIMEOUT:-60}

# A unix socket path has at most 107 bytes; say so instead of failing oddly.
(( ${#SOCK} <= 107 )) || die "socket path too long for a unix socket (${#SOCK} > 107 bytes): $SOCK"

admin() { mariadb-admin --no-defaults --socket="$SOCK" --user=root --connect-timeout=2 "$@"; }
ping_server() { admin ping >/dev/null 2>&1; }
root_sql() { mariadb --no-defaults --socket="$SOCK" --user=root --batch; }

setup_accounts() {
  root_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`sluice\` CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS \`sluice_test\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`sluice\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`sluice_test\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`sluice\\_test\\_%\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
SQL
}

start() {
  local pid
  if pid=$(pid_of "$PIDFILE" mariadbd); then
    if wait_until "$START_TIMEOUT" ping_server; then
      setup_accounts
      log "reusing mariadbd (pid $pid) on 127.0.0.1:$PORT, socket $SOCK"
      return 0
    fi
    show_logs "$ERRLOG"
    die "mariadbd (pid $pid) is running but does not answer on $SOCK"
  fi
  if port_in_use "$PORT"; then
    die "127.0.0.1:$PORT is already taken by another process (not the mariadbd of $DIR)"
  fi

  mkdir -p "$DIR/data" "$DIR/tmp"
  rm -f "$SOCK" "$SOCK.lock" "$PIDFILE"
  local user_args=()
  [[ $EUID -eq 0 ]] && user_args=(--user=root)

  if [[ -z $(ls -A "$DIR/data") ]]; then
    log "initialising $DIR/data"
    if ! mariadb-install-db --no-defaults "${user_args[@]}" --datadir="$DIR/data" \
           --auth-root-authentication-method=normal --skip-test-db \
           >"$DIR/install.log" 2>&1; then
      show_logs "$DIR/install.log"
      die "mariadb-install-db failed"
    fi
  fi

  spawn "$PIDFILE" "$DIR/mariadbd.out" \
    mariadbd --no-defaults "${user_args[@]}" --datadir="$DIR/data" \
      --bind-address=127.0.0.1 --port="$PORT" --socket="$SOCK" \
      --pid-file="$PIDFILE" --log-error="$ERRLOG" --tmpdir="$DIR/tmp" \
      --skip-name-resolve --local-infile=1 --innodb-flush-log-at-trx-commit=2 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
  pid=$(<"$PIDFILE")

  local deadline=$(( SECONDS + START_TIMEOUT ))
  until ping_server; do
    if ! alive "$pid"; then
      show_logs "$ERRLOG" "$DIR/mariadbd.out"
      die "mariadbd exited during start-up"
    fi
    if (( SECONDS >= deadline )); then
      show_logs "$ERRLOG" "$DIR/mariadbd.out"
      stop_pid "$pid" 10 mariadbd
      die "mariadbd did not answer within ${START_TIMEOUT}s"
    fi
    sleep 0.1
  done
  setup_accounts
  log "mariadbd (pid $pid) serving on 127.0.0.1:$PORT and $SOCK"
}

stop() {
  local pid
  if ! pid=$(pid_of "$PIDFILE" mariadbd); then
    log "not running ($DIR)"
    return 0
  fi
  admin shutdown >/dev/null 2>&1 || true
  if ! wait_until 60 not_alive "$pid"; then
    log "mariadbd (pid $pid) did not shut down cleanly in 60s"
    stop_pid "$pid" 10 mariadbd
  fi
  log "stopped mariadbd (pid $pid)"
}

print_env() {
  cat <<EOF
export SLUICE_TEST_MARIADB_HOST=127.0.0.1
export SLUICE_TEST_MARIADB_PORT=$PORT
export SLUICE_TEST_MARIADB_SOCKET=$(shell_quote "$SOCK")
export SLUICE_TEST_MARIADB_USER=$DB_USER
export SLUICE_TEST_MARIADB_PASSWORD=$DB_PASSWORD
export SLUICE_TEST_MARIADB_DATABASE=sluice_test
export SLUICE_TEST_MARIADB_ROOT_SOCKET=$(shell_quote "$SOCK")
EOF
}

case "$ACTION" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
esac
