"""Helpers the SQLAlchemy roles share: UTC times, header bytes in JSON, one-statement upserts."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite

from .records import Headers


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    # Times are written as UTC. SQLite keeps no offset (a naive value read back is UTC);
    # PostgreSQL answers in the session's TimeZone. Callers get aware UTC from both.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def headers_to_json(headers: Headers) -> list[list[str]]:
    # Hex keeps arbitrary header bytes from the wire intact in a JSON column.
    return [[k, v.hex()] for k, v in headers]


def headers_from_json(raw: Any) -> Headers:
    return [(str(k), bytes.fromhex(str(v))) for k, v in raw]


@functools.cache
def upsert(dialect: str, table: Table, *keep: str) -> Insert:
    """INSERT … ON CONFLICT (primary key) DO UPDATE: one statement instead of update-then-insert.

    Columns named in `keep` are written on insert only (e.g. when an inbox entry was first seen).
    """
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    key = [c.name for c in table.primary_key.columns]
    fixed = set(key) | set(keep)
    changing = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in fixed}
    statement: Insert = stmt.on_conflict_do_update(index_elements=key, set_=changing)
    return statement
