#!/bin/sh
# install-deps.sh - install everything eakte needs to build and test, from
# Debian 12's archive.  Run as root (or with sudo).  Safe to run again.
set -eu

PACKAGES="
  gcc g++ clang libclang-rt-dev meson binutils ninja-build pkg-config valgrind
  libgit2-dev libssl-dev libjansson-dev libmagic-dev libmagic-mgc zlib1g-dev
  libcmocka-dev libsqlite3-dev sqlite3 libcsv-dev libxml2-dev libxml2-utils libinih-dev poppler-utils
  libsystemd-dev libarchive-dev
  python3 python3-pytest python3-jsonschema
  git openssl openssh-client file systemd
"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "install-deps: installing:$missing"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
