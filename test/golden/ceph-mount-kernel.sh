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

# put_file PATH MODE: stdin -> PATH, only when content or mode differ; counts PUT_CHANGED.
PUT_CHANGED=0
put_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod "$2" "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1" && [ "$(stat -c %a "$1")" = "$(stat -c %a "$tmp")" ]; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$1"
    PUT_CHANGED=$((PUT_CHANGED + 1))
  fi
}

# read_bundle DIR: "<mode> <path> <base64>" lines on stdin -> files; sets BUNDLE_CHANGED.
read_bundle() {
  local dir=$1 mode rel b64 before=$PUT_CHANGED
  while read -r mode rel b64; do
    [ -n "$mode" ] || continue
    mkdir -p "$dir/$(dirname "$rel")"
    put_file "$dir/$rel" "$mode" < <(printf '%s' "$b64" | base64 -d)
  done
  BUNDLE_CHANGED=$((PUT_CHANGED - before))
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
# At boot, Docker must not start Harbor before the mount is back (its containers would write to the
# empty directory underneath), nor before Ceph has given up the session this node had before a crash.
install -d -m 0755 /usr/local/sbin /etc/systemd/system/docker.service.d
units_from=$PUT_CHANGED
put_file /usr/local/sbin/harbor-ha-cephfs-settle 0755 <<'SETTLE'
#!/bin/sh
# harbor-ha: docker.service waits until this node's CephFS session from before its boot is stale.
set -eu
want=$1
age=$(awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { up = $1; next } { sub(/^.*\) /, ""); print int(up - $20 / hz) }' /proc/uptime /proc/1/stat)
if [ "$age" -lt "$want" ]; then
  echo "harbor-ha: CephFS: waiting $((want - age)) s after boot for the MDS to drop this node's previous session" >&2
  sleep $((want - age))
fi
SETTLE
put_file /etc/systemd/system/docker.service.d/harbor-ha-cephfs.conf 0644 <<'DROPIN'
[Unit]
RequiresMountsFor=/mnt/cephfs/harbor
[Service]
ExecStartPre=/usr/local/sbin/harbor-ha-cephfs-settle 70
DROPIN
if [ "$PUT_CHANGED" -gt "$units_from" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
mkdir -p /mnt/cephfs/harbor/data
echo "cephfs: mounted at $mp (kernel client), data in /mnt/cephfs/harbor/data"
}

main; exit 0
