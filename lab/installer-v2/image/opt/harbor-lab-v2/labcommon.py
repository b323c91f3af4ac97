"""Shared bits of the harbor-lab v2 stand-in programs (core, jobservice, registryctl): logging,
env files, Redis URLs as prepare writes them, Harbor-Secret headers and a threaded HTTP server."""
import http.server
import os
import signal
import socket
import socketserver
import sys
import time
import urllib.parse

import redis

SECRET_PREFIX = "Harbor-Secret "


def logger(component):
    def log(msg, *args):
        text = msg % args if args else msg
        sys.stdout.write("%s [%s] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), component, text))
        sys.stdout.flush()
    return log


def exit_on_sigterm(log):
    """Harbor's services exit on SIGTERM (`docker stop`) at once: core after at most 3 s of
    graceful shutdown, jobservice and registryctl likewise. A Python process that is PID 1 in its
    container would ignore it (no default action there) and wait for Docker's SIGKILL after 10 s."""
    def stop(signum, _frame):
        log("capture system signal %s, exiting", signal.Signals(signum).name)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def env(name, default=""):
    return os.environ.get(name, default)


def redis_from_url(url):
    """redis://[user]:[pw]@host:port[/db][?idle_timeout_seconds=N], as prepare renders it.
    Sentinel URLs are not modelled (the lab has one Redis)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("redis", "rediss"):
        raise SystemExit("unsupported redis URL scheme in the lab stand-in: %s" % u.scheme)
    db = int(u.path.lstrip("/") or 0)
    return redis.Redis(host=u.hostname, port=u.port or 6379, db=db,
                       username=urllib.parse.unquote(u.username) if u.username else None,
                       password=urllib.parse.unquote(u.password) if u.password else None,
                       ssl=u.scheme == "rediss", socket_timeout=10, socket_connect_timeout=5,
                       decode_responses=True)


def harbor_secret(headers):
    auth = headers.get("Authorization", "")
    return auth[len(SECRET_PREFIX):] if auth.startswith(SECRET_PREFIX) else None


def worker_id():
    """hostname:ip of the container, as jobservice names its worker pool's node."""
    host = socket.gethostname()
    try:
        ip = socket.gethostbyname(host)
    except OSError:
        ip = "unknown"
    return "%s:%s" % (host, ip)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
