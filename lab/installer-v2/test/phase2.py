#!/usr/bin/env python3
"""Phase 2 of lab/installer-v2/selftest.sh: two Harbor "nodes" on the lab's Docker engine,
sharing one PostgreSQL and one Redis (the self-test's own database container), deployed the way
harbor-ha's v2 flavor does it: the cluster's secretkey and keypair placed before ./prepare (the
installer's real wrapper, which runs the prepare image), the shared env values written after it,
then docker-compose up. Then node B gets its own secrets, and what breaks is checked.

Everything it creates is named <prefix>-* (prefix starts "h2st-"); no harbor-ha-lab label; the
generated compose file is run with container_name removed (two nodes on one engine), an
external network per node and the proxy on 127.0.0.1:<random>.

usage: phase2.py PREFIX WORK INSTALLER_TGZ(v2.15.2) OLDER_INSTALLER_TGZ(v2.14.4) DB_IMAGE"""
import base64
import http.client
import json
import os
import re
import secrets
import shutil
import string
import subprocess
import sys
import tarfile
import time
import urllib.parse

import yaml

prefix, work, tgz, tgz_old, db_image = sys.argv[1:6]
passed = failed = 0
ADMIN_PW = "Adm1n-pw"
BASIC = "Basic " + base64.b64encode(("admin:" + ADMIN_PW).encode()).decode()


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("  ok   %s" % what, flush=True)
    else:
        failed += 1
        print("  FAIL %s %s" % (what, detail), flush=True)
    return ok


def sh(*cmd, check_rc=True, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check_rc and r.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stdout[-3000:]))
    return r


def alnum(n):
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


class Node:
    def __init__(self, name):
        self.name = name
        self.project = "%s-%s" % (prefix, name)
        self.net = self.project
        self.dir = os.path.join(work, name)
        self.harbor = os.path.join(self.dir, "harbor")
        self.data = os.path.join(self.dir, "data")
        self.port = None

    def extract(self, archive):
        os.makedirs(self.dir, exist_ok=True)
        with tarfile.open(archive) as t:
            t.extractall(self.dir, members=[m for m in t.getmembers() if not m.name.endswith(".tar.gz")])

    def harbor_yml(self):
        y = yaml.safe_load(open(os.path.join(self.harbor, "harbor.yml.tmpl")))
        y["hostname"] = "h2st.lab"
        del y["https"]
        y["http"]["port"] = 8080
        y["harbor_admin_password"] = ADMIN_PW
        y["data_volume"] = self.data
        del y["database"]
        y["external_database"] = {"harbor": {"host": "pg", "port": 5432, "db_name": "registry", "username": "harbor",
                                             "password": "H2st-pg", "ssl_mode": "disable", "max_idle_conns": 2, "max_open_conns": 0}}
        y["external_redis"] = {"host": "redis:6379", "password": "H2st-redis", "registry_db_index": 1,
                               "jobservice_db_index": 2, "trivy_db_index": 5, "idle_timeout_seconds": 30}
        y["jobservice"]["job_loggers"] = ["STD_OUTPUT", "DB"]
        with open(os.path.join(self.harbor, "harbor.yml"), "w") as f:
            yaml.safe_dump(y, f)

    def place_secrets(self, secretkey, key_pem, crt_pem):
        for d, name, content in (("keys", "secretkey", secretkey), ("core", "private_key.pem", key_pem), ("registry", "root.crt", crt_pem)):
            os.makedirs(os.path.join(self.data, "secret", d), exist_ok=True)
            with open(os.path.join(self.data, "secret", d, name), "w") as f:
                f.write(content)

    def prepare(self):
        return sh("./prepare", cwd=self.harbor, check_rc=False)

    def env(self, comp):
        out = {}
        for line in open(os.path.join(self.harbor, "common/config", comp, "env")):
            k, sep, v = line.rstrip("\n").partition("=")
            if sep:
                out[k] = v
        return out

    def set_env(self, comp, key, value):
        """What the deploy's set_env does: KEY= line replaced in place."""
        path = os.path.join(self.harbor, "common/config", comp, "env")
        lines = open(path).read().split("\n")
        lines = [key + "=" + value if l.startswith(key + "=") else l for l in lines]
        with open(path, "r+") as f:
            f.truncate(0)
            f.write("\n".join(lines))

    def adapt_compose(self):
        path = os.path.join(self.harbor, "docker-compose.yml")
        c = yaml.safe_load(open(path))
        # Two nodes on one engine cannot both publish the log service's 127.0.0.1:1514: no log service here.
        del c["services"]["log"]
        for s in c["services"].values():
            s.pop("container_name", None)
            s.pop("logging", None)
            if "depends_on" in s:
                s["depends_on"] = [d for d in s["depends_on"] if d != "log"]
        c["services"]["proxy"]["ports"] = ["127.0.0.1::8080"]
        c["networks"] = {"harbor": {"external": True, "name": self.net}}
        with open(os.path.join(self.harbor, "docker-compose.h2st.yml"), "w") as f:
            yaml.safe_dump(c, f)

    def compose(self, *args, check_rc=True):
        return sh("docker-compose", "-p", self.project, "-f", os.path.join(self.harbor, "docker-compose.h2st.yml"), *args,
                  cwd=self.harbor, check_rc=check_rc)

    def container(self, service):
        return self.compose("ps", "-q", service).stdout.strip().splitlines()[0]

    def up(self):
        self.adapt_compose()
        self.compose("up", "-d", "--force-recreate")
        out = sh("docker", "port", self.container("proxy"), "8080/tcp").stdout.strip().splitlines()[0]
        self.port = int(out.rsplit(":", 1)[1])

    def logs(self, service):
        return sh("docker", "logs", self.container(service), check_rc=False).stdout

    def request(self, method, path, headers=None, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": "h2st.lab:8080"}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, r.headers, data

    def wait_pong(self, seconds=180):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                status, _, body = self.request("GET", "/api/v2.0/ping")
                if status == 200 and body == b"Pong":
                    return True
            except OSError:
                pass
            time.sleep(2)
        return False


def cookies(headers):
    out = {}
    for v in headers.get_all("Set-Cookie") or []:
        k, _, rest = v.partition("=")
        out[k] = rest.split(";", 1)[0]
    return out


def cookie_header(d):
    return "; ".join("%s=%s" % kv for kv in d.items())


def login(node):
    """A browser's way in: a GET for the CSRF token, then POST /c/login with it."""
    _, h, _ = node.request("GET", "/c/login")
    jar = cookies(h)
    token = h.get("X-Harbor-CSRF-Token")
    status, h2, body = node.request("POST", "/c/login", {"Content-Type": "application/x-www-form-urlencoded",
                                                         "X-Harbor-CSRF-Token": token, "Cookie": cookie_header(jar)},
                                    urllib.parse.urlencode({"principal": "admin", "password": ADMIN_PW}))
    jar.update(cookies(h2))
    return status, jar, h2.get("X-Harbor-CSRF-Token") or token


def gc(node, seconds=60):
    status, h, body = node.request("POST", "/api/v2.0/system/gc/schedule", {"Authorization": BASIC, "Content-Type": "application/json"},
                                   json.dumps({"schedule": {"type": "Manual"}}))
    if status != 201:
        return {"error": "%d %s" % (status, body[:200])}
    loc = h["Location"]
    deadline = time.time() + seconds
    while time.time() < deadline:
        _, _, body = node.request("GET", loc, {"Authorization": BASIC})
        j = json.loads(body)
        if j["job_status"] in ("Success", "Error", "Stopped"):
            return j
        time.sleep(1)
    return j


def registry_token(node):
    _, _, body = node.request("GET", "/service/token?service=harbor-registry&scope=repository:library/h2st:pull,push", {"Authorization": BASIC})
    return json.loads(body)["token"]


# What render/scripts/drain.ts drainLocation("core", "/api/v2.0/ping") writes (kept in step by hand).
DRAIN_CONF = """# harbor-ha: the load balancer's check. 503 while the node is drained: no new connections.
location = /harbor-ha/health {
    if (-f /etc/nginx/conf.d/harbor-ha.drained) {
        return 503 "drained\\n";
    }
    proxy_pass http://core/api/v2.0/ping;
}
"""


def drain_check(node):
    """The deploy's drain location, written after prepare, seen once the proxy (re)starts; the
    flag beside it takes effect at once."""
    confd = os.path.join(node.harbor, "common/config/nginx/conf.d")
    with open(os.path.join(confd, "harbor.http.harbor-ha-health.conf"), "w") as f:
        f.write(DRAIN_CONF)
    os.chmod(os.path.join(confd, "harbor.http.harbor-ha-health.conf"), 0o644)
    node.compose("restart", "proxy")
    node.port = int(sh("docker", "port", node.container("proxy"), "8080/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1])
    node.wait_pong()
    s1, _, b1 = node.request("GET", "/harbor-ha/health")
    open(os.path.join(confd, "harbor-ha.drained"), "w").close()
    s2, _, b2 = node.request("GET", "/harbor-ha/health")
    os.remove(os.path.join(confd, "harbor-ha.drained"))
    s3, _, _ = node.request("GET", "/harbor-ha/health")
    return (s1, b1, s2, b2, s3) == (200, b"Pong", 503, b"drained\n", 200), (s1, b1, s2, b2, s3)


def https_nginx_test():
    """An https node's nginx.conf (with the drain location in Harbor's 8443 server) passes nginx -t."""
    c = Node("c")
    c.extract(tgz)
    c.harbor_yml()
    y = yaml.safe_load(open(os.path.join(c.harbor, "harbor.yml")))
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=h2st.lab",
       "-keyout", os.path.join(work, "tls.key"), "-out", os.path.join(work, "tls.crt"))
    y["https"] = {"port": 8443, "certificate": os.path.join(work, "tls.crt"), "private_key": os.path.join(work, "tls.key")}
    with open(os.path.join(c.harbor, "harbor.yml"), "w") as f:
        yaml.safe_dump(y, f)
    r = c.prepare()
    if r.returncode != 0:
        return False, r.stdout[-800:]
    with open(os.path.join(c.harbor, "common/config/nginx/conf.d/harbor.https.harbor-ha-health.conf"), "w") as f:
        f.write(DRAIN_CONF)
    r = sh("docker", "run", "--rm", "--add-host", "core:127.0.0.1", "--add-host", "portal:127.0.0.1",
           "-v", os.path.join(c.harbor, "common/config/nginx") + ":/etc/nginx",
           "-v", os.path.join(c.data, "secret/cert") + ":/etc/cert", "harbor-lab/nginx-photon:v2.15.2", "nginx", "-t", check_rc=False)
    return r.returncode == 0 and "test is successful" in r.stdout, r.stdout[-800:]


def push_pull(src, dst):
    """A tiny image pushed through one node and pulled through the other, by the engine's own
    client (127.0.0.1 registries need no TLS); its own DOCKER_CONFIG, removed afterwards."""
    cfg = os.path.join(work, "docker-config")
    os.makedirs(os.path.join(work, "tiny"), exist_ok=True)
    with open(os.path.join(work, "tiny", "blob"), "wb") as f:
        f.write(os.urandom(1 << 20))
    e = dict(os.environ, DOCKER_CONFIG=cfg)
    ref_src = "127.0.0.1:%d/library/%s-tiny:1" % (src.port, prefix)
    ref_dst = "127.0.0.1:%d/library/%s-tiny:1" % (dst.port, prefix)
    tar = subprocess.run(["tar", "-C", os.path.join(work, "tiny"), "-c", "."], stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(["docker", "import", "-", ref_src], input=tar, stdout=subprocess.DEVNULL, check=True, env=e)
    ok = True
    try:
        for n in (src, dst):
            ok &= subprocess.run(["docker", "login", "-u", "admin", "--password-stdin", "127.0.0.1:%d" % n.port], input=ADMIN_PW.encode(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=e).returncode == 0
        ok &= sh("docker", "push", ref_src, check_rc=False, env=e).returncode == 0
        ok &= sh("docker", "pull", ref_dst, check_rc=False, env=e).returncode == 0
    finally:
        sh("docker", "rmi", ref_src, ref_dst, check_rc=False, env=e)
        shutil.rmtree(cfg, ignore_errors=True)
    return ok


def main():
    a, b = Node("a"), Node("b")
    print("phase 2 (%s): images, database, networks" % prefix, flush=True)
    for archive in (tgz, tgz_old):
        with tarfile.open(archive) as t:
            member = next(m for m in t.getmembers() if re.fullmatch(r"harbor/harbor\.v[0-9.]+\.tar\.gz", m.name))
            t.extract(member, os.path.join(work, "images"))
            sh("docker", "load", "-i", os.path.join(work, "images", member.name))
    shutil.rmtree(os.path.join(work, "images"))
    for n in (a, b):
        sh("docker", "network", "create", n.net)
    sh("docker", "run", "-d", "--name", prefix + "-db", "--network", a.net, "--network-alias", "pg", "--network-alias", "redis", db_image)
    sh("docker", "network", "connect", "--alias", "pg", "--alias", "redis", b.net, prefix + "-db")
    for _ in range(60):
        if sh("docker", "exec", prefix + "-db", "test", "-f", "/tmp/ready", check_rc=False).returncode == 0:
            break
        time.sleep(1)
    else:
        raise SystemExit(sh("docker", "logs", prefix + "-db", check_rc=False).stdout)

    print("two nodes, one set of cluster secrets (the deploy's order)", flush=True)
    sh("openssl", "genrsa", "-traditional", "-out", os.path.join(work, "k.pem"), "2048")
    sh("openssl", "req", "-new", "-x509", "-key", os.path.join(work, "k.pem"), "-out", os.path.join(work, "c.crt"), "-days", "2", "-subj", "/CN=h2st")
    secretkey, key_pem, crt_pem = alnum(16), open(os.path.join(work, "k.pem")).read(), open(os.path.join(work, "c.crt")).read()
    for n in (a, b):
        n.extract(tgz)
        n.harbor_yml()
        n.place_secrets(secretkey, key_pem, crt_pem)
        os.makedirs(os.path.join(n.data, "registry"), exist_ok=True)
    # <data_volume>/registry is one shared file system (CephFS in the lab) on every node.
    sh("mount", "--bind", os.path.join(a.data, "registry"), os.path.join(b.data, "registry"))
    for n in (a, b):
        r = n.prepare()
        check(r.returncode == 0, "node %s: ./prepare (the wrapper, in the prepare image)" % n.name, r.stdout[-1500:])
    shared = {(comp, k): a.env(comp)[k] for comp, keys in (("core", ("CORE_SECRET", "JOBSERVICE_SECRET", "CSRF_KEY", "REGISTRY_CREDENTIAL_PASSWORD", "ROBOT_SCANNER_NAME_PREFIX")),
                                                          ("jobservice", ("CORE_SECRET", "JOBSERVICE_SECRET", "REGISTRY_CREDENTIAL_PASSWORD")),
                                                          ("registryctl", ("CORE_SECRET", "JOBSERVICE_SECRET"))) for k in keys}
    check(all(b.env(c)[k] != v for (c, k), v in shared.items()), "node b's prepare drew its own values")
    for (comp, k), v in shared.items():
        b.set_env(comp, k, v)
    shutil.copy(os.path.join(a.harbor, "common/config/registry/passwd"), os.path.join(b.harbor, "common/config/registry/passwd"))
    for n in (a, b):
        n.up()
    check(a.wait_pong() and b.wait_pong(), "GET /api/v2.0/ping through nginx: Pong on both nodes")
    core_a = a.logs("core")
    check("migrated the database schema to version 180" in core_a or "migrated the database schema to version 180" in b.logs("core"),
          "one core migrated the empty database to 180")

    print("shared secrets: a node's session, CSRF token, registry token and settings work on the other", flush=True)
    status, jar, csrf = login(a)
    check(status == 200 and "sid" in jar, "POST /c/login on a (with the CSRF token of a GET): 200 + sid")
    status, _, body = b.request("GET", "/api/v2.0/users/current", {"Cookie": cookie_header(jar)})
    check(status == 200 and json.loads(body)["username"] == "admin", "a's session on b: /api/v2.0/users/current 200 (Redis db 0)")
    status, _, body = b.request("POST", "/api/v2.0/projects", {"Cookie": cookie_header(jar), "X-Harbor-CSRF-Token": csrf,
                                                               "Content-Type": "application/json"}, json.dumps({"project_name": "h2st"}))
    check(status == 201, "a's CSRF token on b (same CSRF_KEY): POST /api/v2.0/projects 201", body[:200])
    status, _, body = b.request("POST", "/api/v2.0/projects", {"Cookie": cookie_header(jar), "Content-Type": "application/json"},
                                json.dumps({"project_name": "h2st2"}))
    check(status == 403, "with a session but no CSRF token: 403", body[:200])
    tok = registry_token(a)
    status, _, body = b.request("GET", "/v2/", {"Authorization": "Bearer " + tok})
    check(status == 200, "a's registry token on b: GET /v2/ 200 (core checks it, the registry takes core's basic auth)", body[:200])
    status, h, _ = b.request("GET", "/v2/")
    check(status == 401 and 'realm="http://h2st.lab:8080/service/token"' in (h.get("WWW-Authenticate") or ""),
          "GET /v2/ without a token: 401, realm from EXT_ENDPOINT's scheme and the Host header")
    status, _, _ = a.request("PUT", "/api/v2.0/configurations", {"Authorization": BASIC, "Content-Type": "application/json"},
                             json.dumps({"ldap_search_password": "h2st-ldap-pw", "ldap_url": "ldap://ldap.lab"}))
    check(status == 200, "PUT /api/v2.0/configurations on a (basic auth, no session: no CSRF)")
    status, _, body = b.request("POST", "/api/v2.0/ldap/ping", {"Authorization": BASIC})
    check(status == 200 and json.loads(body)["success"], "b reads the search password a stored (same secretkey)", body[:200])
    status, _, body = b.request("GET", "/api/v2.0/systeminfo")
    anon = json.loads(body) if status == 200 else {}
    status, _, body = b.request("GET", "/api/v2.0/systeminfo", {"Authorization": BASIC})
    authed = json.loads(body) if status == 200 else {}
    check("harbor_version" not in anon and "auth_mode" in anon and authed.get("harbor_version", "").startswith("v2."),
          "systeminfo: harbor_version only for an authenticated caller (row 42)", "%s / %s" % (anon, authed))
    j = gc(a)
    check(j.get("job_status") == "Success" and j.get("lab_run_on"), "GC job from a: Success, ran on %s" % j.get("lab_run_on"), str(j))
    check(push_pull(a, b), "docker push to a, docker pull from b (nginx -> core -> registry, shared storage)")
    ok, detail = drain_check(a)
    check(ok, "the deploy's conf.d/harbor.http.harbor-ha-health.conf: 200 Pong, 503 with the drain flag, 200 again", str(detail))
    ok, detail = https_nginx_test()
    check(ok, "https: prepare's nginx.conf with the drain location in the 8443 server passes nginx -t", detail)

    print("node b with its own secrets (prepare's, and a new secretkey and keypair)", flush=True)
    shutil.rmtree(os.path.join(b.data, "secret"))
    r = b.prepare()
    check(r.returncode == 0, "node b: ./prepare again", r.stdout[-1500:])
    b.up()
    check(b.wait_pong(), "node b: Pong again")
    status, _, body = b.request("GET", "/v2/", {"Authorization": "Bearer " + tok})
    check(status == 401, "a's registry token on b: 401", body[:200])
    check("failed to decode bearer token: token signature is invalid: crypto/rsa: verification error" in b.logs("core"), "b's core log: failed to decode bearer token: token signature is invalid: crypto/rsa: verification error")
    status, _, body = b.request("GET", "/api/v2.0/users/current", {"Cookie": cookie_header(jar)})
    check(status == 200, "a's session on b still works (sessions do not depend on the secrets)")
    status, _, body = b.request("POST", "/api/v2.0/projects", {"Cookie": cookie_header(jar), "X-Harbor-CSRF-Token": csrf,
                                                               "Content-Type": "application/json"}, json.dumps({"project_name": "h2st3"}))
    check(status == 403 and b"CSRF token invalid" in body, "a's CSRF token on b (other CSRF_KEY): 403 CSRF token invalid", body[:200])
    status, _, body = b.request("POST", "/api/v2.0/ldap/ping", {"Authorization": BASIC})
    check(status == 200 and not json.loads(body)["success"] and "49" in json.loads(body)["message"],
          "b decrypts a's stored search password with its own secretkey: garbage, LDAP code 49", body[:200])
    # Any node's jobservice takes any job from the shared queue: submit on a until one lands on b.
    b_worker = sh("docker", "inspect", "-f", "{{.Config.Hostname}}", b.container("jobservice")).stdout.strip()
    on_a = on_b = None
    for _ in range(12):
        j = gc(a)
        if (j.get("lab_run_on") or "").startswith(b_worker):
            on_b = on_b or j
        else:
            on_a = on_a or j
        if on_a and on_b:
            break
    # GC carries no credential of the submitting core (row 36): b's own secrets do not matter to it.
    check(on_b is not None and on_b.get("job_status") == "Success",
          "a's GC job taken by b's jobservice (b's secrets differ): Success, GC does not use a's JOBSERVICE_SECRET", str(on_b))
    check(on_a is not None and on_a.get("job_status") == "Success", "a's GC job taken by a's own jobservice: Success", str(on_a))

    print("schema: 2.14.4-lab (171) then 2.15.2-lab (180) on one database; 2.14.4 then refuses", flush=True)
    def core_run(name, image, db, *extra):
        return sh("docker", "run", "-d", "--name", "%s-%s" % (prefix, name), "--network", a.net,
                  "--env-file", os.path.join(a.harbor, "common/config/core/env"), "-e", "POSTGRESQL_DATABASE=" + db,
                  "-v", "%s/secret/core/private_key.pem:/etc/core/private_key.pem" % a.data,
                  "-v", "%s/secret/keys/secretkey:/etc/core/key" % a.data, *extra, image)

    def wait_log(name, text, seconds=60):
        deadline, logs = time.time() + seconds, ""
        while time.time() < deadline and text not in logs:
            time.sleep(1)
            logs = sh("docker", "logs", "%s-%s" % (prefix, name), check_rc=False).stdout
        return logs

    core_run("old1", "harbor-lab/harbor-core:v2.14.4", "registry2")
    logs = wait_log("old1", "listening")
    check("migrated the database schema to version 171" in logs and "version 180" not in logs,
          "2.14.4-lab core on an empty database: schema 171", logs[-400:])
    sh("docker", "rm", "-f", prefix + "-old1")
    core_run("new", "harbor-lab/harbor-core:v2.15.2", "registry2")
    logs = wait_log("new", "listening")
    steps = re.findall(r"migrated the database schema to version (\d+)", logs)
    check(steps == ["180"], "2.15.2-lab core: migrates 171 -> 180 (steps %s)" % steps, logs[-400:])
    sh("docker", "rm", "-f", prefix + "-new")
    core_run("old2", "harbor-lab/harbor-core:v2.14.4", "registry2", "--restart", "always")
    time.sleep(8)
    logs = sh("docker", "logs", prefix + "-old2", check_rc=False).stdout
    check("no migration found for version 180" in logs, "2.14.4-lab core on the 180 database: no migration found for version 180", logs[-400:])
    state = sh("docker", "inspect", "-f", "{{.State.Restarting}} {{.RestartCount}}", prefix + "-old2").stdout.strip()
    check(state.startswith("true") or int(state.split()[1]) > 0, "... exits, and restart: always keeps restarting it (%s)" % state)
    sh("docker", "rm", "-f", prefix + "-old2")

    print("migration lock: a second core waits 15 s, then exits", flush=True)
    common = ["--network", a.net, "--env-file", os.path.join(a.harbor, "common/config/core/env"), "-e", "POSTGRESQL_DATABASE=registry3",
              "-v", "%s/secret/core/private_key.pem:/etc/core/private_key.pem" % a.data, "-v", "%s/secret/keys/secretkey:/etc/core/key" % a.data]
    sh("docker", "run", "-d", "--name", prefix + "-lock1", "-e", "HARBOR_LAB_MIGRATION_DELAY=30", *common, "harbor-lab/harbor-core:v2.15.2")
    time.sleep(3)
    t0 = time.time()
    sh("docker", "run", "-d", "--name", prefix + "-lock2", *common, "harbor-lab/harbor-core:v2.15.2")
    rc = sh("docker", "wait", prefix + "-lock2").stdout.strip()
    waited = time.time() - t0
    logs = sh("docker", "logs", prefix + "-lock2", check_rc=False).stdout
    check(rc != "0" and "timeout: can't acquire database lock" in logs and 13 <= waited <= 30,
          "second core: exit %s after %.0fs: timeout: can't acquire database lock" % (rc, waited), logs[-400:])
    for c in ("lock1", "lock2"):
        sh("docker", "rm", "-f", prefix + "-" + c, check_rc=False)

    print("phase 2: %d passed, %d failed" % (passed, failed), flush=True)
    return failed


def cleanup():
    sh("umount", os.path.join(work, "b", "data", "registry"), check_rc=False)
    for name in ("a", "b"):
        p = "%s-%s" % (prefix, name)
        f = os.path.join(work, name, "harbor", "docker-compose.h2st.yml")
        if os.path.exists(f):
            sh("docker-compose", "-p", p, "-f", f, "down", "--remove-orphans", check_rc=False, cwd=os.path.dirname(f))
    for c in ("db", "old1", "new", "old2", "lock1", "lock2"):
        sh("docker", "rm", "-f", "%s-%s" % (prefix, c), check_rc=False)
    for name in ("a", "b"):
        sh("docker", "network", "rm", "%s-%s" % (prefix, name), check_rc=False)
    # The engine is shared: take the loaded images away again (a reload takes seconds).
    images = sh("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", check_rc=False).stdout.split()
    mine = [i for i in images if re.fullmatch(r"harbor-lab/[a-z-]+:v2\.(15\.2|14\.4)", i)]
    if mine:
        sh("docker", "rmi", *mine, check_rc=False)


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        if not os.environ.get("H2ST_KEEP"):
            cleanup()
    sys.exit(1 if rc else 0)
