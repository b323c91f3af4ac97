#!/usr/bin/env python3
"""Phase 1 of lab/installer-v2/selftest.sh: no Docker. Checks the tarball's layout and runs the
prepare program on the host (HARBOR_LAB_PREPARE_ROOT) the way harbor-ha's v2 flavor drives it:
harbor.yml from harbor.yml.tmpl, the cluster's secretkey and keypair placed first, then prepare.
Also unit-checks core's CSRF, token and secretkey modules across two "nodes" (two keys).

usage: phase1.py HARBOR_DIR (the extracted harbor/) WORK_DIR"""
import fnmatch
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
import tarfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "..", "image", "opt", "harbor-lab-v2")
sys.path.insert(0, APP)
PREPARE = os.path.join(APP, "prepare", "main.py")
harbor, work = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("  ok   %s" % what)
    else:
        failed += 1
        print("  FAIL %s" % what)
    return ok


def alnum(n):
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def env_file(path):
    out = {}
    for line in open(path):
        if "=" in line and not line.startswith("#"):
            k, _, v = line.rstrip("\n").partition("=")
            out[k] = v
    return out


# ------------------------------------------------------------ layout
print("layout")
for name in ("harbor.yml.tmpl", "prepare", "install.sh", "common.sh", "README.md", "harbor.v2.15.2.tar.gz"):
    check(os.path.isfile(os.path.join(harbor, name)), "harbor/%s" % name)
tmpl_text = open(os.path.join(harbor, "harbor.yml.tmpl")).read()
tmpl = yaml.safe_load(tmpl_text)
check(tmpl.get("_version") == "2.15.0", "_version is the minor .0 (2.15.0)")
check("harbor-lab/prepare:v2.15.2 prepare" in open(os.path.join(harbor, "prepare")).read(), "prepare runs harbor-lab/prepare:v2.15.2")
with tarfile.open(os.path.join(harbor, "harbor.v2.15.2.tar.gz")) as t:
    manifest = json.load(t.extractfile("manifest.json"))
tags = sorted(m["RepoTags"][0] for m in manifest)
check(tags == sorted("harbor-lab/%s:v2.15.2" % n for n in ("prepare", "harbor-core", "harbor-jobservice", "harbor-registryctl",
                                                             "registry-photon", "nginx-photon", "harbor-portal")), "image tags: %s" % tags)

# ------------------------------------------------------------ prepare
root = os.path.join(work, "root")
host_data = os.path.join(root, "data")
config = os.path.join(root, "config")
for d in ("input", "config", "data", "compose_location", "hostfs/etc/lab"):
    os.makedirs(os.path.join(root, d), exist_ok=True)


def harbor_yml(protocol="http", internal_redis=None, drop_db_key=None, hostname="harbor.lab.example"):
    """What render/flavors/v2Config.ts renderHarborYml makes of the template."""
    y = yaml.safe_load(tmpl_text)
    y["hostname"] = hostname
    if protocol == "https":
        y["https"] = {"port": 443, "certificate": "/etc/lab/tls.crt", "private_key": "/etc/lab/tls.key"}
    else:
        del y["https"]
        y["http"]["port"] = 8080
    y["harbor_admin_password"] = "Adm1n-pw"
    y["data_volume"] = "/srv/harbor-data"
    del y["database"]
    y.pop("redis", None)
    y["external_database"] = {"harbor": {"host": "pg.lab", "port": 5432, "db_name": "registry", "username": "harbor",
                                         "password": "pg$pw", "ssl_mode": "disable", "max_idle_conns": 2, "max_open_conns": 0}}
    if drop_db_key:
        del y["external_database"]["harbor"][drop_db_key]
    y["external_redis"] = {"host": "redis.lab:6379", "password": "r:p/w@x", "registry_db_index": 1,
                           "jobservice_db_index": 2, "trivy_db_index": 5, "idle_timeout_seconds": 30}
    if internal_redis:
        y["redis"] = internal_redis
    y["jobservice"]["job_loggers"] = ["STD_OUTPUT", "DB"]
    with open(os.path.join(root, "input", "harbor.yml"), "w") as f:
        yaml.safe_dump(y, f)


def prepare():
    r = subprocess.run([sys.executable, PREPARE, "prepare"], env=dict(os.environ, HARBOR_LAB_PREPARE_ROOT=root),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def snapshot():
    s = {}
    for base in (config, os.path.join(root, "compose_location"), os.path.join(host_data, "secret")):
        for dirpath, _, files in os.walk(base):
            for f in files:
                p = os.path.join(dirpath, f)
                s[os.path.relpath(p, root)] = open(p, "rb").read()
    return s


print("prepare: the cluster's secrets placed first, as the deploy does")
os.makedirs(os.path.join(host_data, "secret", "keys"))
os.makedirs(os.path.join(host_data, "secret", "core"))
os.makedirs(os.path.join(host_data, "secret", "registry"))
cluster_key = alnum(16)
open(os.path.join(host_data, "secret", "keys", "secretkey"), "w").write(cluster_key)
subprocess.check_call(["openssl", "genrsa", "-traditional", "-out", os.path.join(work, "k.pem"), "2048"], stderr=subprocess.DEVNULL)
subprocess.check_call(["openssl", "req", "-new", "-x509", "-key", os.path.join(work, "k.pem"), "-out",
                       os.path.join(work, "c.crt"), "-days", "2", "-subj", "/CN=cluster"], stderr=subprocess.DEVNULL)
shutil.copy(os.path.join(work, "k.pem"), os.path.join(host_data, "secret", "core", "private_key.pem"))
shutil.copy(os.path.join(work, "c.crt"), os.path.join(host_data, "secret", "registry", "root.crt"))
# A file the deploy wrote after the previous prepare: the next prepare deletes it, the dir stays.
os.makedirs(os.path.join(config, "nginx", "conf.d"))
open(os.path.join(config, "nginx", "conf.d", "harbor.http.harbor-ha-health.conf"), "w").write("# old\n")
harbor_yml()
rc, out = prepare()
check(rc == 0, "prepare succeeds" + ("" if rc == 0 else ":\n" + out))
first = snapshot()
check(os.path.isdir(os.path.join(config, "nginx", "conf.d")) and not os.listdir(os.path.join(config, "nginx", "conf.d")),
      "conf.d: emptied by prepare (the deploy writes its health location after prepare)")
expected = ["core/env", "core/app.conf", "jobservice/env", "jobservice/config.yml", "registry/config.yml", "registry/passwd",
            "registryctl/env", "registryctl/config.yml", "nginx/nginx.conf", "portal/nginx.conf", "db/env", "log/logrotate.conf"]
check(all(os.path.isfile(os.path.join(config, f)) for f in expected), "common/config files: %s" % ", ".join(expected))
check(os.path.isfile(os.path.join(root, "compose_location", "docker-compose.yml")), "docker-compose.yml in the installer dir")
sk = os.path.join(host_data, "secret", "keys", "secretkey")
check(open(sk).read() == cluster_key, "secretkey kept byte for byte")
st = os.stat(sk)
check((st.st_uid, st.st_gid, st.st_mode & 0o777) == (10000, 10000, 0o600), "secretkey 10000:10000 0600")
check(open(os.path.join(host_data, "secret", "core", "private_key.pem"), "rb").read() == open(os.path.join(work, "k.pem"), "rb").read()
      and open(os.path.join(host_data, "secret", "registry", "root.crt"), "rb").read() == open(os.path.join(work, "c.crt"), "rb").read(),
      "token keypair kept byte for byte")
check(os.stat(os.path.join(host_data, "secret", "core", "private_key.pem")).st_uid == 10000, "private_key.pem chowned to 10000")
core = env_file(os.path.join(config, "core", "env"))
js = env_file(os.path.join(config, "jobservice", "env"))
rc_env = env_file(os.path.join(config, "registryctl", "env"))
lengths = {"CORE_SECRET": 16, "JOBSERVICE_SECRET": 16, "CSRF_KEY": 32, "REGISTRY_CREDENTIAL_PASSWORD": 32, "ROBOT_SCANNER_NAME_PREFIX": 8}
check(all(re.fullmatch("[A-Za-z0-9]{%d}" % n, core.get(k, "")) for k, n in lengths.items()), "core/env secrets: %s" % lengths)
check(js["CORE_SECRET"] == core["CORE_SECRET"] == rc_env["CORE_SECRET"] and js["JOBSERVICE_SECRET"] == core["JOBSERVICE_SECRET"] == rc_env["JOBSERVICE_SECRET"]
      and js["REGISTRY_CREDENTIAL_PASSWORD"] == core["REGISTRY_CREDENTIAL_PASSWORD"], "one node's env files agree")
# Every line the v2 flavor rewrites (v2Config.ts regeneratedByPrepare) exists exactly once.
rewrites = [("core/env", k) for k in ("CORE_SECRET", "JOBSERVICE_SECRET", "CSRF_KEY", "REGISTRY_CREDENTIAL_PASSWORD", "ROBOT_SCANNER_NAME_PREFIX")] + \
    [("jobservice/env", k) for k in ("CORE_SECRET", "JOBSERVICE_SECRET", "REGISTRY_CREDENTIAL_PASSWORD")] + \
    [("registryctl/env", k) for k in ("CORE_SECRET", "JOBSERVICE_SECRET")]
check(all(sum(1 for line in open(os.path.join(config, f)) if line.startswith(k + "=")) == 1 for f, k in rewrites),
      "each KEY= line the deploy rewrites appears once")
check(core["_REDIS_URL_CORE"] == "redis://:r%3Ap%2Fw%40x@redis.lab:6379?idle_timeout_seconds=30", "_REDIS_URL_CORE: no db index, password %-encoded")
check(core["_REDIS_URL_REG"] == "redis://:r%3Ap%2Fw%40x@redis.lab:6379/1?idle_timeout_seconds=30", "_REDIS_URL_REG: /1")
jcfg = yaml.safe_load(open(os.path.join(config, "jobservice", "config.yml")))
check(jcfg["worker_pool"]["redis_pool"]["redis_url"].endswith("@redis.lab:6379/2?idle_timeout_seconds=30")
      and jcfg["worker_pool"]["redis_pool"]["namespace"] == "harbor_job_service_namespace", "jobservice redis_url /2, fixed namespace")
check([l["name"] for l in jcfg["job_loggers"]] == ["STD_OUTPUT", "DB"], "job_loggers as harbor.yml says")
reg = yaml.safe_load(open(os.path.join(config, "registry", "config.yml")))
check(reg["redis"]["addr"] == "redis.lab:6379" and reg["redis"]["password"] == "r:p/w@x" and reg["redis"]["db"] == 1,
      "registry redis: addr, RAW password, db 1")
check(reg["http"]["secret"] == "placeholder" and reg["auth"] == {"htpasswd": {"realm": "harbor-registry-basic-realm", "path": "/etc/registry/passwd"}},
      "registry: http.secret placeholder, auth htpasswd")
check(core["POSTGRESQL_PASSWORD"] == "pg$pw" and core["POSTGRESQL_HOST"] == "pg.lab" and core["EXT_ENDPOINT"] == "http://harbor.lab.example:8080",
      "core/env: PostgreSQL raw, EXT_ENDPOINT from hostname and http.port")
passwd = open(os.path.join(config, "registry", "passwd")).read()
check(re.fullmatch(r"harbor_registry_user:\$2y\$05\$[./A-Za-z0-9]{53}\n", passwd) is not None, "registry/passwd: bcrypt $2y$05$ of harbor_registry_user")
check(subprocess.run(["htpasswd", "-vb", os.path.join(config, "registry", "passwd"), "harbor_registry_user",
                      core["REGISTRY_CREDENTIAL_PASSWORD"]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0,
      "registry/passwd verifies REGISTRY_CREDENTIAL_PASSWORD")
check(os.stat(os.path.join(config, "core", "env")).st_uid == 0 and oct(os.stat(os.path.join(config, "core", "env")).st_mode & 0o777) == "0o640",
      "core/env root 0640, as utils/core.py renders it (the deploy rewrites it in place)")

print("compose")
compose = yaml.safe_load(open(os.path.join(root, "compose_location", "docker-compose.yml")))
svc = compose["services"]
check(sorted(svc) == ["core", "jobservice", "log", "portal", "proxy", "registry", "registryctl"], "services: %s" % sorted(svc))
check(svc["log"]["ports"] == ["127.0.0.1:1514:10514"] and all(
    s["logging"] == {"driver": "syslog", "options": {"syslog-address": "tcp://localhost:1514", "tag": n}}
    for n, s in svc.items() if n != "log"), "row 38: every service logs through the log service (syslog, localhost:1514)")
check(all(s.get("restart") == "always" for s in svc.values()), "restart: always everywhere")
check(svc["proxy"]["ports"] == ["8080:8080"] and svc["proxy"]["container_name"] == "nginx", "proxy: container nginx, http.port:8080 only (http)")
check("./common/config/nginx:/etc/nginx:z" in svc["proxy"]["volumes"], "proxy mounts ./common/config/nginx at /etc/nginx")
binds = {(v["source"], v["target"]) for v in svc["core"]["volumes"] if isinstance(v, dict)}
check(("/srv/harbor-data/secret/core/private_key.pem", "/etc/core/private_key.pem") in binds
      and ("/srv/harbor-data/secret/keys/secretkey", "/etc/core/key") in binds, "core: keypair and secretkey from <data_volume>/secret")
check("/srv/harbor-data/registry:/storage:z" in svc["registry"]["volumes"], "registry: <data_volume>/registry at /storage")
check(svc["core"]["env_file"] == ["./common/config/core/env"] and "logging" not in svc["core"], "core env_file; no syslog logging (no log service)")

print("nginx")
ngx = open(os.path.join(config, "nginx", "nginx.conf")).read()
server = ngx[ngx.index("server {"):]
check("include /etc/nginx/conf.d/harbor.http.*.conf;" in server and "listen 8080;" in server, "http: conf.d/harbor.http.*.conf included inside Harbor's server")
check(fnmatch.fnmatch("harbor.http.harbor-ha-health.conf", "harbor.http.*.conf"), "the flavor's file name matches the include glob")
check(re.search(r"upstream core \{\s*server core:8080;\s*\}", ngx) is not None
      and re.search(r"^\s*resolver\s", ngx, re.M) is None, "upstream core:8080, no resolver")
check(re.search(r"location /v2/ \{[^}]*proxy_pass http://core/v2/;", ngx) is not None, "/v2/ goes to core (not the registry)")
check("\nuser " not in ngx and "pid /tmp/nginx.pid;" in ngx, "no user directive, pid in /tmp")

print("prepare: second run")
rc, out = prepare()
second = snapshot()
core2 = env_file(os.path.join(config, "core", "env"))
check(rc == 0, "second prepare succeeds")
check(all(core2[k] != core[k] for k in lengths), "CORE_SECRET, JOBSERVICE_SECRET, CSRF_KEY, registry password, scanner prefix all redrawn")
check(second["config/registry/passwd"] != first["config/registry/passwd"], "registry/passwd redrawn")
same = ["compose_location/docker-compose.yml", "config/registry/config.yml", "config/nginx/nginx.conf",
        "data/secret/keys/secretkey", "data/secret/core/private_key.pem", "data/secret/registry/root.crt"]
check(all(first[f] == second[f] for f in same), "unchanged: %s" % ", ".join(same))

print("prepare: half a keypair")
os.remove(os.path.join(host_data, "secret", "registry", "root.crt"))
rc, out = prepare()
key = open(os.path.join(host_data, "secret", "core", "private_key.pem")).read()
check(rc == 0 and key != first["data/secret/core/private_key.pem"].decode() and os.path.isfile(os.path.join(host_data, "secret", "registry", "root.crt")),
      "private_key.pem without root.crt: both replaced")
bits = subprocess.run(["openssl", "rsa", "-in", os.path.join(host_data, "secret", "core", "private_key.pem"), "-noout", "-text"],
                      stdout=subprocess.PIPE, text=True).stdout
check(key.startswith("-----BEGIN RSA ") and "4096 bit" in bits, "new key: PKCS#1, 4096 bits")

print("prepare: failures")
open(sk, "w").write(alnum(32))
os.remove(os.path.join(root, "compose_location", "docker-compose.yml"))
rc, out = prepare()
check(rc != 0 and "secret key's length has to be 16 chars, current length: 32" in out, "32-character secretkey: fatal")
check(os.path.isfile(os.path.join(config, "core", "env")) and not os.path.exists(os.path.join(root, "compose_location", "docker-compose.yml")),
      "... after the config files are written, before docker-compose.yml")
open(sk, "w").write(cluster_key)
harbor_yml(internal_redis={"registry_db_index": 1, "jobservice_db_index": 2})
rc, out = prepare()
c3 = env_file(os.path.join(config, "core", "env"))
check(rc == 0 and c3["_REDIS_URL_CORE"] == "redis://redis:6379?idle_timeout_seconds=30",
      "internal redis: block set too: external_redis host and password ignored (%s)" % c3.get("_REDIS_URL_CORE"))
harbor_yml(hostname="reg.mydomain.com")
rc, out = prepare()
check(rc != 0 and "Please specify hostname" in out and not os.path.exists(os.path.join(config, "core", "env")),
      "hostname reg.mydomain.com: rejected, common/config already wiped")
harbor_yml(hostname="127.0.0.1")
rc, out = prepare()
check(rc != 0 and "127.0.0.1 can not be the hostname" in out, "hostname 127.0.0.1: rejected")
harbor_yml(drop_db_key="ssl_mode")
rc, out = prepare()
check(rc != 0 and "ssl_mode" in out, "external_database.harbor.ssl_mode missing: fatal")
y = yaml.safe_load(tmpl_text)
y["hostname"] = "h.lab"
y["external_database"] = {"harbor": {"host": "a", "port": 1, "db_name": "b", "username": "c", "password": "d", "ssl_mode": "disable"}}
y["external_redis"] = {"host": "r:6379"}
yaml.safe_dump(y, open(os.path.join(root, "input", "harbor.yml"), "w"))
rc, out = prepare()
check(rc != 0 and "ssl_cert is not set" in out, "https with the template's placeholder certificate: rejected")

print("prepare: https")
open(os.path.join(root, "hostfs/etc/lab/tls.crt"), "w").write(first["data/secret/registry/root.crt"].decode())
open(os.path.join(root, "hostfs/etc/lab/tls.key"), "w").write("KEY\n")
harbor_yml(protocol="https")
rc, out = prepare()
ngx = open(os.path.join(config, "nginx", "nginx.conf")).read()
ssl_server = ngx[ngx.index("listen 8443 ssl;"):]
compose = yaml.safe_load(open(os.path.join(root, "compose_location", "docker-compose.yml")))
check(rc == 0 and "include /etc/nginx/conf.d/harbor.https.*.conf;" in ssl_server.split("listen 8080;")[0],
      "https: conf.d/harbor.https.*.conf included inside the 8443 server")
check(ngx.index("include /etc/nginx/conf.d/*.server.conf;") < ngx.index("listen 8443 ssl;"), "https: *.upstream.conf / *.server.conf at http level")
check("return 308 https://$host:443$request_uri;" in ngx, "https: port 8080 answers 308 to https")
check(compose["services"]["proxy"]["ports"] == ["80:8080", "443:8443"], "https: proxy publishes http.port and https.port")
check(open(os.path.join(host_data, "secret/cert/server.key")).read() == "KEY\n", "https: key copied to <data_volume>/secret/cert/server.key")

print("core modules, two nodes")
import core_csrf  # noqa: E402
import core_secretkey  # noqa: E402
import core_token  # noqa: E402
a, b = core_csrf.Csrf(alnum(32)), core_csrf.Csrf(alnum(32))
ok, tok, cookie, _ = a.check("GET", None, None)
header = a.mask(tok)
check(a.check("POST", cookie, header)[0], "CSRF: token and cookie from node A accepted by A")
check(b.check("POST", cookie, header)[3] == "CSRF token invalid", "CSRF: node B (other CSRF_KEY) rejects A's token: CSRF token invalid")
check(a.check("POST", cookie, None)[3] == "CSRF token not found in request", "CSRF: POST without the header rejected")
check(core_csrf.Csrf(alnum(31)).key_error is not None, "CSRF: a 31-character key breaks every protected request")
check(core_csrf.skipped("/api/v2.0/projects", False) and not core_csrf.skipped("/api/v2.0/projects", True)
      and not core_csrf.skipped("/c/login", False), "CSRF skipped for /api/ without a session only; never for /c/")
ka, kb = core_token.TokenKey(os.path.join(work, "k.pem")), core_token.TokenKey(os.path.join(host_data, "secret/core/private_key.pem"))
t, _, _ = ka.issue("admin", [{"type": "repository", "name": "library/x", "actions": ["pull"]}])
check(ka.verify(t)["iss"] == "harbor-token-issuer", "token: verifies with the signing key")
try:
    kb.verify(t)
    check(False, "token: another key must fail")
except ValueError as e:
    check(str(e) == "token signature is invalid: crypto/rsa: verification error", "token: another node's key: token signature is invalid: crypto/rsa: verification error")
subprocess.check_call(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", os.path.join(work, "k.pem"), "-out", os.path.join(work, "k8.pem")])
try:
    core_token.TokenKey(os.path.join(work, "k8.pem")).key()
    check(False, "token: PKCS#8 key must be refused")
except core_token.TokenKeyError as e:
    check("PRIVATE KEY" in str(e), "token: a PKCS#8 key is refused (libtrust takes PKCS#1)")
enc = core_secretkey.encrypt("ldap-search-pw", cluster_key.encode())
check(core_secretkey.decrypt(enc, cluster_key.encode()) == b"ldap-search-pw", "secretkey: round trip with the same key")
check(core_secretkey.decrypt(enc, alnum(16).encode()) != b"ldap-search-pw", "secretkey: another key gives garbage, no error")

print("phase 1: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
