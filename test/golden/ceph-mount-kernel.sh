# harbor-ha: mount CephFS

set -euo pipefail
umask 077
export LC_ALL=C

# ensure_cmd COMMAND DEB_PACKAGE RPM_PACKAGE
ensure_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (for $1)"
  if command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; }
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y -q "$3" >/dev/null
  else
    echo "$1 is missing and there is no apt-get or dnf to install it" >&2
    return 1
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "$1 is still missing after installing $2" >&2; return 1; }
}

# read_bundle DIR: "<mode> <path> <base64>" lines on stdin -> files; sets BUNDLE_CHANGED.
read_bundle() {
  local dir=$1 mode rel b64 tmp
  BUNDLE_CHANGED=0
  while read -r mode rel b64; do
    [ -n "$mode" ] || continue
    mkdir -p "$dir/$(dirname "$rel")"
    tmp=$(mktemp "$dir/$rel.XXXXXX")
    printf '%s' "$b64" | base64 -d >"$tmp"
    chmod "$mode" "$tmp"
    if [ -f "$dir/$rel" ] && cmp -s "$tmp" "$dir/$rel" && [ "$(stat -c %a "$dir/$rel")" = "$(stat -c %a "$tmp")" ]; then
      rm -f "$tmp"
    else
      mv -f "$tmp" "$dir/$rel"
      BUNDLE_CHANGED=$((BUNDLE_CHANGED + 1))
    fi
  done
}

main() {
mp=/mnt/cephfs/harbor
line='10.0.0.21:6789,10.0.0.22:6789:/apps/harbor /mnt/cephfs/harbor ceph name=harbor,secretfile=/etc/ceph/harbor.secret,noatime,_netdev 0 2'
ensure_cmd mount.ceph ceph-common ceph-common
mkdir -p /etc/ceph
chmod 0755 /etc/ceph
read_bundle /etc/ceph
# Exactly one fstab line for the mount point: any other line for it is replaced.
want=$(awk -v mp="$mp" '$2 != mp' /etc/fstab; printf '%s\n' "$line")
if [ "$want" != "$(cat /etc/fstab)" ]; then
  cp -p /etc/fstab /etc/fstab.harbor-ha.bak
  tmp=$(mktemp /etc/fstab.XXXXXX)
  printf '%s\n' "$want" >"$tmp"
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
  want=$(printf '[Unit]
RequiresMountsFor=%s
' "$mp")
  if [ "$(cat "$dropin" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$(dirname "$dropin")"
    printf '%s
' "$want" >"$dropin"
    chmod 0644 "$dropin"
    systemctl daemon-reload
  fi
fi
mkdir -p /mnt/cephfs/harbor/data
echo "cephfs: mounted at $mp (kernel client), data in /mnt/cephfs/harbor/data"
}

main; exit 0
