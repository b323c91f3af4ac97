"""CSRF protection as Harbor's core applies gorilla/csrf (src/server/middleware/csrf/csrf.go):

* key = CSRF_KEY; empty: a random key per process; not 32 characters: every protected request
  fails (500 "invalid CSRF key length from the environment...");
* the real token (32 random bytes) lives in the cookie `_gorilla_csrf`, HMAC-SHA256-signed with
  the key (securecookie; the lab signs the token bytes, not gob); the header
  X-Harbor-CSRF-Token carries it masked with a one-time pad (base64(pad + pad^token));
* unsafe methods need a header that unmasks to the cookie's token, else 403 "CSRF token
  invalid" -- a cookie signed with another node's key does not verify, a new token is drawn
  and the comparison fails;
* skipped for /v2/, /api/, /service/ unless the request carries a session."""
import base64
import hashlib
import hmac
import os
import secrets
import time

COOKIE = "_gorilla_csrf"
HEADER = "X-Harbor-CSRF-Token"
MAX_AGE = 12 * 3600
SAFE = ("GET", "HEAD", "OPTIONS", "TRACE")


def _b64u(b):
    return base64.urlsafe_b64encode(b).decode()


def _ub64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Csrf:
    def __init__(self, key):
        if not key:
            key = secrets.token_hex(16)
        self.key_error = None if len(key) == 32 else \
            "invalid CSRF key length from the environment. Please ensure the key length is 32 characters"
        self.key = key.encode()

    def _sign(self, ts, value):
        return hmac.new(self.key, ("%s|%s|%s" % (COOKIE, ts, value)).encode(), hashlib.sha256).digest()

    def encode_cookie(self, token):
        ts, value = str(int(time.time())), _b64u(token)
        return _b64u(("%s|%s|" % (ts, value)).encode() + self._sign(ts, value))

    def decode_cookie(self, raw):
        """The token in a cookie this key signed and that has not expired, else None."""
        try:
            data = _ub64u(raw)
            ts, value, mac = data.split(b"|", 2)
            ts, value = ts.decode(), value.decode()
            if not hmac.compare_digest(mac, self._sign(ts, value)) or time.time() - int(ts) > MAX_AGE:
                return None
            token = _ub64u(value)
            return token if len(token) == 32 else None
        except (ValueError, TypeError):
            return None

    @staticmethod
    def mask(token):
        pad = os.urandom(32)
        return base64.b64encode(pad + bytes(a ^ b for a, b in zip(pad, token))).decode()

    @staticmethod
    def unmask(masked):
        try:
            raw = base64.b64decode(masked)
        except ValueError:
            return None
        if len(raw) != 64:
            return None
        return bytes(a ^ b for a, b in zip(raw[:32], raw[32:]))

    def check(self, method, cookie_value, header_value):
        """(ok, real token, new cookie or None, failure reason)."""
        token = self.decode_cookie(cookie_value) if cookie_value else None
        new_cookie = None
        if token is None:
            token = os.urandom(32)
            new_cookie = self.encode_cookie(token)
        if method in SAFE:
            return True, token, new_cookie, None
        if not header_value:
            return False, token, new_cookie, "CSRF token not found in request"
        sent = self.unmask(header_value)
        if sent is None or not hmac.compare_digest(sent, token):
            return False, token, new_cookie, "CSRF token invalid"
        return True, token, new_cookie, None


def skipped(path, has_session):
    return path.startswith(("/v2/", "/api/", "/service/")) and not has_session
