#!/usr/bin/env bash
# Build a layer: what installing a package list (default packages.v2) adds on top of
# lab/installer's base layer, captured with overlayfs and converted by
# lab/installer/tools/overlay2layer.py (no Docker). The self-test's database image uses it too.
# usage: mklayer.sh BASE_TAR OUT_TAR DEB_CACHE_DIR [PACKAGES_FILE]      (root: chroot, mounts)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/../../installer/tools"
base_tar="$1"
out="$2"
debcache="$3"
packages="${4:-$here/packages.v2}"
suite=bookworm
mirror="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${LAB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

log() { printf '[installer-v2] layer: %s\n' "$*" >&2; }
pkgs() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1" | tr '\n' ' '; }

mkdir -p "$debcache"
work="$(mktemp -d "${out}.work.XXXXXX")"
cleanup() {
  local m
  # Deepest first: everything still mounted below the work directory.
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r)
  rm -rf "$work"
}
trap cleanup EXIT

t0=$(date +%s)
mkdir -p "$work/base" "$work/upper" "$work/ovl-work" "$work/merged"
tar --numeric-owner -C "$work/base" -xf "$base_tar"
mount -t overlay overlay -o "lowerdir=$work/base,upperdir=$work/upper,workdir=$work/ovl-work" "$work/merged"
r="$work/merged"
# Same apt set-up as lab/installer/rootfs/mkrootfs.sh (the base layer already has the no-docs rule).
printf '#!/bin/sh\n# no service starts while building an image\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
chmod 0755 "$r/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$r/etc/resolv.conf"
cat >"$r/etc/apt/sources.list" <<LIST
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
LIST
mount -t proc proc "$r/proc"
# The base layer carries no device nodes (/dev/null for apt-key and maintainer scripts).
mount --bind /dev "$r/dev"
mkdir -p "$r/var/cache/apt/archives"
mount --bind "$debcache" "$r/var/cache/apt/archives"
apt_in() {
  chroot "$r" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get \
    -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -q "$@"
}
apt_in update >/dev/null
log "installing: $(pkgs "$packages")"
# shellcheck disable=SC2046
apt_in install -y $(pkgs "$packages") >"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; exit 1; }
umount "$r/var/cache/apt/archives"
umount "$r/proc"
umount "$r/dev"
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/debconf/*-old \
       "$r"/var/log/apt/* "$r"/var/log/dpkg.log "$r"/var/log/alternatives.log "$r"/tmp/* "$r"/root/.cache
: >"$r/etc/resolv.conf"
umount "$r"
python3 "$tools/overlay2layer.py" "$work/upper" "$work/v2.tar" "$work/base" >&2
mv "$work/v2.tar" "$out"
log "$(du -h "$out" | cut -f1) in $(( $(date +%s) - t0 ))s"
