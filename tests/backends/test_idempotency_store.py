"""Idempotency keys (issue 10 item 13) on SQLite and PostgreSQL: reserve once, answer kept,
expired keys removed."""

from __future__ import annotations

from datetime import UTC, datetime

from xinfang.store import idempotency
from xinfang.store.protocols import IdempotencyKeys
from xinfang.store.unit_of_work import NodeStore

NOW = datetime(2026, 2, 14, 2, 0, tzinfo=UTC)


def test_a_key_is_reserved_once_and_keeps_its_answer(store: NodeStore) -> None:
    engine = store.engine
    assert idempotency.reserve(engine, "k-1", "f" * 64, NOW) is None
    pending = idempotency.reserve(engine, "k-1", "f" * 64, NOW)
    assert pending == idempotency.KeyRecord("f" * 64, None, None)
    answer = {"case_id": "150400-2026-000001", "message_zh": "已登记 😀"}
    idempotency.complete(engine, "k-1", 201, answer)
    assert idempotency.reserve(engine, "k-1", "e" * 64, NOW) == idempotency.KeyRecord(
        "f" * 64, 201, answer
    )


def test_keys_past_their_retention_are_removed(store: NodeStore) -> None:
    engine = store.engine
    assert idempotency.reserve(engine, "old", "a" * 64, NOW) is None
    idempotency.complete(engine, "old", 201, {"case_id": "x"})
    later = NOW + idempotency.RETENTION + idempotency.RETENTION / 7
    assert idempotency.reserve(engine, "new", "b" * 64, later) is None
    assert idempotency.reserve(engine, "old", "c" * 64, later) is None  # free again


def test_the_store_role_reserves_and_completes_like_the_functions(store: NodeStore) -> None:
    keys = store.idempotency
    assert isinstance(keys, IdempotencyKeys)
    assert keys.reserve("k-1", "f" * 64, NOW) is None
    assert keys.reserve("k-1", "f" * 64, NOW) == idempotency.KeyRecord("f" * 64, None, None)
    keys.complete("k-1", 201, {"case_id": "150400-2026-000001"})
    assert keys.reserve("k-1", "e" * 64, NOW) == idempotency.KeyRecord(
        "f" * 64, 201, {"case_id": "150400-2026-000001"}
    )
