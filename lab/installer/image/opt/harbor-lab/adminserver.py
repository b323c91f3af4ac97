#!/usr/bin/python3
"""harbor-lab adminserver: stand-in for Harbor v1.2.2's adminserver (NOT Harbor).

What it does, as the real one does:
  * reads the secret key from /etc/adminserver/key (<secretkey_path>/secretkey on the
    host); it must be a 16-character file, otherwise the service exits with an error;
  * keeps the system configuration in /etc/adminserver/config/config.json
    (/data/config/ on the host in Harbor's compose file), rewriting it in place at every
    start and on every settings change (PUT /api/configurations).  With RESET=true, or
    when the file is missing, every setting is (re)loaded from the environment; otherwise
    only the few settings Harbor re-reads on every start are refreshed (EXT_ENDPOINT, MYSQL_PWD, MAX_JOB_WORKERS,
    CFG_EXPIRATION, ADMIRAL_URL, WITH_NOTARY, WITH_CLAIR, CLAIR_DB_PASSWORD) and, for
    example, a changed MYSQL_HOST is ignored -- logged as a WARNING here;
  * passwords in config.json are encrypted (AES-CFB, no authentication) with the secret
    key; config.json and the key are read again on every request, so a node with a
    different key reads what another node wrote as garbage, without an error;
  * serves GET /api/configurations (cookie "secret" = UI_SECRET or JOBSERVICE_SECRET),
    which the ui reads its settings (MySQL included) from.
"""
import http.server
import json
import os
import signal
import socketserver
import sys
import time

import reversible

CFG_PATH = os.environ.get("JSON_CFG_STORE_PATH", "/etc/adminserver/config/config.json")
KEY_PATH = os.environ.get("KEY_PATH", "/etc/adminserver/key")
PORT = int(os.environ.get("LAB_ADMINSERVER_PORT", "80"))

ENCRYPTED = ("email_password", "ldap_search_password", "mysql_password",
             "admin_initial_password", "clair_db_password")

# config.json key -> (environment variable, type)
ALL = {
    "ext_endpoint": ("EXT_ENDPOINT", str), "auth_mode": ("AUTH_MODE", str),
    "self_registration": ("SELF_REGISTRATION", bool), "database_type": ("DATABASE_TYPE", str),
    "mysql_host": ("MYSQL_HOST", str), "mysql_port": ("MYSQL_PORT", int),
    "mysql_username": ("MYSQL_USR", str), "mysql_password": ("MYSQL_PWD", str),
    "mysql_database": ("MYSQL_DATABASE", str), "ldap_url": ("LDAP_URL", str),
    "ldap_searchdn": ("LDAP_SEARCH_DN", str), "ldap_search_password": ("LDAP_SEARCH_PWD", str),
    "ldap_basedn": ("LDAP_BASE_DN", str), "ldap_filter": ("LDAP_FILTER", str),
    "ldap_uid": ("LDAP_UID", str), "ldap_scope": ("LDAP_SCOPE", int),
    "ldap_timeout": ("LDAP_TIMEOUT", int), "email_host": ("EMAIL_HOST", str),
    "email_port": ("EMAIL_PORT", int), "email_username": ("EMAIL_USR", str),
    "email_password": ("EMAIL_PWD", str), "email_ssl": ("EMAIL_SSL", bool),
    "email_from": ("EMAIL_FROM", str), "email_identity": ("EMAIL_IDENTITY", str),
    "registry_url": ("REGISTRY_URL", str), "token_expiration": ("TOKEN_EXPIRATION", int),
    "cfg_expiration": ("CFG_EXPIRATION", int), "max_job_workers": ("MAX_JOB_WORKERS", int),
    "verify_remote_cert": ("VERIFY_REMOTE_CERT", bool),
    "project_creation_restriction": ("PROJECT_CREATION_RESTRICTION", str),
    "admin_initial_password": ("HARBOR_ADMIN_PASSWORD", str),
    "admiral_url": ("ADMIRAL_URL", str), "with_notary": ("WITH_NOTARY", bool),
    "with_clair": ("WITH_CLAIR", bool), "clair_db_password": ("CLAIR_DB_PASSWORD", str),
}
EVERY_START = ("ext_endpoint", "mysql_password", "max_job_workers", "cfg_expiration",
               "admiral_url", "with_notary", "with_clair", "clair_db_password")


def log(msg, *args):
    text = msg % args if args else msg
    sys.stdout.write("%s [adminserver] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), text))
    sys.stdout.flush()


def die(msg, *args):
    log("ERROR: " + msg, *args)
    sys.exit(1)


def from_env(key):
    var, typ = ALL[key]
    raw = os.environ.get(var, "")
    if typ is int:
        try:
            return int(raw)
        except ValueError:
            return 0
    if typ is bool:
        return raw.strip().lower() in ("true", "on", "1", "yes")
    return raw


def load_key():
    if not os.path.isfile(KEY_PATH):
        die("secret key %s is missing or is not a file (is <secretkey_path>/secretkey mounted?)", KEY_PATH)
    with open(KEY_PATH, "rb") as f:
        key = f.read()
    if len(key) != 16:
        die("crypto/aes: invalid key size %d (the secret key must have 16 characters)", len(key))
    return key


def read_config(key):
    """config.json with its encrypted fields decrypted (the json store re-reads the file)."""
    with open(CFG_PATH) as f:
        stored = json.load(f)
    return {k: (reversible.decrypt(key, v) if k in ENCRYPTED else v) for k, v in stored.items()}


def init_config(key):
    stored = None
    if os.path.isfile(CFG_PATH):
        with open(CFG_PATH) as f:
            stored = json.load(f)
    reset = os.environ.get("RESET", "").strip() == "true"
    if reset or stored is None:
        log("%s: loading every setting from the environment",
            "RESET is set" if reset else "no stored configuration")
        cfg = {k: from_env(k) for k in ALL}
    else:
        cfg = {}
        for k, v in stored.items():
            try:
                cfg[k] = reversible.decrypt(key, v) if k in ENCRYPTED else v
            except (ValueError, UnicodeDecodeError):
                die("%s: cannot decrypt %s with this node's secret key", CFG_PATH, k)
        for k in ALL:
            if k in EVERY_START or k not in cfg:
                cfg[k] = from_env(k)
        for k in ("mysql_host", "mysql_port", "mysql_username", "mysql_database"):
            if cfg[k] != from_env(k):
                log("WARNING: stored %s=%r differs from the environment (%r); keeping the stored "
                    "value like Harbor does. Set RESET=true to reload it.", k, cfg[k], from_env(k))
    os.makedirs(os.path.dirname(CFG_PATH), exist_ok=True)
    write_config(key, cfg)
    log("configuration written to %s", CFG_PATH)
    return cfg


def write_config(key, updates):
    """Harbor's json store Write: read the file, merge, write it IN PLACE (ioutil.WriteFile:
    open with O_TRUNC, one write; 0600 when created). A reader on another node meanwhile sees
    an empty or partial file (conformance row 24). A file that does not parse fails the write."""
    stored = None
    if os.path.isfile(CFG_PATH):
        with open(CFG_PATH, "rb") as f:
            raw = f.read()
        stored = json.loads(raw) if raw else None
    merged = dict(stored or {})
    merged.update({k: (reversible.encrypt(key, v) if k in ENCRYPTED and isinstance(v, str) else v) for k, v in updates.items()})
    data = json.dumps(merged, indent=2, sort_keys=True).encode()
    fd = os.open(CFG_PATH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_key():
    """The key file, read on every use like Harbor's FileKeyProvider; None when unusable."""
    try:
        return reversible.read_key(KEY_PATH)
    except (OSError, ValueError) as e:
        log("ERROR: failed to read the secret key %s: %s", KEY_PATH, e)
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log(fmt, *args)

    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        """Cookie "secret" = UI_SECRET or JOBSERVICE_SECRET, else 401 sent."""
        secret = ""
        for part in self.headers.get("Cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "secret":
                secret = v
        if not secret or secret not in (os.environ.get("UI_SECRET", ""), os.environ.get("JOBSERVICE_SECRET", "")):
            self.send(401, {"code": 401, "message": "UnAuthorized"})
            return False
        return True

    def do_PUT(self):
        """UpdateCfgs: the settings in the body merged into config.json (CfgStore.Write)."""
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path != "/api/configurations":
            self.send(404, {"code": 404, "message": "not found"})
            return
        if not self.authorized():
            return
        try:
            updates = json.loads(body or b"{}")
        except ValueError as e:
            self.send(400, {"code": 400, "message": str(e)})
            return
        key = read_key()
        try:
            if key is None or not isinstance(updates, dict):
                raise ValueError("no usable key or not a JSON object")
            write_config(key, updates)
        except (OSError, ValueError) as e:
            log("ERROR: failed to update system configurations: %s", e)
            self.send(500, {"code": 500, "message": "Internal Server Error"})
            return
        self.send(200, {})

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/api/configurations":
            if not self.authorized():
                return
            key = read_key()
            try:
                cfg = read_config(key) if key else None
            except (OSError, ValueError) as e:
                log("ERROR: failed to read %s: %s", CFG_PATH, e)
                cfg = None
            if cfg is None:
                self.send(500, {"code": 500, "message": "Internal Server Error"})
                return
            self.send(200, {k: {"value": v, "editable": True} for k, v in cfg.items()})
            return
        self.send(404, {"code": 404, "message": "not found"})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    init_config(load_key())
    srv = Server(("0.0.0.0", PORT), Handler)
    log("listening on :%d", PORT)
    srv.serve_forever()


if __name__ == "__main__":
    main()
