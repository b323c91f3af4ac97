#!/bin/sh
# Provides Python 2.7 on a Harbor 1.x node. Harbor 1.1-1.5's `prepare` is a Python 2 program
# (`#!/usr/bin/python`): under Python 3 it stops with a SyntaxError (1.1, 1.2) or at run time
# (1.4, 1.5), and current distributions no longer install Python 2. harbor-ha's preflight refuses
# a node without it and names this script. Run it as root on the node (the lab's VM image runs
# exactly this at build time):
#
#   ssh root@node sh -s < scripts/node-python2.sh
#
# Idempotent. What it does per distribution:
#   Debian 12 (bookworm)   Debian 11's python2.7 packages, from the bullseye suite pinned to
#                          priority 100, so nothing else on the node ever comes from bullseye;
#   Debian 11, Ubuntu 20.04/22.04
#                          the distribution's own python2.7 package (Ubuntu: universe);
#   RHEL/Rocky/Alma 8      the python2 module stream (dnf install python2);
#   RHEL 9 and others      no Python 2 package exists: it stops and says so (build 2.7.18 from
#                          python.org into /usr/local, then `harbor-ha` finds /usr/local/bin/python2.7).
# Knob: DEBIAN_ARCHIVE (default http://deb.debian.org/debian) for a local mirror of bullseye.
set -eu

have_python2() {
  for p in python2.7 python2 python; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info[0] != 2)' 2>/dev/null; then
      echo "python2: $(command -v "$p") ($("$p" -V 2>&1))"
      return 0
    fi
  done
  return 1
}

have_python2 && exit 0
[ -r /etc/os-release ] || { echo "python2: unknown distribution (no /etc/os-release)" >&2; exit 1; }
# shellcheck disable=SC1091
. /etc/os-release
export DEBIAN_FRONTEND=noninteractive
case "${ID}:${VERSION_ID:-}" in
debian:12*)
  archive="${DEBIAN_ARCHIVE:-http://deb.debian.org/debian}"
  echo "deb ${archive} bullseye main" >/etc/apt/sources.list.d/harbor-ha-python2-bullseye.list
  cat >/etc/apt/preferences.d/harbor-ha-python2-bullseye <<'EOF'
# Only what bookworm does not have (python2.7 and its libraries) comes from bullseye.
Package: *
Pin: release n=bullseye
Pin-Priority: 100
EOF
  apt-get update -q
  apt-get install -y -q --no-install-recommends python2.7
  ;;
debian:* | ubuntu:*)
  apt-get update -q
  apt-get install -y -q --no-install-recommends python2.7
  ;;
rhel:8* | rocky:8* | almalinux:8* | centos:8*)
  dnf install -y python2
  ;;
*)
  echo "python2: ${PRETTY_NAME:-$ID} has no Python 2 package. Build Python 2.7.18 from python.org" \
    "(./configure --prefix=/usr/local && make altinstall) and run this script again." >&2
  exit 1
  ;;
esac
have_python2 || { echo "python2: installed, but no python2.7 on PATH" >&2; exit 1; }
