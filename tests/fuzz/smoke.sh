#!/bin/sh
# smoke.sh TARGET SECONDS SEEDDIR [MORE_SEED_DIRS...] - the meson suite
# 'fuzz': run a libFuzzer target over its seeds, then on new inputs for
# SECONDS.  New corpus entries go to a temporary directory that is removed;
# crashes are kept in $EAKTE_FUZZ_ARTIFACTS (default: the build's
# meson-logs/fuzz-artifacts) for reproduction.  Fails if the target finds
# anything or if a seed directory is missing (a smoke run without seeds
# proves little).
set -eu
target=$1
seconds=$2
shift 2
for d in "$@"; do
  if [ ! -d "$d" ]; then
    echo "smoke.sh: seed directory $d is missing" >&2
    exit 1
  fi
done
name=$(basename "$target")
art=${EAKTE_FUZZ_ARTIFACTS:-$(dirname "$target")/../../meson-logs/fuzz-artifacts}
mkdir -p "$art"
work=$(mktemp -d "${TMPDIR:-/tmp}/eakte-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work" "$work.log"' EXIT
# -rss_limit_mb: each target's whole process; -timeout: one input.
# libFuzzer exits 77 on a finding by default, which meson counts as a
# skipped test: -error_exitcode and -timeout_exitcode make it a failure.
nice -n 19 "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -print_final_stats=1 -artifact_prefix="$art/$name-" "$work" "$@" 2>"$work.log" || {
  status=$?
  tail -n 60 "$work.log" >&2
  rm -f "$work.log"
  exit $status
}
grep -E '^(stat::number_of_executed_units|#[0-9]+.*DONE|Done)' "$work.log" || true
rm -f "$work.log"
