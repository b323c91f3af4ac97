#!/usr/bin/env bash
# `npm run preview`: makes the toolchain available (scripts/install-pulumi.sh), selects the stack
# (first argument, else ${HARBOR_HA_STACK:-dev}; created on first use, in the backend of
# scripts/pulumi-env.sh) and runs `pulumi preview` on it with the policy pack (policy/; mandatory
# where policy/config/<stack>.json says so). Extra arguments go to `pulumi preview`, e.g.
# `npm run preview -- --diff` or `scripts/preview.sh prod --diff`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
STACK="${HARBOR_HA_STACK:-dev}"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then STACK=$1; shift; fi
log() { printf '[preview] %s\n' "$*" >&2; }

t0="$(date +%s)"
"$HERE/install-pulumi.sh"
# shellcheck source=scripts/pulumi-env.sh
. "$HERE/pulumi-env.sh"
hh_stack_env "$STACK" || exit 1
t1="$(date +%s)"

cd "$REPO"
[ -f Pulumi.yaml ] || { log "ERROR: no Pulumi.yaml in $REPO"; exit 1; }
log "backend $PULUMI_BACKEND_URL, stack $STACK"
# Selecting (or creating) the stack in the repository would write its encryption salt into the
# tracked Pulumi.<stack>.yaml; a lab stack is created by scripts/lab-stack-config.ts instead.
if [ ! -f "$(hh_stack_config "$STACK")" ]; then pulumi stack select --create "$STACK" --non-interactive; fi
rc=0
policy=(--policy-pack "$REPO/policy")
[ -f "$REPO/policy/config/$STACK.json" ] && policy+=(--policy-pack-config "$REPO/policy/config/$STACK.json")
[ -d "$REPO/policy/node_modules" ] || npm ci --prefix "$REPO/policy" --no-audit --no-fund --loglevel=error
# A lab stack runs with the config the demo wrote outside the repository (host keys, secrets).
config=()
if [ -f "$(hh_stack_config "$STACK")" ]; then
  config=(--config-file "$(hh_stack_config "$STACK")")
  log "config: $(hh_stack_config "$STACK") (the lab's; npm run demo -- --no-up writes it)"
fi
pulumi preview --stack "$STACK" "${config[@]}" "${policy[@]}" "$@" || rc=$?
t2="$(date +%s)"
result="ok"
[ "$rc" -eq 0 ] || result="FAILED (exit $rc)"
log "$result: toolchain $((t1 - t0))s, preview $((t2 - t1))s"
exit "$rc"
