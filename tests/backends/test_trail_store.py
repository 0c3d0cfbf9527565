"""The operator trail's table (decision 027) on SQLite and PostgreSQL: entries append after the
head with their outbox row, reads filter, and the database refuses UPDATE and DELETE (triggers
of migration 0009) — the store itself has no such path."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from xinfang.store.protocols import OperatorTrailStore
from xinfang.store.tables import outbox
from xinfang.store.trail import TrailQuery, TrailRow
from xinfang.store.unit_of_work import NodeStore

AT = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def _row(person: str, action: str, minutes: int):  # type: ignore[no-untyped-def]
    def make(seq: int, prev: str) -> TrailRow:
        record = f"{seq}|{prev}|{person}|{action}".encode()
        return TrailRow(
            seq, AT + timedelta(minutes=minutes), person, action, "", 200, record,
            hashlib.sha256(record).hexdigest(), "xinfang.150400.trail", person, [],
        )  # fmt: skip

    return make


def test_entries_append_after_the_head_with_their_outbox_row_and_cannot_change(
    store: NodeStore,
) -> None:
    trail = store.trail
    assert isinstance(trail, OperatorTrailStore)
    assert trail.head() == (0, "")
    first = trail.append(_row("li.si", "listCases", 0))
    second = trail.append(_row("wang.wu", "getCase", 5))
    third = trail.append(_row("li.si", "getCase", 10))
    assert (first.seq, second.seq) == (1, 2)
    assert second.record.startswith(f"2|{first.hash}|".encode())
    assert trail.head() == (3, third.hash)
    assert trail.read(TrailQuery(after_seq=2)) == [third.record]
    by_person = trail.read(TrailQuery(person="li.si"))
    assert [r.split(b"|")[0] for r in by_person] == [b"1", b"3"]
    window = TrailQuery(since=AT + timedelta(minutes=1), until=AT + timedelta(minutes=10))
    assert trail.read(window) == [second.record]
    assert trail.read(TrailQuery(action="getCase", limit=1)) == [second.record]
    with store.engine.connect() as conn:
        published = conn.execute(select(outbox.c.topic, outbox.c.value)).all()
    assert [(t, bytes(v)) for t, v in published][:2] == [
        ("xinfang.150400.trail", first.record), ("xinfang.150400.trail", second.record),
    ]  # fmt: skip
    for statement in ("UPDATE operator_trail SET person = 'x'", "DELETE FROM operator_trail"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert len(trail.read(TrailQuery())) == 3
