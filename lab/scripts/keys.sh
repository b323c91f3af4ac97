#!/usr/bin/env bash
# The lab's SSH client keypair (ed25519), kept under ${LAB_STATE}/ssh, never in the repo.
# Prints the public key. Idempotent.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="${LAB_STATE}/ssh"
install -d -m 700 "$LAB_STATE" "$dir"
if [[ ! -s "$dir/id_ed25519" ]]; then
  ssh-keygen -q -t ed25519 -N '' -C harbor-ha-lab -f "$dir/id_ed25519"
  lab_log "generated SSH keypair $dir/id_ed25519"
fi
cat "$dir/id_ed25519.pub"
