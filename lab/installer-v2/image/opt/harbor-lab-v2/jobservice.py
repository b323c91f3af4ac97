#!/usr/bin/python3
"""harbor-lab jobservice: a small stand-in for Harbor v2's jobservice (NOT Harbor).

  POST /api/v1/jobs      from core, Authorization: Harbor-Secret <CORE_SECRET> (else 401):
                         the job goes to the Redis queue of config.yml's redis_url, namespace
                         "harbor_job_service_namespace", list <ns>:jobs:<NAME> (rds/keys.go KeyJobs)
  GET  /api/v1/jobs/ID   the job's stats (same auth)
  GET  /api/v1/stats     health (Harbor's container health check path)
Workers (config.yml worker_pool.workers) take jobs from the shared queue, whichever node
enqueued them, and call THEIR OWN core back (CORE_URL, http://core:8080):
  * GARBAGE_COLLECTION collects nothing (lab) and succeeds;
  * REPLICATION copies an image from its src_resource to its dst_resource. The source is the
    local Harbor at CORE_URL with the credential the SUBMITTING core put in the job (its
    JOBSERVICE_SECRET): this node's core refuses it with 401 when it has another secret, the
    manifest pull fails and the job ends in Error (src/controller/replication/transfer/image);
  * the status hook (/service/notifications/tasks/ID, no auth) with metadata.worker_id =
    hostname:ip of this container, so the database records which node ran it."""
import base64
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import yaml

import labcommon
import regclient

log = labcommon.logger("jobservice")
env = labcommon.env
CONFIG_PATH = env("JOBSERVICE_CONFIG_PATH", "/etc/jobservice/config.yml")
JOB_NAMES = ["GARBAGE_COLLECTION", "REPLICATION"]

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


def client_for(registry):
    """The local Harbor (its URL is this node's CORE_URL) with the secret authorizer, any other
    registry with basic credentials for tokens (src/pkg/reg/adapter/harbor/base/adapter.go:36-57)."""
    cred = registry.get("credential") or {}
    secret = cred.get("access_secret") or ""
    if cred.get("lab_secret_base64"):
        secret = base64.b64decode(secret)
    if registry.get("url", "").rstrip("/") == env("CORE_URL", "http://core:8080").rstrip("/") and cred.get("type") == "secret":
        return regclient.Client(registry["url"], regclient.SecretAuth(secret), True)
    return regclient.Client(registry["url"], regclient.TokenAuth(cred.get("access_key") or "", secret), registry.get("insecure", False))


def replicate(params):
    src, dst = json.loads(params["src_resource"]), json.loads(params["dst_resource"])
    source, dest = client_for(src["registry"]), client_for(dst["registry"])
    src_repo, dst_repo = src["metadata"]["repository"]["name"], dst["metadata"]["repository"]["name"]
    failed = False
    for tag in [t for a in src["metadata"].get("artifacts") or [] for t in a.get("tags") or []]:
        try:
            media_type, manifest = source.pull_manifest(src_repo, tag)
        except (regclient.RegistryError, OSError) as e:
            log("failed to pull the manifest of artifact %s:%s: %s", src_repo, tag, e)
            failed = True
            continue
        try:
            for digest in regclient.blobs_of(manifest):
                if not dest.blob_exists(dst_repo, digest):
                    dest.push_blob(dst_repo, digest, source.pull_blob(src_repo, digest))
            dest.push_manifest(dst_repo, tag, media_type, manifest)
            log("copy %s:%s to %s:%s completed", src_repo, tag, dst_repo, tag)
        except (regclient.RegistryError, OSError) as e:
            log("failed to copy the artifact %s:%s to %s:%s: %s", src_repo, tag, dst_repo, tag, e)
            failed = True
    if failed:
        return "Error", "run error: got error during the whole transfer period, mark the job failure"
    return "Success", ""


def run(job):
    if job["name"] == "REPLICATION":
        try:
            return replicate(job.get("parameters") or {})
        except (KeyError, ValueError) as e:
            return "Error", "run error: failed to parse parameters: %s" % e
    return "Success", "lab GC: nothing to collect"


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
