#!/usr/bin/env bash
# Build the Debian filesystem layers of the lab images (no Docker needed, root needed):
#   OUT/base.tar   debootstrap minbase + packages.base      (registry, ui, adminserver, proxy)
#   OUT/mysql.tar  the files that installing packages.mysql adds on top of base (an overlayfs
#                  upper directory converted to a Docker layer, whiteouts included)
# usage: mkrootfs.sh OUT_DIR DEB_CACHE_DIR
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
debcache="$2"
suite=bookworm
mirror="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${LAB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

log() { printf '[installer] rootfs: %s\n' "$*" >&2; }
pkgs() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1" | tr '\n' ' '; }

mkdir -p "$debcache" "$(dirname "$out")"
work="$(mktemp -d "${out}.work.XXXXXX")"

unmount_all() {
  local m
  # Deepest first: everything mounted below the work directory.
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r)
}
cleanup() {
  unmount_all
  rm -rf "$work"
}
trap cleanup EXIT

# Prepare a root for running apt-get inside it.
enter() {
  local r="$1"
  install -m 0644 "$here/dpkg-nodoc.cfg" "$r/etc/dpkg/dpkg.cfg.d/90-harbor-lab-nodoc"
  printf '#!/bin/sh\n# no service starts while building an image\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 0755 "$r/usr/sbin/policy-rc.d"
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
  cat >"$r/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
EOF
  mount -t proc proc "$r/proc"
  mkdir -p "$r/var/cache/apt/archives"
  mount --bind "$debcache" "$r/var/cache/apt/archives"
}

# Undo enter() and drop everything that only served the build.
leave() {
  local r="$1"
  umount "$r/var/cache/apt/archives"
  umount "$r/proc"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/debconf/*-old \
         "$r"/var/log/apt/* "$r"/var/log/dpkg.log "$r"/var/log/alternatives.log "$r"/tmp/* \
         "$r"/root/.cache
  : >"$r/etc/resolv.conf"
}

apt_in() {
  local r="$1"; shift
  chroot "$r" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get \
    -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -q "$@"
}

t0=$(date +%s)
log "debootstrap --variant=minbase $suite ($mirror)"
debootstrap --variant=minbase --cache-dir="$debcache" "$suite" "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
log "debootstrap done in $(( $(date +%s) - t0 ))s"

enter "$work/base"
apt_in "$work/base" update >/dev/null
log "installing base packages: $(pkgs "$here/packages.base")"
# shellcheck disable=SC2046
apt_in "$work/base" install -y $(pkgs "$here/packages.base") >"$work/apt-base.log" 2>&1 \
  || { tail -n 30 "$work/apt-base.log" >&2; exit 1; }
leave "$work/base"
# The minbase install predates the no-docs rule: trim it too.
find "$work/base/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
rm -rf "$work/base"/usr/share/man/* "$work/base"/usr/share/info/* "$work/base"/usr/share/locale/*
tar --numeric-owner -C "$work/base" -cf "$work/base.tar" \
  --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' .
log "base layer $(du -h "$work/base.tar" | cut -f1) after $(( $(date +%s) - t0 ))s"

# mysql layer = what installing mariadb changes on top of base, captured with overlayfs.
mkdir -p "$work/upper" "$work/ovl-work" "$work/merged"
mount -t overlay overlay \
  -o "lowerdir=$work/base,upperdir=$work/upper,workdir=$work/ovl-work" "$work/merged"
enter "$work/merged"
apt_in "$work/merged" update >/dev/null
log "installing mysql packages: $(pkgs "$here/packages.mysql")"
# shellcheck disable=SC2046
apt_in "$work/merged" install -y $(pkgs "$here/packages.mysql") >"$work/apt-mysql.log" 2>&1 \
  || { tail -n 30 "$work/apt-mysql.log" >&2; exit 1; }
leave "$work/merged"
# The image's entrypoint initialises the data directory on its volume.
rm -rf "$work/merged"/var/lib/mysql/*
# MariaDB ships ~30 admin tools of ~5 MB each; the lab needs only these (plus the server).
keep=" $(pkgs "$here/mysql-keep-bin") "
while IFS= read -r -d '' f; do
  name="${f##*/}"
  [[ "$keep" == *" $name "* || -e "$work/base/usr/bin/$name" ]] || rm -f "$f"
done < <(find "$work/merged/usr/bin" -maxdepth 1 -type f -size +1M -print0)
umount "$work/merged"
python3 "$here/../tools/overlay2layer.py" "$work/upper" "$work/mysql.tar" "$work/base"
log "mysql layer $(du -h "$work/mysql.tar" | cut -f1) after $(( $(date +%s) - t0 ))s"

mkdir -p "$out"
mv "$work/base.tar" "$work/mysql.tar" "$out/"
{
  echo "suite=$suite mirror=$mirror"
  echo "base: $(pkgs "$here/packages.base")"
  echo "mysql: $(pkgs "$here/packages.mysql")"
  date -u +built=%Y-%m-%dT%H:%M:%SZ
} >"$out/INFO"
log "done in $(( $(date +%s) - t0 ))s"
