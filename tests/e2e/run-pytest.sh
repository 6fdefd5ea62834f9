#!/bin/sh
# run-pytest.sh NAME FILE: run one pytest file with Debian's pytest, writing
# JUnit XML to $EAKTE_JUNIT_DIR/pytest-NAME.xml when that is set.
name=$1
shift
if [ -n "${EAKTE_JUNIT_DIR:-}" ]; then
  set -- --junitxml="$EAKTE_JUNIT_DIR/pytest-$name.xml" "$@"
fi
exec pytest-3 -q -p no:cacheprovider "$@"
