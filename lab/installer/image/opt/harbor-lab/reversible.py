"""Harbor 1.x's reversible encryption with the secretkey (src/common/utils/encrypt.go @ v1.2.2:
ReversibleEncrypt / ReversibleDecrypt) and its FileKeyProvider (the key file read on every use).
Used by the adminserver (config.json passwords) and the ui (replication target passwords)."""
import base64
import secrets

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HEADER = "<enc-v1>"


def encrypt(key, text):
    iv = secrets.token_bytes(16)
    enc = Cipher(algorithms.AES(key), modes.CFB(iv)).encryptor()
    return HEADER + base64.b64encode(iv + enc.update(text.encode()) + enc.finalize()).decode()


def decrypt(key, text):
    """AES-CFB has no authentication: another key yields garbage, not an error (Go's JSON then
    turns its invalid UTF-8 into U+FFFD, as errors="replace" does here). Text without the header
    is base64 (Harbor's fallback for values stored before 1.2)."""
    if not isinstance(text, str):
        return text
    if not text.startswith(HEADER):
        return base64.b64decode(text).decode("utf-8", errors="replace")
    raw = base64.b64decode(text[len(HEADER):])
    if len(raw) < 16:
        raise ValueError("cipherText too short")
    dec = Cipher(algorithms.AES(key), modes.CFB(raw[:16])).decryptor()
    return (dec.update(raw[16:]) + dec.finalize()).decode("utf-8", errors="replace")


def read_key(path):
    """The key file's bytes; OSError or ValueError (AES accepts 16, 24 or 32 bytes) when unusable."""
    with open(path, "rb") as f:
        key = f.read()
    if len(key) not in (16, 24, 32):
        raise ValueError("crypto/aes: invalid key size %d" % len(key))
    return key
