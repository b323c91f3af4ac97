# shellcheck shell=bash
# Source me from bash:  . scripts/pulumi-env.sh
# Puts the toolchain of scripts/install-pulumi.sh on PATH and sets what Pulumi needs to run here
# without the network. Values the caller already set are kept, except the two switches that stop
# downloads and update checks, which are always on.
#
#   PATH                          ${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/toolchain/bin first
#   PULUMI_HOME                   kept if set, else $HARBOR_HA_CACHE/pulumi-home (plugins live here)
#   PULUMI_BACKEND_URL            kept if set, else file://<repo>/.pulumi-state (git-ignored)
#   PULUMI_CONFIG_PASSPHRASE      only when neither it nor PULUMI_CONFIG_PASSPHRASE_FILE is set:
#                                 "harbor-ha-lab" -- LAB ONLY, it protects nothing; real stacks set their own
#   PULUMI_SKIP_UPDATE_CHECK=true
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
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
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE="harbor-ha-lab"
fi
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

case "$PULUMI_BACKEND_URL" in
file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true ;;
esac

# A lab stack (dev, dev-v2) runs with the config file the demo writes outside the repository: the
# tracked Pulumi.<stack>.yaml plus the lab's host keys, secrets and cache paths.
#   pulumi up --stack dev $(hh_config_args dev)
hh_stack_config() { echo "${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/state/Pulumi.$1.yaml"; }
hh_config_args() { if [ -f "$(hh_stack_config "$1")" ]; then echo "--config-file $(hh_stack_config "$1")"; fi; }

unset _hh_repo _hh_cache
