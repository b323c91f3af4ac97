"""harbor-lab stand-in for Harbor's `log` service (harbor-log: rsyslogd receiving syslog over TCP).

Every other Harbor service logs through Docker's syslog logging driver to the port this container
publishes (127.0.0.1:1514); Docker connects when it starts such a container, and fails the start when
nothing accepts the connection. Like rsyslog's rsyslog_docker.conf, each message goes to
/var/log/docker/<tag>.log. Usage: syslogd.py PORT
"""
import os
import re
import signal
import socket
import sys
import threading

LOG_DIR = "/var/log/docker"
# RFC 3164 as Docker's driver sends it by default, "<PRI>Mmm dd hh:mm:ss tag[pid]: message" (a host
# name before the tag, or an RFC 3339 time, when configured so).
TAG = re.compile(r"^<\d+>\s*(?:\w{3} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) (?:\S+ )?([^\s\[:]+)(?:\[\d+\])?: ")
lock = threading.Lock()


def write(line):
    m = TAG.match(line)
    name = m.group(1) if m else "docker"
    with lock, open(os.path.join(LOG_DIR, os.path.basename(name) + ".log"), "a") as f:
        f.write(line + "\n")


def serve(conn):
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                write(line.decode("utf-8", "replace").rstrip("\r"))
    if buf:
        write(buf.decode("utf-8", "replace"))


def main():
    port = int(sys.argv[1])
    os.makedirs(LOG_DIR, exist_ok=True)
    # rsyslogd exits at once on SIGTERM; a Python PID 1 would ignore it until Docker's SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)
    print("harbor-lab log: syslog over tcp on :%d into %s" % (port, LOG_DIR), flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
