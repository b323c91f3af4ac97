bash -c "$(cat <<'HARBOR_HA_SCRIPT'
# harbor-ha: unmount CephFS (data kept)

set -euo pipefail
umask 077
export LC_ALL=C

exec </dev/null

mp=/mnt/cephfs/harbor
if mountpoint -q "$mp"; then umount "$mp" || umount -l "$mp"; fi
if awk -v mp="$mp" '$2 == mp {found=1} END {exit !found}' /etc/fstab; then
  tmp=$(mktemp /etc/fstab.XXXXXX)
  awk -v mp="$mp" '$2 != mp' /etc/fstab >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" /etc/fstab
fi
rm -f /etc/ceph/ceph.client.harbor.keyring /etc/ceph/harbor-ha.conf
rm -f /usr/local/sbin/harbor-ha-cephfs-settle
if [ -f /etc/systemd/system/docker.service.d/harbor-ha-cephfs.conf ]; then
  rm -f /etc/systemd/system/docker.service.d/harbor-ha-cephfs.conf
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
echo "cephfs: $mp unmounted; data left on CephFS"
HARBOR_HA_SCRIPT
)"