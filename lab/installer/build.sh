#!/usr/bin/env bash
# Build the harbor-ha LAB installer: a stand-in for Harbor v1.2.2's offline installer with the
# same layout (harbor/harbor.cfg, prepare, install.sh, docker-compose.yml, common/templates/,
# harbor.v1.2.2.tar.gz) whose images come from Debian packages (see README.md).
#
#   lab/installer/build.sh [--force]
#
# Output, cached under ${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/installer/<recipe-hash>/
# where the recipe hash covers every file under lab/installer/ (but selftest.sh); prints two
# paths on stdout:
#   .../harbor-lab-installer-v1.2.2.tgz
#   .../registry.sql
# (also reachable as .../lab/installer/latest/). Needs root (debootstrap, chroot, overlayfs)
# only when the Debian layers are not cached yet; never needs a Docker engine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/installer"
version=v1.2.2
tgz_name="harbor-lab-installer-${version}.tgz"
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "[installer] unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[installer] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1fs", e-s}'; }

# shellcheck source=lab/installer/tools/tree-hash.sh
. "$here/tools/tree-hash.sh"

t_all=$(now)
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# The recipe: every file under lab/installer/ except the self-test, which builds nothing.
recipe=$(tree_hash "$here" . ! -path ./selftest.sh)
rootfs_key=$(tree_hash "$here" rootfs tools/overlay2layer.py)
out="$cache/$recipe"
log "recipe $recipe (Debian layers $rootfs_key), cache $cache"

if [[ $force == 0 && -f "$out/$tgz_name" && -f "$out/registry.sql" ]]; then
  log "cached build is up to date ($(since "$t_all"))"
  ln -sfn "$recipe" "$cache/latest"
  echo "$out/$tgz_name"
  echo "$out/registry.sql"
  exit 0
fi

# 1. Debian layers (slow, cached on their own key so code changes do not redo them).
rootfs="$cache/rootfs-$rootfs_key"
if [[ $force == 1 || ! -f "$rootfs/base.tar" || ! -f "$rootfs/mysql.tar" ]]; then
  [[ $(id -u) == 0 ]] || { log "ERROR: building the Debian layers needs root"; exit 1; }
  for tool in debootstrap chroot mount python3 gzip openssl; do
    command -v "$tool" >/dev/null || { log "ERROR: $tool is required"; exit 1; }
  done
  t=$(now)
  rm -rf "$rootfs"
  bash "$here/rootfs/mkrootfs.sh" "$rootfs" "$cache/debs"
  log "Debian layers built in $(since "$t")"
  # Older layer builds are dead weight.
  find "$cache" -maxdepth 1 -name 'rootfs-*' ! -name "rootfs-$rootfs_key" -exec rm -rf {} +
else
  log "Debian layers cached: $rootfs"
fi

# 2. Assemble the installer in a scratch directory, then move it into place.
stage="$(mktemp -d "$cache/.stage.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
h="$stage/harbor"
mkdir -p "$h"
cp -a "$here/tree/." "$h/"
# The tarball carries git's modes, not the checkout's umask (the nodes' non-root users read it).
chmod -R u+rwX,go+rX,go-w "$h"
find "$h" \( -name '__pycache__' -o -name '*.pyc' \) -prune -exec rm -rf {} +

t=$(now)
# Layer with the lab programs: root-owned, fixed mtime (lab/installer/tools/dir2layer.py).
python3 "$here/tools/dir2layer.py" "$here/image" "$stage/app.tar" 1512086400

cat >"$stage/images.json" <<EOF
{
  "layers": {"base": "$rootfs/base.tar", "mysql": "$rootfs/mysql.tar", "app": "$stage/app.tar"},
  "created": "2017-12-01T00:00:00Z",
  "images": [
    {"tag": "harbor-lab/harbor-log:$version", "layers": ["base", "app"],
     "config": {"Cmd": ["/usr/bin/python3", "-u", "/opt/harbor-lab/syslogd.py", "514"],
                "ExposedPorts": {"514/tcp": {}}, "Labels": {"harbor-lab.recipe": "$recipe"}}},
    {"tag": "harbor-lab/registry:$version", "layers": ["base", "app"],
     "config": {"Entrypoint": ["/usr/bin/docker-registry"], "Cmd": ["serve", "/etc/registry/config.yml"],
                "ExposedPorts": {"5000/tcp": {}}, "Labels": {"harbor-lab.recipe": "$recipe"}}},
    {"tag": "harbor-lab/mysql:$version", "layers": ["base", "mysql", "app"],
     "config": {"Entrypoint": ["/usr/local/bin/harbor-lab-mysql"], "ExposedPorts": {"3306/tcp": {}},
                "Labels": {"harbor-lab.recipe": "$recipe"}}},
    {"tag": "harbor-lab/adminserver:$version", "layers": ["base", "app"],
     "config": {"Cmd": ["/usr/bin/python3", "-u", "/opt/harbor-lab/adminserver.py"],
                "ExposedPorts": {"80/tcp": {}}, "Labels": {"harbor-lab.recipe": "$recipe"}}},
    {"tag": "harbor-lab/ui:$version", "layers": ["base", "app"],
     "config": {"Cmd": ["/usr/bin/python3", "-u", "/opt/harbor-lab/ui.py"],
                "ExposedPorts": {"80/tcp": {}}, "Labels": {"harbor-lab.recipe": "$recipe"}}},
    {"tag": "harbor-lab/proxy:$version", "layers": ["base", "app"],
     "config": {"Cmd": ["nginx", "-g", "daemon off;"], "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
                "Labels": {"harbor-lab.recipe": "$recipe"}}}
  ]
}
EOF
python3 "$here/tools/mkimage.py" "$stage/images.json" "$h/harbor.$version.tar.gz" >&2
log "image archive harbor.$version.tar.gz ($(du -h "$h/harbor.$version.tar.gz" | cut -f1)) in $(since "$t")"

# The default token keypair shipped in the installer (what customize_crt = off copies). Made
# fresh per build, so it never lives in git -- but everyone with this tarball knows it.
t=$(now)
openssl genrsa -out "$h/common/templates/ui/private_key.pem" 4096 2>/dev/null
openssl req -new -x509 -key "$h/common/templates/ui/private_key.pem" \
  -out "$h/common/templates/registry/root.crt" -days 3650 -subj "/CN=harbor-lab-default-token-issuer" 2>/dev/null
chmod 0644 "$h/common/templates/ui/private_key.pem" "$h/common/templates/registry/root.crt"
log "default token keypair generated in $(since "$t")"

t=$(now)
tar --numeric-owner --owner=0 --group=0 -C "$stage" -cf - harbor | gzip -1 -n >"$stage/$tgz_name"
cp "$here/image/opt/harbor-lab/registry.sql" "$stage/registry.sql"
{
  echo "recipe=$recipe"
  echo "debian_layers=$rootfs_key"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "images=harbor-lab/{harbor-log,registry,mysql,adminserver,ui,proxy}:$version"
  (cd "$stage" && sha256sum "$tgz_name" registry.sql)
} >"$stage/BUILD-INFO"
log "tarball $tgz_name ($(du -h "$stage/$tgz_name" | cut -f1)) in $(since "$t")"

rm -rf "$stage/harbor" "$stage/app.tar" "$stage/images.json"
rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
chmod 0755 "$out"
ln -sfn "$recipe" "$cache/latest"
# Keep the three newest builds.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype egrep -regex '.*/[0-9a-f]{16}' -printf '%T@ %p\n' \
  | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -rf
log "built in $(since "$t_all")"
echo "$out/$tgz_name"
echo "$out/registry.sql"
