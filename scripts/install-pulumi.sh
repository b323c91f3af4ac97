#!/usr/bin/env bash
# Makes the Pulumi CLI (pinned in scripts/toolchain/versions.sh), the Node.js language host and the
# provider plugins that node_modules/@pulumi/* ask for available without any download at run time.
#
#   scripts/install-pulumi.sh && . scripts/pulumi-env.sh && pulumi version
#
# Where the CLI comes from, first match wins:
#   1. a `pulumi` on PATH (or a previous result in the cache) that reports the pinned version;
#   2. the official installer (get.pulumi.com), tried once with a 10 s limit;
#   3. a build from Go modules (Go module proxy only) into the cache.
# Plugins are installed into $PULUMI_HOME (see pulumi-env.sh): the upstream plugin where
# `pulumi plugin install resource <name> <version>` can download it (tried once per run, 60 s limit),
# else harbor-ha's build from Go modules. BUILD-INFO.txt in the plugin's directory and the summary at
# the end say which one is installed.
# Everything lives in ${HARBOR_HA_CACHE:-/var/cache/harbor-ha}: toolchain/<component>-<version>/ (one
# directory per build, moved into place only when complete), toolchain/bin/ (what pulumi-env.sh puts
# on PATH), toolchain/logs/, go/ (module and build caches) and pulumi-home/.
#
# Knobs: HARBOR_HA_CACHE, HARBOR_HA_SKIP_OFFICIAL_INSTALLER=1, HARBOR_HA_SKIP_DOCKER=1 (docker is
# optional: the program does not need it), HARBOR_HA_RETRY_FAILED=1 (retry an optional build that
# failed before; otherwise a recorded failure is not retried), HARBOR_HA_SKIP_UPSTREAM_PLUGINS=1 (do not
# try to download upstream plugins), HARBOR_HA_UPSTREAM_PLUGIN_TIMEOUT (seconds, default 60),
# HARBOR_HA_GOMODCACHE, HARBOR_HA_GOCACHE.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/toolchain/lib.sh
. "$HERE/toolchain/lib.sh"
# shellcheck source=scripts/toolchain/build.sh
. "$HERE/toolchain/build.sh"
# shellcheck source=scripts/pulumi-env.sh
. "$HERE/pulumi-env.sh"

T0="$(tc_now)"
mkdir -p "$TC_ROOT" "$TC_BIN" "$TC_LOGS" "$PULUMI_HOME"

# One installer at a time per cache; a second one waits and then finds the work done.
exec 9>"$TC_ROOT/.lock"
if ! flock -n 9; then
  tc_log "another install is running on $TC_CACHE; waiting for it (up to 1 h) ..."
  flock -w 3600 9 || tc_die "timed out waiting for $TC_ROOT/.lock"
fi
# Leftovers of an interrupted build (never used: only complete builds are renamed into place).
find "$TC_ROOT" -maxdepth 1 -name '.tmp-*' -exec chmod -R u+w {} + -exec rm -rf {} + 2>/dev/null || true

# --- pins versus node_modules ----------------------------------------------------------------------
check_pin() { # check_pin NAME VERSION
  local pj="$TC_REPO_ROOT/node_modules/@pulumi/$1/package.json" got
  [ -f "$pj" ] || return 0
  got="$(node -e 'const p=require(process.argv[1]); console.log((p.pulumi&&p.pulumi.version)||p.version)' "$pj")"
  [ "$got" = "$2" ] || tc_die "node_modules/@pulumi/$1 wants plugin $1 $got but scripts/toolchain/versions.sh pins $2; update the pin (and what builds it) together with package.json"
}
if command -v node >/dev/null 2>&1; then
  check_pin random "$TC_PLUGIN_RANDOM_VERSION"
  check_pin command "$TC_PLUGIN_COMMAND_VERSION"
  check_pin docker "$TC_PLUGIN_DOCKER_VERSION"
  pj="$TC_REPO_ROOT/node_modules/@pulumi/pulumi/package.json"
  if [ -f "$pj" ]; then
    got="$(node -p 'require(process.argv[1]).version' "$pj")"
    if [ "$(printf '%s\n%s\n' "$got" "$TC_PULUMI_VERSION" | sort -V | tail -n 1)" != "$TC_PULUMI_VERSION" ]; then
      tc_warn "@pulumi/pulumi $got is newer than the pinned CLI $TC_PULUMI_VERSION; update versions.sh"
    fi
  fi
fi

# --- the CLI ----------------------------------------------------------------------------------------
want="v$TC_PULUMI_VERSION"
pulumi_version_of() { "$1" version 2>/dev/null | head -n 1 || true; }

CLI_KEY="$TC_PULUMI_VERSION-$(tc_src_hash cli)"
CLI="" CLI_FROM=""
# A pulumi of the pinned version on PATH, other than our own copy in $TC_BIN.
if p="$(command -v pulumi 2>/dev/null)" && ! [ "$p" -ef "$TC_BIN/pulumi" ] &&
  [ "$(pulumi_version_of "$p")" = "$want" ]; then
  CLI="$(readlink -f "$p")" CLI_FROM="PATH"
fi
if [ -z "$CLI" ]; then
  for d in "$TC_ROOT/pulumi-official-$TC_PULUMI_VERSION" "$TC_ROOT/pulumi-$CLI_KEY"; do
    if [ -f "$d/.complete" ] && [ "$(pulumi_version_of "$d/bin/pulumi")" = "$want" ]; then
      CLI="$d/bin/pulumi" CLI_FROM="cached"
      break
    fi
  done
fi

try_official_installer() {
  [ "${HARBOR_HA_SKIP_OFFICIAL_INSTALLER:-0}" = 1 ] && return 1
  command -v curl >/dev/null 2>&1 || return 1
  local t0 tmp dest="$TC_ROOT/pulumi-official-$TC_PULUMI_VERSION"
  t0="$(tc_now)"
  tmp="$(mktemp -d "$TC_ROOT/.tmp-official.XXXXXX")"
  tc_log "trying the official installer (get.pulumi.com, 10 s limit) ..."
  if ! curl -fsSL --connect-timeout 5 --max-time 10 https://get.pulumi.com -o "$tmp/install.sh" 2>"$tmp/err"; then
    tc_log "official installer unreachable after $(tc_elapsed "$t0") ($(tail -n 1 "$tmp/err")); building from Go modules instead"
    rm -rf "$tmp"
    return 1
  fi
  if timeout 300 sh "$tmp/install.sh" --version "$TC_PULUMI_VERSION" --install-root "$tmp/out" --no-edit-path \
    >"$TC_LOGS/official-installer.log" 2>&1 &&
    [ "$(pulumi_version_of "$tmp/out/bin/pulumi")" = "$want" ]; then
    touch "$tmp/out/.complete"
    rm -rf "$dest"
    mv -T "$tmp/out" "$dest"
    rm -rf "$tmp"
    tc_log "official installer gave pulumi $want in $(tc_elapsed "$t0")"
    return 0
  fi
  tc_log "official installer failed after $(tc_elapsed "$t0") (log: $TC_LOGS/official-installer.log); building from Go modules instead"
  rm -rf "$tmp"
  return 1
}

if [ -z "$CLI" ]; then
  if try_official_installer; then
    CLI="$TC_ROOT/pulumi-official-$TC_PULUMI_VERSION/bin/pulumi" CLI_FROM="official installer"
  else
    tc_go_env
    d="$(tc_component pulumi "$CLI_KEY" tc_build_cli)" || tc_die "could not build the Pulumi CLI"
    CLI="$d/bin/pulumi" CLI_FROM="built from Go modules"
  fi
fi
CLI_DIR="$(dirname "$CLI")"

# --- language host and Node.js helper scripts --------------------------------------------------------
# $TC_BIN holds hard links (copies across file systems), not symlinks: the engine looks for the language
# host next to the resolved path of the running `pulumi` and warns about one found only on PATH.
link() { # link TARGET NAME: atomically replaces $TC_BIN/NAME with TARGET
  [ "$TC_BIN/$2" -ef "$1" ] && return 0
  rm -f "$TC_BIN/.$2.new"
  ln "$1" "$TC_BIN/.$2.new" 2>/dev/null || cp "$1" "$TC_BIN/.$2.new"
  mv -T "$TC_BIN/.$2.new" "$TC_BIN/$2"
}
link "$CLI" pulumi

if [ -x "$CLI_DIR/pulumi-language-nodejs" ]; then
  LANGHOST="$CLI_DIR/pulumi-language-nodejs" LANGHOST_FROM="next to the CLI"
else
  tc_go_env
  d="$(tc_component pulumi-language-nodejs "sdk-$TC_LANGHOST_SDK_VERSION-$(tc_src_hash langhost)" tc_build_langhost)" ||
    tc_die "could not build the Node.js language host"
  LANGHOST="$d/bin/pulumi-language-nodejs"
  LANGHOST_FROM="built from sdk/v3 v$TC_LANGHOST_SDK_VERSION, behind harbor-ha's proxy for policy packs"
  # the proxy starts the real host from its own directory
  link "$d/bin/pulumi-language-nodejs-v$TC_LANGHOST_SDK_VERSION" "pulumi-language-nodejs-v$TC_LANGHOST_SDK_VERSION"
fi
link "$LANGHOST" pulumi-language-nodejs

if [ -x "$CLI_DIR/pulumi-resource-pulumi-nodejs" ]; then
  SCRIPTS_DIR="$CLI_DIR"
else # a CLI from PATH without the scripts: take them from the sdk/v3 module of the same version
  tc_go_env
  SCRIPTS_DIR="$(tc_component pulumi-nodejs-scripts "$TC_PULUMI_VERSION" tc_build_nodejs_scripts)/bin" ||
    tc_die "could not copy the Node.js helper scripts from the sdk/v3 module"
fi
for f in "$SCRIPTS_DIR"/pulumi-resource-pulumi-nodejs "$SCRIPTS_DIR"/pulumi-analyzer-*; do
  [ -x "$f" ] && link "$f" "$(basename "$f")"
done

PULUMI="$TC_BIN/pulumi"

# --- provider plugins -----------------------------------------------------------------------------
# Upstream's plugin wherever `pulumi plugin install` can download it; harbor-ha's own build only where
# it cannot. The download is tried once per run: after a failure (no network here) the remaining
# plugins are not tried again in this run. An installed plugin's directory holds BUILD-INFO.txt, whose
# first line is "source: upstream" or "source: harbor-ha's own build".
PLUGINS_OK=() PLUGINS_MISSING=()
UPSTREAM_UNAVAILABLE="" # why upstream plugins cannot be installed here (from the first failure)
OWN_BUILD="harbor-ha's own build"

plugin_source() { # plugin_source DIR: the plugin's source from DIR/BUILD-INFO.txt ("" if none)
  sed -n '1s/^source: //p' "$1/BUILD-INFO.txt" 2>/dev/null || true
}

install_plugin_dir() { # install_plugin_dir NAME VERSION DIR: installs DIR's files as the plugin
  "$PULUMI" plugin install resource "$1" "$2" --reinstall --file "$3" >&2
}

try_upstream_plugin() { # try_upstream_plugin NAME VERSION: true once upstream's plugin is installed
  local name="$1" version="$2" t0 tmp log limit="${HARBOR_HA_UPSTREAM_PLUGIN_TIMEOUT:-60}" got
  if [ "${HARBOR_HA_SKIP_UPSTREAM_PLUGINS:-0}" = 1 ]; then
    UPSTREAM_UNAVAILABLE="not tried: HARBOR_HA_SKIP_UPSTREAM_PLUGINS=1"
    return 1
  fi
  [ -z "$UPSTREAM_UNAVAILABLE" ] || return 1
  t0="$(tc_now)"
  log="$TC_LOGS/upstream-plugin-$name-$version.log"
  tmp="$(mktemp -d "$TC_ROOT/.tmp-upstream-$name.XXXXXX")"
  got="$tmp/home/plugins/resource-$name-v$version"
  tc_log "trying upstream plugin $name $version (pulumi plugin install, $limit s limit) ..."
  # Into a scratch PULUMI_HOME first, so that a failed download leaves the installed plugin alone.
  if PULUMI_HOME="$tmp/home" timeout "$limit" "$PULUMI" plugin install resource "$name" "$version" >"$log" 2>&1 &&
    [ -x "$got/pulumi-resource-$name" ]; then
    {
      echo "source: upstream"
      echo "installed: $(date -u +%Y-%m-%dT%H:%M:%SZ) by pulumi plugin install resource $name $version"
      echo "log: $log"
    } >"$got/BUILD-INFO.txt"
    install_plugin_dir "$name" "$version" "$got"
    chmod -R u+w "$tmp" 2>/dev/null || true
    rm -rf "$tmp"
    tc_log "installed upstream plugin $name $version in $(tc_elapsed "$t0")"
    return 0
  fi
  # The CLI's last download error says why (e.g. no DNS), else its last line.
  UPSTREAM_UNAVAILABLE="$({ grep 'Error downloading plugin' "$log" || grep -v '^[[:space:]]*$' "$log" || true; } | tail -n 1 |
    sed 's/^warning: //' | cut -c1-240)"
  UPSTREAM_UNAVAILABLE="${UPSTREAM_UNAVAILABLE:-pulumi plugin install failed}"
  tc_log "upstream plugin $name $version is not installable here (after $(tc_elapsed "$t0"): $UPSTREAM_UNAVAILABLE; log: $log)"
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
  return 1
}

ensure_plugin() { # ensure_plugin NAME VERSION optional|required
  local name="$1" version="$2" need="$3" key dir comp failed stage
  key="$version-$(tc_src_hash "$name")"
  comp="$TC_ROOT/pulumi-resource-$name-$key"
  dir="$PULUMI_HOME/plugins/resource-$name-v$version"
  if [ "$need" = optional ] && [ "$name" = docker ] && [ "${HARBOR_HA_SKIP_DOCKER:-0}" = 1 ]; then
    tc_log "NOTICE: plugin $name $version skipped (HARBOR_HA_SKIP_DOCKER=1)"
    PLUGINS_MISSING+=("$name $version")
    return 0
  fi
  # Upstream's plugin, installed by an earlier run: nothing to do.
  if [ "$(plugin_source "$dir")" = upstream ] && [ -x "$dir/pulumi-resource-$name" ] && [ ! -e "$dir.partial" ]; then
    PLUGINS_OK+=("$name $version (upstream)")
    return 0
  fi
  if try_upstream_plugin "$name" "$version"; then
    PLUGINS_OK+=("$name $version (upstream)")
    return 0
  fi
  local own="$name $version ($OWN_BUILD: upstream not installable here)"
  [ "${HARBOR_HA_SKIP_UPSTREAM_PLUGINS:-0}" != 1 ] || own="$name $version ($OWN_BUILD: upstream not tried, HARBOR_HA_SKIP_UPSTREAM_PLUGINS=1)"
  # Our build, installed and identical to the current one: nothing to do.
  if [ -f "$comp/.complete" ] && [ ! -e "$dir.partial" ] && [ "$(plugin_source "$dir")" = "$OWN_BUILD" ] &&
    cmp -s "$dir/pulumi-resource-$name" "$comp/bin/pulumi-resource-$name"; then
    PLUGINS_OK+=("$own")
    return 0
  fi
  failed="$TC_ROOT/pulumi-resource-$name-$key.failed"
  if [ "$need" = optional ] && [ -f "$failed" ] && [ "${HARBOR_HA_RETRY_FAILED:-0}" != 1 ]; then
    tc_log "NOTICE: plugin $name $version is not available: its build failed before ($failed; HARBOR_HA_RETRY_FAILED=1 retries)"
    PLUGINS_MISSING+=("$name $version")
    return 0
  fi
  tc_go_env
  if tc_component "pulumi-resource-$name" "$key" "tc_build_$name" >/dev/null; then
    rm -f "$failed"
  else
    if [ "$need" = optional ]; then
      echo "build failed $(date -u +%Y-%m-%dT%H:%M:%SZ); log: $TC_LOGS/pulumi-resource-$name-$key.log" >"$failed"
      tc_log "NOTICE: plugin $name $version is not available (optional; programs using @pulumi/$name cannot run)"
      PLUGINS_MISSING+=("$name $version")
      return 0
    fi
    tc_die "could not build plugin $name $version"
  fi
  # The binary and a BUILD-INFO.txt saying where it comes from, installed together.
  stage="$(mktemp -d "$TC_ROOT/.tmp-stage-$name.XXXXXX")"
  cp "$comp/bin/pulumi-resource-$name" "$stage/"
  {
    echo "source: $OWN_BUILD"
    echo "why: upstream not installable here: $UPSTREAM_UNAVAILABLE"
    echo "from: $comp"
    cat "$comp/BUILD-INFO.txt"
  } >"$stage/BUILD-INFO.txt"
  install_plugin_dir "$name" "$version" "$stage"
  rm -rf "$stage"
  PLUGINS_OK+=("$own")
}
ensure_plugin random "$TC_PLUGIN_RANDOM_VERSION" required
ensure_plugin command "$TC_PLUGIN_COMMAND_VERSION" required
ensure_plugin docker "$TC_PLUGIN_DOCKER_VERSION" optional

# --- summary ----------------------------------------------------------------------------------------
tc_log "pulumi $("$PULUMI" version) ($CLI_FROM): $CLI"
tc_log "language host: $LANGHOST ($LANGHOST_FROM)"
tc_log "plugins in $PULUMI_HOME/plugins (each directory's BUILD-INFO.txt says where it comes from):"
for p in "${PLUGINS_OK[@]}"; do tc_log "  $p"; done
[ "${#PLUGINS_MISSING[@]}" -eq 0 ] || tc_log "NOTICE: plugins not available: ${PLUGINS_MISSING[*]}"
tc_log "toolchain ready in $(tc_elapsed "$T0"); use it with: . scripts/pulumi-env.sh"
