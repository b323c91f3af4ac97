#!/usr/bin/env bash
# npm run bench: the benchmarks, in one run on one lab, appended to BENCHMARKS.md with the date and
# the machine. Besides the wall clock of each step it reports ratios, which say more than seconds on
# a shared machine: a fresh `pulumi up` of 3 nodes / 2 nodes (nodes work in parallel: goal <= 1.25),
# no-change up and preview of 3 / 2 nodes, a rolling change of 3 nodes / one node's redeploy, and
# the p50 and p99 latency of the load's successful requests during a rolling change / steady state.
# Timings never decide a test.
#   npm run bench [-- --no-e2e]      (needs root: the lab; leaves the dev stack deployed on 3 nodes,
#                                     or, with the e2e, the lab torn down)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "[bench] the lab needs root" >&2; exit 1; }
with_e2e=1
[ "${1:-}" = --no-e2e ] && with_e2e=0
machine="$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
log=/tmp/harbor-ha-bench.log
rows=()
declare -A took
# measure KEY LABEL CMD...: wall clock of CMD in took[KEY], one table row
measure() {
  local key=$1 label=$2 t0 rc=0
  shift 2
  t0=$(date +%s.%N)
  "$@" >"$log" 2>&1 || rc=$?
  took[$key]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  if [ "$rc" -ne 0 ]; then echo "[bench] $label failed (exit $rc); see $log" >&2; tail -n 20 "$log" >&2; exit 1; fi
  rows+=("| $label | ${took[$key]} s |")
  echo "[bench] ${rows[-1]}"
}
ratio() { awk -v a="${took[$1]}" -v b="${took[$2]}" 'BEGIN {printf "%.2f", a / b}'; }

measure toolchain "toolchain, warm cache (scripts/install-pulumi.sh)" scripts/install-pulumi.sh
# The last cold build of each toolchain part, from its BUILD-INFO (built once per version).
cache="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}"
# The newest build of each component (an older build of a changed component is left out).
cold=$(ls -tr "$cache"/toolchain/*/BUILD-INFO.txt 2>/dev/null | xargs -r awk '/^component: / {c = $2} /^built: .* in [0-9]+s$/ {t = $NF; sub("s", "", t); took[c] = t}
  END {for (c in took) n += took[c]; print n + 0}')
[ "$cold" -gt 0 ] && rows+=("| toolchain, cold: its current builds one after the other (their BUILD-INFO times; setup.sh overlaps the lab's builds with them) | $cold s |")
# The lab VMs' compose v2 plugin (scripts/toolchain/compose.sh), the same way: its pinned version's build.
compose_info="$cache/tools/docker-compose-v$(. scripts/toolchain/versions.sh && echo "$TC_COMPOSE_VERSION")/BUILD-INFO.txt"
compose_cold=$(sed -n 's/^built: .* in \([0-9]*\)s$/\1/p' "$compose_info" 2>/dev/null || true)
[ -n "$compose_cold" ] && rows+=("| compose v2 plugin for the lab VMs, cold (its BUILD-INFO time; setup.sh runs it beside the toolchain) | $compose_cold s |")
measure unit "unit tests (npm run test:unit)" npm run -s test:unit
# shellcheck source=scripts/pulumi-env.sh
. scripts/pulumi-env.sh
hh_stack_env dev

# A warm demo: caches full, the lab stopped (its data kept), then npm run demo.
lab/scripts/down.sh >/dev/null 2>&1 || true
measure demo "npm run demo, warm caches, lab stopped" npm run -s demo
three=(--stack dev --config-file "$(hh_stack_config dev)")
two_cfg=$(mktemp /tmp/harbor-ha-bench-2nodes.XXXXXX.yaml)
trap 'rm -f "$two_cfg"' EXIT
cp "$(hh_stack_config dev)" "$two_cfg"
two=(--stack dev --config-file "$two_cfg")
pulumi config rm "${two[@]}" --path 'harbor-ha:nodes[2]' >/dev/null

# Fresh ups alternate 3 and 2 nodes, three rounds each: the machine's other work lands on both.
for round in 1 2 3; do
  pulumi destroy "${three[@]}" --yes --skip-preview >/dev/null
  measure "up3_$round" "pulumi up, fresh, 3 nodes (round $round)" pulumi up "${three[@]}" --yes --skip-preview
  pulumi destroy "${three[@]}" --yes --skip-preview >/dev/null
  measure "up2_$round" "pulumi up, fresh, 2 nodes (round $round)" pulumi up "${two[@]}" --yes --skip-preview
  [ "$round" = 3 ] || pulumi destroy "${two[@]}" --yes --skip-preview >/dev/null
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
took[up3]=$(median "${took[up3_1]}" "${took[up3_2]}" "${took[up3_3]}")
took[up2]=$(median "${took[up2_1]}" "${took[up2_2]}" "${took[up2_3]}")
measure preview2 "pulumi preview, no changes, 2 nodes" pulumi preview "${two[@]}" --expect-no-changes
measure noop2 "pulumi up, no changes, 2 nodes" pulumi up "${two[@]}" --yes --expect-no-changes
pulumi destroy "${two[@]}" --yes --skip-preview >/dev/null
pulumi up "${three[@]}" --yes --skip-preview >/dev/null
measure preview3 "pulumi preview, no changes, 3 nodes" pulumi preview "${three[@]}" --expect-no-changes
measure noop3 "pulumi up, no changes, 3 nodes" pulumi up "${three[@]}" --yes --expect-no-changes
# A change that restarts Harbor rolls over the nodes one at a time (drain, redeploy, undrain): one
# node's redeploy, then all three (their deploys replaced on purpose).
mapfile -t deploys < <(pulumi stack export --stack dev | node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
  JSON.parse(s).deployment.resources.map(r => r.urn).filter(u => /::cluster-harbor-\d+-deploy$/.test(u)).sort().forEach(u => console.log(u)))')
[ "${#deploys[@]}" = 3 ] || { echo "[bench] expected 3 node deploys in stack dev, found ${#deploys[@]}" >&2; exit 1; }
measure redeploy1 "pulumi up replacing one node's deploy (drain, stop, start, undrain)" pulumi up "${three[@]}" --yes --skip-preview --replace "${deploys[0]}"
measure rolling3 "pulumi up replacing every node's deploy: a rolling change of 3 nodes" pulumi up "${three[@]}" --yes --skip-preview \
  --replace "${deploys[0]}" --replace "${deploys[1]}" --replace "${deploys[2]}"
# The same rolling change under the e2e's load: what successful requests took, over the steady state.
latency_rows=$(mktemp /tmp/harbor-ha-bench-latency.XXXXXX)
measure latency "pulumi up replacing every node's deploy under load (after the same load with nothing changing)" \
  node --import tsx test/e2e/benchLatency.ts "$latency_rows" "${deploys[@]}"
mapfile -t -O "${#rows[@]}" rows <"$latency_rows"
rm -f "$latency_rows"
rows+=("| **ratio** fresh up, 3 nodes / 2 nodes, medians of 3 (${took[up3]} s / ${took[up2]} s; goal <= 1.25) | $(ratio up3 up2) |")
rows+=("| **ratio** no-change up, 3 nodes / 2 nodes | $(ratio noop3 noop2) |")
rows+=("| **ratio** no-change preview, 3 nodes / 2 nodes | $(ratio preview3 preview2) |")
rows+=("| **ratio** rolling change of 3 nodes / one node's redeploy (one at a time: about 3) | $(ratio rolling3 redeploy1) |")
measure logins "200 docker logins through the lab load balancer" node --import tsx -e '
  const lab = require("./test/e2e/lab"); const s = lab.readStack(); lab.startClient(s);
  const a = lab.logins(s, 200); if (a.ok !== 200) { console.error(a); process.exit(1); }'
[ "$with_e2e" = 1 ] && measure e2e "npm run test:e2e (clean lab to teardown)" npm run -s test:e2e

[ -f BENCHMARKS.md ] || printf '# Benchmarks\n\nAppended by `npm run bench`; timings never decide a test.\n' >BENCHMARKS.md
{
  printf '\n## %s, %s\n\n| operation | wall clock |\n| --- | --- |\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$machine"
  printf '%s\n' "${rows[@]}"
} >>BENCHMARKS.md
echo "[bench] appended to BENCHMARKS.md"
