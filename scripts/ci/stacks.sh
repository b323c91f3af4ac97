#!/usr/bin/env bash
# Prints the stacks that have a stack file (Pulumi.<stack>.yaml) as a JSON array, for a CI matrix.
# Usage: scripts/ci/stacks.sh [--except STACK]...
set -euo pipefail
cd "$(dirname "$0")/../.."
except=" "
while [ "${1:-}" = --except ]; do except+="${2:?--except needs a stack name} "; shift 2; done
stacks=()
for f in Pulumi.*.yaml; do
  [ -e "$f" ] || continue
  s=${f#Pulumi.}; s=${s%.yaml}
  case "$except" in *" $s "*) ;; *) stacks+=("$s") ;; esac
done
printf '['
for i in "${!stacks[@]}"; do
  [ "$i" -gt 0 ] && printf ','
  printf '"%s"' "${stacks[$i]}"
done
printf ']\n'
