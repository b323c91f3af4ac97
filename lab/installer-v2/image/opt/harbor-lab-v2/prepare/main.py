#!/usr/bin/python3
"""harbor-lab prepare: the stand-in for Harbor v2's prepare container (`goharbor/prepare`).

Not Harbor's code: it follows the behaviour listed in lab/installer-v2/README.md (conformance
table), including the inconvenient parts a deployment tool must cope with:
  * every file under /config is deleted first, before harbor.yml is even read;
  * CORE_SECRET, JOBSERVICE_SECRET, CSRF_KEY, the registry password (+ htpasswd) and the scanner
    robot prefix are drawn anew on every run;
  * /data/secret/keys/secretkey is kept when present (and must be 16 characters: checked AFTER
    the config files are written), the token keypair only when BOTH halves exist;
  * the internal `redis:` block wins over `external_redis`.

Container paths as in Harbor's image: /input/harbor.yml, /config (common/config), /data
(data_volume), /compose_location (the installer dir), /hostfs (the host's /).  The selftest
runs it on the host with HARBOR_LAB_PREPARE_ROOT=<dir> prefixing all of them.

usage: main.py prepare [--conf PATH] [--with-trivy]
"""
import os
import secrets
import shutil
import string
import subprocess
import sys
from urllib.parse import quote, urlencode

import jinja2
import yaml

ROOT = os.environ.get("HARBOR_LAB_PREPARE_ROOT", "/")
P = lambda *parts: os.path.join(ROOT, *parts)  # noqa: E731  (container path under ROOT)
CONFIG = P("config")
DATA = P("data")
COMPOSE_DIR = P("compose_location")
HOSTFS = P("hostfs")
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
UID = GID = 10000          # Harbor's containers run as 10000:10000 (g.py DEFAULT_UID)
PG_UID = REDIS_UID = 999
VERSION = os.environ.get("HARBOR_LAB_VERSION", "v2.15.2")
REGISTRY_USER = "harbor_registry_user"
# The template's placeholders that validation rejects (configs.py).
DEFAULT_CERT = "/your/certificate/path"
ALNUM = string.ascii_letters + string.digits

JINJA = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                           lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def say(msg):
    print(msg, flush=True)


def random_string(n):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def mark(path, mode=0o600, uid=UID, gid=GID):
    os.chmod(path, mode)
    os.chown(path, uid, gid)


def make_dir(path, uid=None, gid=None, mode=0o755):
    """Create (or re-mode) a directory; chown it recursively only when its top is not owned yet."""
    if os.path.isfile(path):
        raise Exception("Path exists and the type is regular file: %s" % path)
    os.makedirs(path, mode=mode, exist_ok=True)
    os.chmod(path, mode)
    if uid is not None:
        st = os.stat(path)
        if (st.st_uid, st.st_gid) != (uid, gid):
            for root, dirs, _files in os.walk(path):
                os.chown(root, uid, gid)
                for d in dirs:
                    os.chown(os.path.join(root, d), uid, gid)
    return path


def render(template, dest, mode=0o640, uid=0, gid=0, **values):
    with open(dest, "w") as f:
        f.write(JINJA.get_template(template).render(**values))
    mark(dest, mode, uid, gid)
    say("Generated configuration file: %s" % dest)


def delfile(path):
    """Delete every FILE below path; directories stay (so an empty conf.d survives)."""
    if os.path.isfile(path) or os.path.islink(path):
        os.remove(path)
        say("Clearing the configuration file: %s" % path)
    elif os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            delfile(os.path.join(path, name))


# ------------------------------------------------------------------ harbor.yml

def redis_url(db, r):
    """redis[s][+sentinel]://[user][:pw@]host[/master][/db]?idle_timeout_seconds=N; db 0 has no /0."""
    tls = bool((r.get("tlsOptions") or {}).get("enable"))
    scheme = ("rediss" if tls else "redis") + ("+sentinel" if r.get("sentinel_master_set") else "")
    pw = quote(str(r.get("password") or ""), safe="")
    auth = (r.get("username") or "") + (":%s@" % pw if pw else "")
    sentinel = "/" + r["sentinel_master_set"] if r.get("sentinel_master_set") else ""
    dbpart = "/%s" % db if db else ""
    query = "?" + urlencode({"idle_timeout_seconds": r["idle_timeout_seconds"]}) if "idle_timeout_seconds" in r else ""
    return "%s://%s%s%s%s%s" % (scheme, auth, r["host"], sentinel, dbpart, query)


def redis_configs(internal, external):
    internal, external = internal or {}, external or {}
    r = {"host": "redis:6379", "password": "", "registry_db_index": 1, "jobservice_db_index": 2,
         "trivy_db_index": 5, "idle_timeout_seconds": 30}
    # The pitfall: a non-empty internal block wins and external_redis is ignored entirely.
    r.update({k: v for k, v in (internal if internal else external).items() if v})
    c = {"external_redis": bool(external), "redis": r,
         "redis_url_core": redis_url(0, r),
         "redis_url_js": redis_url(r["jobservice_db_index"], r),
         "redis_url_reg": redis_url(r["registry_db_index"], r),
         "redis_url_harbor": redis_url(r["harbor_db_index"], r) if r.get("harbor_db_index") else "",
         "redis_url_cache_layer": redis_url(r["cache_layer_db_index"], r) if r.get("cache_layer_db_index") else ""}
    hosts = r["host"]
    c["redis_host"], c["redis_password"] = hosts, r.get("password") or ""
    c["redis_username"] = r.get("username") or ""
    c["sentinel_master_set"] = r.get("sentinel_master_set") or ""
    c["redis_db_index_reg"] = r["registry_db_index"]
    return c


def parse(path, with_trivy):
    with open(path) as f:
        y = yaml.safe_load(f)
    c = {"hostname": y["hostname"], "protocol": "http", "with_trivy": with_trivy, "version": VERSION}
    c["http_port"] = (y.get("http") or {}).get("port", 80)
    https = y.get("https")
    if https:
        c["protocol"] = "https"
        c["https_port"] = https.get("port", 443)
        c["cert_path"], c["cert_key_path"] = https["certificate"], https["private_key"]
    if y.get("external_url"):
        c["public_url"] = y["external_url"]
    elif c["protocol"] == "https":
        c["public_url"] = "https://%s" % c["hostname"] + ("" if c["https_port"] == 443 else ":%s" % c["https_port"])
    else:
        c["public_url"] = "http://%s" % c["hostname"] + ("" if c["http_port"] == 80 else ":%s" % c["http_port"])
    c["harbor_admin_password"] = y["harbor_admin_password"]
    c["data_volume"] = y["data_volume"]
    storage = y.get("storage_service") or {}
    c["storage_provider_name"] = next((k for k in ("filesystem", "azure", "gcs", "s3", "swift", "oss") if storage.get(k)), "filesystem")
    js = y.get("jobservice") or {}
    c["max_job_workers"] = js["max_job_workers"]
    c["job_loggers"] = js["job_loggers"]
    c["logger_sweeper_duration"] = js["logger_sweeper_duration"]
    hours = js.get("max_job_duration_hours") or 24
    c["max_job_duration_hours"] = hours if isinstance(hours, int) and hours >= 24 else 24
    c["jobservice_secret"] = random_string(16)
    notification = y.get("notification") or {}
    c["webhook_job_max_retry"] = notification["webhook_job_max_retry"]
    c["webhook_job_http_client_timeout"] = notification["webhook_job_http_client_timeout"]
    level = (y.get("log") or {})["level"]
    if level not in ("debug", "info", "warning", "error", "fatal"):
        raise Exception("log level must be one of debug, info, warning, error, fatal")
    c["log_level"] = level
    c["log_location"] = (((y.get("log") or {}).get("local") or {}).get("location")) or "/var/log/harbor"
    ext = y.get("external_database") or {}
    c["external_database"] = bool(ext)
    if ext:
        h = ext["harbor"]
        c["db"] = {"host": h["host"], "port": h["port"], "name": h["db_name"], "username": h["username"],
                   "password": h["password"], "sslmode": h["ssl_mode"],
                   "max_idle_conns": h.get("max_idle_conns") or 2, "max_open_conns": h.get("max_open_conns") or 0,
                   "conn_max_lifetime": h.get("conn_max_lifetime") or "5m",
                   "conn_max_idle_time": h.get("conn_max_idle_time") or "0"}
    else:
        d = y.get("database") or {}
        c["db"] = {"host": "postgresql", "port": 5432, "name": "registry", "username": "postgres",
                   "password": d.get("password", ""), "sslmode": "disable",
                   "max_idle_conns": d.get("max_idle_conns") or 2, "max_open_conns": d.get("max_open_conns") or 0,
                   "conn_max_lifetime": d.get("conn_max_lifetime") or "5m",
                   "conn_max_idle_time": d.get("conn_max_idle_time") or "0"}
    c.update(redis_configs(y.get("redis"), y.get("external_redis")))
    c["core_secret"] = random_string(16)
    c["registry_username"] = REGISTRY_USER
    c["registry_password"] = random_string(32)
    c["cache_enabled"] = bool((y.get("cache") or {}).get("enabled"))
    return c


def validate(c):
    if c["hostname"] == "127.0.0.1":
        raise Exception("127.0.0.1 can not be the hostname")
    if c["hostname"] == "reg.mydomain.com":
        raise Exception("Please specify hostname")
    if c["protocol"] == "https":
        if not c.get("cert_path") or c["cert_path"] == DEFAULT_CERT:
            raise Exception("Error: The protocol is https but attribute ssl_cert is not set")
        if not c.get("cert_key_path") or c["cert_key_path"] == DEFAULT_CERT:
            raise Exception("Error: The protocol is https but attribute ssl_cert_key is not set")
    else:
        say("WARNING: HTTP protocol is insecure. Harbor will deprecate http protocol in the future.")
    if c["storage_provider_name"] != "filesystem":
        raise Exception("the lab stand-in supports only filesystem storage")
    # Stand-in limits (Harbor would start its own harbor-db / redis containers here).
    if not c["external_database"]:
        raise Exception("the lab stand-in has no internal database image: set external_database")
    if not c["external_redis"]:
        raise Exception("the lab stand-in has no internal redis image: set external_redis")


# ------------------------------------------------------------------ components

def prepare_portal(c):
    make_dir(os.path.join(CONFIG, "portal"))
    render("portal/nginx.conf.j2", os.path.join(CONFIG, "portal", "nginx.conf"), uid=UID, gid=GID, **c)


def prepare_log(c):
    make_dir(os.path.join(CONFIG, "log"))
    render("log/logrotate.conf.j2", os.path.join(CONFIG, "log", "logrotate.conf"), mode=0o644, **c)


def prepare_nginx(c):
    make_dir(os.path.join(CONFIG, "nginx", "conf.d"), uid=UID, gid=GID)
    if c["protocol"] == "https":
        # A copy of the host's cert and key for the proxy, under data_volume (nginx.py).
        cert_dir = os.path.join(DATA, "secret", "cert")
        shutil.rmtree(cert_dir, ignore_errors=True)
        os.makedirs(cert_dir, mode=0o755)
        for src, name in ((c["cert_key_path"], "server.key"), (c["cert_path"], "server.crt")):
            dst = os.path.join(cert_dir, name)
            shutil.copy2(os.path.join(HOSTFS, src.lstrip("/")), dst)
            mark(dst)
        os.chown(cert_dir, UID, GID)
        render("nginx/nginx.https.conf.j2", os.path.join(CONFIG, "nginx", "nginx.conf"), uid=UID, gid=GID,
               https_redirect="$host" + (":%s" % c["https_port"]), **c)
    else:
        render("nginx/nginx.http.conf.j2", os.path.join(CONFIG, "nginx", "nginx.conf"), uid=UID, gid=GID, **c)


def prepare_core(c):
    make_dir(os.path.join(DATA, "ca_download"), uid=UID, gid=GID)
    make_dir(os.path.join(CONFIG, "core", "certificates"))
    # The env files stay root's (utils/core.py:21-27: no uid given); compose reads them as root.
    render("core/env.j2", os.path.join(CONFIG, "core", "env"),
           csrf_key=random_string(32), scan_robot_prefix=random_string(8), **c)
    render("core/app.conf.j2", os.path.join(CONFIG, "core", "app.conf"), uid=UID, gid=GID, **c)


def prepare_registry(c):
    make_dir(os.path.join(DATA, "registry"), uid=UID, gid=GID)
    make_dir(os.path.join(CONFIG, "registry"))
    render("registry/config.yml.j2", os.path.join(CONFIG, "registry", "config.yml"), uid=UID, gid=GID, **c)
    passwd = os.path.join(CONFIG, "registry", "passwd")
    subprocess.check_call(["htpasswd", "-bcB", passwd, c["registry_username"], c["registry_password"]],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mark(passwd)


def prepare_registryctl(c):
    make_dir(os.path.join(CONFIG, "registryctl"))
    render("registryctl/env.j2", os.path.join(CONFIG, "registryctl", "env"), **c)
    render("registryctl/config.yml.j2", os.path.join(CONFIG, "registryctl", "config.yml"), uid=UID, gid=GID, **c)


def prepare_db(c):
    make_dir(os.path.join(DATA, "database"), uid=PG_UID, gid=PG_UID, mode=0o700)
    make_dir(os.path.join(CONFIG, "db"))
    render("db/env.j2", os.path.join(CONFIG, "db", "env"), **c)


def prepare_jobservice(c):
    make_dir(os.path.join(DATA, "job_logs"), uid=UID, gid=GID)
    make_dir(os.path.join(CONFIG, "jobservice"))
    render("jobservice/env.j2", os.path.join(CONFIG, "jobservice", "env"), **c)
    render("jobservice/config.yml.j2", os.path.join(CONFIG, "jobservice", "config.yml"), uid=UID, gid=GID, **c)


def prepare_redis(_c):
    make_dir(os.path.join(DATA, "redis"), uid=REDIS_UID, gid=REDIS_UID)


def prepare_trust_ca(_c):
    make_dir(os.path.join(CONFIG, "shared", "trust-certificates"))


def get_secret_key():
    """Kept when present (whatever its length: checked after), else 16 new characters."""
    folder = os.path.join(DATA, "secret", "keys")
    path = os.path.join(folder, "secretkey")
    if os.path.isfile(path):
        with open(path) as f:
            key = f.read()
        say("loaded secret from file: %s" % path)
    else:
        os.makedirs(folder, exist_ok=True)
        key = random_string(16)
        with open(path, "w") as f:
            f.write(key)
        say("Generated and saved secret to file: %s" % path)
    mark(path)
    if len(key) != 16:
        raise Exception("secret key's length has to be 16 chars, current length: %d" % len(key))
    return key


def prepare_token_keypair():
    """Both halves present: kept. Else the pre-1.8 pair under /config is moved, else a new pair."""
    key = os.path.join(DATA, "secret", "core", "private_key.pem")
    crt = os.path.join(DATA, "secret", "registry", "root.crt")
    old_key = os.path.join(CONFIG, "core", "private_key.pem")
    old_crt = os.path.join(CONFIG, "registry", "root.crt")
    if not (os.path.exists(key) and os.path.exists(crt)):
        if os.path.exists(old_key) and os.path.exists(old_crt):
            shutil.move(old_crt, crt)
            shutil.move(old_key, key)
        else:
            os.makedirs(os.path.dirname(key), exist_ok=True)
            os.makedirs(os.path.dirname(crt), exist_ok=True)
            # PKCS#1 ("BEGIN RSA PRIVATE KEY"): what core's libtrust key id code accepts.
            subprocess.check_call(["openssl", "genrsa", "-traditional", "-out", key, "4096"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.check_call(["openssl", "req", "-new", "-x509", "-key", key, "-out", crt,
                                   "-days", "3650", "-subj", "/"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            mark(key)
            mark(crt)
            say("Generated a new token keypair: %s, %s" % (key, crt))
    for p in (key, crt):
        st = os.stat(p)
        if (st.st_uid, st.st_gid) != (UID, GID):
            os.chown(p, UID, GID)


def prepare_compose(c):
    render("docker-compose.yml.j2", os.path.join(COMPOSE_DIR, "docker-compose.yml"), mode=0o644, **c)


def prepare(conf, with_trivy):
    delfile(CONFIG)
    c = parse(conf, with_trivy)
    try:
        validate(c)
    except Exception as e:  # noqa: BLE001 -- the message is what the operator needs
        say("Error happened in config validation...")
        print("ERROR:root:%s" % e, file=sys.stderr, flush=True)
        sys.exit(255)
    prepare_portal(c)
    prepare_log(c)
    prepare_nginx(c)
    prepare_core(c)
    prepare_registry(c)
    prepare_registryctl(c)
    prepare_db(c)
    prepare_jobservice(c)
    prepare_redis(c)
    prepare_trust_ca(c)
    get_secret_key()
    prepare_token_keypair()
    if with_trivy:
        say("WARNING: the lab stand-in has no trivy-adapter; --with-trivy only sets WITH_TRIVY")
    prepare_compose(c)


def main(argv):
    if not argv or argv[0] != "prepare":
        sys.exit("usage: prepare [--conf PATH] [--with-trivy]  (only the prepare command is modelled)")
    conf, with_trivy, args = P("input", "harbor.yml"), False, argv[1:]
    while args:
        a = args.pop(0)
        if a == "--conf" and args:
            conf = args.pop(0)
        elif a.startswith("--conf="):
            conf = a.split("=", 1)[1]
        elif a == "--with-trivy":
            with_trivy = True
        else:
            sys.exit("Error: no such option: %s" % a)
    prepare(conf, with_trivy)


if __name__ == "__main__":
    main(sys.argv[1:])
