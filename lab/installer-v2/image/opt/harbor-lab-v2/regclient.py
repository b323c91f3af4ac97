"""A Docker Registry v2 client for the harbor-lab v2 stand-in (NOT Harbor): what core's registry
ping and jobservice's replication job use, after Harbor's src/pkg/registry/client.go and its
authorizers (conformance rows 46-48 in lab/installer-v2/README.md):
  * SecretAuth: "Authorization: Harbor-Secret <secret>" on every request, the credential of the
    local Harbor (src/common/secret/request.go);
  * TokenAuth: basic credentials exchanged at the Bearer challenge's realm for a token per scope
    (src/pkg/registry/auth/bearer); a refused credential is the token service's status and body.
An answer the client does not expect raises RegistryError("http status code: N, body: ..."), the
text Harbor's client gives (src/pkg/registry/client.go)."""
import base64
import hashlib
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
])


class RegistryError(Exception):
    def __init__(self, status, body):
        super().__init__("http status code: %d, body: %s" % (status, body.strip()))
        self.status = status


def _context(insecure):
    return ssl._create_unverified_context() if insecure else ssl.create_default_context()


def _send(method, url, headers, data, ctx):
    """(status, headers, body) whatever the status; network and TLS errors raise OSError."""
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60, context=ctx) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class SecretAuth:
    def __init__(self, secret):
        self.secret = secret

    def headers(self, _challenge, _scope, _ctx):
        return {"Authorization": "Harbor-Secret " + self.secret}


class TokenAuth:
    def __init__(self, username, password):
        """`password` as str or as the bytes a stored secret decrypted to (garbage included)."""
        raw = password if isinstance(password, bytes) else password.encode()
        self.basic = base64.b64encode(username.encode() + b":" + raw).decode()
        self.tokens = {}

    def headers(self, challenge, scope, ctx):
        if challenge is None:
            return {}
        if not challenge.lower().startswith("bearer "):
            return {"Authorization": "Basic " + self.basic}
        if scope not in self.tokens:
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            query = {"service": params.get("service", "")}
            if scope:
                query["scope"] = scope
            status, _, body = _send("GET", "%s?%s" % (params.get("realm", ""), urllib.parse.urlencode(query)),
                                    {"Authorization": "Basic " + self.basic}, None, ctx)
            if status != 200:
                raise RegistryError(status, body.decode(errors="replace"))
            self.tokens[scope] = json.loads(body)["token"]
        return {"Authorization": "Bearer " + self.tokens[scope]}


class Client:
    def __init__(self, url, auth, insecure=False):
        self.url = url.rstrip("/")
        self.auth = auth
        self.ctx = _context(insecure)
        self.challenge = None

    def request(self, method, path, scope=None, headers=None, data=None, ok=(200,)):
        h = dict(headers or {})
        h.update(self.auth.headers(self.challenge, scope, self.ctx))
        status, rh, body = _send(method, self.url + path, h, data, self.ctx)
        if status == 401 and isinstance(self.auth, TokenAuth) and self.challenge is None and rh.get("WWW-Authenticate"):
            self.challenge = rh.get("WWW-Authenticate")
            return self.request(method, path, scope, headers, data, ok)
        if status not in ok:
            raise RegistryError(status, body.decode(errors="replace"))
        return status, rh, body

    def ping(self):
        self.request("GET", "/v2/")

    def pull_manifest(self, repo, reference):
        _, h, body = self.request("GET", "/v2/%s/manifests/%s" % (repo, reference), "repository:%s:pull" % repo,
                                  {"Accept": MANIFEST_TYPES})
        return h.get("Content-Type"), body

    def blob_exists(self, repo, digest):
        status, _, _ = self.request("HEAD", "/v2/%s/blobs/%s" % (repo, digest), "repository:%s:pull,push" % repo, ok=(200, 404))
        return status == 200

    def pull_blob(self, repo, digest):
        _, _, body = self.request("GET", "/v2/%s/blobs/%s" % (repo, digest), "repository:%s:pull" % repo)
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise RegistryError(500, "blob %s: content does not match its digest" % digest)
        return body

    def push_blob(self, repo, digest, data):
        scope = "repository:%s:pull,push" % repo
        _, h, _ = self.request("POST", "/v2/%s/blobs/uploads/" % repo, scope, {"Content-Length": "0"}, b"", ok=(202,))
        # The upload's URL as the registry wrote it (absolute or not): its path and query, here.
        u = urllib.parse.urlsplit(h.get("Location", ""))
        path = u.path + "?" + (u.query + "&" if u.query else "") + urllib.parse.urlencode({"digest": digest})
        self.request("PUT", path, scope, {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}, data, ok=(201,))

    def push_manifest(self, repo, reference, media_type, body):
        self.request("PUT", "/v2/%s/manifests/%s" % (repo, reference), "repository:%s:pull,push" % repo,
                     {"Content-Type": media_type, "Content-Length": str(len(body))}, body, ok=(201,))


def blobs_of(manifest_body):
    """The config and layer digests of an image manifest (an index is not modelled)."""
    m = json.loads(manifest_body)
    if "manifests" in m:
        raise RegistryError(400, "lab stand-in: image indexes are not modelled")
    return [m["config"]["digest"]] + [layer["digest"] for layer in m.get("layers", [])]
