#!/usr/bin/env bash
# Dedicated Docker engine for the harbor-ha local lab.
#   engine.sh start   install docker.io if missing, start dockerd on ${LAB_SOCK} (idempotent)
#   engine.sh stop    stop it (and the containerd/shims it started); nothing of it keeps running
#   engine.sh status  print state; exit 0 when running, 3 when stopped
#   engine.sh env     print `export DOCKER_HOST=...` for eval
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENGINE_START_TIMEOUT="${ENGINE_START_TIMEOUT:-90}"
ENGINE_STOP_TIMEOUT="${ENGINE_STOP_TIMEOUT:-60}"
DAEMON_JSON="${LAB_STATE}/daemon.json"
ENGINE_LOG="${LAB_LOG}/dockerd.log"

install_engine() {
  if [[ -x /usr/sbin/dockerd && -x "$LAB_DOCKER_BIN" ]] && command -v iptables >/dev/null; then
    return 0
  fi
  lab_log "installing docker.io (apt)"
  local t; t=$(lab_now)
  # Never let the package start the system-wide docker service: this lab runs its own engine.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; added_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
  fi
  (( added_policy )) && rm -f "$policy"
  lab_log "docker.io installed in $(lab_since "$t")"
}

engine_pid() {
  local pid
  [[ -f "$LAB_PIDFILE" ]] || return 1
  pid=$(cat "$LAB_PIDFILE" 2>/dev/null) || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ "$(cat /proc/"$pid"/comm 2>/dev/null)" == dockerd ]] || return 1
  echo "$pid"
}

# Processes that belong to this engine (containerd, shims), found by our exec-root in their cmdline.
engine_children() {
  local p
  for p in /proc/[0-9]*; do
    [[ -r "$p/cmdline" ]] || continue
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$LAB_EXEC_ROOT"; then
      echo "${p#/proc/}"
    fi
  done
}

# Keep the engine's containers from routing anywhere outside the lab: nothing from the lab bridge
# or from the engine's address pool may be forwarded out of them. Published ports on 127.0.0.1 go
# through docker-proxy on this host (not forwarded traffic), so they still work.
FW_RULES=(
  "-i ${LAB_BRIDGE} ! -o ${LAB_BRIDGE} -j DROP"
  "-s ${LAB_POOL} ! -d ${LAB_POOL} -j DROP"
)
firewall() {
  local action="$1" r rule
  iptables -nL DOCKER-USER >/dev/null 2>&1 || return 0
  for r in "${FW_RULES[@]}"; do
    read -ra rule <<<"$r"
    if [[ "$action" == add ]]; then
      iptables -C DOCKER-USER "${rule[@]}" 2>/dev/null || iptables -I DOCKER-USER 1 "${rule[@]}"
    else
      while iptables -C DOCKER-USER "${rule[@]}" 2>/dev/null; do iptables -D DOCKER-USER "${rule[@]}"; done
    fi
  done
}

write_config() {
  mkdir -p "$LAB_STATE" "$LAB_LOG" "$LAB_RUN" "$LAB_EXEC_ROOT" "$LAB_DOCKER_ROOT"
  chmod 700 "$LAB_STATE"
  # An own config file so /etc/docker/daemon.json (if any) never leaks into the lab engine.
  cat >"$DAEMON_JSON.tmp" <<EOF
{
  "hosts": ["${DOCKER_HOST}"],
  "data-root": "${LAB_DOCKER_ROOT}",
  "exec-root": "${LAB_EXEC_ROOT}",
  "pidfile": "${LAB_PIDFILE}",
  "bridge": "none",
  "default-address-pools": [{"base": "${LAB_POOL}", "size": 24}],
  "cgroup-parent": "harbor-ha-lab",
  "storage-driver": "overlay2",
  "dns": ["127.0.0.1"],
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "2"},
  "log-level": "warn",
  "shutdown-timeout": 20
}
EOF
  mv "$DAEMON_JSON.tmp" "$DAEMON_JSON"
}

start() {
  local t; t=$(lab_now)
  install_engine
  if engine_pid >/dev/null && lab_engine_up; then
    firewall add
    lab_log "engine already running (pid $(engine_pid)) at ${DOCKER_HOST}"
    return 0
  fi
  if pid=$(engine_pid); then
    lab_log "engine pid $pid is alive but not answering; restarting it"
    stop
  fi
  write_config
  rm -f "$LAB_PIDFILE" "$LAB_SOCK"
  lab_log "starting dockerd (socket ${LAB_SOCK}, data ${LAB_DOCKER_ROOT}, log ${ENGINE_LOG})"
  # setsid: detach from this shell's session so the engine outlives the script.
  setsid /usr/sbin/dockerd --config-file "$DAEMON_JSON" >>"$ENGINE_LOG" 2>&1 </dev/null &
  local start_s; start_s=$(date +%s)
  until lab_engine_up; do
    if (( $(date +%s) - start_s >= ENGINE_START_TIMEOUT )); then
      tail -n 30 "$ENGINE_LOG" >&2 || true
      lab_die "dockerd did not answer on ${LAB_SOCK} within ${ENGINE_START_TIMEOUT}s (log: ${ENGINE_LOG})"
    fi
    sleep 0.5
  done
  firewall add
  lab_log "engine up (pid $(engine_pid), $(docker version -f '{{.Server.Version}}')) in $(lab_since "$t")"
}

stop() {
  local t pid; t=$(lab_now)
  if pid=$(engine_pid); then
    lab_log "stopping dockerd pid $pid (containers get ${ENGINE_STOP_TIMEOUT}s)"
    kill -TERM "$pid"
    local s; s=$(date +%s)
    while kill -0 "$pid" 2>/dev/null; do
      if (( $(date +%s) - s >= ENGINE_STOP_TIMEOUT )); then
        lab_log "dockerd pid $pid did not exit within ${ENGINE_STOP_TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.5
    done
  fi
  # Leftover containerd / shims of this engine (only ours: matched by our exec root).
  local left
  left=$(engine_children)
  if [[ -n "$left" ]]; then
    lab_log "terminating leftover engine processes: $(echo $left)"
    # shellcheck disable=SC2086
    kill -TERM $left 2>/dev/null || true
    sleep 2
    left=$(engine_children)
    # shellcheck disable=SC2086
    [[ -n "$left" ]] && kill -KILL $left 2>/dev/null || true
  fi
  # Mounts left under our exec root / data root (overlay, netns, shm) after a hard kill.
  local m
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v a="$LAB_EXEC_ROOT" -v b="$LAB_DOCKER_ROOT" 'index($2,a)==1 || index($2,b)==1 {print $2}' /proc/self/mounts | sort -r)
  firewall del
  if ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then ip link del "$LAB_BRIDGE" 2>/dev/null || true; fi
  rm -f "$LAB_PIDFILE" "$LAB_SOCK"
  lab_log "engine stopped in $(lab_since "$t")"
}

status() {
  local pid
  if pid=$(engine_pid) && lab_engine_up; then
    echo "running pid=$pid DOCKER_HOST=${DOCKER_HOST} data-root=${LAB_DOCKER_ROOT}"
    docker ps --format '  {{.Names}}\t{{.Status}}\t{{.Ports}}' 2>/dev/null || true
    return 0
  fi
  echo "stopped (DOCKER_HOST=${DOCKER_HOST})"
  return 3
}

case "${1:-}" in
  start)  start ;;
  stop)   stop ;;
  status) status ;;
  env)    echo "export DOCKER_HOST=${DOCKER_HOST}" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
