#!/usr/bin/env bash
# bench/s3_upload.sh — multipart upload throughput of sluice's S3 client
# against `aws s3 cp` (Debian awscli) of the same bytes to the same Ceph RGW,
# in the same run, alternating, RUNS times each; prints the medians, the
# ratio, and sluice's peak RSS against its bound part_size × (in-flight + 2).
#
# Why this shape: RGW on memstore is the production S3 implementation on
# loopback, and timing on a shared 2-core machine is noisy (±30%), so the two
# clients take turns on one server and the medians are compared, never
# figures from different runs. sluice's side is bench_s3_upload (built with
# the tests: cmake --build $BUILD --target bench_s3_upload), which reads the
# file with uv_fs_read and streams it through MultipartUpload on one loop,
# with backpressure, SHA-256 of every part on the worker pool, signing, curl.
#
# Environment:
#   BUILD       build dir with bench/bench_s3_upload   (default build-s3)
#   SIZE_MIB    object size                             (default 200)
#   RUNS        runs per client                         (default 3)
#   PART        part size in bytes                      (default 8388608, the conf default)
#   IN_FLIGHT   space-separated max_parts_in_flight values (default "4 10";
#               4 is the conf default, 10 is awscli's max_concurrent_requests)
#   SLUICE_TEST_RGW_* an RGW to use (eval "$(tests/env/rgw.sh env DIR PORT)"),
#               with RGW_DIR=DIR so deleted objects can be garbage-collected;
#               without them a throw-away RGW is started on BENCH_PORT (45820)
#               and stopped at the end.
# RGW frees a deleted object's data only at garbage collection (hours later
# by default) and memstore holds 4 GiB: the script runs `radosgw-admin gc
# process --include-all` after every delete.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-s3}
SIZE_MIB=${SIZE_MIB:-200}
RUNS=${RUNS:-3}
PART=${PART:-8388608}
IN_FLIGHT=${IN_FLIGHT:-"4 10"}
BENCH=$BUILD/bench/bench_s3_upload
[[ -x $BENCH ]] || { echo "build it first: cmake --build $BUILD --target bench_s3_upload" >&2; exit 1; }

WORK=$(mktemp -d /tmp/sluice-s3-bench.XXXXXX)
OWN_RGW=""
cleanup() {
  [[ -n $OWN_RGW ]] && "$ROOT/tests/env/rgw.sh" stop "$OWN_RGW" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z ${SLUICE_TEST_RGW_ENDPOINT:-} ]]; then
  OWN_RGW=$WORK/rgw
  RGW_DIR=$OWN_RGW
  "$ROOT/tests/env/rgw.sh" start "$OWN_RGW" "${BENCH_PORT:-45820}" >&2
  eval "$("$ROOT/tests/env/rgw.sh" env "$OWN_RGW" "${BENCH_PORT:-45820}")"
fi
ENDPOINT=$SLUICE_TEST_RGW_ENDPOINT
BUCKET=$SLUICE_TEST_RGW_BUCKET
export AWS_ACCESS_KEY_ID=$SLUICE_TEST_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SLUICE_TEST_RGW_SECRET_KEY
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws_rgw() { /usr/bin/aws --endpoint-url "$ENDPOINT" "$@"; }
RGW_DIR=${RGW_DIR:-}
remove() {  # remove an object and make RGW really free its data
  aws_rgw s3 rm "s3://$BUCKET/$1" --only-show-errors
  [[ -z $RGW_DIR ]] || radosgw-admin -c "$RGW_DIR/ceph.conf" gc process --include-all >/dev/null 2>&1 || true
}

DATA=$WORK/data.bin
head -c $(( SIZE_MIB << 20 )) /dev/urandom > "$DATA"
PREFIX="bench-s3/$$"
echo "# ${SIZE_MIB} MiB to $ENDPOINT/$BUCKET, part ${PART} B, $RUNS runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A SLUICE_MIBS SLUICE_RSS SLUICE_BASE
AWS_MIBS=()
AWS_RSS=()
for run in $(seq 1 "$RUNS"); do
  for n in $IN_FLIGHT; do
    out=$("$BENCH" --endpoint "$ENDPOINT" --bucket "$BUCKET" --access-key "$AWS_ACCESS_KEY_ID" \
            --secret-key "$AWS_SECRET_ACCESS_KEY" --file "$DATA" --key "$PREFIX/sluice-$n-$run" \
            --part-size "$PART" --in-flight "$n")
    get() { sed -n "s/^$1=//p" <<<"$out"; }
    SLUICE_MIBS[$n]+="$(get mib_per_s) "
    SLUICE_RSS[$n]+="$(get peak_rss_kib) "
    SLUICE_BASE[$n]+="$(get base_rss_kib) "
    printf 'run %d sluice in-flight %-2s %7.1f MiB/s  peak RSS %6d KiB (base %d KiB)  peak buffered %d MiB  bound %d MiB\n' \
      "$run" "$n" "$(get mib_per_s)" "$(get peak_rss_kib)" "$(get base_rss_kib)" \
      $(( $(get peak_buffered_bytes) >> 20 )) $(( $(get bound_bytes) >> 20 ))
    remove "$PREFIX/sluice-$n-$run"
  done
  t0=$(now)
  /usr/bin/time -f '%M' -o "$WORK/aws-rss" \
    /usr/bin/aws --endpoint-url "$ENDPOINT" s3 cp "$DATA" "s3://$BUCKET/$PREFIX/aws-$run" --only-show-errors
  t1=$(now)
  mibs=$(awk -v s="$SIZE_MIB" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", s / (b - a)}')
  AWS_MIBS+=("$mibs")
  AWS_RSS+=("$(cat "$WORK/aws-rss")")
  printf 'run %d aws s3 cp           %7.1f MiB/s  peak RSS %6d KiB\n' "$run" "$mibs" "$(cat "$WORK/aws-rss")"
  remove "$PREFIX/aws-$run"
done

aws_median=$(printf '%s\n' "${AWS_MIBS[@]}" | median)
echo "# medians"
printf 'aws s3 cp (awscli %s): %.1f MiB/s, peak RSS %d KiB\n' \
  "$(/usr/bin/aws --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2)" "$aws_median" \
  "$(printf '%s\n' "${AWS_RSS[@]}" | median)"
for n in $IN_FLIGHT; do
  m=$(tr ' ' '\n' <<<"${SLUICE_MIBS[$n]}" | grep . | median)
  rss=$(tr ' ' '\n' <<<"${SLUICE_RSS[$n]}" | grep . | median)
  base=$(tr ' ' '\n' <<<"${SLUICE_BASE[$n]}" | grep . | median)
  bound_kib=$(( PART * (n + 2) / 1024 ))
  printf 'sluice in-flight %-2s: %.1f MiB/s, ratio sluice/aws %.2f; peak RSS %d KiB = %d KiB before the upload + %d KiB;' \
    "$n" "$m" "$(awk -v a="$m" -v b="$aws_median" 'BEGIN {print a / b}')" "$rss" "$base" $(( rss - base ))
  printf ' bound part x (N+2) = %d KiB: whole RSS %s, growth %s\n' "$bound_kib" \
    "$( (( rss < bound_kib )) && echo under || echo OVER)" "$( (( rss - base < bound_kib )) && echo under || echo OVER)"
done
