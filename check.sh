#!/bin/sh
# check.sh - install the dependencies, build eakte and run the whole test
# suite (unit, end-to-end, and the third-party vectors when they are there).
#
#   ./check.sh                 build in ./build-check
#   BUILD=dir OPTS="..." ./check.sh    another build directory / meson options
#   VECTORS=/path/to/vectors   the shared test vectors (default ../shared/vectors if present)
#   RESULTS=dir                where JUnit XML results go (default $BUILD/results)
set -eu
cd "$(dirname "$0")"
./install-deps.sh

BUILD=${BUILD:-build-check}
OPTS=${OPTS:-}
if [ -z "${VECTORS:-}" ] && [ -d ../shared/vectors ]; then VECTORS=$(cd ../shared/vectors && pwd); fi
VECTORS=${VECTORS:-}

# shellcheck disable=SC2086
if [ -d "$BUILD" ]; then
  meson configure "$BUILD" -Dvectors_dir="$VECTORS" $OPTS >/dev/null
else
  meson setup "$BUILD" -Dvectors_dir="$VECTORS" $OPTS >/dev/null
fi
meson compile -C "$BUILD"

RESULTS=${RESULTS:-$BUILD/results}
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
export CMOCKA_MESSAGE_OUTPUT=xml
export CMOCKA_XML_FILE="$RESULTS/cmocka-%g.xml"
export EAKTE_JUNIT_DIR="$RESULTS"
status=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 || status=$?
cp "$BUILD/meson-logs/testlog.json" "$RESULTS/meson-testlog.json" 2>/dev/null || true
/usr/bin/python3 .ci/count.py "$RESULTS"
exit $status
