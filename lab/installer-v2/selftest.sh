#!/usr/bin/env bash
# Self-test of the lab's Harbor v2 installer stand-in.
#   lab/installer-v2/selftest.sh [--no-docker] [--keep]
# Phase 1 (no Docker): builds (or reuses) the tarball, checks its layout and runs the prepare
# program on this host against a temporary root (test/phase1.py). Needs root (chown 10000),
# python3-yaml, python3-jinja2, python3-cryptography, openssl and htpasswd (apache2-utils).
# Phase 2 (Docker) is not written yet: --no-docker is the only mode (see README "Not done").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
keep=0
for arg in "$@"; do
  case "$arg" in
    --no-docker) ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--no-docker] [--keep]" >&2; exit 2 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "selftest: needs root (prepare chowns to 10000)" >&2; exit 1; }
for tool in python3 openssl htpasswd; do
  command -v "$tool" >/dev/null || { echo "selftest: $tool is required" >&2; exit 1; }
done

tgz=$("$here/build.sh" | tail -n 1)
work=$(mktemp -d /tmp/h2st.XXXXXX)
if [[ $keep == 0 ]]; then trap 'rm -rf "$work"' EXIT; else echo "selftest: keeping $work" >&2; fi
tar -C "$work" -xzf "$tgz" harbor/harbor.yml.tmpl harbor/prepare harbor/install.sh harbor/common.sh harbor/README.md \
  harbor/harbor.v2.15.2.tar.gz
echo "phase 1: $tgz"
PYTHONDONTWRITEBYTECODE=1 python3 "$here/test/phase1.py" "$work/harbor" "$work"
