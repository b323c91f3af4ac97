#!/usr/bin/env bash
# ssh into a lab VM through its 127.0.0.1 port, with the lab key and the pinned host key.
#   lab/scripts/ssh.sh vm1 [command...]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vm="${1:?usage: ssh.sh vmN [command...]}"; shift
n="${vm#vm}"; [[ "$n" =~ ^[0-9]+$ ]] || lab_die "expected vmN, got '$vm'"
[[ -s "${LAB_STATE}/ssh/known_hosts" ]] || lab_die "no ${LAB_STATE}/ssh/known_hosts: run lab/scripts/up.sh"
exec ssh -i "${LAB_STATE}/ssh/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
  -o StrictHostKeyChecking=yes -o UserKnownHostsFile="${LAB_STATE}/ssh/known_hosts" \
  -o ConnectTimeout=10 -p "$(lab_vm_sshport "$n")" root@127.0.0.1 "$@"
