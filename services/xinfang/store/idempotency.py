"""Idempotency keys of POST requests, kept in the node's database (table idempotency_keys).

A key is reserved (status NULL) before its request is handled and completed with the answer
after; the reservation commits first, so two requests with one key — in this process or
another on the same database — never both run. Keys older than RETENTION are removed when a
new key is reserved. `KeyRecord` lives in records.py (re-exported here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .records import KeyRecord
from .tables import idempotency_keys as table

__all__ = ["RETENTION", "KeyRecord", "SqlIdempotencyKeys", "complete", "reserve"]

RETENTION = timedelta(days=7)


def reserve(
    engine: Engine, key: str, fingerprint: str, now: datetime | None = None
) -> KeyRecord | None:
    """Reserve `key` for a request with `fingerprint`. None if reserved now; else what the key
    already holds."""
    moment = now or datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.created_at < moment - RETENTION))
            conn.execute(insert(table).values(key=key, fingerprint=fingerprint, created_at=moment))
        return None
    except IntegrityError:
        pass
    with engine.begin() as conn:
        row = conn.execute(
            select(table.c.fingerprint, table.c.status, table.c.response).where(table.c.key == key)
        ).one_or_none()
    if row is None:  # expired and removed in between: take it
        return reserve(engine, key, fingerprint, now)
    return KeyRecord(row.fingerprint, row.status, row.response)


def complete(engine: Engine, key: str, status: int, response: Any) -> None:
    """Record the answer to a reserved key (whatever its status: a retry gets the same)."""
    with engine.begin() as conn:
        conn.execute(
            update(table).where(table.c.key == key).values(status=status, response=response)
        )


class SqlIdempotencyKeys:
    """`protocols.IdempotencyKeys` on the node's engine (the functions above)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def reserve(self, key: str, fingerprint: str, now: datetime | None = None) -> KeyRecord | None:
        return reserve(self.engine, key, fingerprint, now)

    def complete(self, key: str, status: int, response: Any) -> None:
        complete(self.engine, key, status, response)
