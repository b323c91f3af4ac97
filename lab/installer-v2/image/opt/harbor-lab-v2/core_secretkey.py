"""Settings encrypted with the secretkey (/etc/core/key, 16 characters), as Harbor's
utils.ReversibleEncrypt does: "<enc-v1>" + base64(iv + AES-CFB(plaintext)), no authentication.
Decrypting with another node's key does not fail: it yields garbage (the LDAP bind then fails)."""
import base64
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HEADER = "<enc-v1>"
KEY_PATH = os.environ.get("KEY_PATH", "/etc/core/key")


def read_key(path=KEY_PATH):
    with open(path) as f:
        key = f.read()
    if len(key) != 16:
        raise ValueError("the secret key at %s must be 16 characters, got %d" % (path, len(key)))
    return key.encode()


def encrypt(text, key):
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(key), modes.CFB(iv)).encryptor()
    return HEADER + base64.b64encode(iv + enc.update(text.encode()) + enc.finalize()).decode()


def decrypt(value, key):
    """Bytes: with a wrong key they are garbage, which the caller must live with (as Harbor does)."""
    if not value.startswith(HEADER):
        return base64.b64decode(value)
    raw = base64.b64decode(value[len(HEADER):])
    dec = Cipher(algorithms.AES(key), modes.CFB(raw[:16])).decryptor()
    return dec.update(raw[16:]) + dec.finalize()
