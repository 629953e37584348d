"""Envelope encryption of secrets at rest: local KEK and AWS KMS (moto server over HTTP)."""

from __future__ import annotations

import base64
import json
import os

import pytest

from agentdock.errors import EncryptionKeyError
from agentdock.store import open_store
from agentdock.store.crypto import KmsKEK, LocalKEK, kek_from_env, kek_from_value, open_sealed, seal

pytestmark = pytest.mark.unit


def test_seal_round_trip_and_no_plaintext_in_the_document() -> None:
    kek = LocalKEK(os.urandom(32))
    sealed = seal(b"super-secret-value", kek, aad=b"demo/jwt")
    doc = json.loads(sealed)
    assert set(doc) == {"v", "kek", "wrapped", "nonce", "ct"} and doc["kek"] == kek.key_id
    assert b"super-secret-value" not in sealed.encode() and b"super-secret-value" not in base64.b64decode(
        doc["ct"]
    )
    assert open_sealed(sealed, kek, aad=b"demo/jwt") == b"super-secret-value"
    # A fresh data key and nonce every time: equal plaintexts do not give equal documents.
    assert seal(b"super-secret-value", kek, aad=b"demo/jwt") != sealed


def test_moved_tampered_or_wrong_key_is_refused() -> None:
    kek = LocalKEK(os.urandom(32))
    sealed = seal(b"value", kek, aad=b"a")
    with pytest.raises(EncryptionKeyError):
        open_sealed(sealed, kek, aad=b"b")  # copied to another name
    doc = json.loads(sealed)
    ct = bytearray(base64.b64decode(doc["ct"]))
    ct[0] ^= 1
    with pytest.raises(EncryptionKeyError, match="altered"):
        open_sealed(json.dumps(doc | {"ct": base64.b64encode(bytes(ct)).decode()}), kek, aad=b"a")
    other = LocalKEK(os.urandom(32))
    with pytest.raises(EncryptionKeyError) as info:
        open_sealed(sealed, other, aad=b"a")
    assert kek.key_id in info.value.cause
    with pytest.raises(EncryptionKeyError):
        open_sealed("not json", kek, aad=b"a")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"short").decode(), "need 32"),
        ("kms://", "names no key"),
    ],
)
def test_bad_key_values_say_what_to_do(value: str, message: str) -> None:
    with pytest.raises(EncryptionKeyError, match=message) as info:
        kek_from_value(value)
    assert "AGENTDOCK_ENCRYPTION_KEY" in (info.value.hint or "")


def test_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTDOCK_ENCRYPTION_KEY", raising=False)
    with pytest.raises(EncryptionKeyError, match="no key-encryption key"):
        kek_from_env()
    key = os.urandom(32)
    monkeypatch.setenv("AGENTDOCK_ENCRYPTION_KEY", base64.b64encode(key).decode())
    assert kek_from_env().key_id == LocalKEK(key).key_id


@pytest.mark.integration
def test_kms_wraps_the_data_key(moto_server: str, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    import boto3

    kms = boto3.client("kms", endpoint_url=moto_server, region_name="us-east-1")
    key_id = kms.create_key(Description="agentdock test KEK")["KeyMetadata"]["KeyId"]
    kek = KmsKEK(key_id, client=kms)
    sealed = seal(b"jwt-secret-123456", kek, aad=b"demo/jwt")
    assert json.loads(sealed)["kek"] == f"kms://{key_id}"
    assert open_sealed(sealed, kek, aad=b"demo/jwt") == b"jwt-secret-123456"

    # Through the store, with the KEK named by the environment (boto3 finds the endpoint itself).
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AGENTDOCK_ENCRYPTION_KEY", f"kms://{key_id}")
    with open_store(sqlite_url) as store:
        store.put_secret("demo/jwt", "jwt-secret-123456")
        assert store.get_secret("demo/jwt") == "jwt-secret-123456"
        raw = store._read_secret("demo/jwt")
        assert raw is not None and "jwt-secret-123456" not in raw
