#!/usr/bin/python3
"""harbor-lab core: a small stand-in for Harbor v2's core (NOT Harbor).

What it does, with the real behaviour each part follows (lab/installer-v2/README.md has the
conformance table, with the real files and lines):
  start      migrate the schema in PostgreSQL under an advisory lock (core_migrate.py), set the
             admin password from HARBOR_ADMIN_PASSWORD once, then serve :8080
  GET  /api/v2.0/ping              "Pong", no auth, checks nothing
  GET  /api/v2.0/health            no auth, 200: each component's last check (every 10 s): core,
                                   database (SELECT 1), redis (PING), registry, jobservice,
                                   registryctl, portal; "unhealthy" with an error if any fails
  GET  /api/v2.0/systeminfo        auth mode; with a login also harbor_version ("v2.15.2-lab")
  POST /c/login                    form principal/password -> cookie sid (session in Redis db 0)
  GET  /c/log_out
  GET  /api/v2.0/users/current     401 without a session / basic auth
  GET|POST /api/v2.0/projects
  GET|PUT  /api/v2.0/configurations  password settings stored AES-encrypted with /etc/core/key
  POST /api/v2.0/ldap/ping         binds with the stored search password (lab: no LDAP server,
                                   see the README row: garbage after decryption = code 49)
  POST /api/v2.0/system/gc/schedule  {"schedule":{"type":"Manual"}}: a job through jobservice
  GET  /api/v2.0/system/gc[/ID]
  GET  /api/version                {"version": "v2.0"}, no auth
  POST|GET /api/v2.0/registries, GET|DELETE /api/v2.0/registries/ID
                                   registry endpoints, the secret encrypted with /etc/core/key;
                                   created only when healthy
  POST /api/v2.0/registries/ping   {"id": N, overrides...}: the stored credential decrypted with
                                   THIS core's key, the remote pinged (400 "the registry is unhealthy")
  POST|DELETE /api/v2.0/replication/policies[/ID]   push policies (source: this Harbor)
  POST /api/v2.0/replication/executions  {"policy_id": N}: lists the source here, one REPLICATION
                                   job per artifact carrying THIS core's JOBSERVICE_SECRET
  GET  /api/v2.0/replication/executions/ID[/tasks]
  GET  /api/v2.0/internalconfig    jobservice only: Authorization: Harbor-Secret <JOBSERVICE_SECRET>
  POST /service/notifications/tasks/ID   jobservice's status hook (no auth, as in Harbor)
  GET  /service/token              RS256 registry tokens signed with /etc/core/private_key.pem
  *    /v2/...                     verifies the bearer token with ITS OWN key (or Harbor-Secret
                                   against ITS OWN JOBSERVICE_SECRET), then proxies to the
                                   registry with basic auth REGISTRY_CREDENTIAL_*
CSRF (core_csrf.py) wraps everything but /v2/, /api/, /service/ without a session."""
import base64
import fnmatch
import hashlib
import http.client
import http.server
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request

import psycopg2
import psycopg2.errors
import psycopg2.extras
import psycopg2.pool

import core_csrf
import core_migrate
import core_secretkey
import core_token
import labcommon
import regclient

log = labcommon.logger("core")
env = labcommon.env
VERSION = env("HARBOR_LAB_VERSION", "v2.15.2") + "-lab"
SESSION_COOKIE = "sid"
SESSION_TTL = 3600
PASSWORD_SETTINGS = {"ldap_search_password", "oidc_client_secret", "uaa_client_secret", "email_password"}
TERMINAL = {"Success", "Error", "Stopped"}
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

POOL = None
REDIS = None
TOKENS = core_token.TokenKey(env("TOKEN_PRIVATE_KEY_PATH", "/etc/core/private_key.pem"))
CSRF = core_csrf.Csrf(env("CSRF_KEY"))


# ---------------------------------------------------------------- database

def db_params():
    return dict(host=env("POSTGRESQL_HOST"), port=int(env("POSTGRESQL_PORT", "5432")),
                user=env("POSTGRESQL_USERNAME"), password=env("POSTGRESQL_PASSWORD"),
                dbname=env("POSTGRESQL_DATABASE", "registry"), sslmode=env("POSTGRESQL_SSLMODE", "disable"),
                connect_timeout=5)


# Harbor's pool is database/sql over pgx's stdlib: a query on a connection the server has closed
# fails (the request with it), and the pool drops that connection. 2.15.2's pgx v5 also pings a
# connection unused for more than 1 s before reusing it, dropping it unseen if the ping fails
# (conformance row 51). When each connection was last handed back, by id:
PING_IDLE_S = 1.0 if tuple(int(x) for x in re.findall(r"\d+", VERSION)[:3]) >= (2, 15, 2) else None
LAST_USE = {}


def pooled():
    while True:
        conn = POOL.getconn()
        last = LAST_USE.pop(id(conn), None)
        if PING_IDLE_S is None or last is None or time.monotonic() - last <= PING_IDLE_S:
            return conn
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            return conn
        except psycopg2.OperationalError:
            POOL.putconn(conn, close=True)


def q(sql, args=(), one=False, fetch=True):
    conn = pooled()
    try:
        conn.autocommit = True
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, args)
            if not fetch:
                return cur.rowcount
            return cur.fetchone() if one else cur.fetchall()
    except psycopg2.OperationalError:
        POOL.putconn(conn, close=True)
        conn = None
        raise
    finally:
        if conn is not None:
            LAST_USE[id(conn)] = time.monotonic()
            POOL.putconn(conn)


def hash_password(password, salt):
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000, 16).hex()


def random_text(n):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def init_admin_password():
    """The initial admin password applies only while admin has none (a new database)."""
    pw = env("HARBOR_ADMIN_PASSWORD")
    salt = random_text(32)
    n = q("UPDATE harbor_user SET password = %s, salt = %s, update_time = now()"
          " WHERE username = 'admin' AND password = ''", (hash_password(pw, salt), salt), fetch=False)
    log("admin password %s", "initialised from HARBOR_ADMIN_PASSWORD" if n else "already set; HARBOR_ADMIN_PASSWORD ignored")


LOGIN_FROZEN_S = 1.5
LOCKED = {}


def authenticate(username, password):
    """db_auth, with Harbor's lock: a failed login freezes that user name for 1.5 s in this core
    (any login meanwhile fails) and the failing request itself waits as long."""
    if LOCKED.get(username, 0) > time.time():
        log("%s is locked due to login failure, login failed", username)
        return None
    row = q("SELECT * FROM harbor_user WHERE username = %s", (username,), one=True)
    if row and row["password"] and row["password"] == hash_password(password, row["salt"]):
        return row
    log("Login failed, locking %s, and sleep for %.1fs", username, LOGIN_FROZEN_S)
    LOCKED[username] = time.time() + LOGIN_FROZEN_S
    time.sleep(LOGIN_FROZEN_S)
    return None


def user_json(u):
    return {"user_id": u["user_id"], "username": u["username"], "email": u["email"], "realname": u["realname"],
            "sysadmin_flag": u["sysadmin_flag"], "creation_time": u["creation_time"].isoformat() + "Z"}


def get_setting(k):
    row = q("SELECT v FROM properties WHERE k = %s", (k,), one=True)
    return row["v"] if row else None


# ---------------------------------------------------------------- jobs (GC through jobservice)

def submit_gc(user):
    ex = q("INSERT INTO execution (vendor_type, vendor_id, status, trigger, extra_attrs, update_time)"
           " VALUES ('GARBAGE_COLLECTION', -1, 'Running', 'MANUAL', %s, now()) RETURNING id",
           (json.dumps({"delete_untagged": False, "triggered_by": user["username"]}),), one=True)["id"]
    task = q("INSERT INTO task (execution_id, status, update_time) VALUES (%s, 'Pending', now()) RETURNING id",
             (ex,), one=True)["id"]
    job = {"job": {
        "name": "GARBAGE_COLLECTION",
        "parameters": {
            "redis_url_reg": env("_REDIS_URL_REG"), "delete_untagged": False, "time_window": 2,
        },
        "metadata": {"kind": "Generic", "is_unique": False},
        "status_hook": "%s/service/notifications/tasks/%d" % (env("CORE_URL", "http://core:8080"), task),
    }}
    job_id = submit_job(ex, task, job)
    log("GC execution %d: task %d submitted to jobservice as job %s", ex, task, job_id)
    return ex


def submit_job(ex, task, job):
    """POST the job to this node's jobservice (Harbor-Secret CORE_SECRET); the task records its ID."""
    req = urllib.request.Request(env("JOBSERVICE_URL", "http://jobservice:8080") + "/api/v1/jobs",
                                 data=json.dumps(job).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": labcommon.SECRET_PREFIX + env("CORE_SECRET")})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            job_id = json.load(r)["job"]["id"]
    except Exception as e:  # noqa: BLE001
        q("UPDATE task SET status = 'Error', status_message = %s, end_time = now() WHERE id = %s", (str(e), task), fetch=False)
        q("UPDATE execution SET status = 'Error', end_time = now() WHERE id = %s", (ex,), fetch=False)
        raise
    q("UPDATE task SET job_id = %s, update_time = now() WHERE id = %s", (job_id, task), fetch=False)
    return job_id


def gc_json(ex):
    t = q("SELECT * FROM task WHERE execution_id = %s ORDER BY id LIMIT 1", (ex["id"],), one=True) or {}
    attrs = t.get("extra_attrs") or {}
    return {"id": ex["id"], "job_name": "GARBAGE_COLLECTION", "job_kind": ex["trigger"],
            "job_parameters": json.dumps(ex["extra_attrs"] or {}), "job_status": t.get("status", ex["status"]),
            "creation_time": ex["start_time"].isoformat() + "Z",
            "update_time": (t.get("update_time") or ex["start_time"]).isoformat() + "Z",
            "lab_job_id": t.get("job_id"), "lab_run_on": attrs.get("worker_id"),
            "lab_status_message": t.get("status_message")}


# ---------------------------------------------------------------- health (src/controller/health)

HEALTH_PERIOD_S = 10
HEALTH = {}


def http_200(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        if r.status != 200:
            raise OSError("unexpected status code: %d" % r.status)


def redis_ping():
    if not REDIS.ping():
        raise OSError("redis: no PONG")


def health_checks():
    """Harbor's checkers; each runs every 10 s and keeps its last result ("unknown status" first)."""
    def database():
        try:
            q("SELECT 1")
        except Exception as e:  # noqa: BLE001
            raise OSError('failed to run SQL "SELECT 1": %s' % str(e).strip())
    return {
        "core": None,
        "portal": lambda: http_200(env("PORTAL_URL", "http://portal:8080")),
        "jobservice": lambda: http_200(env("JOBSERVICE_URL", "http://jobservice:8080") + "/api/v1/stats"),
        "registry": lambda: http_200(env("REGISTRY_URL", "http://registry:5000") + "/"),
        "registryctl": lambda: http_200(env("REGISTRY_CONTROLLER_URL", "http://registryctl:8080") + "/api/health"),
        "database": database,
        "redis": redis_ping,
    }


def start_health_checks():
    def loop(name, check):
        while True:
            try:
                check()
                HEALTH[name] = None
            except Exception as e:  # noqa: BLE001
                HEALTH[name] = str(e) or e.__class__.__name__
            time.sleep(HEALTH_PERIOD_S)
    for name, check in health_checks().items():
        HEALTH[name] = None if check is None else "unknown status"
        if check is not None:
            threading.Thread(target=loop, args=(name, check), daemon=True).start()


def health_json():
    components = []
    for name in sorted(HEALTH):
        c = {"name": name, "status": "healthy" if HEALTH[name] is None else "unhealthy"}
        if HEALTH[name] is not None:
            c["error"] = HEALTH[name]
        components.append(c)
    overall = "healthy" if all(v is None for v in HEALTH.values()) else "unhealthy"
    # Go's encoding/json: no spaces, the struct's field order (status, then components).
    return json.dumps({"status": overall, "components": components}, separators=(",", ":"))


# ---------------------------------------------------------------- registries and replication

def local_registry():
    """The local Harbor as replication sees it: its internal URL and, as the credential, THIS
    core's JOBSERVICE_SECRET (src/pkg/reg/manager.go:164-179)."""
    return {"id": 0, "name": "Local", "type": "harbor", "url": env("CORE_URL", "http://core:8080"), "insecure": True,
            "credential": {"type": "secret", "access_key": "", "access_secret": env("JOBSERVICE_SECRET")}}


def registry_model(row):
    """A stored endpoint with its secret decrypted with this core's key (garbage for another key)."""
    secret = core_secretkey.decrypt(row["access_secret"], core_secretkey.read_key()) if row["access_secret"] else b""
    return {"id": row["id"], "name": row["name"], "type": row["type"], "url": row["url"], "insecure": row["insecure"],
            "credential": {"type": row["credential_type"] or "basic", "access_key": row["access_key"] or "", "access_secret": secret}}


def registry_healthy(reg):
    """The native adapter's HealthCheck: a ping with the credential; any error is logged and is
    "unhealthy" (src/pkg/reg/adapter/native/adapter.go:118-131)."""
    cred = reg.get("credential") or {}
    try:
        regclient.Client(reg["url"], regclient.TokenAuth(cred.get("access_key", ""), cred.get("access_secret", b"")),
                         reg.get("insecure", False)).ping()
        return True
    except (regclient.RegistryError, OSError, ValueError) as e:
        log("failed to ping registry %s: %s", reg["url"], e)
        return False


def registry_json(row):
    return {"id": row["id"], "name": row["name"], "type": row["type"], "url": row["url"], "insecure": row["insecure"],
            "credential": {"type": row["credential_type"] or "basic", "access_key": row["access_key"] or "",
                           "access_secret": "*****" if row["access_secret"] else ""},
            "status": row["health"] or "unknown", "creation_time": row["creation_time"].isoformat() + "Z",
            "update_time": row["update_time"].isoformat() + "Z"}


def source_artifacts(pattern, tag_pattern):
    """The local repositories matching the policy's name filter and their tags matching its tag
    filter (doublestar globs), as the submitting core lists them with its own credential (lab:
    straight from its registry)."""
    reg = regclient.Client(env("REGISTRY_URL", "http://registry:5000"), regclient.TokenAuth(
        env("REGISTRY_CREDENTIAL_USERNAME"), env("REGISTRY_CREDENTIAL_PASSWORD")))
    _, _, body = reg.request("GET", "/v2/_catalog?n=1000")
    out = []
    for repo in json.loads(body).get("repositories") or []:
        if fnmatch.fnmatchcase(repo, pattern.replace("**", "*")):
            _, _, tags = reg.request("GET", "/v2/%s/tags/list" % repo)
            out.extend((repo, t) for t in sorted(json.loads(tags).get("tags") or [])
                       if fnmatch.fnmatchcase(t, tag_pattern.replace("**", "*")))
    return out


def submit_replication(policy):
    dest = q("SELECT * FROM registry WHERE id = %s", (policy["dest_registry_id"],), one=True)
    if not dest:
        raise ValueError("destination registry %s not found" % policy["dest_registry_id"])
    dst = registry_model(dest)
    dst["credential"]["access_secret"] = base64.b64encode(dst["credential"]["access_secret"]).decode()
    dst["credential"]["lab_secret_base64"] = True
    filters = json.loads(policy["filters"] or "[]")
    name_filter, tag_filter = (next((f.get("value") for f in filters if f.get("type") == kind), "**") for kind in ("name", "tag"))
    ex = q("INSERT INTO execution (vendor_type, vendor_id, status, trigger, extra_attrs, update_time)"
           " VALUES ('REPLICATION', %s, 'Running', 'MANUAL', '{}', now()) RETURNING id", (policy["id"],), one=True)["id"]
    artifacts = source_artifacts(name_filter, tag_filter)
    for repo, tag in artifacts:
        dest_repo = "%s/%s" % (policy["dest_namespace"], repo.split("/", 1)[-1]) if policy["dest_namespace"] else repo
        src_res = {"type": "image", "registry": local_registry(), "metadata": {"repository": {"name": repo}, "artifacts": [{"tags": [tag]}]}}
        dst_res = {"type": "image", "registry": dst, "metadata": {"repository": {"name": dest_repo}, "artifacts": [{"tags": [tag]}]},
                   "override": policy["override"]}
        task = q("INSERT INTO task (execution_id, status, extra_attrs, update_time) VALUES (%s, 'Pending', %s, now()) RETURNING id",
                 (ex, json.dumps({"src_resource": "%s:%s" % (repo, tag), "dst_resource": "%s:%s" % (dest_repo, tag)})), one=True)["id"]
        job_id = submit_job(ex, task, {"job": {
            "name": "REPLICATION",
            "parameters": {"src_resource": json.dumps(src_res), "dst_resource": json.dumps(dst_res)},
            "metadata": {"kind": "Generic", "is_unique": False},
            "status_hook": "%s/service/notifications/tasks/%d" % (env("CORE_URL", "http://core:8080"), task),
        }})
        log("replication execution %d: task %d (%s:%s) submitted to jobservice as job %s", ex, task, repo, tag, job_id)
    if not artifacts:
        q("UPDATE execution SET status = 'Success', end_time = now() WHERE id = %s", (ex,), fetch=False)
    return ex


# The replication API's names for the task statuses jobservice reports.
REPLICATION_STATUS = {"Pending": "Pending", "Running": "InProgress", "Success": "Succeed", "Error": "Failed", "Stopped": "Stopped"}


def replication_execution_json(ex):
    tasks = q("SELECT status FROM task WHERE execution_id = %s", (ex["id"],))
    statuses = [t["status"] for t in tasks]
    if any(st not in TERMINAL for st in statuses):
        status = "InProgress"
    elif "Error" in statuses:
        status = "Failed"
    elif "Stopped" in statuses:
        status = "Stopped"
    else:
        status = "Succeed"
    return {"id": ex["id"], "policy_id": ex["vendor_id"], "status": status, "status_text": "", "trigger": "manual",
            "total": len(statuses), "failed": statuses.count("Error"), "succeed": statuses.count("Success"),
            "in_progress": sum(1 for st in statuses if st not in TERMINAL), "stopped": statuses.count("Stopped"),
            "start_time": ex["start_time"].isoformat() + "Z"}


# ---------------------------------------------------------------- HTTP

V2_REPO = re.compile(r"^/v2/(.+?)/(manifests|blobs|tags)(/.*)?$")
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "harbor-lab-core"

    def log_message(self, fmt, *args):
        log("%s %s", self.headers.get("X-Real-IP") or self.address_string(), fmt % args)

    # -- plumbing

    def send(self, code, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        for k, v in list(headers) + self.extra_headers:
            self.send_header(k, v)
        if body or code not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, message, headers=()):
        names = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 500: "UNKNOWN"}
        self.send(code, {"errors": [{"code": names.get(code, "UNKNOWN"), "message": message}]}, headers=headers)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def json_body(self):
        try:
            return json.loads(self.read_body() or b"{}")
        except ValueError:
            return None

    def cookie(self, name):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
        return None

    def basic(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None
        try:
            user, _, pw = base64.b64decode(auth[6:]).decode(errors="replace").partition(":")
        except ValueError:
            return None
        return user, pw

    def session(self):
        sid = self.cookie(SESSION_COOKIE)
        if not sid:
            return None, None
        raw = REDIS.get(sid)
        return (sid, json.loads(raw)) if raw else (None, None)

    def current_user(self):
        _, s = self.session()
        if s:
            return q("SELECT * FROM harbor_user WHERE user_id = %s", (s["user_id"],), one=True)
        creds = self.basic()
        return authenticate(*creds) if creds else None

    # -- dispatch

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    ROUTES = [
        ("GET", r"/api/v2\.0/ping", "ping"),
        ("GET", r"/api/v2\.0/systeminfo", "systeminfo"),
        ("POST", r"/c/login", "login"),
        ("GET", r"/c/log_out", "log_out"),
        ("GET", r"/api/v2\.0/users/current", "users_current"),
        ("GET", r"/api/v2\.0/projects", "projects_list"),
        ("POST", r"/api/v2\.0/projects", "projects_create"),
        ("GET", r"/api/v2\.0/configurations", "config_get"),
        ("PUT", r"/api/v2\.0/configurations", "config_put"),
        ("POST", r"/api/v2\.0/ldap/ping", "ldap_ping"),
        ("POST", r"/api/v2\.0/system/gc/schedule", "gc_schedule"),
        ("GET", r"/api/v2\.0/system/gc", "gc_list"),
        ("GET", r"/api/v2\.0/system/gc/(\d+)", "gc_get"),
        ("GET", r"/api/v2\.0/internalconfig", "internalconfig"),
        ("GET", r"/api/version", "api_version"),
        ("POST", r"/api/v2\.0/registries", "registries_create"),
        ("GET", r"/api/v2\.0/registries", "registries_list"),
        ("POST", r"/api/v2\.0/registries/ping", "registries_ping"),
        ("GET", r"/api/v2\.0/registries/(\d+)", "registries_get"),
        ("DELETE", r"/api/v2\.0/registries/(\d+)", "registries_delete"),
        ("POST", r"/api/v2\.0/replication/policies", "policies_create"),
        ("DELETE", r"/api/v2\.0/replication/policies/(\d+)", "policies_delete"),
        ("POST", r"/api/v2\.0/replication/executions", "executions_create"),
        ("GET", r"/api/v2\.0/replication/executions/(\d+)", "executions_get"),
        ("GET", r"/api/v2\.0/replication/executions/(\d+)/tasks", "executions_tasks"),
        ("POST", r"/service/notifications/tasks/(\d+)", "task_hook"),
        ("GET", r"/service/token", "token"),
    ]

    def dispatch(self):
        self.extra_headers = []
        url = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(url.query)
        path = re.sub("/+", "/", url.path)
        try:
            if path == "/api/v2.0/ping" and self.command == "GET":
                return self.ping()  # no session, no CSRF, no database: Harbor's ping skipper
            if path == "/api/v2.0/health" and self.command == "GET":
                return self.send(200, health_json())
            sid, _ = self.session() if self.cookie(SESSION_COOKIE) else (None, None)
            if not core_csrf.skipped(path, sid is not None):
                if CSRF.key_error:
                    return self.error(500, CSRF.key_error)
                ok, token, new_cookie, reason = CSRF.check(self.command, self.cookie(core_csrf.COOKIE),
                                                           self.headers.get(core_csrf.HEADER))
                self.extra_headers.append((core_csrf.HEADER, CSRF.mask(token)))
                if new_cookie:
                    secure = "" if env("EXT_ENDPOINT").startswith("http://") else "; Secure"
                    self.extra_headers.append(("Set-Cookie", "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s"
                                               % (core_csrf.COOKIE, new_cookie, core_csrf.MAX_AGE, secure)))
                if not ok:
                    log("CSRF check failed for %s %s: %s", self.command, path, reason)
                    return self.error(403, reason)
            if path == "/v2" or path.startswith("/v2/"):
                return self.v2(path, url.query)
            for method, pattern, name in self.ROUTES:
                m = re.fullmatch(pattern, path)
                if m and (method == self.command or (method == "GET" and self.command == "HEAD")):
                    return getattr(self, name)(*m.groups())
            if any(re.fullmatch(p, path) for _, p, _ in self.ROUTES):
                return self.error(405, "method not allowed")
            return self.error(404, "not found")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # noqa: BLE001
            log("ERROR %s %s: %r", self.command, path, e)
            try:
                self.error(500, "internal error: %s" % e)
            except OSError:
                pass

    # -- health and info

    def ping(self):
        self.extra_headers = []
        self.send(200, "Pong", ctype="text/plain")

    def systeminfo(self):
        # As Harbor: the version and URLs are "protected" info, only for an authenticated caller.
        info = {"auth_mode": "db_auth", "primary_auth_mode": False, "self_registration": False, "banner_message": ""}
        if self.current_user():
            ext = env("EXT_ENDPOINT")
            info.update({"harbor_version": VERSION, "external_url": ext, "registry_url": ext.split("://", 1)[-1],
                         "current_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "read_only": False})
        self.send(200, info)

    # -- sessions

    def login(self):
        form = urllib.parse.parse_qs(self.read_body().decode())
        user = authenticate(form.get("principal", [""])[0], form.get("password", [""])[0])
        if not user:
            return self.error(401, "Unauthorized")
        sid = secrets.token_hex(16)
        REDIS.set(sid, json.dumps({"user_id": user["user_id"], "username": user["username"]}), ex=SESSION_TTL)
        secure = "" if env("EXT_ENDPOINT").startswith("http://") else "; Secure"
        self.send(200, b"", headers=[("Set-Cookie", "%s=%s; Path=/; HttpOnly%s" % (SESSION_COOKIE, sid, secure))])

    def log_out(self):
        sid, _ = self.session()
        if sid:
            REDIS.delete(sid)
        self.send(200, b"", headers=[("Set-Cookie", "%s=; Path=/; Max-Age=0" % SESSION_COOKIE)])

    def users_current(self):
        user = self.current_user()
        if not user:
            return self.error(401, "UnAuthorized")
        self.send(200, user_json(user))

    # -- projects

    def projects_list(self):
        user = self.current_user()
        if user and user["sysadmin_flag"]:
            rows = q("SELECT * FROM project WHERE NOT deleted ORDER BY project_id")
        else:
            rows = q("SELECT * FROM project WHERE NOT deleted AND (public OR owner_id = %s) ORDER BY project_id",
                     (user["user_id"] if user else -1,))
        self.send(200, [{"project_id": r["project_id"], "name": r["name"], "owner_id": r["owner_id"],
                         "metadata": {"public": "true" if r["public"] else "false"},
                         "creation_time": r["creation_time"].isoformat() + "Z"} for r in rows])

    def projects_create(self):
        user = self.current_user()
        if not user:
            return self.error(401, "UnAuthorized")
        body = self.json_body() or {}
        name = body.get("project_name", "")
        if not re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", name or ""):
            return self.error(400, "project name is not in lower case or contains illegal characters")
        public = str((body.get("metadata") or {}).get("public", "false")).lower() == "true"
        try:
            row = q("INSERT INTO project (owner_id, name, public) VALUES (%s, %s, %s) RETURNING project_id",
                    (user["user_id"], name, public), one=True)
        except psycopg2.errors.UniqueViolation:
            return self.error(409, "The project named %s already exists" % name)
        self.send(201, b"", headers=[("Location", "/api/v2.0/projects/%d" % row["project_id"])])

    # -- configurations (secretkey)

    def require_admin(self):
        user = self.current_user()
        if not user:
            self.error(401, "UnAuthorized")
            return None
        if not user["sysadmin_flag"]:
            self.error(403, "Forbidden")
            return None
        return user

    def config_get(self):
        if not self.require_admin():
            return
        rows = q("SELECT k, v FROM properties WHERE k NOT LIKE 'lab_%%'")
        self.send(200, {r["k"]: {"value": r["v"], "editable": True} for r in rows if r["k"] not in PASSWORD_SETTINGS})

    def config_put(self):
        if not self.require_admin():
            return
        body = self.json_body()
        if not isinstance(body, dict):
            return self.error(400, "invalid configurations")
        key = core_secretkey.read_key()
        for k, v in body.items():
            value = core_secretkey.encrypt(str(v), key) if k in PASSWORD_SETTINGS else str(v)
            q("INSERT INTO properties (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
              (k, value), fetch=False)
        self.send(200, b"")

    def ldap_ping(self):
        if not self.require_admin():
            return
        stored = get_setting("ldap_search_password")
        if stored is None:
            return self.error(400, "ldap_search_password is not set")
        plain = core_secretkey.decrypt(stored, core_secretkey.read_key())
        # Lab: there is no LDAP server. Harbor would bind with these bytes; garbage (decrypted
        # with another node's secretkey) is what the server then rejects with code 49.
        try:
            text = plain.decode("utf-8")
            readable = text.isprintable()
        except UnicodeDecodeError:
            readable = False
        if not readable:
            log("ldap ping: the stored search password decrypts to unreadable bytes (another secretkey?)")
            return self.send(200, {"success": False, "message": 'LDAP Result Code 49 "Invalid Credentials"'})
        self.send(200, {"success": True, "message": "lab: search password readable",
                        "lab_search_password_sha256": hashlib.sha256(plain).hexdigest()})

    # -- jobs

    def gc_schedule(self):
        user = self.require_admin()
        if not user:
            return
        body = self.json_body() or {}
        kind = ((body.get("schedule") or {}).get("type") or "")
        if kind != "Manual":
            return self.error(400, "lab stand-in: only a Manual schedule is modelled")
        ex = submit_gc(user)
        self.send(201, b"", headers=[("Location", "/api/v2.0/system/gc/%d" % ex)])

    def gc_list(self):
        if not self.require_admin():
            return
        rows = q("SELECT * FROM execution WHERE vendor_type = 'GARBAGE_COLLECTION' ORDER BY id DESC LIMIT 20")
        self.send(200, [gc_json(r) for r in rows])

    def gc_get(self, ex_id):
        if not self.require_admin():
            return
        row = q("SELECT * FROM execution WHERE id = %s AND vendor_type = 'GARBAGE_COLLECTION'", (int(ex_id),), one=True)
        if not row:
            return self.error(404, "garbage collection %s not found" % ex_id)
        self.send(200, gc_json(row))

    def internalconfig(self):
        # Only the jobservice solution user (Harbor-Secret = JOBSERVICE_SECRET) may read it.
        if labcommon.harbor_secret(self.headers) != env("JOBSERVICE_SECRET"):
            log("internalconfig: unauthorized (Harbor-Secret does not match this core's JOBSERVICE_SECRET)")
            return self.error(401, "UnAuthorized")
        self.send(200, {"postgresql_host": {"value": env("POSTGRESQL_HOST")},
                        "postgresql_database": {"value": env("POSTGRESQL_DATABASE")},
                        "ext_endpoint": {"value": env("EXT_ENDPOINT")}})

    # -- registry endpoints and replication (src/server/v2.0/handler/registry.go, replication.go)

    def api_version(self):
        self.send(200, {"version": "v2.0"})

    def registries_create(self):
        if not self.require_admin():
            return
        body = self.json_body() or {}
        cred = body.get("credential") or {}
        name, url = body.get("name") or "", (body.get("url") or "").rstrip("/")
        if not name or len(name) > 64:
            return self.error(400, "the registry name is required, at most 64 characters")
        if not re.match(r"https?://", url):
            return self.error(400, "invalid URL: %s" % url)
        reg = {"url": url, "type": body.get("type") or "", "insecure": bool(body.get("insecure")),
               "credential": {"access_key": cred.get("access_key") or "", "access_secret": cred.get("access_secret") or ""}}
        # As Harbor's controller: an endpoint is stored only when it answers as healthy.
        if not registry_healthy(reg):
            return self.error(400, "the registry is unhealthy")
        secret = cred.get("access_secret") or ""
        enc = core_secretkey.encrypt(secret, core_secretkey.read_key()) if cred.get("access_key") and secret else None
        try:
            row = q("INSERT INTO registry (name, url, credential_type, access_key, access_secret, type, insecure, description, health)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'healthy') RETURNING id",
                    (name, url, (cred.get("type") or "basic") if cred.get("access_key") else None, cred.get("access_key") or None,
                     enc, reg["type"], reg["insecure"], body.get("description") or ""), one=True)
        except psycopg2.errors.UniqueViolation:
            return self.error(409, "registry %s already exists" % name)
        self.send(201, b"", headers=[("Location", "/api/v2.0/registries/%d" % row["id"])])

    def registries_list(self):
        if not self.require_admin():
            return
        self.send(200, [registry_json(r) for r in q("SELECT * FROM registry ORDER BY id")])

    def registries_get(self, reg_id):
        if not self.require_admin():
            return
        row = q("SELECT * FROM registry WHERE id = %s", (int(reg_id),), one=True)
        if not row:
            return self.error(404, "registry %s not found" % reg_id)
        self.send(200, registry_json(row))

    def registries_delete(self, reg_id):
        if not self.require_admin():
            return
        if q("SELECT 1 FROM replication_policy WHERE dest_registry_id = %s OR src_registry_id = %s", (int(reg_id), int(reg_id))):
            return self.error(412, "the registry %s is referenced by policies, cannot delete it" % reg_id)
        if not q("DELETE FROM registry WHERE id = %s", (int(reg_id),), fetch=False):
            return self.error(404, "registry %s not found" % reg_id)
        self.send(200, b"")

    def registries_ping(self):
        if not self.require_admin():
            return
        body = self.json_body() or {}
        reg = {"type": "", "url": "", "insecure": False, "credential": {"access_key": "", "access_secret": b""}}
        if body.get("id") is not None:
            row = q("SELECT * FROM registry WHERE id = %s", (int(body["id"]),), one=True)
            if not row:
                return self.error(404, "registry %s not found" % body["id"])
            reg = registry_model(row)
        for k in ("type", "url", "insecure"):
            if k in body:
                reg[k] = body[k]
        for k in ("access_key", "access_secret"):
            if k in body:
                reg["credential"][k] = body[k]
        if not reg["type"] or not reg["url"]:
            return self.error(400, "type or url cannot be empty")
        if not registry_healthy(reg):
            return self.error(400, "the registry is unhealthy")
        self.send(200, b"")

    def policies_create(self):
        if not self.require_admin():
            return
        body = self.json_body() or {}
        if body.get("src_registry"):
            return self.error(400, "lab stand-in: only push policies (source: this Harbor) are modelled")
        dest = (body.get("dest_registry") or {}).get("id")
        if not dest or not q("SELECT 1 FROM registry WHERE id = %s", (int(dest),)):
            return self.error(400, "destination registry %s not found" % dest)
        try:
            row = q("INSERT INTO replication_policy (name, dest_registry_id, dest_namespace, filters, trigger, override, enabled)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (body.get("name") or "", int(dest), body.get("dest_namespace") or "", json.dumps(body.get("filters") or []),
                     json.dumps(body.get("trigger") or {"type": "manual"}), bool(body.get("override")), body.get("enabled", True) is not False),
                    one=True)
        except psycopg2.errors.UniqueViolation:
            return self.error(409, "policy %s already exists" % body.get("name"))
        self.send(201, b"", headers=[("Location", "/api/v2.0/replication/policies/%d" % row["id"])])

    def policies_delete(self, policy_id):
        if not self.require_admin():
            return
        if not q("DELETE FROM replication_policy WHERE id = %s", (int(policy_id),), fetch=False):
            return self.error(404, "policy %s not found" % policy_id)
        self.send(200, b"")

    def executions_create(self):
        if not self.require_admin():
            return
        policy = q("SELECT * FROM replication_policy WHERE id = %s", (int((self.json_body() or {}).get("policy_id") or 0),), one=True)
        if not policy:
            return self.error(404, "policy not found")
        if not policy["enabled"]:
            return self.error(412, "the policy %d is disabled" % policy["id"])
        ex = submit_replication(policy)
        self.send(201, b"", headers=[("Location", "/api/v2.0/replication/executions/%d" % ex)])

    def executions_get(self, ex_id):
        if not self.require_admin():
            return
        ex = q("SELECT * FROM execution WHERE id = %s AND vendor_type = 'REPLICATION'", (int(ex_id),), one=True)
        if not ex:
            return self.error(404, "execution %s not found" % ex_id)
        self.send(200, replication_execution_json(ex))

    def executions_tasks(self, ex_id):
        if not self.require_admin():
            return
        rows = q("SELECT * FROM task WHERE execution_id = %s ORDER BY id", (int(ex_id),))
        self.send(200, [{"id": t["id"], "execution_id": t["execution_id"], "job_id": t["job_id"],
                         "status": REPLICATION_STATUS.get(t["status"], t["status"]), "operation": "copy", "resource_type": "image",
                         "src_resource": (t["extra_attrs"] or {}).get("src_resource"), "dst_resource": (t["extra_attrs"] or {}).get("dst_resource"),
                         "start_time": (t["start_time"] or t["creation_time"]).isoformat() + "Z"} for t in rows])

    def task_hook(self, task_id):
        body = self.json_body() or {}
        status = body.get("status", "")
        meta = body.get("metadata") or {}
        task = q("SELECT * FROM task WHERE id = %s", (int(task_id),), one=True)
        if not task:
            return self.error(404, "task %s not found" % task_id)
        attrs = task["extra_attrs"] or {}
        if meta.get("worker_id"):
            attrs["worker_id"] = meta["worker_id"]
        end = "now()" if status in TERMINAL else "NULL"
        q("UPDATE task SET status = %%s, status_message = %%s, extra_attrs = %%s, update_time = now(),"
          " start_time = COALESCE(start_time, now()), end_time = %s WHERE id = %%s" % end,
          (status, meta.get("status_message") or body.get("message"), json.dumps(attrs), int(task_id)), fetch=False)
        if status in TERMINAL:
            q("UPDATE execution SET status = %s, end_time = now(), update_time = now() WHERE id = %s",
              (status, task["execution_id"]), fetch=False)
        log("task %s: %s (ran on %s)", task_id, status, meta.get("worker_id"))
        self.send(200, b"")

    # -- registry tokens and /v2/

    def grant(self, user, kind, name, actions):
        if kind == "registry" and name == "catalog":
            return ["*"] if user and user["sysadmin_flag"] else []
        if kind != "repository" or "/" not in name:
            return []
        project = q("SELECT * FROM project WHERE name = %s AND NOT deleted", (name.split("/", 1)[0],), one=True)
        if not project:
            return []
        if user and (user["sysadmin_flag"] or project["owner_id"] == user["user_id"]):
            allowed = {"pull", "push", "delete", "*"}
        elif project["public"]:
            allowed = {"pull"}
        else:
            allowed = set()
        return [a for a in actions if a in allowed]

    def token(self):
        creds = self.basic()
        user = authenticate(*creds) if creds else None
        # A refused credential is anonymous; with no scope asked there is nothing to give it
        # (src/core/service/token/creator.go:198-220): 401, no body.
        if not user and not self.query.get("scope"):
            return self.send(401, b"")
        access = []
        for scope in self.query.get("scope", []):
            for one in scope.split(" "):
                parsed = core_token.parse_scope(one)
                if parsed:
                    kind, name, actions = parsed
                    access.append({"type": kind, "name": name, "actions": self.grant(user, kind, name, actions)})
        service = (self.query.get("service") or [core_token.SERVICE])[0]
        tok, issued, ttl = TOKENS.issue(user["username"] if user else "", access, service=service)
        self.send(200, {"token": tok, "access_token": tok, "expires_in": ttl,
                        "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued))})

    def error_v2(self, code, message):
        self.send(code, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                  headers=[("Docker-Distribution-Api-Version", "registry/2.0")])

    def challenge(self, scope=None):
        proto = "https" if env("EXT_ENDPOINT").startswith("https") else "http"
        value = 'Bearer realm="%s://%s/service/token",service="%s"' % (
            proto, self.headers.get("Host", ""), core_token.SERVICE)
        if scope:
            value += ',scope="%s"' % scope
        self.send(401, {"errors": [{"code": "UNAUTHORIZED", "message": "unauthorized: authentication required"}]},
                  headers=[("WWW-Authenticate", value), ("Docker-Distribution-Api-Version", "registry/2.0")])

    def v2(self, path, query):
        m = V2_REPO.match(path)
        if path == "/v2/_catalog":
            need = ("registry", "catalog", "*")
        elif m:
            action = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}.get(self.command, "push")
            need = ("repository", m.group(1), action)
        else:
            need = None
        scope = "%s:%s:%s" % need if need else None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            try:
                claims = TOKENS.verify(auth[7:].strip())
            except ValueError as e:
                log("failed to decode bearer token: %s", e)
                return self.challenge(scope)
            if need and not core_token.allows(claims, *need):
                return self.challenge(scope)
        elif auth.startswith(labcommon.SECRET_PREFIX):
            # The jobservice solution user: only THIS core's JOBSERVICE_SECRET is known here; any
            # other secret is a context that may do nothing (src/common/security/secret/context.go).
            if labcommon.harbor_secret(self.headers) != env("JOBSERVICE_SECRET"):
                return self.error_v2(401, "unauthorized to access repository: %s, action: %s" % (need[1], need[2]) if need
                                     else "unauthorized")
        elif auth.startswith("Basic "):
            user = self.current_user()
            if not user or (need and need[2] not in self.grant(user, need[0], need[1], [need[2]])):
                return self.challenge(scope)
        else:
            return self.challenge(scope)
        self.proxy_registry(path + ("?" + query if query else ""))

    def proxy_registry(self, target):
        reg = urllib.parse.urlsplit(env("REGISTRY_URL", "http://registry:5000"))
        conn = http.client.HTTPConnection(reg.hostname, reg.port or 80, timeout=900)
        cred = "%s:%s" % (env("REGISTRY_CREDENTIAL_USERNAME"), env("REGISTRY_CREDENTIAL_PASSWORD"))
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in HOP and k.lower() not in ("authorization", "content-length"):
                conn.putheader(k, v)
        conn.putheader("Authorization", "Basic " + base64.b64encode(cred.encode()).decode())
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        elif self.headers.get("Content-Length"):
            conn.putheader("Content-Length", self.headers["Content-Length"])
        conn.endheaders()
        if chunked:
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    conn.send(b"0\r\n\r\n")
                    break
                data = self.rfile.read(size)
                self.rfile.readline()
                conn.send(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                data = self.rfile.read(min(left, 1 << 16))
                if not data:
                    break
                conn.send(data)
                left -= len(data)
        resp = conn.getresponse()
        self.send_response(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        if length is None and not no_body:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not no_body:
            while True:
                data = resp.read1(1 << 16) if hasattr(resp, "read1") else resp.read(1 << 16)
                if not data:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if length is None else data)
            if length is None:
                self.wfile.write(b"0\r\n\r\n")
        conn.close()


# ---------------------------------------------------------------- start

def connect_db(seconds=60):
    deadline = time.time() + seconds
    while True:
        try:
            return psycopg2.connect(**db_params())
        except psycopg2.OperationalError as e:
            if time.time() > deadline:
                log("FATAL: failed to connect to the database: %s", str(e).strip())
                sys.exit(1)
            log("failed to connect to the database, retry in 2s: %s", str(e).strip())
            time.sleep(2)


def main():
    global POOL, REDIS
    labcommon.exit_on_sigterm(log)
    newest = core_migrate.schema_version()
    log("harbor-lab core %s (schema %d) starting", VERSION, newest)
    conn = connect_db()
    try:
        core_migrate.migrate(conn, db_params()["dbname"], newest, log,
                             delay=float(env("HARBOR_LAB_MIGRATION_DELAY", "0") or 0))
    except core_migrate.MigrationError as e:
        log("FATAL: failed to migrate the database, error: %s", e)
        sys.exit(1)
    finally:
        conn.close()
    POOL = psycopg2.pool.ThreadedConnectionPool(1, 10, **db_params())
    REDIS = labcommon.redis_from_url(env("_REDIS_URL_CORE"))
    init_admin_password()
    start_health_checks()
    if CSRF.key_error:
        log("ERROR: Invalid CSRF key length from the environment (%d characters). Please ensure the key length is 32 characters.",
            len(env("CSRF_KEY")))
    port = int(env("PORT", "8080"))
    log("listening on :%d", port)
    labcommon.Server(("", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
