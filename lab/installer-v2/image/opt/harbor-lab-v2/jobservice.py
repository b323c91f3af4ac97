#!/usr/bin/python3
"""harbor-lab jobservice: a small stand-in for Harbor v2's jobservice (NOT Harbor).

  POST /api/v1/jobs      from core, Authorization: Harbor-Secret <CORE_SECRET> (else 401):
                         the job goes to the Redis queue of config.yml's redis_url, namespace
                         "harbor_job_service_namespace", list <ns>:jobs:<NAME> (rds/keys.go KeyJobs)
  GET  /api/v1/jobs/ID   the job's stats (same auth)
  GET  /api/v1/stats     health (Harbor's container health check path)
Workers (config.yml worker_pool.workers) take jobs from the shared queue, whichever node
enqueued them, and call THEIR OWN core back (CORE_URL, http://core:8080):
  * the job's embedded credential (the submitting core's JOBSERVICE_SECRET, as replication
    jobs carry one) against /api/v2.0/internalconfig: 401 when this node's core has another
    JOBSERVICE_SECRET, and the job ends in Error;
  * the status hook (/service/notifications/tasks/ID, no auth) with metadata.worker_id =
    hostname:ip of this container, so the database records which node ran it."""
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import yaml

import labcommon

log = labcommon.logger("jobservice")
env = labcommon.env
CONFIG_PATH = env("JOBSERVICE_CONFIG_PATH", "/etc/jobservice/config.yml")
JOB_NAMES = ["GARBAGE_COLLECTION"]

with open(CONFIG_PATH) as f:
    CONFIG = yaml.safe_load(f)
POOL_CONF = CONFIG["worker_pool"]["redis_pool"]
NS = POOL_CONF.get("namespace", "harbor_job_service_namespace")
REDIS = labcommon.redis_from_url(POOL_CONF["redis_url"])
WORKER_ID = labcommon.worker_id()


def queue(name):
    return "%s:jobs:%s" % (NS, name)


def stats_key(job_id):
    return "%s:job_stats:%s" % (NS, job_id)


def set_stats(job_id, **fields):
    fields["update_time"] = int(time.time())
    REDIS.hset(stats_key(job_id), mapping={k: str(v) for k, v in fields.items()})
    REDIS.expire(stats_key(job_id), 7 * 24 * 3600)


def hook(job, status, message=""):
    body = {"job_id": job["id"], "status": status, "check_in": "",
            "metadata": {"id": job["id"], "name": job["name"], "kind": "Generic", "status": status,
                         "worker_id": WORKER_ID, "status_message": message}}
    req = urllib.request.Request(job["status_hook"], data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=10):
                return
        except (urllib.error.URLError, OSError) as e:
            log("status hook %s (%s) failed, attempt %d: %s", job["status_hook"], status, attempt + 1, e)
            time.sleep(2)


def run(job):
    """The lab's GC job: check the embedded local credential against this node's core."""
    cred = (job.get("parameters") or {}).get("lab_local_credential") or {}
    req = urllib.request.Request(env("CORE_URL", "http://core:8080") + "/api/v2.0/internalconfig",
                                 headers={"Authorization": labcommon.SECRET_PREFIX + cred.get("access_secret", "")})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
        return "Success", "lab GC: nothing to collect"
    except urllib.error.HTTPError as e:
        return "Error", "calling the local core with the job's credential: %d %s" % (e.code, e.reason)
    except (urllib.error.URLError, OSError) as e:
        return "Error", "calling the local core: %s" % e


def worker(n):
    while True:
        try:
            item = REDIS.brpop([queue(name) for name in JOB_NAMES], timeout=5)
        except Exception as e:  # noqa: BLE001 -- Redis down: keep trying, as the real pool does
            log("worker %d: redis: %s", n, e)
            time.sleep(2)
            continue
        if not item:
            continue
        job = json.loads(item[1])
        log("worker %d: running job %s (%s), enqueued by %s", n, job["id"], job["name"], job.get("enqueued_by"))
        set_stats(job["id"], status="Running", worker_id=WORKER_ID)
        hook(job, "Running")
        status, message = run(job)
        set_stats(job["id"], status=status, worker_id=WORKER_ID, message=message)
        # What Harbor's runner logs when a job ends (conformance row 44), into the node's jobservice
        # log through the log service: how an operator finds where a job ran.
        if status == "Success":
            log("Job '%s:%s' exit with success", job["name"], job["id"])
        else:
            log("Job '%s:%s' exit with error: %s", job["name"], job["id"], message)
        hook(job, status, message)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log("%s %s", self.address_string(), fmt % args)

    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        if labcommon.harbor_secret(self.headers) == env("CORE_SECRET"):
            return True
        self.send(401, {"code": 401, "message": "unauthorized"})
        return False

    def do_GET(self):
        if self.path == "/api/v1/stats":
            return self.send(200, {"core": {"status": "Healthy", "worker_id": WORKER_ID}})
        if self.path.startswith("/api/v1/jobs/"):
            if not self.authorized():
                return
            stats = REDIS.hgetall(stats_key(self.path.rsplit("/", 1)[1]))
            return self.send(200 if stats else 404, {"job": stats} if stats else {"message": "job not found"})
        self.send(404, {"message": "not found"})

    def do_POST(self):
        if self.path != "/api/v1/jobs":
            return self.send(404, {"message": "not found"})
        if not self.authorized():
            return
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}").get("job") or {}
        if req.get("name") not in JOB_NAMES:
            return self.send(400, {"message": "job %r is not modelled by the lab stand-in" % req.get("name")})
        job = {"id": uuid.uuid4().hex[:24], "name": req["name"], "parameters": req.get("parameters") or {},
               "status_hook": req.get("status_hook", ""), "enqueued_by": WORKER_ID, "enqueue_time": int(time.time())}
        set_stats(job["id"], status="Pending", name=job["name"])
        REDIS.lpush(queue(job["name"]), json.dumps(job))
        self.send(202, {"job": {"id": job["id"], "name": job["name"], "status": "Pending"}})


def main():
    labcommon.exit_on_sigterm(log)
    workers = int(CONFIG["worker_pool"].get("workers", 10))
    log("worker pool %s: %d workers on %s (namespace %s)", WORKER_ID, workers, POOL_CONF["redis_url"].split("@")[-1], NS)
    for n in range(workers):
        threading.Thread(target=worker, args=(n,), daemon=True).start()
    labcommon.Server(("", 8080), Handler).serve_forever()


if __name__ == "__main__":
    main()
