// Seed step 1 on a node: client, secret file, one fstab line, mount, check, data directory.
import { CephConfig } from "../../config/types";
import { cephFiles, fstabLine } from "../fstab";
import { ensureCmdFn, inlineScript, q, readBundleFn, remoteScript, RemoteScript } from "./shell";

const dropinDir = "/etc/systemd/system/docker.service.d";
const dropinPath = `${dropinDir}/harbor-ha-cephfs.conf`;
const settlePath = "/usr/local/sbin/harbor-ha-cephfs-settle";
/** The MDS looks for sessions past session_timeout on its tick (mds_tick_interval, 5 s): twice that. */
const mdsTickMarginSeconds = 10;

/**
 * docker.service's ExecStartPre. A node that crashed left a CephFS session whose capabilities the
 * MDS revokes only once the session is stale (session_timeout after its last renewal, which came
 * before this boot). Until then a write to a file the dead session had open waits for them, and
 * every other node's lookups of that file queue behind the write. Measured with Harbor 1.x's
 * config.json while it was shared (now node-local, render/flavors/v1.ts): a node back within
 * session_timeout stalled the whole cluster for 46 s. Any shared file the dead session held does
 * the same. The age of PID 1 is the time since boot (on a VM, and in the lab's VM containers).
 */
export const cephSettleScript = `#!/bin/sh
# harbor-ha: docker.service waits until this node's CephFS session from before its boot is stale.
set -eu
want=$1
age=$(awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { up = $1; next } { sub(/^.*\\) /, ""); print int(up - $20 / hz) }' /proc/uptime /proc/1/stat)
if [ "$age" -lt "$want" ]; then
  echo "harbor-ha: CephFS: waiting $((want - age)) s after boot for the MDS to drop this node's previous session" >&2
  sleep $((want - age))
fi
`;

export function dropin(c: CephConfig): string {
    return `[Unit]
RequiresMountsFor=${c.mountPoint}
[Service]
ExecStartPre=${settlePath} ${c.sessionTimeoutSeconds + mdsTickMarginSeconds}
`;
}

/** The bundle (stdin) carries the secret file and, for fuse, the client conf, relative to /etc/ceph. */
export function cephMountScript(c: CephConfig, dataPath: string): RemoteScript {
    const client = c.client === "kernel"
        ? `ensure_cmd mount.ceph ceph-common ceph-common`
        : `ensure_cmd ceph-fuse ceph-fuse ceph-fuse`;
    return remoteScript("mount CephFS", `
mp=${q(c.mountPoint)}
line=${q(fstabLine(c))}
${client}
mkdir -p /etc/ceph
chmod 0755 /etc/ceph
read_bundle /etc/ceph
# Exactly one fstab line for the mount point: any other line for it is replaced.
want=$(awk -v mp="$mp" '$2 != mp' /etc/fstab; printf '%s\\n' "$line")
if [ "$want" != "$(cat /etc/fstab)" ]; then
  cp -p /etc/fstab /etc/fstab.harbor-ha.bak
  tmp=$(mktemp /etc/fstab.XXXXXX)
  printf '%s\\n' "$want" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" /etc/fstab
  echo "fstab: line for $mp written"
fi
mkdir -p "$mp"
if mountpoint -q "$mp"; then
  if [ "$BUNDLE_CHANGED" -gt 0 ]; then echo "credentials changed: remounting $mp"; umount "$mp"; mount "$mp"; fi
else
  mount "$mp"
fi
mountpoint -q "$mp" || { echo "CephFS is not mounted at $mp after mount" >&2; exit 1; }
# At boot, Docker must not start Harbor before the mount is back (its containers would write to the
# empty directory underneath), nor before Ceph has given up the session this node had before a crash.
install -d -m 0755 /usr/local/sbin ${q(dropinDir)}
units_from=$PUT_CHANGED
put_file ${q(settlePath)} 0755 <<'SETTLE'
${cephSettleScript}SETTLE
put_file ${q(dropinPath)} 0644 <<'DROPIN'
${dropin(c)}DROPIN
if [ "$PUT_CHANGED" -gt "$units_from" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
mkdir -p ${q(dataPath)}
echo "cephfs: mounted at $mp (${c.client} client), data in ${dataPath}"
`, [ensureCmdFn, readBundleFn]);
}

/** Unmounts and forgets the mount; Harbor's data on CephFS is never touched. */
export function cephUnmountScript(c: CephConfig): string {
    const f = cephFiles(c);
    const files = [f.secretPath, ...(f.confPath ? [f.confPath] : [])];
    return inlineScript("unmount CephFS (data kept)", `
mp=${q(c.mountPoint)}
if mountpoint -q "$mp"; then umount "$mp" || umount -l "$mp"; fi
if awk -v mp="$mp" '$2 == mp {found=1} END {exit !found}' /etc/fstab; then
  tmp=$(mktemp /etc/fstab.XXXXXX)
  awk -v mp="$mp" '$2 != mp' /etc/fstab >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" /etc/fstab
fi
rm -f ${files.map(q).join(" ")}
rm -f ${q(settlePath)}
if [ -f ${q(dropinPath)} ]; then
  rm -f ${q(dropinPath)}
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
echo "cephfs: $mp unmounted; data left on CephFS"
`);
}
