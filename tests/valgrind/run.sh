#!/bin/sh
# tests/valgrind/run.sh BUILD RESULTS - valgrind memcheck over the unit tests
# (suite 'unit', through meson test --wrapper) and the CLI end-to-end tier
# (tests/e2e/test_cli.py with EAKTE_BIN pointing at eakte-memcheck.sh;
# all of it but the one test that measures the process's own memory).
# Memcheck must report no invalid reads or writes, no use of uninitialised
# values and no definite leaks.  JUnit XML goes to RESULTS for
# .ci/count.py: the unit tests' own cmocka XML and meson's testlog, pytest's
# XML, and one case per memcheck log (memcheck-unit, memcheck-cli).
set -u
BUILD=$1
RESULTS=$2
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
command -v valgrind >/dev/null || { echo "run.sh: valgrind is missing; run ./install-deps.sh" >&2; exit 1; }
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/eakte-memcheck.XXXXXX")
# The CLI test runs one case as nobody (setpriv): it must be able to write its report.
chmod 1777 "$LOGS"
status=0

VG="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no -q --log-file=$LOGS/unit.%p.log"
# unit_abi is a Python script that reads the library: nothing of ours runs under memcheck.
tests=$(meson test -C "$BUILD" --list --suite unit 2>/dev/null | sed 's/.* \/ //' | grep -v '^unit_abi$')
CMOCKA_MESSAGE_OUTPUT=xml CMOCKA_XML_FILE="$RESULTS/cmocka-%g.xml" \
  meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 10 \
  --wrapper "$VG" $tests || status=1
cp "$BUILD/meson-logs/testlog.json" "$RESULTS/meson-testlog.json"

# test_cli.py in two halves side by side (2 cores; memcheck makes each
# CLI run ~30 times slower).  Not under memcheck: the bounded-memory test,
# which measures the peak RSS of the process, and that would be
# valgrind's own.
ids=$(pytest-3 --collect-only -q -p no:cacheprovider tests/e2e/test_cli.py | grep '::' |
  grep -v '::test_large_file_streams_in_bounded_memory$')
half1=$(echo "$ids" | awk 'NR % 2 == 1')
half2=$(echo "$ids" | awk 'NR % 2 == 0')
export EAKTE_REAL_BIN="$ROOT/$BUILD/cli/eakte" EAKTE_VALGRIND_LOGS="$LOGS" \
  EAKTE_BIN="$ROOT/tests/valgrind/eakte-memcheck.sh" EAKTE_SOURCE_ROOT="$ROOT"
# shellcheck disable=SC2086
pytest-3 -q -p no:cacheprovider --junitxml="$RESULTS/pytest-memcheck-cli-1.xml" $half1 &
pid1=$!
# shellcheck disable=SC2086
pytest-3 -q -p no:cacheprovider --junitxml="$RESULTS/pytest-memcheck-cli-2.xml" $half2 || status=1
wait $pid1 || status=1

# One JUnit case per tier: passed if memcheck wrote nothing.
for tier in unit eakte; do
  reports=$(find "$LOGS" -name "$tier.*.log" -size +0 | sort)
  n=$(find "$LOGS" -name "$tier.*.log" | wc -l)
  if [ "$n" -eq 0 ]; then
    failure="<failure message=\"no process ran under memcheck\"/>"
    status=1
  elif [ -n "$reports" ]; then
    # shellcheck disable=SC2086
    cat $reports >&2
    failure="<failure message=\"memcheck reported errors in $(echo "$reports" | wc -l) of $n processes\"/>"
    status=1
  else
    failure=
  fi
  echo "memcheck $tier: $n processes, $(echo "$reports" | grep -c . || true) with reports"
  printf '<?xml version="1.0"?>\n<testsuite name="memcheck-%s"><testcase name="memcheck-%s">%s</testcase></testsuite>\n' \
    "$tier" "$tier" "$failure" >"$RESULTS/memcheck-$tier.xml"
done
rm -rf "$LOGS"
exit $status
