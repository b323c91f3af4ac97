"""Registry tokens as Harbor's core issues and checks them:
issuer "harbor-token-issuer", RS256, signed with /etc/core/private_key.pem (read when it
changes), header kid = libtrust key id of the public key; on /v2/ core itself verifies a bearer
token with the SAME key (src/server/middleware/security/v2_token.go), so a token minted by a
node with another key fails there with "token signature is invalid: crypto/rsa: verification error"."""
import base64
import hashlib
import json
import os
import secrets
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ISSUER = "harbor-token-issuer"
JWT_LEEWAY = 60
SERVICE = "harbor-registry"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def libtrust_key_id(public_key):
    """libtrust: base32 of the first 240 bits of sha256(DER of the public key), 12 groups of 4."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, 48, 4))


class TokenKeyError(Exception):
    pass


class TokenKey:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.cache = (None, None, None)

    def key(self):
        st = os.stat(self.path)
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        with self.lock:
            if self.cache[0] != stamp:
                with open(self.path, "rb") as f:
                    pem = f.read()
                # libtrust.UnmarshalPrivateKeyPEM takes PKCS#1 only.
                if b"BEGIN RSA PRIVATE KEY" not in pem:
                    raise TokenKeyError("unable to get PrivateKey from PEM type: PRIVATE KEY")
                key = serialization.load_pem_private_key(pem, password=None)
                self.cache = (stamp, key, libtrust_key_id(key.public_key()))
            return self.cache[1], self.cache[2]

    def issue(self, subject, access, ttl=1800, service=SERVICE):
        key, kid = self.key()
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": kid}
        claims = {"iss": ISSUER, "sub": subject, "aud": service, "exp": now + ttl, "nbf": now,
                  "iat": now, "jti": secrets.token_urlsafe(16), "access": access}
        signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig), now, ttl

    def verify(self, token):
        """The claims of a token this key signed; raises ValueError with Go's wording otherwise."""
        try:
            h, c, s = token.split(".")
            header = json.loads(unb64url(h))
            claims = json.loads(unb64url(c))
            sig = unb64url(s)
        except (ValueError, TypeError):
            raise ValueError("token is malformed")
        if header.get("alg") != "RS256":
            raise ValueError("signing method %s is invalid" % header.get("alg"))
        key, _ = self.key()
        try:
            key.public_key().verify(sig, (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise ValueError("token signature is invalid: crypto/rsa: verification error")
        # golang-jwt v5 with Harbor's JwtLeeway (60 s, src/common/const.go): exp and nbf each
        # tolerate a verifier's clock that far off the signer's, and both failures are reported.
        now = time.time()
        invalid = []
        if now > claims.get("exp", 0) + JWT_LEEWAY:
            invalid.append("token is expired")
        if now < claims.get("nbf", 0) - JWT_LEEWAY:
            invalid.append("token is not valid yet")
        if invalid:
            raise ValueError("token has invalid claims: " + ", ".join(invalid))
        if claims.get("iss") != ISSUER:
            raise ValueError("token has invalid issuer")
        return claims


def parse_scope(scope):
    """'repository:library/x:pull,push' -> ('repository', 'library/x', ['pull', 'push'])."""
    parts = scope.split(":")
    if len(parts) < 3:
        return None
    return parts[0], ":".join(parts[1:-1]), [a for a in parts[-1].split(",") if a]


def allows(claims, kind, name, action):
    for a in claims.get("access") or []:
        if a.get("type") == kind and a.get("name") == name:
            acts = a.get("actions") or []
            if action in acts or "*" in acts:
                return True
    return False
