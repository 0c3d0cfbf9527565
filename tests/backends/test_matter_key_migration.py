"""Migration 0006 recomputes the matter keys (R11/R12) stored before DOMAIN.md §11's
normalisation, on every backend."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, select

from xinfang.codec.wire import EventCodec
from xinfang.domain.events import CaseFile, EventHeader, Petitioner, PetitionRegistered
from xinfang.domain.matter import matter_parts
from xinfang.domain.vocabulary import Category, Channel
from xinfang.store.database import alembic_config, make_engine
from xinfang.store.tables import case_events, cases
from xinfang.store.unit_of_work import NodeStore

from .conftest import DatabaseFactory

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def file(name: str, contact: str | None, request: str) -> CaseFile:
    return CaseFile(
        title="征地补偿款未足额发放", channel=Channel.ONLINE, category=Category.APPEAL,
        petitioner=Petitioner(name, "松山区某村", contact), request=request, facts="",
        reasons="", place="150404", received_at=T0,
    )  # fmt: skip


def matter_key(f: CaseFile) -> str:
    """The unkeyed key 0006 stores (re-keyed under the node's index key at start-up since
    issue 15 item 3: SqlCaseReads.ids_to_rekey)."""
    parts = matter_parts(f)
    assert parts is not None
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def old_key(f: CaseFile) -> str:
    """The key as revisions before 0006 stored it (name, contact, request as typed)."""
    p = f.petitioner
    request = " ".join(f.request.split())
    parts = [(p.name or "").strip(), (p.contact or "").strip(), f.place, request]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def test_0006_recomputes_stored_keys_so_an_old_case_is_found_again(
    new_database: DatabaseFactory,
) -> None:
    url = new_database(empty=True)
    engine = make_engine(url, upgrade=False)
    codec = EventCodec()
    stored = file("李\u200b四", "137-0000-0000", "请求足额发放征地补偿款。")
    event = PetitionRegistered(
        header=EventHeader("e-1", "150400-2026-000001", "150400", "150400.xfj", T0, seq=1),
        query_code="ABCD2345", file=stored, route_due=T0,
    )  # fmt: skip
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0005")
            values = {
                "event_id": "e-1", "case_id": "150400-2026-000001", "source": "150400",
                "seq": 1, "type": event.type, "actor": "150400.xfj", "occurred_at": T0,
                "payload": codec.encode(event),
            }  # fmt: skip
            conn.execute(insert(case_events).values(**values))
            row = {
                "query_code": "ABCD2345", "title": "t", "category": "APPEAL",
                "status": "REGISTERED", "origin": "150400", "holder": "150400.xfj",
                "version": 1, "updated_at": T0,
            }  # fmt: skip
            conn.execute(
                insert(cases).values(
                    case_id="150400-2026-000001", matter_key=old_key(stored), **row
                )
            )
            conn.execute(insert(cases).values(case_id="150400-2026-000002", **row))
            command.upgrade(alembic_config(conn), "head")
            keys = dict(conn.execute(select(cases.c.case_id, cases.c.matter_key)).all())
    finally:
        engine.dispose()
    plain = file("李四", None, "请求足额发放征地补偿款")
    assert old_key(stored) != old_key(plain)  # what made R11/R12 miss before
    assert keys == {"150400-2026-000001": matter_key(plain), "150400-2026-000002": None}
    store = NodeStore(url)
    try:
        with store.transaction() as tx:
            assert tx.cases.ids_with_matter_key(str(matter_key(plain))) == ["150400-2026-000001"]
        assert store.cases.ids_to_rekey() == ["150400-2026-000001"]  # bootstrap re-keys it
    finally:
        store.close()
