#!/usr/bin/env bash
# Pulumi wrapper for the lab project (lab/Pulumi.yaml, stack `lab`), using the repo's toolchain
# (scripts/install-pulumi.sh + scripts/pulumi-env.sh: CLI, plugins, backend, passphrase).
#   pulumi.sh available   exit 0 when the CLI and the docker/random/command plugins are usable
#   pulumi.sh up          select/create stack `lab`, `pulumi up --refresh`
#   pulumi.sh outputs     stack outputs as JSON, secrets shown (for ${LAB_STATE}/outputs.json)
#   pulumi.sh destroy     `pulumi destroy` (no-op when the stack does not exist)
#   pulumi.sh -- ARGS...  any pulumi command in the lab project, e.g. pulumi.sh -- stack output
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO_ROOT="$(cd "${LAB_ROOT}/.." && pwd)"
STACK="${LAB_PULUMI_STACK:-lab}"

env_file="${REPO_ROOT}/scripts/pulumi-env.sh"
[[ -f "$env_file" ]] || { lab_log "no ${env_file}: Pulumi toolchain not installed"; exit 3; }
# shellcheck disable=SC1090
source "$env_file"
hh_stack_env "$STACK"

have_plugin() { # name version
  command -v "pulumi-resource-$1" >/dev/null 2>&1 && return 0
  ls -d "${PULUMI_HOME}/plugins/resource-$1-v$2" >/dev/null 2>&1
}
plugin_version() { node -p "require('${REPO_ROOT}/node_modules/@pulumi/$1/package.json').version"; }

available() {
  command -v pulumi >/dev/null 2>&1 || { lab_log "pulumi CLI not found (run scripts/install-pulumi.sh)"; return 3; }
  local p missing=()
  for p in docker random command; do
    have_plugin "$p" "$(plugin_version "$p")" || missing+=("$p")
  done
  if (( ${#missing[@]} )); then lab_log "pulumi plugins missing: ${missing[*]}"; return 3; fi
}

in_project() { cd "$LAB_ROOT" && "$@"; }
# run_logged LOGNAME pulumi ARGS...: full output to ${LAB_LOG}/LOGNAME, a summary on stderr,
# the last 40 lines on failure.
run_logged() {
  local log="${LAB_LOG}/$1" rc=0; shift
  mkdir -p "$LAB_LOG"
  in_project "$@" >"$log" 2>&1 || rc=$?
  grep -E '^\s*(error|warning):|^Resources:|^\s+[-+~]*\s*[0-9]+ (created|updated|replaced|deleted|unchanged|to )|^\s+[0-9]+ changes|^Duration' "$log" | sed 's/^/[lab]   /' >&2 || true
  if (( rc != 0 )); then
    tail -n 40 "$log" >&2
    lab_log "pulumi $2 failed (rc ${rc}); full log: ${log}"
  fi
  return $rc
}
select_stack() { in_project pulumi stack select --create "$STACK" --non-interactive >/dev/null; }

case "${1:-}" in
  available) available ;;
  up)
    available
    t=$(lab_now)
    select_stack
    run_logged pulumi-up.log pulumi up --yes --skip-preview --refresh --non-interactive --stack "$STACK" \
      --suppress-progress
    lab_log "pulumi up (stack ${STACK}) in $(lab_since "$t")"
    ;;
  outputs) available; in_project pulumi stack output --json --show-secrets --stack "$STACK" ;;
  destroy)
    available
    if in_project pulumi stack select "$STACK" --non-interactive >/dev/null 2>&1; then
      t=$(lab_now)
      run_logged pulumi-destroy.log pulumi destroy --yes --skip-preview --refresh --non-interactive \
        --stack "$STACK" --suppress-progress
      lab_log "pulumi destroy (stack ${STACK}) in $(lab_since "$t")"
    else
      lab_log "no pulumi stack ${STACK}: nothing to destroy"
    fi
    ;;
  --) shift; in_project pulumi "$@" ;;
  *) echo "usage: $0 available|up|outputs|destroy|-- ARGS..." >&2; exit 2 ;;
esac
