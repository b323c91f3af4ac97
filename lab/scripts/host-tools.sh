#!/usr/bin/env bash
# The lab's tools on this machine, in ONE apt-get: Debian's docker.io (its own engine is started by
# engine.sh, never the system service), iptables, debootstrap and zstd. The image and installer
# builds then run side by side without fighting over dpkg's lock.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
[[ -x /usr/sbin/dockerd && -x "$LAB_DOCKER_BIN" ]] || missing+=(docker.io)
command -v iptables >/dev/null || missing+=(iptables)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v zstd >/dev/null || missing+=(zstd)
(( ${#missing[@]} )) || exit 0
[[ $(id -u) == 0 ]] || lab_die "installing ${missing[*]} needs root"
lab_log "installing ${missing[*]} (apt)"
t=$(lab_now)
# Never let a package start a system-wide service: the lab runs its own engine.
policy=/usr/sbin/policy-rc.d added_policy=0
if [[ ! -e "$policy" ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; added_policy=1; fi
trap '(( added_policy )) && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
lab_log "${missing[*]} installed in $(lab_since "$t")"
