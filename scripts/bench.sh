#!/usr/bin/env bash
# npm run bench: wall-clock times of the everyday operations, appended to BENCHMARKS.md with the
# date and the machine. With the lab and the dev stack up (npm run demo) it also times a no-change
# preview and up, and 200 logins through the load balancer.
set -euo pipefail
cd "$(dirname "$0")/.."
machine="$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
rows=()
measure() { # measure LABEL CMD...
  local label=$1 t0 t1 rc=0
  shift
  t0=$(date +%s.%N)
  "$@" >/tmp/harbor-ha-bench.log 2>&1 || rc=$?
  t1=$(date +%s.%N)
  if [ "$rc" -ne 0 ]; then echo "[bench] $label failed (exit $rc); see /tmp/harbor-ha-bench.log" >&2; exit 1; fi
  rows+=("| $label | $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f s", b - a}') |")
  echo "[bench] ${rows[-1]}"
}

measure "toolchain, warm cache (scripts/install-pulumi.sh)" scripts/install-pulumi.sh
measure "unit tests (npm run test:unit)" npm run -s test:unit
# shellcheck source=scripts/pulumi-env.sh
. scripts/pulumi-env.sh
if pulumi stack output --stack dev url >/dev/null 2>&1 && [ -S /run/harbor-ha-lab/docker.sock ]; then
  dev=(--stack dev --config-file "$(hh_stack_config dev)")
  measure "pulumi preview --stack dev, no changes" pulumi preview "${dev[@]}" --expect-no-changes
  measure "pulumi up --stack dev, no changes" pulumi up "${dev[@]}" --yes --expect-no-changes
  measure "200 docker logins through the lab load balancer" node --import tsx -e '
    const lab = require("./test/e2e/lab"); const s = lab.readStack(); lab.startClient(s);
    const a = lab.logins(s, 200); if (a.ok !== 200) { console.error(a); process.exit(1); }'
else
  echo "[bench] the lab or the dev stack is not up: lab timings skipped (npm run demo first)" >&2
fi

[ -f BENCHMARKS.md ] || printf '# Benchmarks\n\nAppended by `npm run bench`; timings never decide a test.\n' >BENCHMARKS.md
{
  printf '\n## %s, %s\n\n| operation | wall clock |\n| --- | --- |\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$machine"
  printf '%s\n' "${rows[@]}"
} >>BENCHMARKS.md
echo "[bench] appended to BENCHMARKS.md"
