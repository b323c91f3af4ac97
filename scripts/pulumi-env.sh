# shellcheck shell=bash
# Source me from bash:  . scripts/pulumi-env.sh
# Puts the toolchain of scripts/install-pulumi.sh on PATH and sets what Pulumi needs to run here
# without the network. Values the caller already set are kept, except the two switches that stop
# downloads and update checks, which are always on.
#
#   PATH                          ${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/toolchain/bin first
#   PULUMI_HOME                   kept if set, else $HARBOR_HA_CACHE/pulumi-home (plugins live here)
#   PULUMI_BACKEND_URL            kept if set, else file://<repo>/.pulumi-state (git-ignored; the
#                                 directory 0700, its files 0600: umask 077 in the shell that sources this)
#   PULUMI_SKIP_UPDATE_CHECK=true
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
#
# No passphrase is set here. `hh_stack_env STACK` (or `hh_pulumi ARGS... --stack STACK ...`) chooses
# it for one stack: the lab's stacks (dev, dev-v2, and the lab project's lab) get the lab's published
# passphrase "harbor-ha-lab" when none is set; any other stack must bring its own
# (PULUMI_CONFIG_PASSPHRASE_FILE or PULUMI_CONFIG_PASSPHRASE) or a secrets provider of its own
# (Pulumi Cloud, or `secretsprovider:` in its stack file), and is refused with the lab's.
#
# PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK is not needed: the CLI reports its real version (v3.259.0), which
# is newer than the @pulumi/pulumi SDK in node_modules.
#
# It also creates the directory of a file:// backend, since `pulumi login` needs it to exist.

_hh_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_hh_cache="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}"

case ":$PATH:" in
*":$_hh_cache/toolchain/bin:"*) ;;
*) PATH="$_hh_cache/toolchain/bin:$PATH" ;;
esac
export PATH

export PULUMI_HOME="${PULUMI_HOME:-$_hh_cache/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_hh_repo/.pulumi-state}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

# A file backend holds every stack's state, secrets encrypted but everything else in the clear:
# only its owner reads it.
case "$PULUMI_BACKEND_URL" in
file://*)
  umask 077
  mkdir -p "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true
  chmod -R go-rwx "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true
  ;;
esac

_hh_lab_stacks=" dev dev-v2 lab "
_hh_lab_passphrase="harbor-ha-lab"

# hh_stack_env STACK: the passphrase for STACK, or a refusal (exit status 1) that says how to set one.
hh_stack_env() {
  local stack=$1 file="$_hh_repo/Pulumi.$1.yaml"
  local given=""
  if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then given=$(cat "$PULUMI_CONFIG_PASSPHRASE_FILE" 2>/dev/null || true)
  elif [ -n "${PULUMI_CONFIG_PASSPHRASE+set}" ]; then given=$PULUMI_CONFIG_PASSPHRASE
  fi
  case "$_hh_lab_stacks" in
  *" $stack "*)
    if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      export PULUMI_CONFIG_PASSPHRASE="$_hh_lab_passphrase"
    fi
    return 0 ;;
  esac
  if [ "$given" = "$_hh_lab_passphrase" ]; then
    echo "harbor-ha: stack $stack: refusing the lab's passphrase: it is published and protects nothing; it is only for the lab stacks (dev, dev-v2, lab)." >&2
    echo "harbor-ha: unset PULUMI_CONFIG_PASSPHRASE and set PULUMI_CONFIG_PASSPHRASE_FILE to a file only you can read (chmod 600), holding this stack's own passphrase" >&2
    return 1
  fi
  [ -n "${PULUMI_CONFIG_PASSPHRASE+set}" ] || [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] && return 0
  # Stacks whose secrets provider is not a passphrase need none.
  case "$PULUMI_BACKEND_URL" in https://*) return 0 ;; esac
  if [ -f "$file" ] && grep -Eq '^secretsprovider: *(awskms|azurekeyvault|gcpkms|hashivault)://' "$file"; then return 0; fi
  echo "harbor-ha: stack $stack has no passphrase: set PULUMI_CONFIG_PASSPHRASE_FILE to a file only you can read (chmod 600) holding" >&2
  echo "harbor-ha: its passphrase (or PULUMI_CONFIG_PASSPHRASE), or give it a secrets provider of its own (pulumi stack change-secrets-provider)." >&2
  echo "harbor-ha: the lab's passphrase is only for the lab stacks (dev, dev-v2, lab)." >&2
  return 1
}

# hh_pulumi ARGS...: pulumi with the passphrase of the stack its --stack names.
hh_pulumi() {
  local a prev="" stack=""
  for a in "$@"; do
    case "$a" in --stack=*) stack=${a#--stack=} ;; esac
    [ "$prev" = --stack ] && stack=$a
    prev=$a
  done
  [ -n "$stack" ] || { echo "hh_pulumi: name the stack (--stack STACK)" >&2; return 2; }
  hh_stack_env "$stack" && pulumi "$@"
}

# A lab stack (dev, dev-v2) runs with the config file the demo writes outside the repository: the
# tracked Pulumi.<stack>.yaml plus the lab's host keys, secrets and cache paths.
#   pulumi up --stack dev $(hh_config_args dev)
hh_stack_config() { echo "${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/state/Pulumi.$1.yaml"; }
hh_config_args() { if [ -f "$(hh_stack_config "$1")" ]; then echo "--config-file $(hh_stack_config "$1")"; fi; }

# _hh_repo stays: hh_stack_env reads the stack files there.
unset _hh_cache
