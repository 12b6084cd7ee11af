"""Personal-data protection: ID numbers encrypted at rest (Fernet) and looked up by keyed HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


def _derive(master: bytes, info: bytes) -> bytes:
    # imported on first use: `cryptography` costs a webhook worker ≈ 6 MB of RSS, and most
    # updates never touch an ID number
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class PersonalDataCipher:
    """Two keys derived from one master secret: one encrypts, one hashes for lookup."""

    def __init__(self, master_secret: bytes) -> None:
        self._master = master_secret

    @cached_property
    def _fernet(self) -> Fernet:
        from cryptography.fernet import Fernet

        return Fernet(base64.urlsafe_b64encode(_derive(self._master, b"jingong-id-enc")))

    @cached_property
    def _hash_key(self) -> bytes:
        return _derive(self._master, b"jingong-id-hash")

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """Hash of a high-entropy bearer token (invite, API key): plain SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()
