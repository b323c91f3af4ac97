// Clocks (goharbor/harbor#15911): a token one node signs is checked by another, against its own
// clock. The machine running Pulumi measures each node's clock over SSH (components/clockProbe.cjs);
// here: the default threshold, and the node's own view of whether NTP keeps its clock.
import { TokenLeeway } from "../flavors/flavor";
import { sq } from "./shell";

/**
 * The default threshold (harbor-ha:preflight.maxClockSkewMs). With 60 s of leeway, 1 s is far
 * inside it and still refuses a clock no NTP keeps (NTP keeps a LAN within milliseconds). With
 * none, a skew s fails about s / 1 s of the tokens the node ahead signs: 10 ms, about 1%.
 */
export function defaultMaxClockSkewMs(leeway: TokenLeeway): number {
    return leeway.seconds >= 60 ? 1000 : 10;
}

/** Exchanges per node: enough that one of them meets no delay. */
export const clockSamples = 20;

/**
 * Whether the node's time service says the clock is synchronized: chrony, then systemd (timesyncd
 * or another NTP client: NTPSynchronized is the kernel's own flag), then ntpd.
 */
export function timeSyncReport(required: boolean): string {
    const threshold = required ? "synchronized by NTP (chrony, systemd-timesyncd or ntpd)" : "not required (harbor-ha:preflight.requireTimeSync false)";
    return `time_sync=FAIL
if out=$(chronyc -n tracking 2>/dev/null); then
  leap=$(awk -F': *' '/^Leap status/ {print $2}' <<<"$out")
  time_source="chrony: leap status \${leap:-unknown}"
  [ -n "$leap" ] && [ "$leap" != "Not synchronised" ] && time_sync=ok
elif v=$(timedatectl show -p NTPSynchronized --value 2>/dev/null) && [ -n "$v" ]; then
  time_source="systemd: NTPSynchronized=$v"
  [ "$v" = yes ] && time_sync=ok
else
  rc=0
  ntpstat >/dev/null 2>&1 || rc=$?
  case $rc in # ntpstat: 0 synchronised, 1 not, 2 no ntpd; 127 not installed
    0) time_source="ntpd: synchronised"; time_sync=ok ;;
    1) time_source="ntpd: not synchronised" ;;
    *) time_source="no time service answers (chronyc, timedatectl, ntpstat)" ;;
  esac
fi
report "time synchronized" "$time_source" ${sq(threshold)} ${required ? "$time_sync" : "ok"}${required ? `
[ "$time_sync" = ok ] || hints+=("node $node: its clock is not kept by NTP, so it drifts from the other nodes' and tokens start failing (goharbor/harbor#15911). Install and enable chrony (or systemd-timesyncd) with the same servers on every node.")` : ""}`;
}
