// Seed step 1 on a node: client, secret file, one fstab line, mount, check, data directory.
import { CephConfig } from "../../config/types";
import { cephFiles, fstabLine } from "../fstab";
import { ensureCmdFn, inlineScript, q, readBundleFn, remoteScript, RemoteScript } from "./shell";

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
# At boot, Docker must not start Harbor before the mount is back: its containers would write to
# the empty directory underneath.
if [ -d /run/systemd/system ]; then
  dropin=/etc/systemd/system/docker.service.d/harbor-ha-cephfs.conf
  want=$(printf '[Unit]\nRequiresMountsFor=%s\n' "$mp")
  if [ "$(cat "$dropin" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$(dirname "$dropin")"
    printf '%s\n' "$want" >"$dropin"
    chmod 0644 "$dropin"
    systemctl daemon-reload
  fi
fi
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
if [ -f /etc/systemd/system/docker.service.d/harbor-ha-cephfs.conf ]; then
  rm -f /etc/systemd/system/docker.service.d/harbor-ha-cephfs.conf
  systemctl daemon-reload || true
fi
echo "cephfs: $mp unmounted; data left on CephFS"
`);
}
