"""Idempotency keys of POST requests, kept in the node's database (table idempotency_keys).

A key is reserved (status NULL) before its request is handled and completed with the answer
after; the reservation commits first, so two requests with one key — in this process or
another on the same database — never both run. Keys older than RETENTION are removed when a
new key is reserved. `KeyRecord` lives in records.py (re-exported here).

The recorded answer can hold personal data (a registration's query code, a revealed
petitioner): `SqlIdempotencyKeys` stores it sealed (`{"xf1": "<field ciphertext>"}`, privacy/
columns.py, issue 15 item 3). An answer that no longer opens (its key retired within the 7 days)
reads as an interrupted request: 409, check the cases and retry with a new key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..privacy.columns import ColumnCipher
from ..privacy.suites import DecryptionFailed
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
    """`protocols.IdempotencyKeys` on the node's engine (the functions above), answers sealed
    with `columns` when given."""

    def __init__(self, engine: Engine, columns: ColumnCipher | None = None) -> None:
        self.engine = engine
        self.columns = columns

    def reserve(self, key: str, fingerprint: str, now: datetime | None = None) -> KeyRecord | None:
        found = reserve(self.engine, key, fingerprint, now)
        sealed = found.response if found is not None else None
        if found is None or self.columns is None or not _is_sealed(sealed):
            return found
        assert isinstance(sealed, dict)
        try:
            text = self.columns.open("idempotency_keys", "response", key, str(sealed["xf1"]))
        except DecryptionFailed:
            return KeyRecord(found.fingerprint, None, None)  # reads as interrupted
        return KeyRecord(found.fingerprint, found.status, json.loads(text))

    def complete(self, key: str, status: int, response: Any) -> None:
        if self.columns is not None:
            text = json.dumps(response, ensure_ascii=False, default=str)
            response = {"xf1": self.columns.seal("idempotency_keys", "response", key, text)}
        complete(self.engine, key, status, response)


def _is_sealed(response: Any) -> bool:
    return isinstance(response, dict) and set(response) == {"xf1"}
