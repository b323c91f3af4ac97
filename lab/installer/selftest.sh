#!/usr/bin/env bash
# Self-test of the lab installer (lab/installer/build.sh output).
#
#   lab/installer/selftest.sh [--no-docker] [--keep]
#
# Phase 1 (no Docker): ./prepare behaves like Harbor v1.2.2's where a deployment tool can trip:
#   keys placed before prepare are lost, customize_crt on/off, secretkey kept, secrets
#   re-randomised, $$ escaping and unknown-$name errors, http/https proxy, compose file shape.
# Phase 2 (the lab's Docker engine, lab/scripts/engine.sh): docker load; a single node via
#   install.sh (with its mysql); two nodes without mysql, on a shared data dir, against an
#   "external" MariaDB and Redis, behind one nginx load balancer: skopeo push/pull, sessions
#   shared through Redis, and 401s when the nodes' token keypairs differ (none once they match).
# Ends with "N passed, M failed"; exit status 1 when anything failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lab="$(cd "$here/.." && pwd)"
use_docker=1
keep=0
for arg in "$@"; do
  case "$arg" in
    --no-docker) use_docker=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "[installer] unknown argument: $arg" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3           # Debian's python3 (has python3-yaml with docker-compose)
# prepare is Python 2, like Harbor 1.2.2's: run it as harbor-ha does, with the Python 2.7 found
# (on this host: scripts/node-python2.sh provides one).
PY2="$(command -v python2.7 || command -v python2 || true)"
[[ -n "$PY2" ]] || { echo "[installer] selftest: no python2.7 or python2 on PATH (scripts/node-python2.sh provides one)" >&2; exit 2; }
P_SINGLE=18480 P_LB=18490 P_N1=18491 P_N2=18492
ADMIN_PW=Harbor12345
passed=0 failed=0
t_all=$(date +%s.%N)

log() { printf '[installer] selftest: %s\n' "$*" >&2; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1fs", e-s}'; }
ok() { passed=$((passed + 1)); printf '[installer] selftest: ok   %s\n' "$1" >&2; }
bad() { failed=$((failed + 1)); printf '[installer] selftest: FAIL %s\n' "$1" >&2; }
# check DESCRIPTION CMD...: one test; its output goes to the log file only.
check() {
  local d="$1"; shift
  if "$@" >"$W/check.out" 2>&1; then
    ok "$d"
  else
    bad "$d"
    tail -n 15 "$W/check.out" | sed 's/^/[installer] selftest:      | /' >&2
  fi
  cat "$W/check.out" >>"$W/checks.log"
}
sha() { sha256sum "$1" | cut -c1-64; }
cfg_set() { sed -i "s#^$2 = .*#$2 = $3#" "$1/harbor.cfg"; }
env_get() { sed -n "s/^$2=//p" "$1"; }

need_pkgs=()
command -v openssl >/dev/null || need_pkgs+=(openssl)
[[ -x $PY ]] && $PY -c 'import yaml' 2>/dev/null || need_pkgs+=(python3-yaml)
command -v docker-compose >/dev/null || need_pkgs+=(docker-compose)
if (( use_docker )); then
  command -v skopeo >/dev/null || need_pkgs+=(skopeo)
  command -v nginx >/dev/null || need_pkgs+=(nginx-light)
  [[ -x /usr/bin/redis-server ]] || need_pkgs+=(redis-server)
fi
if (( ${#need_pkgs[@]} )); then
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null; }
fi

mapfile -t outputs < <("$here/build.sh")
TGZ="${outputs[0]}" SQL="${outputs[1]}"
W="$(mktemp -d /tmp/harbor-lab-selftest.XXXXXX)"
: >"$W/checks.log"
(( keep )) || trap 'rm -rf "$W"' EXIT
log "installer $TGZ, work dir $W"

extract() {  # extract DIR: a fresh copy of the installer at DIR/harbor
  mkdir -p "$1"
  tar -xzf "$TGZ" -C "$1"
}

# ------------------------------------------------------------------ phase 1: prepare
t=$(date +%s.%N)
P="$W/p1/harbor"
extract "$W/p1"
check "tarball has the v1.2.2 layout" bash -c "cd '$P' && test -x prepare -a -x install.sh -a -f harbor.cfg -a -f docker-compose.yml \
  -a -f harbor.v1.2.2.tar.gz -a -f README.md -a -f common/templates/adminserver/env -a -f common/templates/ui/env \
  -a -f common/templates/ui/private_key.pem -a -f common/templates/registry/root.crt -a -f common/templates/registry/config.yml \
  -a -f common/templates/nginx/nginx.http.conf -a -f common/templates/db/env"
check "harbor.cfg has every v1.2.2 key" bash -c "for k in hostname ui_url_protocol db_password max_job_workers customize_crt \
  ssl_cert ssl_cert_key secretkey_path admiral_url clair_db_password email_identity email_server email_server_port \
  email_username email_password email_from email_ssl harbor_admin_password auth_mode ldap_url ldap_basedn ldap_uid \
  ldap_scope ldap_timeout self_registration token_expiration project_creation_restriction verify_remote_cert; do
  grep -q \"^\$k = \" '$P/harbor.cfg' || { echo missing \$k; exit 1; }; done"
check "ui/env template has no _REDIS_URL" bash -c "! grep -q _REDIS_URL '$P/common/templates/ui/env'"
check "adminserver/env template has the v1.2.2 database lines" bash -c "cd '$P/common/templates/adminserver' && \
  grep -qx MYSQL_HOST=mysql env && grep -qx MYSQL_PORT=3306 env && grep -qx MYSQL_USR=root env && \
  grep -qx 'MYSQL_PWD=\$db_password' env && grep -qx MYSQL_DATABASE=registry env && grep -qx RESET=false env"
check "registry.sql starts with drop/create/use" bash -c "head -4 '$SQL' | tr -d '\n' | grep -q \
  '^drop database if exists registry;create database registry charset = utf8;use registry;'"

cfg_set "$P" hostname hub.example.test:8070
cfg_set "$P" secretkey_path "$W/p1/data"
check "prepare starts #!/usr/bin/python, like Harbor 1.2.2's" bash -c "head -1 '$P/prepare' | grep -qx '#!/usr/bin/python'"
check "prepare is Python 2: Python 3 stops it with a SyntaxError" bash -c "! $PY '$P/prepare' 2>'$W/py3.err' && grep -q SyntaxError '$W/py3.err'"
check "prepare runs (customize_crt = on)" "$PY2" "$P/prepare"
k1=$(sha "$P/common/config/ui/private_key.pem"); c1=$(sha "$P/common/config/registry/root.crt")
s1=$(env_get "$P/common/config/ui/env" UI_SECRET); sk1=$(cat "$W/p1/data/secretkey")
check "secretkey created with 16 characters" test "${#sk1}" -eq 16
check "root.crt holds the public half of private_key.pem" bash -c "test \"\$(openssl x509 -noout -pubkey -in '$P/common/config/registry/root.crt')\" = \
  \"\$(openssl rsa -pubout -in '$P/common/config/ui/private_key.pem' 2>/dev/null)\""
check "realm is <ui_url>/service/token" grep -q 'realm: http://hub.example.test:8070/service/token' "$P/common/config/registry/config.yml"
check "EXT_ENDPOINT is the ui_url" grep -qx 'EXT_ENDPOINT=http://hub.example.test:8070' "$P/common/config/adminserver/env"
# A "shared" keypair installed BEFORE prepare is thrown away by prepare.
openssl genrsa -out "$W/p1/shared.key" 2048 2>/dev/null
cp "$W/p1/shared.key" "$P/common/config/ui/private_key.pem"
echo "hand edit" >"$P/common/config/ui/hand-edit"
"$PY2" "$P/prepare" >/dev/null
check "customize_crt = on: a new keypair on every run" test "$(sha "$P/common/config/ui/private_key.pem")" != "$k1" -a \
  "$(sha "$P/common/config/registry/root.crt")" != "$c1"
check "a key placed before prepare is lost" test "$(sha "$P/common/config/ui/private_key.pem")" != "$(sha "$W/p1/shared.key")"
check "prepare empties common/config (hand edits gone)" test ! -e "$P/common/config/ui/hand-edit"
check "UI_SECRET is new on every run" test "$(env_get "$P/common/config/ui/env" UI_SECRET)" != "$s1"
check "an existing secretkey is kept" test "$(cat "$W/p1/data/secretkey")" = "$sk1"
cfg_set "$P" customize_crt off
"$PY2" "$P/prepare" >/dev/null
check "customize_crt = off: the shipped pair is copied" bash -c "cmp -s '$P/common/config/ui/private_key.pem' '$P/common/templates/ui/private_key.pem' && \
  cmp -s '$P/common/config/registry/root.crt' '$P/common/templates/registry/root.crt'"
cp "$P/common/templates/ui/env" "$W/p1/ui.env.orig"
echo 'FOO=pa$$ss' >>"$P/common/templates/ui/env"
"$PY2" "$P/prepare" >/dev/null
check "\$\$ in a template renders as \$" grep -qx 'FOO=pa$ss' "$P/common/config/ui/env"
echo 'BAR=$not_a_variable' >>"$P/common/templates/ui/env"
check "an unknown \$name in a template makes prepare fail" bash -c "! '$PY2' '$P/prepare'"
cp "$W/p1/ui.env.orig" "$P/common/templates/ui/env"
"$PY2" "$P/prepare" >/dev/null
check "proxy listens on 80 only with http" bash -c "grep -q 'listen 80;' '$P/common/config/nginx/nginx.conf' && \
  ! grep -q 'listen 443' '$P/common/config/nginx/nginx.conf'"
mkdir -p "$W/p1/cert"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/p1/cert/server.key" -out "$W/p1/cert/server.crt" \
  -days 2 -subj /CN=hub.example.test 2>/dev/null
cfg_set "$P" ui_url_protocol https
cfg_set "$P" ssl_cert "$W/p1/cert/server.crt"
cfg_set "$P" ssl_cert_key "$W/p1/cert/server.key"
check "https: prepare copies the certificate and the proxy listens on 443 and 80" bash -c "'$PY2' '$P/prepare' >/dev/null && \
  grep -q 'listen 443 ssl;' '$P/common/config/nginx/nginx.conf' && grep -q 'listen 80;' '$P/common/config/nginx/nginx.conf' && \
  grep -q 'ssl_certificate /etc/nginx/cert/server.crt;' '$P/common/config/nginx/nginx.conf' && test -f '$P/common/config/nginx/cert/server.key' && \
  grep -q 'realm: https://hub.example.test:8070/service/token' '$P/common/config/registry/config.yml'"
cfg_set "$P" ssl_cert "$W/p1/cert/missing.crt"
check "https with a missing certificate makes prepare fail" bash -c "! '$PY2' '$P/prepare'"
cfg_set "$P" ui_url_protocol http
"$PY2" "$P/prepare" >/dev/null
check "docker-compose.yml has the v1.2.2 shape" $PY - "$P/docker-compose.yml" <<'PYEOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
assert str(c["version"]) == "2", c["version"]
assert {"registry", "mysql", "ui", "proxy"} <= set(s), list(s)
assert "mysql" in s["proxy"]["depends_on"] and "mysql" in s["ui"]["depends_on"]
assert s["proxy"]["ports"] == ["80:80", "443:443", "4443:4443"], s["proxy"]["ports"]
assert "/data/registry:/storage:z" in s["registry"]["volumes"]
assert "/data/database:/var/lib/mysql:z" in s["mysql"]["volumes"]
assert "/data/secretkey:/etc/ui/key:z" in s["ui"]["volumes"]
assert "./common/config/ui/private_key.pem:/etc/ui/private_key.pem:z" in s["ui"]["volumes"]
assert "./common/config/registry/:/etc/registry/:z" in s["registry"]["volumes"]
assert "/data/config/:/etc/adminserver/config/:z" in s["adminserver"]["volumes"]
assert s["ui"]["env_file"] == ["./common/config/ui/env"], s["ui"]["env_file"]  # row 10: the ui reads only its own env
assert all("harbor" in v["networks"] for v in s.values())
# row 29: every service but the log service logs through it
assert s["log"]["ports"] == ["127.0.0.1:1514:514"], s["log"]["ports"]
for name, v in s.items():
    if name != "log":
        assert "log" in v["depends_on"], name
        assert v["logging"] == {"driver": "syslog", "options": {"syslog-address": "tcp://127.0.0.1:1514", "tag": name}}, v["logging"]
for name, v in s.items():
    assert v["image"] == "harbor-lab/%s:v1.2.2" % ("harbor-log" if name == "log" else name), v["image"]
PYEOF
check "docker-compose accepts the file" docker-compose -f "$P/docker-compose.yml" config -q
log "phase 1 done in $(since "$t")"

if (( ! use_docker )); then
  (( keep )) || rm -rf "$W"
  echo "installer selftest: $passed passed, $failed failed"
  (( failed == 0 ))
  exit
fi

# ------------------------------------------------------------------ phase 2: containers
t=$(date +%s.%N)
"$lab/scripts/engine.sh" start
eval "$("$lab/scripts/engine.sh" env)"
export DOCKER_HOST
DOCKER=/usr/bin/docker; [[ -x $DOCKER ]] || DOCKER=docker
dk() { "$DOCKER" "$@"; }
for port in $P_SINGLE $P_LB $P_N1 $P_N2; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then log "port $port is busy"; exit 1; fi
done

projects=(hlst-single hlst-node1 hlst-node2)
lb_pid=""
cleanup() {
  set +e
  if (( keep )); then log "--keep: leaving containers and $W"; return; fi
  [[ -n "$lb_pid" ]] && kill "$lb_pid" 2>/dev/null
  local p
  for p in single node1 node2; do
    [[ -f "$W/$p/harbor/docker-compose.yml" ]] && \
      (cd "$W/$p/harbor" && docker-compose -p "hlst-$p" down -v --remove-orphans >/dev/null 2>&1)
  done
  dk rm -f hlst-ext-db hlst-ext-redis >/dev/null 2>&1
  dk network rm hlst-ext >/dev/null 2>&1
  dk rmi hlst/redis:test harbor-lab/{registry,mysql,adminserver,ui,proxy}:v1.2.2 >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT

t1=$(date +%s.%N)
check "docker load of harbor.v1.2.2.tar.gz" dk load -i "$P/harbor.v1.2.2.tar.gz"
log "docker load took $(since "$t1")"
check "all five images are loaded" bash -c "for s in registry mysql adminserver ui proxy; do \
  '$DOCKER' image inspect harbor-lab/\$s:v1.2.2 >/dev/null || exit 1; done"

# The proxy image accepts both rendered nginx configurations (names of the upstreams faked).
H="$W/https/harbor"
extract "$W/https"
cfg_set "$H" secretkey_path "$W/https/data"
"$PY2" "$H/prepare" >/dev/null
nginx_t() {
  dk run --rm --add-host registry:127.0.0.1 --add-host ui:127.0.0.1 -v "$H/common/config/nginx:/etc/nginx:ro" \
    harbor-lab/proxy:v1.2.2 nginx -t
}
check "proxy image: nginx accepts the http configuration" nginx_t
cfg_set "$H" ui_url_protocol https
cfg_set "$H" ssl_cert "$W/p1/cert/server.crt"
cfg_set "$H" ssl_cert_key "$W/p1/cert/server.key"
"$PY2" "$H/prepare" >/dev/null
check "proxy image: nginx accepts the https configuration" nginx_t

# A tiny image to push, and a Redis image made of Debian's redis-server binary.
mkdir -p "$W/tiny/root"
echo "hello from the harbor-lab selftest" >"$W/tiny/root/hello.txt"
tar -C "$W/tiny/root" -cf "$W/tiny/layer.tar" .
echo "{\"layers\": {\"l\": \"$W/tiny/layer.tar\"}, \"images\": [{\"tag\": \"tiny:1\", \"layers\": [\"l\"], \"config\": {}}]}" >"$W/tiny/spec.json"
python3 "$here/tools/mkimage.py" "$W/tiny/spec.json" "$W/tiny/tiny.tar.gz" >/dev/null
gunzip "$W/tiny/tiny.tar.gz"
TINY="docker-archive:$W/tiny/tiny.tar"
mapfile -t redis_files < <( { echo /usr/bin/redis-server; ldd /usr/bin/redis-server | awk '/=>/ {print $3} /ld-linux/ {print $1}'; } | sort -u)
tar -C / -chf - "${redis_files[@]#/}" 2>/dev/null | dk import -c 'CMD ["/usr/bin/redis-server"]' - hlst/redis:test >/dev/null

# rewrite_compose FILE ROOT PORT [ha]: what a deployment tool does to the compose file (no fixed
# container names here, so the test can share an engine with other containers).
rewrite_compose() {
  $PY - "$@" <<'PYEOF'
import sys, yaml
path, root, port = sys.argv[1:4]
ha = len(sys.argv) > 4
c = yaml.safe_load(open(path))
s = c["services"]
# Two clusters on one engine cannot both publish the log service's 127.0.0.1:1514: no log service here.
del s["log"]
for name, svc in s.items():
    svc.pop("container_name", None)
    svc.pop("logging", None)
    if "depends_on" in svc:
        svc["depends_on"] = [d for d in svc["depends_on"] if d != "log"]
    svc["volumes"] = [root + v[len("/data"):] if v.startswith("/data") else v for v in svc.get("volumes", [])]
s["proxy"]["ports"] = ["127.0.0.1:%s:80" % port]
if ha:
    del s["mysql"]
    for svc in s.values():
        if "depends_on" in svc:
            svc["depends_on"] = [d for d in svc["depends_on"] if d != "mysql"]
    s["ui"]["networks"].append("hlst-ext")
    c["networks"]["hlst-ext"] = {"external": True}
yaml.safe_dump(c, open(path, "w"), default_flow_style=False, sort_keys=False)
PYEOF
}

wait_http() {  # wait_http URL SECONDS: until URL answers 200
  local end=$(( $(date +%s) + $2 ))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1")" == 200 ]]; do
    (( $(date +%s) < end )) || return 1
    sleep 1
  done
}

push() { skopeo copy -q --dest-tls-verify=false --dest-creds "admin:$ADMIN_PW" "$TINY" "docker://$1"; }
pull() {
  rm -rf "$W/pulled" && skopeo copy -q --src-tls-verify=false --src-creds "admin:$ADMIN_PW" "docker://$1" "dir:$W/pulled" &&
    for f in "$W"/pulled/*; do
      tar -xOzf "$f" ./hello.txt 2>/dev/null || tar -xOf "$f" ./hello.txt 2>/dev/null || true
    done | grep -q 'hello from'
}
# session_check LOGIN_BASE OTHER_BASE: a session made on one node is valid on the other.
session_check() {
  local jar="$W/cookies"
  rm -f "$jar"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -d "principal=admin&password=$ADMIN_PW" "$1/login")" == 200 ]] &&
    grep -q beegosessionID "$jar" &&
    curl -sf -b "$jar" "$2/api/users/current" | grep -q '"username": "admin"' &&
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$2/api/users/current")" == 401 ]]
}

# --- single node: install.sh with the bundled mysql
t1=$(date +%s.%N)
S="$W/single/harbor"
extract "$W/single"
cfg_set "$S" hostname "127.0.0.1:$P_SINGLE"
cfg_set "$S" secretkey_path "$W/single/data"
rewrite_compose "$S/docker-compose.yml" "$W/single/data" "$P_SINGLE"
check "install.sh (load, prepare, up) succeeds" env COMPOSE_PROJECT_NAME=hlst-single "$S/install.sh"
check "single node answers /api/ping" wait_http "http://127.0.0.1:$P_SINGLE/api/ping" 180
log "single node up after $(since "$t1")"
check "systeminfo: registry_url and harbor_version" bash -c "curl -sf http://127.0.0.1:$P_SINGLE/api/systeminfo | \
  grep -q '\"registry_url\": \"127.0.0.1:$P_SINGLE\".*\"harbor_version\": \"v1.2.2-lab\"'"
check "single node: push through the proxy" push "127.0.0.1:$P_SINGLE/library/tiny:1"
check "single node: pull through the proxy (content intact)" pull "127.0.0.1:$P_SINGLE/library/tiny:1"
export DOCKER_CONFIG="$W/docker-config"   # docker login credentials stay in the work dir
check "single node: docker login through the proxy" dk login -u admin -p "$ADMIN_PW" "127.0.0.1:$P_SINGLE"
check "single node: docker pull + push through the proxy" bash -c "'$DOCKER' pull 127.0.0.1:$P_SINGLE/library/tiny:1 && \
  '$DOCKER' tag 127.0.0.1:$P_SINGLE/library/tiny:1 127.0.0.1:$P_SINGLE/library/tiny:docker && \
  '$DOCKER' push 127.0.0.1:$P_SINGLE/library/tiny:docker"
dk rmi "127.0.0.1:$P_SINGLE/library/tiny:1" "127.0.0.1:$P_SINGLE/library/tiny:docker" >/dev/null 2>&1 || true
check "single node: wrong password is refused" bash -c "! skopeo inspect --tls-verify=false --creds admin:wrong \
  docker://127.0.0.1:$P_SINGLE/library/tiny:1"
check "single node: login + /api/users/current" session_check "http://127.0.0.1:$P_SINGLE" "http://127.0.0.1:$P_SINGLE"
check "single node: every container is Up" bash -c "cd '$S' && test \"\$(docker-compose -p hlst-single ps | grep -c ' Up ')\" -eq 5"
(cd "$S" && docker-compose -p hlst-single down -v >/dev/null 2>&1)
log "single node scenario took $(since "$t1")"

# --- two nodes, no mysql service, shared data dir, external MariaDB + Redis, one LB address
t1=$(date +%s.%N)
DB_PW='ext$Root1' HDB_PW='ha$rbor-DB' REDIS_PW='r3d1s$pw'
dk network create hlst-ext >/dev/null
dk run -d --name hlst-ext-db --network hlst-ext -e MYSQL_ROOT_PASSWORD="$DB_PW" -e HARBOR_LAB_SCHEMA=none \
  harbor-lab/mysql:v1.2.2 >/dev/null
dk run -d --name hlst-ext-redis --network hlst-ext hlst/redis:test /usr/bin/redis-server \
  --requirepass "$REDIS_PW" --protected-mode no --save '' >/dev/null
end=$(( $(date +%s) + 120 ))
until dk exec hlst-ext-db mariadb -uroot -p"$DB_PW" -e 'select 1' >/dev/null 2>&1; do
  (( $(date +%s) < end )) || { dk logs hlst-ext-db >&2; break; }
  sleep 1
done
dk exec -i hlst-ext-db mariadb -uroot -p"$DB_PW" >/dev/null <<EOF
CREATE DATABASE harbordb CHARACTER SET utf8;
CREATE USER 'harbor'@'%' IDENTIFIED BY '$HDB_PW';
GRANT ALL ON harbordb.* TO 'harbor'@'%';
EOF
# What the deployment program does with registry.sql: drop the drop/create/use lines, load it.
check "registry.sql (without drop/create/use) loads into an empty database" bash -c "grep -viE '^(drop database|create database|use) ' '$SQL' | \
  '$DOCKER' exec -i hlst-ext-db mariadb -uharbor -p'$HDB_PW' harbordb"
CEPH="$W/cephfs/data"
mkdir -p "$CEPH"
for n in 1 2; do
  N="$W/node$n/harbor"
  extract "$W/node$n"
  cfg_set "$N" hostname "127.0.0.1:$P_LB"
  cfg_set "$N" secretkey_path "$CEPH"
  sed -i -e 's/^MYSQL_HOST=.*/MYSQL_HOST=hlst-ext-db/' -e 's/^MYSQL_USR=.*/MYSQL_USR=harbor/' \
    -e 's/^MYSQL_PWD=.*/MYSQL_PWD=ha$$rbor-DB/' -e 's/^MYSQL_DATABASE=.*/MYSQL_DATABASE=harbordb/' \
    -e 's/^RESET=.*/RESET=true/' "$N/common/templates/adminserver/env"
  echo '_REDIS_URL=hlst-ext-redis:6379,100,r3d1s$$pw,0' >>"$N/common/templates/ui/env"
  rewrite_compose "$N/docker-compose.yml" "$CEPH" "$([[ $n == 1 ]] && echo $P_N1 || echo $P_N2)" ha
done
N1="$W/node1/harbor" N2="$W/node2/harbor"
# The mistake the seed describes: node 2 gets node 1's keys, but BEFORE its prepare.
"$PY2" "$N1/prepare" >/dev/null
mkdir -p "$N2/common/config/ui" "$N2/common/config/registry"
cp "$N1/common/config/ui/private_key.pem" "$N2/common/config/ui/private_key.pem"
cp "$N1/common/config/registry/root.crt" "$N2/common/config/registry/root.crt"
"$PY2" "$N2/prepare" >/dev/null
check "keys copied before prepare: the nodes end up with different keypairs" \
  test "$(sha "$N1/common/config/registry/root.crt")" != "$(sha "$N2/common/config/registry/root.crt")"
(cd "$N1" && docker-compose -p hlst-node1 up -d >/dev/null 2>&1) && (cd "$N2" && docker-compose -p hlst-node2 up -d >/dev/null 2>&1)
check "node 1 answers /api/ping (external MariaDB)" wait_http "http://127.0.0.1:$P_N1/api/ping" 120
check "node 2 answers /api/ping (external MariaDB)" wait_http "http://127.0.0.1:$P_N2/api/ping" 120

mkdir -p "$W/lb/tmp"
cat >"$W/lb/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $W/lb/nginx.pid;
error_log $W/lb/error.log warn;
events { worker_connections 256; }
http {
  access_log $W/lb/access.log;
  client_body_temp_path $W/lb/tmp;
  proxy_temp_path $W/lb/tmp;
  upstream harbor_nodes { server 127.0.0.1:$P_N1; server 127.0.0.1:$P_N2; }
  server {
    listen 127.0.0.1:$P_LB;
    client_max_body_size 0;
    location / {
      proxy_pass http://harbor_nodes;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
EOF
nginx -c "$W/lb/nginx.conf" -p "$W/lb" &
lb_pid=$!
check "load balancer answers /api/systeminfo" wait_http "http://127.0.0.1:$P_LB/api/systeminfo" 20
check "systeminfo through the LB names the LB address" bash -c "curl -sf http://127.0.0.1:$P_LB/api/systeminfo | grep -q '\"registry_url\": \"127.0.0.1:$P_LB\"'"

# cross_matrix: token from node A's /service/token used at node B's registry (/v2 on B's proxy).
# Prints e.g. "1>1:200 1>2:401 2>1:401 2>2:200" (404 = token accepted, repository unknown).
cross_matrix() {
  local a b tok out=""
  for a in $P_N1 $P_N2; do
    tok=$(curl -sf -u "admin:$ADMIN_PW" "http://127.0.0.1:$a/service/token?service=harbor-registry&scope=repository:library/tiny:pull" |
      $PY -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    for b in $P_N1 $P_N2; do
      out+="${a: -1}>${b: -1}:$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
        "http://127.0.0.1:$b/v2/library/tiny/tags/list") "
    done
  done
  echo "${out% }"
}
# lb_logins N: N `docker login`s at the LB address; prints how many failed.
lb_logins() {
  local i fails=0
  for i in $(seq "$1"); do
    dk logout "127.0.0.1:$P_LB" >/dev/null 2>&1 || true
    dk login -u admin -p "$ADMIN_PW" "127.0.0.1:$P_LB" >/dev/null 2>&1 || fails=$((fails + 1))
  done
  echo "$fails"
}
# lb_rounds N: N push+pull rounds through the LB; prints how many failed.
lb_rounds() {
  local i fails=0
  for i in $(seq "$1"); do
    push "127.0.0.1:$P_LB/library/tiny:$i" >/dev/null 2>&1 && pull "127.0.0.1:$P_LB/library/tiny:$i" >/dev/null 2>&1 || fails=$((fails + 1))
  done
  echo "$fails"
}
m=$(cross_matrix); log "different keypairs, token>registry: $m"
check "different keypairs: a token from one node is rejected (401) by the other" \
  bash -c "[[ '$m' == *'1>2:401'* && '$m' == *'2>1:401'* && '$m' != *'1>1:401'* && '$m' != *'2>2:401'* ]]"
f=$(lb_rounds 4); log "different keypairs: $f of 4 push+pull rounds through the LB failed"
check "different keypairs: push/pull through the LB fails" test "$f" -gt 0
f=$(lb_logins 4); log "different keypairs: $f of 4 docker logins at the LB failed"
check "different keypairs: docker login at the LB fails (seed problem 2)" test "$f" -gt 0
log "the LB passed on $(grep -c '" 401 ' "$W/lb/access.log" || true) answers with status 401 so far"

# The fix: copy node 1's pair AFTER prepare, recreate node 2's containers.
cp "$N1/common/config/ui/private_key.pem" "$N2/common/config/ui/private_key.pem"
cp "$N1/common/config/registry/root.crt" "$N2/common/config/registry/root.crt"
(cd "$N2" && docker-compose -p hlst-node2 up -d --force-recreate >/dev/null 2>&1)
check "node 2 is back after recreation" wait_http "http://127.0.0.1:$P_N2/api/ping" 120
m=$(cross_matrix); log "same keypair, token>registry: $m"
check "same keypair: tokens are accepted across nodes" bash -c "[[ '$m' != *401* ]]"
f=$(lb_rounds 4); log "same keypair: $f of 4 push+pull rounds through the LB failed"
check "same keypair: every push/pull through the LB succeeds" test "$f" -eq 0
f=$(lb_logins 4); log "same keypair: $f of 4 docker logins at the LB failed"
check "same keypair: every docker login at the LB succeeds" test "$f" -eq 0
check "session made on node 1 is valid on node 2 (Redis)" session_check "http://127.0.0.1:$P_N1" "http://127.0.0.1:$P_N2"
check "session made on node 2 is valid on node 1 (Redis)" session_check "http://127.0.0.1:$P_N2" "http://127.0.0.1:$P_N1"
check "the external database has exactly one admin, with a password" bash -c "test \"\$('$DOCKER' exec hlst-ext-db mariadb -N -uharbor -p'$HDB_PW' harbordb \
  -e \"select count(*) from user where username='admin' and password <> ''\")\" = 1"
check "adminserver stored the shared config (RESET=true, external MySQL host)" \
  bash -c "grep -q '\"mysql_host\": \"hlst-ext-db\"' '$CEPH/config/config.json'"
check "image blobs live in the shared data dir" bash -c "test -d '$CEPH/registry/docker/registry/v2/repositories/library/tiny'"
check "nodes run without a mysql service (4 containers each, all Up)" bash -c "for p in 1 2; do \
  cd '$W'/node\$p/harbor && test \"\$(docker-compose -p hlst-node\$p ps | grep -c ' Up ')\" -eq 4 || exit 1; done"
log "two-node scenario took $(since "$t1")"
log "phase 2 done in $(since "$t")"

echo "installer selftest: $passed passed, $failed failed"
log "total $(since "$t_all")"
(( failed == 0 ))
