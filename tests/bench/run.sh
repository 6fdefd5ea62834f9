#!/bin/sh
# tests/bench/run.sh [bench_file.py options] - run the filing benchmark on a
# fresh ext4 file system (a loop-mounted image on the same disk), as root.
#
# Why: ext4's inode allocator slows down for minutes after many files were
# deleted (it skips recently deleted inodes), so results on a file system
# where earlier runs were just cleaned up vary by a factor of two.  A fresh
# file system gives repeatable figures for eakte and the git loop alike.
# Inode tables are initialised at mkfs time: the background initialiser of
# a lazily made file system would compete with the benchmark.
set -eu
cd "$(dirname "$0")/../.."
IMG=${IMG:-/var/tmp/eakte-bench.img}
MNT=${MNT:-/mnt/eakte-bench}
SIZE=${SIZE:-40G}
[ -x build/cli/eakte ] || { meson setup build >/dev/null && meson compile -C build >/dev/null; }
mkdir -p "$MNT"
rm -f "$IMG"
fallocate -l "$SIZE" "$IMG"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMG"
mount -o loop "$IMG" "$MNT"
trap 'umount "$MNT"; rm -f "$IMG"' EXIT
TMPDIR="$MNT" python3 tests/bench/bench_file.py "$@"
