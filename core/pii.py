"""Personal-data protection: ID numbers encrypted at rest (Fernet) and looked up by keyed HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class PersonalDataCipher:
    """Two keys derived from one master secret: one encrypts, one hashes for lookup."""

    def __init__(self, master_secret: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(master_secret, b"jingong-id-enc")))
        self._hash_key = _derive(master_secret, b"jingong-id-hash")

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """Hash of a high-entropy bearer token (invite, API key): plain SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()
