#!/usr/bin/env bash
# Build the harbor-ha LAB installer for Harbor v2: a stand-in for Harbor's v2 offline installer
# with the same layout (harbor/harbor.yml.tmpl, prepare, install.sh, common.sh,
# harbor.<version>.tar.gz) whose images come from Debian packages (see README.md).
#
#   lab/installer-v2/build.sh [--force] [--version v2.15.2] [--schema N]
#
# --version names the images and the tarball; --schema is the newest database schema version
# the core stand-in migrates to, by default the real one of that version (2.10.x 130 ... 2.14.0
# 170, 2.14.1-4 171, 2.15.x 180): two builds with different schemas model an upgrade that
# migrates, e.g. --version v2.14.4 and the default v2.15.2. Output, cached under
# ${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/installer-v2/<recipe-hash>/ (and .../latest/
# for the default version and schema): prints the tarball path on stdout. Shares the Debian base
# layer (and the .deb cache) with lab/installer; needs root only to build missing layers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
v1="$here/../installer"
cache_root="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab"
cache="$cache_root/installer-v2"
version=v2.15.2
schema=""
force=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) force=1 ;;
    --version) version="$2"; shift ;;
    --schema) schema="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "[installer-v2] unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[[ "$version" =~ ^v2\.([0-9]+)\.([0-9]+)$ ]] || { echo "[installer-v2] --version must look like v2.15.2" >&2; exit 2; }
minor_version="2.${BASH_REMATCH[1]}.0"
if [[ -z "$schema" ]]; then
  # Harbor's newest make/migrations/postgresql/ file per release (harbor-v2-facts.md §7).
  case "${BASH_REMATCH[1]}.${BASH_REMATCH[2]}" in
    10.*) schema=130 ;; 11.*) schema=140 ;; 12.*) schema=150 ;; 13.*) schema=160 ;;
    14.0) schema=170 ;; 14.*) schema=171 ;; 15.*) schema=180 ;;
    *) echo "[installer-v2] no known schema for $version: pass --schema" >&2; exit 2 ;;
  esac
fi
[[ "$schema" =~ ^[0-9]+$ && "$schema" -ge 10 ]] || { echo "[installer-v2] --schema must be a number >= 10" >&2; exit 2; }
tgz_name="harbor-lab-offline-installer-${version}.tgz"

log() { printf '[installer-v2] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1fs", e-s}'; }

# shellcheck source=lab/installer/tools/tree-hash.sh
. "$here/../installer/tools/tree-hash.sh"

t_all=$(now)
mkdir -p "$cache"

# 1. lab/installer's Debian base layer: the same key and place its build.sh uses, so the two
#    installers share it; built here (under its lock) when missing.
v1_key=$(tree_hash "$v1" rootfs tools/overlay2layer.py)
v1_rootfs="$cache_root/installer/rootfs-$v1_key"
base_tar="$v1_rootfs/base.tar"
mkdir -p "$cache_root/installer"
(
  exec 8>"$cache_root/installer/.lock"
  flock 8
  if [[ ! -f "$base_tar" || ! -f "$v1_rootfs/mysql.tar" ]]; then
    [[ $(id -u) == 0 ]] || { log "ERROR: building the Debian layers needs root"; exit 1; }
    t=$(now)
    rm -rf "$v1_rootfs"
    bash "$v1/rootfs/mkrootfs.sh" "$v1_rootfs" "$cache_root/installer/debs"
    log "lab/installer's Debian layers built in $(since "$t")"
  fi
)

exec 9>"$cache/.lock"
flock 9

# 2. The v2 layer (packages.v2 on top of base), keyed by the base layer and its own recipe.
layer_key=$(printf '%s %s %s\n' "$v1_key" "$(tree_hash "$here" rootfs)" "$(tree_hash "$v1" tools/overlay2layer.py)" | sha256sum | cut -c1-16)
v2_tar="$cache/layer-$layer_key/v2.tar"
if [[ $force == 1 || ! -f "$v2_tar" ]]; then
  [[ $(id -u) == 0 ]] || { log "ERROR: building the v2 layer needs root"; exit 1; }
  t=$(now)
  rm -rf "$cache/layer-$layer_key"
  mkdir -p "$cache/layer-$layer_key"
  bash "$here/rootfs/mklayer.sh" "$base_tar" "$v2_tar.part" "$cache_root/installer/debs"
  mv "$v2_tar.part" "$v2_tar"
  log "v2 layer built in $(since "$t")"
  find "$cache" -maxdepth 1 -name 'layer-*' ! -name "layer-$layer_key" -exec rm -rf {} +
else
  log "v2 layer cached: $v2_tar"
fi

# 3. The recipe: every file here but the self-test and README, the tools used, the parameters.
recipe=$(printf '%s %s %s %s %s\n' "$(tree_hash "$here" . ! -path ./selftest.sh ! -path './test/*' ! -path ./README.md)" \
  "$(tree_hash "$v1" tools/mkimage.py image/opt/harbor-lab/syslogd.py)" "$layer_key" "$version" "$schema" | sha256sum | cut -c1-16)
out="$cache/$recipe"
log "recipe $recipe ($version, schema $schema; layers $v1_key/$layer_key), cache $cache"
is_default=0
[[ $version == v2.15.2 && $schema == 180 ]] && is_default=1

if [[ $force == 0 && -f "$out/$tgz_name" ]]; then
  log "cached build is up to date ($(since "$t_all"))"
  [[ $is_default == 1 ]] && ln -sfn "$recipe" "$cache/latest"
  echo "$out/$tgz_name"
  exit 0
fi

stage="$(mktemp -d "$cache/.stage.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
h="$stage/harbor"
mkdir -p "$h"
cp -a "$here/tree/." "$h/"
# The tarball carries git's modes, not the checkout's umask (the nodes' non-root users read it).
chmod -R u+rwX,go+rX,go-w "$h"
# The version lands where Harbor's release build puts it (prepare's image tag, _version).
python3 - "$h" "$version" "$minor_version" <<'PY'
import sys
h, version, minor = sys.argv[1:]
for name, marker, value in (("prepare", "__VERSION__", version), ("harbor.yml.tmpl", "__MINOR_VERSION__", minor)):
    path = "%s/%s" % (h, name)
    text = open(path).read()
    assert marker in text, (name, marker)
    open(path, "w").write(text.replace(marker, value))
PY

t=$(now)
# Layer with the lab programs: root-owned, fixed mtime (lab/installer/tools/dir2layer.py).
# The log service's stand-in is the 1.x one (lab/installer/image/opt/harbor-lab/syslogd.py).
cp -a "$here/image" "$stage/image"
install -D -m 0644 "$v1/image/opt/harbor-lab/syslogd.py" "$stage/image/opt/harbor-lab/syslogd.py"
python3 "$here/../installer/tools/dir2layer.py" "$stage/image" "$stage/app.tar" 1751328000

python3 - "$stage/images.json" "$base_tar" "$v2_tar" "$stage/app.tar" "$version" "$schema" "$recipe" <<'PY'
# The image list: Harbor's image names under harbor-lab/, the user Harbor's images run as.
import json, sys
out, base, v2, app, version, schema, recipe = sys.argv[1:]
path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
envs = [path, "PYTHONDONTWRITEBYTECODE=1", "HARBOR_LAB_VERSION=" + version, "HARBOR_LAB_SCHEMA=" + schema]
labels = {"harbor-lab.recipe": recipe, "harbor-lab.schema": schema}
def image(name, layers, **config):
    config.setdefault("Env", envs)
    config["Labels"] = labels
    return {"tag": "harbor-lab/%s:%s" % (name, version), "layers": layers, "config": config}
py = lambda prog: ["/usr/bin/python3", "-u", "/opt/harbor-lab-v2/" + prog]
spec = {
    "layers": {"base": base, "v2": v2, "app": app},
    "created": "2026-07-01T00:00:00Z",
    "images": [
        image("prepare", ["base", "v2", "app"], Entrypoint=py("prepare/main.py"), Cmd=["prepare"]),
        image("harbor-log", ["base", "app"], Cmd=["/usr/bin/python3", "-u", "/opt/harbor-lab/syslogd.py", "10514"],
              ExposedPorts={"10514/tcp": {}}),
        image("harbor-core", ["base", "v2", "app"], Cmd=py("core.py"), User="10000:10000",
              ExposedPorts={"8080/tcp": {}}),
        image("harbor-jobservice", ["base", "v2", "app"], Cmd=py("jobservice.py"), User="10000:10000",
              ExposedPorts={"8080/tcp": {}}),
        image("harbor-registryctl", ["base", "v2", "app"], Cmd=py("registryctl.py"), User="10000:10000",
              ExposedPorts={"8080/tcp": {}}),
        image("registry-photon", ["base"], Entrypoint=["/usr/bin/docker-registry"],
              Cmd=["serve", "/etc/registry/config.yml"], User="10000:10000", ExposedPorts={"5000/tcp": {}}),
        image("nginx-photon", ["base"], Cmd=["nginx", "-g", "daemon off;"], User="10000:10000",
              ExposedPorts={"8080/tcp": {}, "8443/tcp": {}}),
        image("harbor-portal", ["base", "v2", "app"], Cmd=["nginx", "-g", "daemon off;"], User="10000:10000",
              ExposedPorts={"8080/tcp": {}}),
    ],
}
json.dump(spec, open(out, "w"), indent=1)
PY
python3 "$v1/tools/mkimage.py" "$stage/images.json" "$h/harbor.$version.tar.gz" >&2
log "image archive harbor.$version.tar.gz ($(du -h "$h/harbor.$version.tar.gz" | cut -f1)) in $(since "$t")"

t=$(now)
tar --numeric-owner --owner=0 --group=0 -C "$stage" -cf - harbor | gzip -1 -n >"$stage/$tgz_name"
{
  echo "recipe=$recipe"
  echo "version=$version schema=$schema"
  echo "layers=base:$v1_key v2:$layer_key"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "images=harbor-lab/{prepare,harbor-log,harbor-core,harbor-jobservice,harbor-registryctl,registry-photon,nginx-photon,harbor-portal}:$version"
  (cd "$stage" && sha256sum "$tgz_name")
} >"$stage/BUILD-INFO"
log "tarball $tgz_name ($(du -h "$stage/$tgz_name" | cut -f1)) in $(since "$t")"

rm -rf "$stage/harbor" "$stage/app.tar" "$stage/images.json"
rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
chmod 0755 "$out"
[[ $is_default == 1 ]] && ln -sfn "$recipe" "$cache/latest"
# Keep the four newest builds (two versions/schemas side by side, plus history).
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype egrep -regex '.*/[0-9a-f]{16}' -printf '%T@ %p\n' \
  | sort -rn | tail -n +5 | cut -d' ' -f2- | xargs -r rm -rf
log "built in $(since "$t_all")"
echo "$out/$tgz_name"
