// Harbor's containers at boot. Docker starts every container with a restart policy at once when it
// starts, in no order; each Harbor service logs through the `log` service (the syslog logging
// driver, tcp to the port the log container publishes), and a container whose logging driver
// cannot connect fails to start, which Docker does not retry. So a node back from a power loss could
// stay out of the cluster with only `log` and a few others up (goharbor/harbor#7008, #12063,
// #12334; Harbor ships tools/systemd/harbor.service for it). A unit after docker.service and the
// CephFS mount starts the log service, waits until every port it publishes accepts a connection (what
// the logging driver dials), then brings the rest up.

/** Where the deploy installs the unit and the script it runs; the stop removes both. */
export const bootUnit = { name: "harbor-ha.service", path: "/etc/systemd/system/harbor-ha.service", script: "/usr/local/sbin/harbor-ha-boot" } as const;

/** Only the unit tests, which run the scripts in a scratch directory, set a root for the unit's files. */
export const sysrootLine = `sysroot=\${HARBOR_HA_SYSROOT:-}`;

/** Seconds the boot script waits for the log service's ports. */
const logWaitSeconds = 60;

/** The script the unit runs: $1 is the install directory. `compose` is the flavor's compose function. */
export function bootScript(composeFn: string): string {
    return `#!/bin/bash
# harbor-ha: Harbor's compose project at boot, its log service first (${bootUnit.path}).
set -euo pipefail
cd "$1"
${composeFn}
# Not piped into grep -q: under pipefail its early exit would fail the pipe (SIGPIPE) at random.
services=$(compose config --services)
if grep -qx log <<<"$services"; then
  compose up -d log
  up=0
  for _ in $(seq ${logWaitSeconds}); do
    up=1
    while read -r addr; do
      (exec 3<>"/dev/tcp/\${addr%:*}/\${addr##*:}") 2>/dev/null || up=0
    done < <(docker port "$(compose ps -q log)" | awk '$2 == "->" {print $3}')
    [ "$up" = 1 ] && break
    sleep 1
  done
  [ "$up" = 1 ] || echo "harbor-ha: the log service's ports do not accept connections after ${logWaitSeconds} s; starting the rest anyway" >&2
fi
compose up -d
`;
}

/** The unit: once Docker runs and the CephFS mount is there; oneshot, it leaves the containers to Docker. */
export function bootUnitFile(installDir: string, mountPoint: string): string {
    return `[Unit]
Description=harbor-ha: Harbor's containers in ${installDir}, the log service first
Documentation=https://github.com/goharbor/harbor/issues/7008
Requires=docker.service
After=docker.service
RequiresMountsFor=${mountPoint}
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${bootUnit.script} ${installDir}
TimeoutStartSec=600
[Install]
WantedBy=multi-user.target
`;
}

/** Deploy-script lines: install and enable the unit (after the node is healthy). */
export function installBootUnitScript(installDir: string, mountPoint: string, composeFn: string): string {
    return `# At boot Docker starts Harbor's containers in no order; the unit starts them the way they need.
${sysrootLine}
install -d -m 0755 "$sysroot/usr/local/sbin" "$sysroot/etc/systemd/system"
units_from=$PUT_CHANGED
put_file "$sysroot${bootUnit.script}" 0755 <<'HARBOR_HA_BOOT'
${bootScript(composeFn)}HARBOR_HA_BOOT
put_file "$sysroot${bootUnit.path}" 0644 <<'HARBOR_HA_UNIT'
${bootUnitFile(installDir, mountPoint)}HARBOR_HA_UNIT
if [ "$PUT_CHANGED" -gt "$units_from" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
systemctl enable --quiet ${bootUnit.name}`;
}

/** Stop-script lines: a node whose Harbor was stopped on purpose does not start it at boot. */
export const removeBootUnitScript = `${sysrootLine}
if [ -f "$sysroot${bootUnit.path}" ]; then
  systemctl disable --quiet ${bootUnit.name} || true
  rm -f "$sysroot${bootUnit.path}" "$sysroot${bootUnit.script}"
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi`;
