#!/usr/bin/python3
"""harbor-lab ui: a small stand-in for the UI + token service of Harbor v1.2.2.

It is NOT Harbor.  It implements just enough, with the same names, wire formats and
dependencies, for a deployment tool to be tested against (lab/installer/README.md has
the conformance table: each behaviour with the real file and tag it follows):

  GET  /service/token       Docker Distribution token service (RS256 JWT signed with
                            /etc/ui/private_key.pem, read on every token; header "kid" =
                            libtrust key id)
  POST /login               form principal/password -> session cookie (beegosessionID)
  GET  /log_out             drops the session
  GET  /api/users/current   the logged-in user (session cookie or HTTP Basic), else 401
  POST /api/users           create a user (self-registration or admin)
  GET  /api/projects        projects the caller can see; POST creates one
  GET  /api/systeminfo      JSON with registry_url and harbor_version; asks the adminserver
                            on every call (500 when it cannot)
  POST /service/notifications  registry events (counted in the repository table)
  PUT  /api/configurations  settings handed to the adminserver (admin)
  POST /api/targets         a replication target; its password encrypted with the secretkey
                            (/etc/ui/key), stored in MySQL (admin)
  POST /api/targets/ID/ping the stored password decrypted with this node's secretkey, then the
                            target registry pinged with it as Harbor's token authorizer does
  GET  /api/targets, DELETE /api/targets/ID   list (passwords blanked) and remove (admin)

Like Harbor's ui, it takes its settings (MySQL included) from the adminserver
(ADMIN_SERVER_URL, default http://adminserver; cookie "secret" = UI_SECRET), waiting up
to 60 s for it and for MySQL at start and exiting when either fails; its own env has only
UI_SECRET, CONFIG_PATH and _REDIS_URL ("host:port,poolsize,password,dbindex").  Without
_REDIS_URL sessions live in this process only, exactly the situation that breaks logins
behind a load balancer.
"""
import base64
import configparser
import datetime
import socket
import hashlib
import http.server
import json
import os
import re
import secrets
import signal
import socketserver
import ssl
import string
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pymysql
import redis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

import reversible

VERSION = "v1.2.2-lab"
ISSUER = "harbor-token-issuer"
DEFAULT_SERVICE = "harbor-registry"
ALNUM = string.ascii_letters + string.digits


def log(msg, *args):
    text = msg % args if args else msg
    sys.stdout.write("%s [ui] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), text))
    sys.stdout.flush()


def env(name, default=""):
    return os.environ.get(name, default)


def read_app_conf(path):
    conf = {"sessionname": "beegosessionID", "sessiongcmaxlifetime": "3600", "httpport": "80"}
    if path and os.path.isfile(path):
        p = configparser.RawConfigParser()
        with open(path) as f:
            p.read_string("[app]\n" + f.read())
        conf.update({k: v.strip() for k, v in p.items("app")})
    return conf


APP_CONF = read_app_conf(env("CONFIG_PATH", "/etc/ui/app.conf"))
SESSION_COOKIE = APP_CONF["sessionname"]
SESSION_TTL = int(APP_CONF["sessiongcmaxlifetime"])
LISTEN_PORT = int(env("LAB_UI_PORT", APP_CONF.get("httpport", "80")))
KEY_PATH = env("LAB_TOKEN_KEY_PATH", "/etc/ui/private_key.pem")
# The secretkey (config.SecretKey: a FileKeyProvider on KEY_PATH, default /etc/ui/key).
SECRET_KEY_PATH = env("KEY_PATH", "/etc/ui/key")


# ---------------------------------------------------------------- settings (from the adminserver)

ADMIN_SERVER_URL = env("ADMIN_SERVER_URL", "http://adminserver").rstrip("/")


def wait_tcp(what, host, port, seconds=60, every=2):
    """Harbor's utils.TestTCPConn: dial every `every` s for up to `seconds` s, else exit."""
    deadline = time.time() + seconds
    while True:
        try:
            socket.create_connection((host, port), timeout=every).close()
            return
        except OSError as e:
            if time.time() >= deadline:
                log("FATAL: failed to connect to %s tcp://%s:%s: %s", what, host, port, e)
                sys.exit(1)
            log("failed to connect to tcp://%s:%s, retry after %d seconds: %s", host, port, every, e)
            time.sleep(every)


def fetch_settings():
    """GET /api/configurations from the adminserver; {} values are unwrapped."""
    req = urllib.request.Request(ADMIN_SERVER_URL + "/api/configurations",
                                 headers={"Cookie": "secret=" + env("UI_SECRET")})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = json.load(r)
    return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in raw.items()}


class Settings:
    """The adminserver's configuration, cached for cfg_expiration seconds like Harbor's ui."""

    def __init__(self):
        self.lock = threading.Lock()
        self.values, self.at = None, 0.0

    def get(self, key, default=""):
        with self.lock:
            ttl = int((self.values or {}).get("cfg_expiration") or 5)
            if self.values is None or time.time() - self.at > ttl:
                self.values, self.at = fetch_settings(), time.time()
            v = self.values.get(key, default)
        return default if v is None else v


SETTINGS = Settings()
# MySQL settings as the adminserver gave them at start (Harbor opens its database once).
DB = {}


# ---------------------------------------------------------------- database

def db_connect():
    return pymysql.connect(
        # Bytes, like Go's driver sends them: a password decrypted with another key is garbage, not an error here.
        host=DB["host"], port=DB["port"], user=DB["user"], password=DB["password"].encode("utf-8"), database=DB["database"],
        connect_timeout=3, read_timeout=10, write_timeout=10,
        charset="utf8", autocommit=True,
        cursorclass=pymysql.cursors.DictCursor)


def db_query(sql, args=(), one=False):
    conn = db_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchone() if one else cur.fetchall()
    finally:
        conn.close()


def db_exec(sql, args=()):
    conn = db_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.lastrowid, cur.rowcount
    finally:
        conn.close()


def hash_password(password, salt):
    # Harbor 1.x: hex(pbkdf2(sha1, password, salt, 4096 rounds, 16 bytes))
    return hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(), 4096, 16).hex()


def random_text(n):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def ensure_admin(password):
    """Give the admin user the initial password, but only when it has none yet
    (missing row, or the empty password that registry.sql ships)."""
    if not password:
        log("the initial admin password is empty; not initialising the admin user")
        return
    row = db_query("SELECT user_id, password FROM user WHERE username = 'admin'", one=True)
    salt = random_text(32)
    if row is None:
        try:
            db_exec("INSERT INTO user (username, email, password, realname, comment, deleted, salt,"
                    " sysadmin_flag, creation_time, update_time) VALUES"
                    " ('admin', 'admin@example.com', %s, 'system admin', 'admin user', 0, %s, 1, NOW(), NOW())",
                    (hash_password(password, salt), salt))
            log("created user admin with the initial password")
        except pymysql.err.IntegrityError:
            log("user admin was created concurrently by another node")
    elif not row["password"]:
        _, n = db_exec("UPDATE user SET password = %s, salt = %s, update_time = NOW()"
                       " WHERE username = 'admin' AND password = ''",
                       (hash_password(password, salt), salt))
        log("initial admin password %s", "set" if n else "was set concurrently by another node")
    else:
        log("user admin already has a password; the initial password is ignored")


def authenticate(username, password):
    """Return the user row when username/password are valid (db_auth), else None."""
    if not username or not password:
        return None
    row = db_query("SELECT * FROM user WHERE username = %s AND deleted = 0", (username,), one=True)
    if row is None or not row["password"]:
        return None
    if not secrets.compare_digest(hash_password(password, row["salt"] or ""), row["password"]):
        return None
    return row


def user_by_id(user_id):
    return db_query("SELECT * FROM user WHERE user_id = %s AND deleted = 0", (user_id,), one=True)


def user_json(row):
    def ts(v):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime.datetime) else None
    return {
        "user_id": row["user_id"], "username": row["username"], "email": row["email"],
        "password": "", "realname": row["realname"], "comment": row["comment"] or "",
        "deleted": row["deleted"], "role_name": "", "role_id": 0,
        "has_admin_role": int(row["sysadmin_flag"] or 0), "reset_uuid": "", "Salt": "",
        "creation_time": ts(row["creation_time"]), "update_time": ts(row["update_time"]),
    }


# ---------------------------------------------------------------- sessions

class MemorySessions:
    """Sessions of this process only (beego's default memory provider)."""
    kind = "memory"

    def __init__(self):
        self.data = {}
        self.lock = threading.Lock()

    def get(self, sid):
        with self.lock:
            item = self.data.get(sid)
            if item and item[0] > time.time():
                return item[1]
            self.data.pop(sid, None)
            return None

    def put(self, sid, value):
        with self.lock:
            self.data[sid] = (time.time() + SESSION_TTL, value)

    def delete(self, sid):
        with self.lock:
            self.data.pop(sid, None)


class RedisSessions:
    """Sessions in Redis, configured like beego's redis provider:
    "host:port,poolsize,password,dbindex"."""
    kind = "redis"

    def __init__(self, url):
        parts = [p.strip() for p in url.split(",")]
        addr = parts[0]
        host, _, port = addr.rpartition(":") if ":" in addr else (addr, "", "6379")
        pool = int(parts[1]) if len(parts) > 1 and parts[1] else 100
        password = parts[2] if len(parts) > 2 and parts[2] else None
        db = int(parts[3]) if len(parts) > 3 and parts[3] else 0
        self.where = "%s:%s db %d" % (host, port or 6379, db)
        self.client = redis.Redis(
            connection_pool=redis.ConnectionPool(
                host=host, port=int(port or 6379), password=password, db=db,
                max_connections=pool, socket_timeout=3, socket_connect_timeout=3))

    def get(self, sid):
        raw = self.client.get(sid)
        return json.loads(raw) if raw else None

    def put(self, sid, value):
        self.client.setex(sid, SESSION_TTL, json.dumps(value))

    def delete(self, sid):
        self.client.delete(sid)


def make_session_store():
    url = env("_REDIS_URL").strip()
    if url:
        store = RedisSessions(url)
        log("sessions are kept in redis (%s)", store.where)
        return store
    log("_REDIS_URL is not set: sessions are kept in this process only")
    return MemorySessions()


SESSIONS = None


# ---------------------------------------------------------------- tokens

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_key):
    """Key id that Docker Distribution computes for the certificates in its
    rootcertbundle: SHA-256 of the DER public key, first 240 bits, base32, 4-char groups."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


class Signer:
    """Loads the token key on every use, so a key replaced on disk is picked up
    (the file may also be absent until ./prepare has run)."""

    def __init__(self, path):
        self.path = path
        self.cache = (None, None, None)  # (mtime, key, kid)

    def key(self):
        st = os.stat(self.path)
        if self.cache[0] != (st.st_mtime_ns, st.st_ino, st.st_size):
            with open(self.path, "rb") as f:
                key = serialization.load_pem_private_key(f.read(), password=None)
            self.cache = ((st.st_mtime_ns, st.st_ino, st.st_size), key, libtrust_key_id(key.public_key()))
            log("token signing key loaded from %s (kid %s)", self.path, self.cache[2])
        return self.cache[1], self.cache[2]

    def token(self, subject, audience, access, ttl):
        key, kid = self.key()
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": kid}
        claims = {"iss": ISSUER, "sub": subject, "aud": audience, "exp": now + ttl,
                  "nbf": now, "iat": now, "jti": random_text(16), "access": access}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig), now


SIGNER = Signer(KEY_PATH)


def parse_scope(scope):
    """"repository:library/busybox:pull,push" -> ("repository", "library/busybox", ["pull", "push"])"""
    try:
        typ, rest = scope.split(":", 1)
        name, actions = rest.rsplit(":", 1)
    except ValueError:
        return None
    return typ, name, [a for a in actions.split(",") if a]


def project_role(user, project):
    """Actions a user may do on a project: subset of {'pull', 'push', '*'}."""
    if user is not None and user["sysadmin_flag"]:
        return {"pull", "push", "*"}
    allowed = set()
    if project["public"]:
        allowed.add("pull")
    if user is not None:
        if project["owner_id"] == user["user_id"]:
            allowed |= {"pull", "push", "*"}
        member = db_query("SELECT role FROM project_member WHERE project_id = %s AND user_id = %s",
                          (project["project_id"], user["user_id"]), one=True)
        if member:
            allowed |= {"pull", "push", "*"} if member["role"] == 1 else (
                {"pull", "push"} if member["role"] == 2 else {"pull"})
    return allowed


def grant(user, scopes):
    access = []
    for raw in scopes:
        parsed = parse_scope(raw)
        if parsed is None:
            continue
        typ, name, wanted = parsed
        allowed = set()
        if typ == "repository" and "/" in name:
            project = db_query("SELECT * FROM project WHERE name = %s AND deleted = 0",
                               (name.split("/", 1)[0],), one=True)
            if project is not None:
                allowed = project_role(user, project)
        elif typ == "registry" and name == "catalog" and user is not None and user["sysadmin_flag"]:
            allowed = {"*"}
        access.append({"type": typ, "name": name, "actions": [a for a in wanted if a in allowed]})
    return access


# ---------------------------------------------------------------- http

def setting(name, default):
    return str(SETTINGS.get(name, default)).strip()


def registry_url():
    ext = setting("ext_endpoint", "http://localhost")
    return urllib.parse.urlsplit(ext).netloc or ext


def bool_setting(name, default="on"):
    return setting(name, default).lower() in ("on", "true", "1", "yes")


# The keys ConfigAPI.Put accepts (validKeys @ v1.2.2, those the lab's adminserver knows).
CONFIG_KEYS = ("auth_mode", "email_from", "email_host", "email_identity", "email_password", "email_port",
               "email_ssl", "email_username", "ldap_base_dn", "ldap_filter", "ldap_scope", "ldap_search_dn",
               "ldap_search_password", "ldap_timeout", "ldap_uid", "ldap_url", "project_creation_restriction",
               "self_registration", "token_expiration", "verify_remote_cert")


def format_endpoint(endpoint):
    """utils.FormatEndpoint: trimmed, http:// when it has no scheme, no trailing slash."""
    endpoint = endpoint.strip().rstrip("/")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        endpoint = "http://" + endpoint
    return endpoint


class RegistryError(Exception):
    """registry_error.HTTPError: the remote's status code and body."""

    def __init__(self, status, detail):
        super().__init__("%d %s" % (status, detail))
        self.status, self.detail = status, detail


def _get(url, ctx, headers=None):
    """One GET; (status, headers, body) whatever the status. Network and TLS errors raise OSError."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15, context=ctx) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def ping_registry(endpoint, username, password, insecure):
    """Registry.Ping through NewStandardTokenAuthorizer (src/common/utils/registry @ v1.2.2): GET
    /v2/ for the Bearer challenge, a token from its realm with the basic credential (a non-200
    answer is the error), then GET /v2/ with the token, which must answer 200."""
    ctx = ssl._create_unverified_context() if insecure else ssl.create_default_context()
    ping_url = endpoint.rstrip("/") + "/v2/"
    _, headers, _ = _get(ping_url, ctx)
    challenge = headers.get("WWW-Authenticate") or ""
    auth = {}
    if challenge.lower().startswith("bearer "):
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.get("realm", "")
        if realm:
            q = urllib.parse.urlencode({"service": params.get("service", "")})
            basic = base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
            status, _, body = _get("%s?%s" % (realm, q), ctx, {"Authorization": "Basic " + basic})
            if status != 200:
                raise RegistryError(status, body.decode(errors="replace"))
            auth = {"Authorization": "Bearer " + json.loads(body)["token"]}
    status, _, body = _get(ping_url, ctx, auth)
    if status != 200:
        raise RegistryError(status, body.decode(errors="replace"))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "harbor-lab-ui/" + VERSION

    def log_message(self, fmt, *args):
        log("%s %s", self.headers.get("X-Real-IP") or self.client_address[0], fmt % args)

    # -- helpers
    def send(self, code, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)) or (ctype == "application/json" and isinstance(body, str) and body):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, message):
        self.send(code, {"code": code, "message": message})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def basic_credentials(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except Exception:  # noqa: BLE001
            return ("", "")
        return user, password

    def cookie(self, name):
        for part in self.headers.get("Cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
        return None

    def current_user(self):
        """User from HTTP Basic credentials or from the session cookie; None if neither."""
        creds = self.basic_credentials()
        if creds is not None:
            return authenticate(*creds)
        sid = self.cookie(SESSION_COOKIE)
        if sid:
            sess = SESSIONS.get(sid)
            if sess and "user_id" in sess:
                return user_by_id(sess["user_id"])
        return None

    # -- dispatch
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = urllib.parse.parse_qs(url.query)
        routes = {
            ("GET", "/service/token"): self.token,
            ("POST", "/service/notifications"): self.notifications,
            ("POST", "/login"): self.login,
            ("GET", "/log_out"): self.log_out,
            ("GET", "/api/users/current"): self.users_current,
            ("POST", "/api/users"): self.users_create,
            ("GET", "/api/projects"): self.projects_list,
            ("POST", "/api/projects"): self.projects_create,
            ("GET", "/api/systeminfo"): self.systeminfo,
            ("PUT", "/api/configurations"): self.configurations_put,
            ("POST", "/api/targets"): self.targets_create,
            ("GET", "/api/targets"): self.targets_list,
            ("GET", "/"): self.index,
        }
        handler = routes.get((method, path))
        m = re.fullmatch(r"/api/targets/([0-9]+)(/ping)?", path)
        if m and (method, m.group(2)) == ("POST", "/ping"):
            handler = lambda q: self.target_ping(int(m.group(1)))
        elif m and (method, m.group(2)) == ("DELETE", None):
            handler = lambda q: self.target_delete(int(m.group(1)))
        try:
            if handler is None:
                if method in ("POST", "PUT"):
                    self.body()
                known = any(p == path for _, p in routes)
                self.error(405 if known else 404, "method not allowed" if known else "not found")
                return
            handler(query)
        except pymysql.err.MySQLError as e:
            log("database error on %s %s: %s", method, path, e)
            self.error(500, "database error: %s" % e)
        except redis.exceptions.RedisError as e:
            log("redis error on %s %s: %s", method, path, e)
            self.error(500, "session store error: %s" % e)
        except (OSError, ValueError) as e:
            log("configuration error on %s %s: %s", method, path, e)
            self.error(500, "Unexpected error")

    # -- endpoints
    def index(self, _q):
        self.send(200, "<!doctype html><title>Harbor (lab)</title><h1>Harbor %s</h1>"
                  "<p>harbor-ha lab stand-in, not Harbor.</p>" % VERSION, "text/html; charset=utf-8")

    def token(self, q):
        service = (q.get("service") or [DEFAULT_SERVICE])[0]
        scopes = []
        for s in q.get("scope", []):
            scopes.extend(s.split(" "))
        creds = self.basic_credentials()
        user = None
        if creds is not None:
            user = authenticate(*creds)
            if user is None:
                log("token: authentication failed for %r", creds[0])
                self.send(401, {"code": 401, "message": "Unauthorized"},
                          headers=[("WWW-Authenticate", 'Basic realm="harbor"')])
                return
        access = grant(user, scopes)
        ttl = int(setting("token_expiration", "30") or 30) * 60
        try:
            tok, issued = SIGNER.token(user["username"] if user else "", service, access, ttl)
        except (OSError, ValueError) as e:
            log("token: cannot sign with %s: %s", KEY_PATH, e)
            self.error(500, "token signing key unavailable")
            return
        log("token: sub=%r access=%s", user["username"] if user else "", json.dumps(access))
        self.send(200, {"token": tok, "expires_in": ttl,
                        "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued))})

    def notifications(self, _q):
        raw = self.body()
        try:
            events = json.loads(raw or b"{}").get("events", [])
        except ValueError:
            events = []
        for ev in events:
            target = ev.get("target", {})
            repo, action = target.get("repository"), ev.get("action")
            if not repo or "/" not in repo or target.get("mediaType", "").endswith("layer.tar"):
                continue
            if action not in ("push", "pull") or not target.get("tag"):
                continue
            try:
                project = db_query("SELECT project_id FROM project WHERE name = %s",
                                   (repo.split("/", 1)[0],), one=True)
                if project is None:
                    continue
                if action == "push":
                    db_exec("INSERT IGNORE INTO repository (name, project_id) VALUES (%s, %s)",
                            (repo, project["project_id"]))
                else:
                    db_exec("UPDATE repository SET pull_count = pull_count + 1 WHERE name = %s", (repo,))
            except pymysql.err.MySQLError as e:
                log("notification for %s not recorded: %s", repo, e)
        self.send(200, "")

    def login(self, _q):
        form = urllib.parse.parse_qs(self.body().decode(errors="replace"))
        principal = (form.get("principal") or [""])[0]
        password = (form.get("password") or [""])[0]
        user = authenticate(principal, password)
        if user is None:
            log("login failed for %r", principal)
            self.error(401, "invalid user name or password")
            return
        sid = secrets.token_hex(16)
        SESSIONS.put(sid, {"user_id": user["user_id"], "username": user["username"]})
        log("login %r: new %s session", principal, SESSIONS.kind)
        self.send(200, "", headers=[("Set-Cookie", "%s=%s; Path=/; HttpOnly" % (SESSION_COOKIE, sid))])

    def log_out(self, _q):
        sid = self.cookie(SESSION_COOKIE)
        if sid:
            SESSIONS.delete(sid)
        self.send(200, "", headers=[("Set-Cookie", "%s=; Path=/; Max-Age=0" % SESSION_COOKIE)])

    def users_current(self, _q):
        user = self.current_user()
        if user is None:
            self.error(401, "UnAuthorized")
            return
        self.send(200, user_json(user))

    def users_create(self, _q):
        data = self.json_body()
        caller = self.current_user()
        is_admin = caller is not None and caller["sysadmin_flag"]
        if not is_admin and not bool_setting("self_registration"):
            self.error(403, "self registration is disabled")
            return
        for field in ("username", "email", "password", "realname"):
            if not data.get(field):
                self.error(400, "%s is required" % field)
                return
        salt = random_text(32)
        try:
            uid, _ = db_exec("INSERT INTO user (username, email, password, realname, comment, deleted,"
                             " salt, sysadmin_flag, creation_time, update_time)"
                             " VALUES (%s, %s, %s, %s, %s, 0, %s, 0, NOW(), NOW())",
                             (data["username"], data["email"], hash_password(data["password"], salt),
                              data["realname"], data.get("comment", ""), salt))
        except pymysql.err.IntegrityError:
            self.error(409, "username or email already exists")
            return
        self.send(201, "", headers=[("Location", "/api/users/%d" % uid)])

    def projects_list(self, q):
        user = self.current_user()
        name = (q.get("name") or [None])[0]
        rows = db_query("SELECT * FROM project WHERE deleted = 0 ORDER BY project_id")
        out = []
        for p in rows:
            if name and name not in p["name"]:
                continue
            if p["public"] or (user is not None and project_role(user, p)):
                out.append({"project_id": p["project_id"], "owner_id": p["owner_id"],
                            "name": p["name"], "public": p["public"]})
        self.send(200, out)

    def projects_create(self, _q):
        data = self.json_body()
        user = self.current_user()
        if user is None:
            self.error(401, "UnAuthorized")
            return
        if setting("project_creation_restriction", "everyone") == "adminonly" and not user["sysadmin_flag"]:
            self.error(403, "only admin can create projects")
            return
        name = (data.get("project_name") or "").strip()
        if not name or len(name) > 30 or name != name.lower():
            self.error(400, "invalid project name")
            return
        public = 1 if data.get("public") in (1, True, "1", "true") else 0
        try:
            pid, _ = db_exec("INSERT INTO project (owner_id, name, creation_time, update_time, public)"
                             " VALUES (%s, %s, NOW(), NOW(), %s)", (user["user_id"], name, public))
        except pymysql.err.IntegrityError:
            self.error(409, "project %s already exists" % name)
            return
        db_exec("INSERT INTO project_member (project_id, user_id, role, creation_time, update_time)"
                " VALUES (%s, %s, 1, NOW(), NOW())", (pid, user["user_id"]))
        self.send(201, "", headers=[("Location", "/api/projects/%d" % pid)])

    def json_body(self):
        try:
            data = json.loads(self.body() or b"{}")
        except ValueError:
            data = {}
        return data if isinstance(data, dict) else {}

    def require_admin(self):
        """The admin-only APIs' Prepare: HandleUnauthorized / HandleForbidden (src/common/api/base.go
        @ v1.2.2), both RenderError with an empty message."""
        user = self.current_user()
        code = 401 if user is None else (0 if user["sysadmin_flag"] else 403)
        if code:
            log("%s: %s", "unauthorized" if code == 401 else "forbidden", user["username"] if user else "")
            self.send(code, "", ctype="text/plain; charset=utf-8")
        return None if code else user

    def configurations_put(self, _q):
        """PUT /api/configurations: the known keys handed to the adminserver (config.Upload)."""
        if self.require_admin() is None:
            self.body()
            return
        data = self.json_body()
        cfg = {k: v for k, v in data.items() if k in CONFIG_KEYS}
        req = urllib.request.Request(ADMIN_SERVER_URL + "/api/configurations", data=json.dumps(cfg).encode(), method="PUT",
                                     headers={"Cookie": "secret=" + env("UI_SECRET"), "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10):
            pass
        with SETTINGS.lock:
            SETTINGS.values = None
        self.send(200, "")

    def targets_create(self, _q):
        """POST /api/targets: a replication target, its password encrypted with the secretkey."""
        if self.require_admin() is None:
            self.body()
            return
        t = self.json_body()
        name, endpoint = t.get("name") or "", format_endpoint(t.get("endpoint") or "")
        password = t.get("password") or ""
        # RepTarget.Valid: the first rule broken is the answer.
        for broken, message in ((not name, "name: can not be empty"), (len(name) > 64, "name: max length is 64"),
                                (not endpoint, "endpoint: can not be empty"), (len(endpoint) > 64, "endpoint: max length is 64"),
                                (len(password) > 48, "password: max length is 48")):
            if broken:
                self.error(400, message)
                return
        if db_query("SELECT id FROM replication_target WHERE name = %s", (name,), one=True):
            self.error(409, "name is already used")
            return
        if db_query("SELECT id FROM replication_target WHERE url = %s", (endpoint,), one=True):
            self.error(409, "the target whose endpoint is %s already exists" % endpoint)
            return
        if password:
            password = reversible.encrypt(reversible.read_key(SECRET_KEY_PATH), password)
        tid, _ = db_exec("INSERT INTO replication_target (name, url, username, password, target_type)"
                         " VALUES (%s, %s, %s, %s, 0)", (name, endpoint, t.get("username") or "", password))
        # beego's Redirect(201, "<id>"): the new id, as it is.
        self.send(201, "", headers=[("Location", str(tid))])

    def targets_list(self, q):
        """GET /api/targets[?name=]: every target whose name contains it, passwords blanked."""
        if self.require_admin() is None:
            return
        name = (q.get("name") or [""])[0]
        rows = db_query("SELECT * FROM replication_target WHERE name LIKE %s ORDER BY creation_time", ("%" + name + "%",))
        self.send(200, [{"id": r["id"], "endpoint": r["url"], "name": r["name"], "username": r["username"], "password": "",
                         "type": r["target_type"], "creation_time": str(r["creation_time"]), "update_time": str(r["update_time"])}
                        for r in rows])

    def target_delete(self, tid):
        """DELETE /api/targets/<id> (the lab has no replication policies that could use it)."""
        if self.require_admin() is None:
            return
        if db_query("SELECT id FROM replication_target WHERE id = %s", (tid,), one=True) is None:
            self.error(404, "Not Found")
            return
        db_exec("DELETE FROM replication_target WHERE id = %s", (tid,))
        self.send(200, "")

    def target_ping(self, tid):
        """POST /api/targets/<id>/ping: the stored password decrypted with THIS node's secretkey,
        then the registry pinged with it the way Harbor's token authorizer does."""
        self.body()
        if self.require_admin() is None:
            return
        key = reversible.read_key(SECRET_KEY_PATH)
        t = db_query("SELECT * FROM replication_target WHERE id = %s", (tid,), one=True)
        if t is None:
            self.error(404, "target %d not found" % tid)
            return
        password = reversible.decrypt(key, t["password"]) if t["password"] else ""
        insecure = not bool_setting("verify_remote_cert")
        try:
            ping_registry(t["url"], t["username"] or "", password, insecure)
        except RegistryError as e:
            self.send(e.status, e.detail, ctype="text/plain; charset=utf-8")
            return
        except (OSError, ValueError) as e:
            log("failed to ping registry %s: %s", t["url"], e)
            self.error(500, "Internal Server Error")
            return
        self.send(200, "")

    def systeminfo(self, _q):
        # Harbor 1.2.2's systeminfo reads the adminserver's configuration on every call.
        try:
            cfg = fetch_settings()
        except (OSError, ValueError) as e:
            log("systeminfo: cannot get the configuration from the adminserver: %s", e)
            self.error(500, "Unexpected error")
            return
        get = lambda k, d="": str(cfg.get(k, d) if cfg.get(k) is not None else d).strip()
        admiral = get("admiral_url", "NA")
        ext = get("ext_endpoint", "http://localhost")
        self.send(200, {
            "with_notary": False, "with_admiral": admiral not in ("", "NA"),
            "admiral_endpoint": admiral, "auth_mode": get("auth_mode", "db_auth"),
            "registry_url": urllib.parse.urlsplit(ext).netloc or ext,
            "project_creation_restriction": get("project_creation_restriction", "everyone"),
            "self_registration": get("self_registration", "on").lower() in ("on", "true", "1"),
            "has_ca_root": False, "harbor_version": VERSION,
        })


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hung up (a load balancer's health check) is not an error worth a traceback.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    global SESSIONS
    # PID 1 in a container: SIGTERM (docker stop) has no default action, so handle it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log("harbor-lab ui %s starting; adminserver %s", VERSION, ADMIN_SERVER_URL)
    # Like Harbor's ui: the adminserver first (60 s), then its configuration (a refused
    # secret is fatal), then MySQL (60 s), then the admin password; any failure exits.
    admin = urllib.parse.urlsplit(ADMIN_SERVER_URL)
    wait_tcp("the adminserver", admin.hostname, admin.port or 80)
    try:
        cfg = fetch_settings()
    except (OSError, ValueError) as e:
        log("FATAL: failed to initialize configurations: failed to get configurations: %s", e)
        sys.exit(1)
    DB.update(host=cfg.get("mysql_host") or "mysql", port=int(cfg.get("mysql_port") or 3306),
              user=cfg.get("mysql_username") or "root", password=cfg.get("mysql_password") or "",
              database=cfg.get("mysql_database") or "registry")
    log("database %s@%s:%s/%s; external endpoint %s", DB["user"], DB["host"], DB["port"], DB["database"],
        cfg.get("ext_endpoint"))
    wait_tcp("MySQL", DB["host"], DB["port"])
    try:
        ensure_admin(cfg.get("admin_initial_password") or "")
    except Exception as e:  # noqa: BLE001 - Harbor's ui exits on any database failure at start
        log("FATAL: failed to initialize the database: %s", e)
        sys.exit(1)
    SESSIONS = make_session_store()
    try:
        SIGNER.key()
    except (OSError, ValueError) as e:
        log("WARNING: token signing key not usable yet: %s", e)
    srv = Server(("0.0.0.0", LISTEN_PORT), Handler)
    log("listening on :%d", LISTEN_PORT)
    srv.serve_forever()


if __name__ == "__main__":
    main()
