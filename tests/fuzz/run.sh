#!/bin/sh
# tests/fuzz/run.sh [-i] [SECONDS] [TARGET...] - long fuzzing runs.
#
# Builds ./build-fuzz with clang (-Dfuzz=true) if it is not there, then runs
# each TARGET (default: all) for SECONDS (default 60) under nice -n 19, one
# after the other, over its seeds (tests/fuzz/corpus/TARGET and, for note
# and sshsig, the vectors in ../shared/vectors, read in place).  New corpus
# entries are merged into $FUZZ_CORPUS/TARGET (default ../fuzz-corpus,
# outside the repository); with -i they are merged (minimised, -merge=1)
# into tests/fuzz/corpus/TARGET instead.  Crashes are written to
# $FUZZ_CORPUS/crashes/.  Prints one line per target: executions, corpus
# size, result.  Exit status 1 if any target found something.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
into_repo=0
if [ "${1:-}" = "-i" ]; then into_repo=1; shift; fi
SECONDS_PER=60
case "${1:-}" in
  ''|*[!0-9]*) ;;
  *) SECONDS_PER=$1; shift ;;
esac
ALL="cjson event note sshsig proof plan query ftsde conf dconf sidecar zip protocol"
TARGETS=${*:-$ALL}
BUILD=${FUZZ_BUILD:-build-fuzz}
OUT=${FUZZ_CORPUS:-$ROOT/../fuzz-corpus}
VECTORS=${VECTORS:-$ROOT/../shared/vectors}

if [ ! -d "$BUILD" ]; then
  CC=clang meson setup "$BUILD" -Dfuzz=true >/dev/null
fi
nice -n 19 meson compile -C "$BUILD" >/dev/null
mkdir -p "$OUT/crashes"
status=0
for t in $TARGETS; do
  exe=$BUILD/tests/fuzz/fuzz_$t
  if [ ! -x "$exe" ]; then
    echo "run.sh: no target $t (targets: $ALL)" >&2
    exit 2
  fi
  seeds="$ROOT/tests/fuzz/corpus/$t"
  case $t in
    note) [ -d "$VECTORS/signed-note" ] && seeds="$seeds $VECTORS/signed-note" ;;
    sshsig) [ -d "$VECTORS/sshsig" ] && seeds="$seeds $VECTORS/sshsig" ;;
  esac
  mkdir -p "$OUT/$t"
  log=$OUT/$t.log
  # shellcheck disable=SC2086
  if nice -n 19 "$exe" -max_total_time="$SECONDS_PER" -rss_limit_mb=2048 -timeout=25 \
      -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
      -artifact_prefix="$OUT/crashes/$t-" "$OUT/$t" $seeds >"$log" 2>&1; then
    result=ok
  else
    result="FOUND SOMETHING (see $log and $OUT/crashes/)"
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$into_repo" = 1 ]; then
    nice -n 19 "$exe" -merge=1 -rss_limit_mb=2048 -timeout=25 "$ROOT/tests/fuzz/corpus/$t" "$OUT/$t" \
      >>"$log" 2>&1 || true
  fi
  echo "$t: ${execs:-?} executions in ${SECONDS_PER} s, corpus $(ls "$OUT/$t" | wc -l) files: $result"
done
exit $status
