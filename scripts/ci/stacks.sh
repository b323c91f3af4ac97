#!/usr/bin/env bash
# Prints the stacks that have a stack file (Pulumi.<stack>.yaml) as a JSON array, for a CI matrix.
# Usage: scripts/ci/stacks.sh [--except dev]
set -euo pipefail
cd "$(dirname "$0")/../.."
except=""
if [ "${1:-}" = --except ]; then except=${2:?--except needs a stack name}; fi
stacks=()
for f in Pulumi.*.yaml; do
  [ -e "$f" ] || continue
  s=${f#Pulumi.}; s=${s%.yaml}
  [ "$s" = "$except" ] || stacks+=("$s")
done
printf '['
for i in "${!stacks[@]}"; do
  [ "$i" -gt 0 ] && printf ','
  printf '"%s"' "${stacks[$i]}"
done
printf ']\n'
