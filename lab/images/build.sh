#!/usr/bin/env bash
# Build the lab images from a debootstrap rootfs (no registry is reachable, nothing is pulled).
#
#   lab/images/build.sh [--force] [--build-only] [vm|svc ...]        (default: all images)
#
# Two stages per image (hashes: lab/scripts/lib.sh):
#   1. base  harbor-ha-lab/<name>-base:<base hash>: debootstrap (bookworm, minbase) + apt-get install
#      of lab/images/<name>/packages in a chroot, slimmed, tarred to
#      ${LAB_CACHE}/rootfs/<name>-<base hash>.tar.zst and `docker import`ed. A fresh engine only
#      re-imports the cached tarball; the .debs are cached in ${LAB_CACHE}/debs.
#   2. image harbor-ha-lab/<name>:<image hash>: `docker build` of lab/images/<name>/ (Dockerfile +
#      rootfs/ overlay: init scripts, configs) on the base. Editing a script rebuilds only this.
#      Files built on the host (lab/images/<name>/built-files, e.g. the Docker Compose v2 plugin
#      from scripts/toolchain/compose.sh) are added to this layer's context under built/; their
#      builders run in the background while the base is made, and a new builder key (version)
#      makes a new image hash, so only this thin layer is rebuilt.
# Existing tags are skipped. The image tag is also tagged harbor-ha-lab/<name>:current and
# recorded in ${LAB_CACHE}/images.json. --force rebuilds the base rootfs too. --build-only builds
# and tags <name>:<image hash> only: no :current, images.json or pruning of older tags and
# tarballs, so a new recipe can be built beside a lab that is in use.
set -euo pipefail
# shellcheck source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

SUITE="$LAB_SUITE"
MIRROR="${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${LAB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
IMAGES_DIR="${LAB_ROOT}/images"
ROOTFS_CACHE="${LAB_CACHE}/rootfs"
DEB_CACHE="${LAB_CACHE}/debs"
BUILD_DIR="${LAB_CACHE}/build"
ALL_IMAGES=(vm svc)

FORCE=0
BUILD_ONLY=0
names=()
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --build-only) BUILD_ONLY=1 ;;
    vm|svc) names+=("$a") ;;
    *) lab_die "unknown argument '$a' (usage: build.sh [--force] [--build-only] [vm|svc ...])" ;;
  esac
done
(( ${#names[@]} )) || names=("${ALL_IMAGES[@]}")

ensure_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v zstd >/dev/null || missing+=(zstd)
  if (( ${#missing[@]} )); then
    lab_log "installing ${missing[*]} (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    }
  fi
}

# Unmount everything below a chroot (used on success and on failure).
release_chroot() {
  local root="$1" m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
    awk -v r="$root/" 'index($2, r) == 1 {print $2}' /proc/self/mounts | sort -r)
}

make_rootfs() {
  local name="$1" hash="$2" out="$3"
  local root="${BUILD_DIR}/${name}-${hash}"
  local pkgs; pkgs=$(grep -v '^\s*#' "${IMAGES_DIR}/${name}/packages" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
  release_chroot "$root"; rm -rf "$root"; mkdir -p "$root" "$DEB_CACHE/debootstrap" "$DEB_CACHE/apt/partial"
  trap 'release_chroot "'"$root"'"' EXIT

  local t; t=$(lab_now)
  lab_log "[$name] debootstrap ${SUITE} minbase"
  if ! debootstrap --variant=minbase --cache-dir="$DEB_CACHE/debootstrap" "$SUITE" "$root" "$MIRROR" \
      >"${LAB_LOG}/debootstrap-${name}.log" 2>&1; then
    tail -n 20 "${LAB_LOG}/debootstrap-${name}.log" >&2
    lab_die "[$name] debootstrap failed (log: ${LAB_LOG}/debootstrap-${name}.log)"
  fi
  lab_log "[$name] debootstrap done in $(lab_since "$t")"

  t=$(lab_now)
  cat >"$root/etc/apt/sources.list" <<EOF
deb ${MIRROR} ${SUITE} main
deb ${MIRROR} ${SUITE}-updates main
deb ${SECURITY_MIRROR} ${SUITE}-security main
EOF
  # Daemons must never start inside the build chroot (they would run on this host).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  cat >"$root/etc/apt/apt.conf.d/90lab" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/90lab-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  mount --bind "$DEB_CACHE/apt" "$root/var/cache/apt/archives"
  lab_log "[$name] apt-get install: ${pkgs}"
  if ! chroot "$root" /bin/sh -c "export DEBIAN_FRONTEND=noninteractive LC_ALL=C; apt-get update -qq && apt-get install -y -qq ${pkgs}" \
      >"${LAB_LOG}/apt-${name}.log" 2>&1; then
    tail -n 30 "${LAB_LOG}/apt-${name}.log" >&2
    lab_die "[$name] apt-get install failed in chroot (log: ${LAB_LOG}/apt-${name}.log)"
  fi
  # Node setup scripts the README tells users to run (e.g. Python 2 for Harbor 1.x's prepare),
  # run here exactly as on a real node.
  local script
  while read -r script; do
    lab_log "[$name] in the chroot: ${script}"
    if ! chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C DEBIAN_ARCHIVE="$MIRROR" sh -s \
        <"${LAB_ROOT}/../${script}" >>"${LAB_LOG}/apt-${name}.log" 2>&1; then
      tail -n 30 "${LAB_LOG}/apt-${name}.log" >&2
      lab_die "[$name] ${script} failed in chroot (log: ${LAB_LOG}/apt-${name}.log)"
    fi
  done < <(lab_chroot_scripts "$name")
  release_chroot "$root"
  lab_log "[$name] packages installed in $(lab_since "$t")"

  # Slim down and make the image host-neutral.
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf" "$root"/etc/ssh/ssh_host_*
  : >"$root/etc/machine-id"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
         "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/* \
         "$root"/usr/share/doc/*/changelog* "$root"/usr/share/man/* "$root"/usr/share/info/*
  find "$root/usr/lib/python3" -name '__pycache__' -type d -prune -exec rm -rf {} + 2>/dev/null || true

  t=$(lab_now)
  mkdir -p "$(dirname "$out")"
  tar --numeric-owner --xattrs -C "$root" -c . | zstd -q -T2 -3 -o "$out.tmp"
  mv "$out.tmp" "$out"
  trap - EXIT
  rm -rf "$root"
  lab_log "[$name] rootfs tarball $(du -h "$out" | cut -f1) in $(lab_since "$t"): $out"
}

import_base() {
  local name="$1" tag="$2" tarball="$3" t; t=$(lab_now)
  zstd -q -dc "$tarball" | docker import --message "harbor-ha lab ${name} base (debootstrap ${SUITE})" \
    --change "LABEL harbor-ha-lab.rootfs=${name}" - "$tag" >/dev/null
  lab_log "[$name] imported ${tag} in $(lab_since "$t")"
}

# Start the builders of lab/images/<name>/built-files in the background: they are CPU work (Go
# builds) and the base rootfs is network and disk work, so they overlap. A warm builder answers from
# its cache at once. BUILDERS[name] holds "pid out-file log dest" lines, for stage_context.
declare -A BUILDERS=()
start_builders() {
  local name="$1" script dest i=0 out log
  BUILDERS[$name]=""
  while read -r script dest; do
    i=$((i + 1))
    out="${BUILD_DIR}/built-${name}.${i}.path"; log="${LAB_LOG}/built-${name}-$(basename "$script" .sh).log"
    mkdir -p "$BUILD_DIR"
    lab_log "[$name] building ${dest} with ${script} in the background (log: ${log})"
    "${LAB_ROOT}/../${script}" >"$out" 2>"$log" &
    BUILDERS[$name]+="$! $out $log $dest"$'\n'
  done < <(lab_built_files "$name")
}

# The docker build context: lab/images/<name>/ as is, or, with built files, a copy of it with each
# file under built/<path in the image> (the Dockerfile copies built/ to /). Sets CONTEXT (not printed:
# a $(...) subshell could not wait for the builders, which are this shell's children).
CONTEXT=""
stage_context() {
  local name="$1" pid out log dest path t
  local ctx="${BUILD_DIR}/context-${name}"
  CONTEXT="${IMAGES_DIR}/${name}"
  [[ -n "${BUILDERS[$name]:-}" ]] || return 0
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp -a "${IMAGES_DIR}/${name}/." "$ctx/"
  while read -r pid out log dest; do
    [[ -n "$pid" ]] || continue
    t=$(lab_now)
    if ! wait "$pid"; then
      tail -n 30 "$log" >&2
      lab_die "[$name] building ${dest} failed (log: ${log})"
    fi
    path=$(tail -n 1 "$out"); rm -f "$out"
    [[ -f "$path" ]] || lab_die "[$name] the builder of ${dest} printed '${path}', not a file (log: ${log})"
    install -D -m 0755 "$path" "$ctx/built/${dest#/}"
    lab_log "[$name] ${dest} <- ${path} (waited $(lab_since "$t"))"
  done <<<"${BUILDERS[$name]}"
  BUILDERS[$name]=""
  CONTEXT="$ctx"
}

build_image() {
  local name="$1" base="$2" tag="$3" t; t=$(lab_now)
  stage_context "$name"
  local ctx="$CONTEXT"
  if ! docker build -q --build-arg BASE="$base" --label "harbor-ha-lab.base=${base}" -t "$tag" \
      "$ctx" >"${LAB_LOG}/build-${name}.log" 2>&1; then
    tail -n 20 "${LAB_LOG}/build-${name}.log" >&2
    lab_die "[$name] docker build failed (log: ${LAB_LOG}/build-${name}.log)"
  fi
  [[ "$ctx" == "${IMAGES_DIR}/${name}" ]] || rm -rf "$ctx"
  lab_log "[$name] built ${tag} in $(lab_since "$t")"
}

# Drop older tags of this image and its base (ignored while a container or child image uses them).
prune_old() {
  local name="$1" tag="$2" base="$3" ref
  while read -r ref; do
    [[ "$ref" == "$tag" || "$ref" == "harbor-ha-lab/${name}:current" ]] && continue
    docker rmi "$ref" >/dev/null 2>&1 && lab_log "[$name] removed old image ${ref}" || true
  done < <(docker images "harbor-ha-lab/${name}" --format '{{.Repository}}:{{.Tag}}')
  while read -r ref; do
    [[ "$ref" == "$base" ]] && continue
    docker rmi "$ref" >/dev/null 2>&1 && lab_log "[$name] removed old base ${ref}" || true
  done < <(docker images "harbor-ha-lab/${name}-base" --format '{{.Repository}}:{{.Tag}}')
  # Untagged leftovers of earlier lab builds (only ours, by label; in-use ones stay).
  docker image prune -f --filter "label=harbor-ha-lab.rootfs=${name}" >/dev/null 2>&1 || true
  docker image prune -f --filter "label=harbor-ha-lab.base" >/dev/null 2>&1 || true
}

record_tag() {
  local name="$1" tag="$2" f="${LAB_CACHE}/images.json"
  python3 - "$f" "$name" "$tag" <<'EOF'
import json, os, sys
f, name, tag = sys.argv[1:]
d = {}
if os.path.exists(f):
    try: d = json.load(open(f))
    except Exception: d = {}
d[name] = tag
tmp = f + ".tmp"
json.dump(d, open(tmp, "w"), indent=2, sort_keys=True)
os.replace(tmp, f)
EOF
}

main() {
  local t0; t0=$(lab_now)
  lab_require_engine
  mkdir -p "$LAB_LOG" "$ROOTFS_CACHE"
  local name late=() order=()
  # Builders of every image to build start now; the images that wait for them go last, so the other
  # images' bases are made meanwhile.
  for name in "${names[@]}"; do
    if [[ -n "$(lab_built_files "$name")" ]] && { (( FORCE )) || ! docker image inspect "$(lab_image_tag "$name")" >/dev/null 2>&1; }; then
      start_builders "$name"
      late+=("$name")
    else
      order+=("$name")
    fi
  done
  order+=("${late[@]}")
  for name in "${order[@]}"; do
    local t bhash base tag tarball; t=$(lab_now)
    bhash=$(lab_base_hash "$name"); base=$(lab_base_tag "$name"); tag=$(lab_image_tag "$name")
    tarball="${ROOTFS_CACHE}/${name}-${bhash}.tar.zst"
    if (( ! FORCE )) && docker image inspect "$tag" >/dev/null 2>&1; then
      lab_log "[$name] ${tag} present, skipped"
    else
      if (( FORCE )) || ! docker image inspect "$base" >/dev/null 2>&1; then
        if (( FORCE )) || [[ ! -s "$tarball" ]]; then
          ensure_tools
          make_rootfs "$name" "$bhash" "$tarball"
        else
          lab_log "[$name] re-importing cached rootfs ${tarball}"
        fi
        import_base "$name" "$base" "$tarball"
      fi
      build_image "$name" "$base" "$tag"
    fi
    if (( BUILD_ONLY )); then
      lab_log "[$name] ready: ${tag} (--build-only: :current, images.json and older tags untouched) ($(lab_since "$t"))"
      echo "$tag"
      continue
    fi
    docker tag "$tag" "harbor-ha-lab/${name}:current"
    record_tag "$name" "$tag"
    prune_old "$name" "$tag" "$base"
    # Keep only the two newest rootfs tarballs of this image.
    ls -1t "${ROOTFS_CACHE}/${name}"-*.tar.zst 2>/dev/null | tail -n +3 | xargs -r rm -f
    lab_log "[$name] ready: ${tag} ($(lab_since "$t"))"
    echo "$tag"
  done
  lab_log "images done in $(lab_since "$t0")"
}

main
