#!/bin/sh
# eakte-memcheck.sh ARGS... - the eakte CLI under valgrind's memcheck, for
# EAKTE_BIN in the end-to-end tests (tests/valgrind/run.sh sets it up).
# Memcheck's reports go to a file per process in $EAKTE_VALGRIND_LOGS, so
# that the CLI's own stderr, which the tests compare, stays as it is;
# run.sh fails if any report is there.  An error also makes the exit
# status 99, which no test expects.
: "${EAKTE_REAL_BIN:?EAKTE_REAL_BIN must name the real eakte binary}"
: "${EAKTE_VALGRIND_LOGS:?EAKTE_VALGRIND_LOGS must name a directory for the reports}"
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --track-fds=no -q --log-file="$EAKTE_VALGRIND_LOGS/eakte.%p.log" \
  "$EAKTE_REAL_BIN" "$@"
