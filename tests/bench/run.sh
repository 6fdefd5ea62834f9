#!/bin/sh
# tests/bench/run.sh [daemon] [benchmark options] - run the filing benchmark
# (bench_file.py), or with `daemon` the daemon benchmark (bench_daemon.py),
# on a fresh ext4 file system (a loop device on an image on the same disk),
# as root.
#
# Why: ext4's inode allocator slows down for minutes after many files were
# deleted (it skips recently deleted inodes), so results on a file system
# where earlier runs were just cleaned up vary by a factor of two.  A fresh
# file system gives repeatable figures for eakte and the git loop alike.
# Inode tables are initialised at mkfs time: the background initialiser of
# a lazily made file system would compete with the benchmark.  The loop
# device does direct I/O, so that a write and a flush go to the disk once,
# not through a second page cache (DIRECT_IO=off: the buffered device).
set -eu
cd "$(dirname "$0")/../.."
BENCH=tests/bench/bench_file.py
if [ "${1:-}" = daemon ]; then
	BENCH=tests/bench/bench_daemon.py
	shift
fi
IMG=${IMG:-/var/tmp/eakte-bench.img}
MNT=${MNT:-/mnt/eakte-bench}
SIZE=${SIZE:-40G}
[ -x build/cli/eakte ] || { meson setup build >/dev/null && meson compile -C build >/dev/null; }
mkdir -p "$MNT"
rm -f "$IMG"
fallocate -l "$SIZE" "$IMG"
DEV=$(losetup --direct-io="${DIRECT_IO:-on}" --show -f "$IMG")
trap 'umount "$MNT" 2>/dev/null; losetup -d "$DEV"; rm -f "$IMG"' EXIT
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$DEV"
mount "$DEV" "$MNT"
TMPDIR="$MNT" python3 "$BENCH" "$@"
