"""Envelope encryption for the few secrets the metadata store holds (e.g. a generated JWT secret).

Each secret gets its own random 256-bit data key; the plaintext is sealed with AES-GCM under
that data key (the secret's name is the associated data, so a sealed value cannot be moved to
another name), and the data key itself is wrapped by a key-encryption key (KEK):

* ``AGENTDOCK_ENCRYPTION_KEY=<base64 of 32 bytes>``: a local KEK (AES-GCM key wrap);
* ``AGENTDOCK_ENCRYPTION_KEY=kms://<key id | key ARN | alias/name>``: AWS KMS wraps the data
  key (``Encrypt``/``Decrypt`` with an encryption context); boto3 finds region and endpoint the
  usual way (``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``).

The stored form is a small JSON document: ``{"v": 1, "kek": <kek id>, "wrapped": <b64>,
"nonce": <b64>, "ct": <b64>}``; it never contains the plaintext or the unwrapped data key.
Generate a local KEK with ``python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from functools import lru_cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agentdock.errors import EncryptionKeyError
from agentdock.settings import ENV_ENCRYPTION_KEY

_NONCE = 12
_FIX = (
    f"set {ENV_ENCRYPTION_KEY} to base64 of 32 random bytes "
    '(python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())") or to kms://<key id>'
)


class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys. ``key_id`` is recorded with each sealed secret."""

    key_id: str

    def wrap(self, data_key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes) -> bytes: ...


class LocalKEK:
    """A 32-byte AES key held in the environment; wraps data keys with AES-GCM."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise EncryptionKeyError(ENV_ENCRYPTION_KEY, f"the key is {len(key)} bytes, need 32", hint=_FIX)
        self._aead = AESGCM(key)
        # A fingerprint, not the key: tells which KEK sealed a value (rotation, wrong-key errors).
        self.key_id = "local:" + hashlib.sha256(b"agentdock-kek" + key).hexdigest()[:16]

    def wrap(self, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data_key, b"agentdock-data-key")

    def unwrap(self, wrapped: bytes) -> bytes:
        return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], b"agentdock-data-key")


class KmsKEK:
    """AWS KMS holds the KEK; only wrapped data keys leave this process."""

    _CONTEXT = {"agentdock": "data-key"}

    def __init__(self, key_id: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("kms")
        self._kms = client
        self.key_id = f"kms://{key_id}"
        self._key = key_id

    def wrap(self, data_key: bytes) -> bytes:
        out = self._kms.encrypt(KeyId=self._key, Plaintext=data_key, EncryptionContext=self._CONTEXT)
        return bytes(out["CiphertextBlob"])

    def unwrap(self, wrapped: bytes) -> bytes:
        out = self._kms.decrypt(CiphertextBlob=wrapped, KeyId=self._key, EncryptionContext=self._CONTEXT)
        return bytes(out["Plaintext"])


def kek_from_value(value: str) -> KeyEncryptionKey:
    """A KEK from the value of AGENTDOCK_ENCRYPTION_KEY (base64 key or kms:// id)."""
    value = value.strip()
    if value.startswith("kms://"):
        if len(value) == len("kms://"):
            raise EncryptionKeyError(ENV_ENCRYPTION_KEY, "kms:// names no key", hint=_FIX)
        return KmsKEK(value[len("kms://") :])
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionKeyError(ENV_ENCRYPTION_KEY, "the value is not base64", hint=_FIX) from None
    return LocalKEK(raw)


@lru_cache(maxsize=4)
def _cached_kek(value: str) -> KeyEncryptionKey:
    return kek_from_value(value)


def kek_from_env() -> KeyEncryptionKey:
    """The KEK named by AGENTDOCK_ENCRYPTION_KEY; a clear error (with the fix) when unset or bad."""
    value = os.environ.get(ENV_ENCRYPTION_KEY, "")
    if not value.strip():
        raise EncryptionKeyError(
            ENV_ENCRYPTION_KEY, "no key-encryption key is set for secrets at rest", hint=_FIX
        )
    return _cached_kek(value)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def seal(plaintext: bytes, kek: KeyEncryptionKey, *, aad: bytes) -> str:
    """Encrypt ``plaintext`` under a fresh data key; return the JSON document to store."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, aad)
    doc = {
        "v": 1,
        "kek": kek.key_id,
        "wrapped": _b64(kek.wrap(data_key)),
        "nonce": _b64(nonce),
        "ct": _b64(ciphertext),
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def open_sealed(sealed: str, kek: KeyEncryptionKey, *, aad: bytes) -> bytes:
    """Decrypt a document made by ``seal``; EncryptionKeyError if the KEK is wrong or it was altered."""
    try:
        doc = json.loads(sealed)
        wrapped, nonce, ct = (base64.b64decode(doc[k]) for k in ("wrapped", "nonce", "ct"))
    except (ValueError, KeyError, TypeError):
        raise EncryptionKeyError("secret", "the stored secret is not a sealed document") from None
    if doc.get("kek") != kek.key_id:
        raise EncryptionKeyError(
            ENV_ENCRYPTION_KEY,
            f"the secret was sealed with {doc.get('kek')}, the configured key is {kek.key_id}",
            hint=f"set {ENV_ENCRYPTION_KEY} to the key that sealed it",
        )
    try:
        return AESGCM(kek.unwrap(wrapped)).decrypt(nonce, ct, aad)
    except InvalidTag:
        raise EncryptionKeyError("secret", "decryption failed: the stored secret was altered") from None
