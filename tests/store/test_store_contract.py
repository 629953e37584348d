"""One contract, the same assertions on every backend (memory, SQLite, DynamoDB/moto, Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentdock.errors import EncryptionKeyError, RecordNotFound, StoreConflict, StoreNotInitialized
from agentdock.store import APIKeyRecord, AuditRecord, MetadataStore, VersionRecord, open_store
from agentdock.store.crypto import LocalKEK

pytestmark = pytest.mark.integration

SPEC = {"version": "1.0", "agent": {"name": "demo"}, "auth": {"jwt": {"secret_key": "${JWT_SECRET}"}}}


def _version(store: MetadataStore, agent: str = "demo", **kw: object) -> VersionRecord:
    args: dict = {"content_hash": "sha256:abc", "target": "local", "spec": SPEC, "created_by": "alice"} | kw
    return store.create_version(agent, **args)


def test_init_is_idempotent(store: MetadataStore) -> None:
    _version(store)
    store.init()
    assert [v.number for v in store.list_versions("demo")] == [1]


def test_agents(store: MetadataStore) -> None:
    first = store.ensure_agent("beta")
    again = store.ensure_agent("beta")
    _version(store, "alpha")
    assert again.created_at == first.created_at
    assert [a.name for a in store.list_agents()] == ["alpha", "beta"]
    assert first.created_at.tzinfo is not None


def test_versions_round_trip(store: MetadataStore) -> None:
    v1 = _version(store, image="registry/demo:1", label="1.2.0")
    v2 = _version(store, content_hash="sha256:def")
    assert (v1.number, v2.number) == (1, 2)
    got = store.get_version("demo", 1)
    assert got == v1
    assert got.spec == SPEC and got.label == "1.2.0" and got.image == "registry/demo:1"
    assert got.status == "registered" and got.created_by == "alice"
    assert got.created_at.tzinfo is not None and abs(got.created_at - datetime.now(UTC)) < timedelta(
        minutes=1
    )
    assert [v.content_hash for v in store.list_versions("demo")] == ["sha256:abc", "sha256:def"]
    assert store.latest_version("demo") == v2
    assert store.list_versions("nobody") == [] and store.latest_version("nobody") is None
    with pytest.raises(RecordNotFound):
        store.get_version("demo", 3)


def test_versions_are_immutable(store: MetadataStore) -> None:
    v1 = _version(store)
    forged = VersionRecord("demo", 1, "sha256:evil", "local", None, {}, "mallory", datetime.now(UTC))
    with pytest.raises(StoreConflict):
        store.put_version(forged)
    assert store.get_version("demo", 1) == v1
    # A number chosen by the caller is written once, and allocation continues after it.
    store.put_version(VersionRecord("demo", 7, "sha256:imp", "lambda", None, {}, "ci", datetime.now(UTC)))
    assert _version(store).number == 8
    assert [v.number for v in store.list_versions("demo")] == [1, 7, 8]


def test_version_status_is_separate_from_the_body(store: MetadataStore) -> None:
    v1 = _version(store)
    store.set_version_status("demo", 1, "live")
    got = store.get_version("demo", 1)
    assert got.status == "live"
    assert (got.content_hash, got.spec, got.created_at) == (v1.content_hash, v1.spec, v1.created_at)
    with pytest.raises(RecordNotFound):
        store.set_version_status("demo", 9, "failed")
    with pytest.raises(ValueError):
        store.set_version_status("demo", 1, "Not A Status")


def test_pointer_compare_and_set(store: MetadataStore) -> None:
    assert store.get_pointer("demo", "local") is None
    p1 = store.move_pointer("demo", "local", "live", expected_revision=None, live_version=1, url="http://a")
    assert (p1.revision, p1.live_version, p1.previous_version, p1.url) == (1, 1, None, "http://a")
    assert p1.created_at is not None and p1.updated_at is not None
    with pytest.raises(StoreConflict):
        store.move_pointer("demo", "local", "live", expected_revision=None, live_version=9)
    with pytest.raises(StoreConflict):
        store.move_pointer("demo", "local", "live", expected_revision=5, live_version=9)
    p2 = store.move_pointer(
        "demo",
        "local",
        "live",
        expected_revision=1,
        live_version=2,
        previous_version=1,
        canary_version=3,
        canary_weight=0.25,
        status="canary",
        details={"by": "bob", "n": [1, 2]},
    )
    assert (p2.revision, p2.live_version, p2.previous_version, p2.url) == (2, 2, 1, "http://a")
    assert (p2.canary_version, p2.canary_weight, p2.status, p2.details) == (
        3,
        0.25,
        "canary",
        {"by": "bob", "n": [1, 2]},
    )
    assert store.get_pointer("demo", "local") == p2
    p3 = store.move_pointer("demo", "local", "live", expected_revision=2, url=None, canary_version=None)
    assert (p3.revision, p3.url, p3.canary_version, p3.live_version) == (3, None, None, 2)
    with pytest.raises(TypeError):
        store.move_pointer("demo", "local", "live", expected_revision=3, live_versoin=4)
    assert store.get_pointer("demo", "local").revision == 3  # type: ignore[union-attr]


def test_pointers_per_target_and_alias(store: MetadataStore) -> None:
    _version(store)
    store.move_pointer("demo", "local", "live", expected_revision=None, live_version=1)
    store.move_pointer("demo", "local", "staging", expected_revision=None, live_version=1)
    store.move_pointer("demo", "lambda", "live", expected_revision=None, live_version=1)
    store.move_pointer("demo", "local2", "live", expected_revision=None, live_version=1)
    assert [(p.target, p.alias) for p in store.list_pointers("demo")] == [
        ("lambda", "live"),
        ("local", "live"),
        ("local", "staging"),
        ("local2", "live"),
    ]
    store.delete_agent("demo", "local")
    assert [(p.target, p.alias) for p in store.list_pointers("demo")] == [
        ("lambda", "live"),
        ("local2", "live"),
    ]
    assert [v.number for v in store.list_versions("demo")] == [1]


def test_update_pointer_retries_on_conflict(store: MetadataStore) -> None:
    store.move_pointer("demo", "local", "live", expected_revision=None, live_version=1)
    calls: list[int | None] = []

    def change(current):  # type: ignore[no-untyped-def]
        calls.append(current.revision if current else None)
        if len(calls) == 1:  # someone else moves it between our read and our write
            store.move_pointer("demo", "local", "live", expected_revision=current.revision, live_version=5)
        return {"live_version": 6, "previous_version": current.live_version}

    moved = store.update_pointer("demo", "local", "live", change)
    assert calls == [1, 2]
    assert (moved.revision, moved.live_version, moved.previous_version) == (3, 6, 5)


def _key(key_id: str, agent: str = "demo", **kw: object) -> APIKeyRecord:
    base: dict = {"role": "developer", "key_hash": f"sha256:{key_id}", "created_at": datetime.now(UTC)}
    return APIKeyRecord(key_id=key_id, agent=agent, **(base | kw))


def test_api_keys(store: MetadataStore) -> None:
    expires = datetime.now(UTC) + timedelta(days=30)
    k1 = _key("aaaaaaaaaaaa", expires_at=expires)
    store.put_key(k1)
    store.put_key(_key("bbbbbbbbbbbb", created_at=k1.created_at + timedelta(seconds=1)))
    store.put_key(_key("cccccccccccc", agent="other"))
    assert store.get_key("aaaaaaaaaaaa") == k1 and store.get_key("zzzzzzzzzzzz") is None
    assert [k.key_id for k in store.list_keys("demo")] == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    with pytest.raises(StoreConflict):
        store.put_key(_key("aaaaaaaaaaaa", role="admin"))
    assert store.get_key("aaaaaaaaaaaa").role == "developer"  # type: ignore[union-attr]

    first = datetime.now(UTC)
    store.revoke_key("aaaaaaaaaaaa", first)
    store.revoke_key("aaaaaaaaaaaa", first + timedelta(hours=1))
    revoked = store.get_key("aaaaaaaaaaaa")
    assert revoked is not None and revoked.revoked_at == first and not revoked.active()
    with pytest.raises(RecordNotFound):
        store.revoke_key("zzzzzzzzzzzz", first)


def test_touch_keys_batches_and_never_moves_back(store: MetadataStore) -> None:
    store.put_key(_key("aaaaaaaaaaaa"))
    store.put_key(_key("bbbbbbbbbbbb"))
    t0 = datetime.now(UTC)
    store.touch_keys({"aaaaaaaaaaaa": t0, "bbbbbbbbbbbb": t0, "unknown00000": t0})
    store.touch_keys({"aaaaaaaaaaaa": t0 - timedelta(minutes=5), "bbbbbbbbbbbb": t0 + timedelta(seconds=3)})
    assert store.get_key("aaaaaaaaaaaa").last_used_at == t0  # type: ignore[union-attr]
    assert store.get_key("bbbbbbbbbbbb").last_used_at == t0 + timedelta(seconds=3)  # type: ignore[union-attr]
    assert store.get_key("unknown00000") is None
    store.touch_keys({})


def test_audit_is_newest_first_and_filterable(store: MetadataStore) -> None:
    now = datetime.now(UTC)
    for i in range(5):
        agent = "demo" if i % 2 == 0 else "other"
        store.append_audit(
            AuditRecord("alice", f"act{i}", agent, "local", {"i": i, "nested": {"ok": True}}, now)
        )
    store.append_audit(AuditRecord("bob", "store.init", None, None, {}, now))
    assert [r.action for r in store.list_audit()] == ["store.init", "act4", "act3", "act2", "act1", "act0"]
    assert [r.action for r in store.list_audit("demo")] == ["act4", "act2", "act0"]
    assert [r.action for r in store.list_audit(limit=2)] == ["store.init", "act4"]
    assert [r.action for r in store.list_audit("demo", limit=1)] == ["act4"]
    record = store.list_audit("other")[0]
    assert (record.actor, record.target, record.details, record.at) == (
        "alice",
        "local",
        {"i": 3, "nested": {"ok": True}},
        now,
    )


def test_counters_count_per_window(store: MetadataStore) -> None:
    t = 1_700_000_040.0  # a multiple of 60
    assert [store.incr_counter("rl:viewer:k1", 60, now=t + i) for i in range(3)] == [1, 2, 3]
    assert store.incr_counter("rl:viewer:k1", 60, now=t + 60) == 1  # next window
    assert store.incr_counter("rl:viewer:k2", 60, now=t + 1) == 1  # other key
    assert store.incr_counter("rl:viewer:k1", 60, now=t + 59.9) == 4
    assert store.incr_counter("rl:viewer:k1", 3600, now=t) == 1  # other window length, other counter


def test_secrets_are_sealed_at_rest(store: MetadataStore, raw_dump) -> None:  # type: ignore[no-untyped-def]
    plaintext = "jwt-secret-f00dfacecafebeef"
    assert store.get_secret("demo/jwt") is None
    store.put_secret("demo/jwt", plaintext)
    assert store.get_secret("demo/jwt") == plaintext
    store.put_secret("demo/jwt", plaintext + "-rotated")
    assert store.get_secret("demo/jwt") == plaintext + "-rotated"
    dumped = raw_dump(store)
    assert "demo/jwt" in dumped  # the row is there ...
    assert "f00dfacecafebeef" not in dumped  # ... but not its plaintext
    store.kek = LocalKEK(b"x" * 32)
    with pytest.raises(EncryptionKeyError):
        store.get_secret("demo/jwt")


def test_missing_kek_is_a_clear_error(store: MetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.kek = None
    monkeypatch.delenv("AGENTDOCK_ENCRYPTION_KEY", raising=False)
    with pytest.raises(EncryptionKeyError) as info:
        store.put_secret("s", "v")
    assert "AGENTDOCK_ENCRYPTION_KEY" in (info.value.hint or "")


@pytest.mark.parametrize("backend", ["sqlite", "dynamodb", "postgres"])
def test_uninitialised_store_names_the_fix(backend: str, store_url_for, drop_store) -> None:  # type: ignore[no-untyped-def]
    url = store_url_for(backend)
    s = open_store(url, auto_init=False)
    try:
        with pytest.raises(StoreNotInitialized) as info:
            s.list_versions("demo")
        assert "agentdock store init --store" in (info.value.hint or "")
        s.init()
        assert s.list_versions("demo") == []
    finally:
        drop_store(s)


def test_root_postgres_url_fixture_is_usable_as_is(postgres_url: str) -> None:
    """Other areas pass ``postgres_url`` straight to open_store (tables land in the run's schema)."""
    import psycopg

    with open_store(postgres_url, auto_init=False) as s:
        s.init()
        s.ensure_agent("fixture-check")
        assert "fixture-check" in [a.name for a in s.list_agents()]
    with psycopg.connect(postgres_url) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
    assert schema.startswith("agentdock_test_")
