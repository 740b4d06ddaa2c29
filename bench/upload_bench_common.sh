# bench/upload_bench_common.sh — sourced by the upload benchmarks
# (upload_e2e.sh, upload_memory.sh): finds the sluice binary, checks that the
# test MariaDB and RGW are in the environment (tests/env/*.sh env), sets the
# database login and bucket from them, and writes the sluice conf those
# benchmarks share, so each script keeps only what it measures.
# Before sourcing: ROOT (the repository), BENCH_PORT, DB_NAME, PREFIX.

if [[ -z ${SLUICE:-} ]]; then
  for candidate in build-rel build; do
    [[ -x $ROOT/$candidate/src/sluice ]] && SLUICE=$ROOT/$candidate/src/sluice && break
  done
fi
[[ -x ${SLUICE:-} ]] || { echo "no sluice binary: set SLUICE=" >&2; exit 2; }
: "${SLUICE_TEST_MARIADB_PORT:?run eval \"\$(tests/env/mariadb.sh env DIR PORT)\" first}"
: "${SLUICE_TEST_RGW_ENDPOINT:?run eval \"\$(tests/env/rgw.sh env DIR PORT)\" first}"
DB_HOST=${SLUICE_TEST_MARIADB_HOST:-127.0.0.1}
DB_USER=${SLUICE_TEST_MARIADB_USER:-sluice}
DB_PASSWORD=${SLUICE_TEST_MARIADB_PASSWORD:-sluice}
BUCKET=${SLUICE_TEST_RGW_BUCKET:-sluice-test}

# write_upload_bench_conf FILE [SERVER_LINES]: sluice on 127.0.0.1:BENCH_PORT
# against the test MariaDB (DB_NAME) and RGW (BUCKET, PREFIX); SERVER_LINES
# go into [server].
write_upload_bench_conf() {
  cat >"$1" <<CONF
[server]
listen = 127.0.0.1:$BENCH_PORT
${2:-}
[log]
level = warn
[mariadb]
host = $DB_HOST
port = $SLUICE_TEST_MARIADB_PORT
user = $DB_USER
password = $DB_PASSWORD
database = $DB_NAME
[s3]
endpoint = $SLUICE_TEST_RGW_ENDPOINT
bucket = $BUCKET
path_style = true
access_key = $SLUICE_TEST_RGW_ACCESS_KEY
secret_key = $SLUICE_TEST_RGW_SECRET_KEY
prefix = $PREFIX
CONF
}
