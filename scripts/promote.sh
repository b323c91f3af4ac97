#!/usr/bin/env bash
# Promotes a release from one stack to the next (dev -> staging -> prod): the same code, and the
# release keys copied; everything environment-specific (domain, nodes, services, secrets, keys)
# stays as each stack file has it. Then a preview with the policy pack, and `pulumi up` on approval.
#
#   scripts/promote.sh staging prod            # copy, preview, ask, up
#   scripts/promote.sh staging prod --yes      # no question (CI)
#   scripts/promote.sh staging prod --dry-run  # print what it would run, change nothing
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:?usage: promote.sh FROM_STACK TO_STACK [--yes|--dry-run]}
to=${2:?usage: promote.sh FROM_STACK TO_STACK [--yes|--dry-run]}
mode=${3:-ask}
# What a release is: which Harbor, from which installer. Nothing else crosses environments.
release_keys=(harborVersion installer)

[ "$from" != "$to" ] || { echo "promote: FROM and TO are the same stack ($from)" >&2; exit 2; }
for s in "$from" "$to"; do
  [ -f "Pulumi.$s.yaml" ] || { echo "promote: no stack file Pulumi.$s.yaml" >&2; exit 2; }
done
policy=(--policy-pack "$PWD/policy")
[ -f "policy/config/$to.json" ] && policy+=(--policy-pack-config "policy/config/$to.json")

run() {
  echo "+ $*"
  [ "$mode" = --dry-run ] || "$@"
}

if [ "$mode" != --dry-run ]; then
  scripts/install-pulumi.sh >&2
  # shellcheck source=scripts/pulumi-env.sh
  . scripts/pulumi-env.sh
  hh_stack_env "$from" && hh_stack_env "$to" || exit 1
fi
for k in "${release_keys[@]}"; do
  run pulumi config cp --stack "$from" --dest "$to" --path "harbor-ha:$k"
done
run pulumi preview --stack "$to" --diff "${policy[@]}"
if [ "$mode" = ask ]; then
  read -r -p "promote: run pulumi up on $to? [y/N] " answer
  [ "$answer" = y ] || { echo "promote: stopped before pulumi up; the copied keys are in Pulumi.$to.yaml"; exit 1; }
fi
run pulumi up --stack "$to" --yes --skip-preview "${policy[@]}"
