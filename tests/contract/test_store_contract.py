"""The node store's contract, proven on every backend (SQLite file and PostgreSQL).

One set of tests, parametrized by the `backend` fixture (conftest.py). Each test gets
fresh databases. The last tests run the FakeBus-driven unit tests (the in-memory
slice through NodeService) with every node on the backend under test.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, exc, text
from sqlalchemy import inspect as sa_inspect

from xinfang.domain.case import Case
from xinfang.domain.events import CaseFile, Event, EventHeader, Petitioner
from xinfang.domain.vocabulary import CaseStatus, Category, Channel, Outcome
from xinfang.store.database import (
    INITIAL_REVISION,
    INITIAL_TABLES,
    MIGRATIONS_DIR,
    SchemaError,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade_to_head,
)
from xinfang.store.records import ChainSource, Headers, Resent
from xinfang.store.tables import metadata
from xinfang.store.unit_of_work import NodeStore
from xinfang.topics import RESENT_HEADER

from .conftest import DatabaseFactory

T0 = datetime(2026, 1, 5, 1, 0, 0, 123456, tzinfo=UTC)
ALL_BYTES = bytes(range(256))


# -- helpers ---------------------------------------------------------------------------------
def case_file() -> CaseFile:
    return CaseFile(
        title="小区供暖不达标",
        channel=Channel.ONLINE,
        category=Category.APPEAL,
        petitioner=Petitioner(name="张三", address="松山区某小区", contact="13800000000"),
        request="请求督促供热公司整改",
        facts="室温长期低于 18 度",
        reasons="违反供热条例",
        place="150404",
        received_at=T0,
    )


@dataclass(frozen=True, kw_only=True)
class Probe(Event):
    """An event as the store sees it: a header, a type name, an opaque payload."""

    TYPE: ClassVar[str] = "StoreProbe"


def event(
    case_id: str = "150400-2026-000001",
    seq: int = 0,
    event_id: str | None = None,
    at: datetime = T0,
) -> Event:
    header = EventHeader(
        event_id=event_id or str(uuid.uuid4()),
        case_id=case_id,
        source="150400",
        actor="150400.xfj",
        occurred_at=at,
        seq=seq,
    )
    return Probe(header=header)


def registered_case(case_id: str) -> Case:
    return Case(
        case_id=case_id,
        query_code="ABCD2345",
        file=case_file(),
        status=CaseStatus.REGISTERED,
        origin="150400",
        holder="150400.xfj",
        registered_at=T0,
        history=("e-1",),
    )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


# -- migrations ------------------------------------------------------------------------------
def test_migrated_schema_matches_tables(new_database: DatabaseFactory) -> None:
    store = NodeStore(new_database(empty=True))
    try:
        assert current_revision(store.engine) == head_revision()
        assert schema_differences(store.engine) == []
        names = set(sa_inspect(store.engine).get_table_names())
        assert names == set(metadata.tables) | {"alembic_version"}
    finally:
        store.close()


def test_upgrade_of_a_database_at_head_changes_nothing(new_database: DatabaseFactory) -> None:
    url = new_database()
    first = NodeStore(url)
    with first.transaction() as tx:
        tx.log.enqueue("t", "k", b"v", [])
    first.close()
    again = NodeStore(url)  # upgrade at head: a no-op
    try:
        assert current_revision(again.engine) == head_revision()
        assert [r.value for r in again.outbox.pending()] == [b"v"]
        assert schema_differences(again.engine) == []
    finally:
        again.close()


def test_two_processes_opening_a_new_database_at_once_both_succeed(
    new_database: DatabaseFactory,
) -> None:
    url = new_database(empty=True)
    barrier = threading.Barrier(3)
    engines: list[Engine] = []
    errors: list[BaseException] = []

    def open_() -> None:
        barrier.wait()
        try:
            engines.append(make_engine(url))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=open_) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert schema_differences(engines[0]) == []
    finally:
        for engine in engines:
            engine.dispose()


def test_database_made_before_migrations_is_adopted(new_database: DatabaseFactory) -> None:
    url = new_database(empty=True)
    legacy = create_engine(url)
    try:
        # Before migrations, make_engine ran metadata.create_all with the tables of
        # revision 0001: the same schema as upgrading to 0001, minus alembic_version.
        with legacy.begin() as conn:
            command.upgrade(alembic_config(conn), INITIAL_REVISION)
            conn.execute(text("DROP TABLE alembic_version"))
            conn.execute(text("INSERT INTO counters (name, value) VALUES ('case:2026', 7)"))
    finally:
        legacy.dispose()
    store = NodeStore(url)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.transaction() as tx:
            assert tx.cases.next_serial("case:2026") == 8
    finally:
        store.close()


def test_every_revision_downgrades_and_upgrades_again(new_database: DatabaseFactory) -> None:
    engine = make_engine(new_database(empty=True))
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(sa_inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revision(engine) is None
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


FAILING_REVISION = """
from alembic import op

revision = "9999"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("THIS IS NOT SQL")


def downgrade() -> None:
    pass
"""


def test_a_failing_revision_leaves_the_database_as_it_was(
    new_database: DatabaseFactory, tmp_path: Path
) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    revision = FAILING_REVISION.format(head=head_revision())
    (scripts / "versions" / "9999_fails.py").write_text("import sqlalchemy as sa\n" + revision)
    url = new_database(empty=True)
    engine = make_engine(url, upgrade=False)
    try:
        with pytest.raises(exc.DBAPIError):
            upgrade_to_head(engine, script_location=scripts)
        # not even the revisions before the failing one, nor alembic_version
        assert sa_inspect(engine).get_table_names() == []
        upgrade_to_head(engine)  # the released revisions still apply cleanly
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_database_with_only_some_node_tables_is_refused(new_database: DatabaseFactory) -> None:
    url = new_database(empty=True)
    partial = create_engine(url)
    metadata.tables["counters"].create(partial)
    partial.dispose()
    with pytest.raises(SchemaError, match="counters"):
        make_engine(url).dispose()
    assert "counters" in INITIAL_TABLES


# -- own log ---------------------------------------------------------------------------------
def test_log_head_follows_append_log(store: NodeStore) -> None:
    with store.transaction() as tx:
        assert tx.log.head() == (0, "")
    prev = ""
    for seq in range(1, 4):
        with store.transaction() as tx:
            assert tx.log.head() == (seq - 1, prev)
            ev = event(seq=seq)
            data = f"payload-{seq}".encode() + ALL_BYTES
            prev = digest(data + prev.encode())
            tx.log.append(ev, data, prev)
            assert tx.log.head() == (seq, prev)  # visible inside its own transaction
    with store.transaction() as tx:
        assert tx.log.head() == (3, prev)
    assert store.stats()["log_events"] == 3


def test_several_events_in_one_transaction_get_consecutive_positions(store: NodeStore) -> None:
    with store.transaction() as tx:
        seq, prev = tx.log.head()
        for _ in range(5):
            seq += 1
            prev = digest(prev.encode() + str(seq).encode())
            tx.log.append(event(seq=seq), b"x", prev)
    with store.transaction() as tx:
        assert tx.log.head() == (5, prev)


def test_log_position_cannot_be_taken_twice(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.log.append(event(seq=1), b"a", "h1")
    with pytest.raises(exc.IntegrityError), store.transaction() as tx:
        tx.log.append(event(seq=1), b"b", "h1'")
    with store.transaction() as tx:
        assert tx.log.head() == (1, "h1")


def test_next_serial_counts_per_name_and_a_rollback_gives_the_number_back(
    store: NodeStore,
) -> None:
    with store.transaction() as tx:
        assert [tx.cases.next_serial("case:2026") for _ in range(3)] == [1, 2, 3]
        assert tx.cases.next_serial("case:2027") == 1
    with store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 4
    with pytest.raises(RuntimeError), store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 5
        raise RuntimeError("decision failed")
    with store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 5
        assert tx.cases.next_serial("case:2027") == 2


# -- case events and summaries ---------------------------------------------------------------
def test_case_payloads_come_back_in_the_order_recorded(store: NodeStore) -> None:
    a, b = "150400-2026-000001", "150400-2026-000002"
    with store.transaction() as tx:
        for i, case_id in enumerate([a, b, a, a, b]):
            tx.cases.append(event(case_id, seq=i + 1), f"{case_id}/{i}".encode())
    with store.transaction() as tx:
        assert tx.cases.payloads(a) == [f"{a}/0".encode(), f"{a}/2".encode(), f"{a}/3".encode()]
        assert tx.cases.payloads(b) == [f"{b}/1".encode(), f"{b}/4".encode()]
        assert tx.cases.payloads("150400-2026-999999") == []


def test_a_duplicate_event_id_rolls_back_the_whole_transaction(store: NodeStore) -> None:
    first = event(event_id="e-1", seq=1)
    with store.transaction() as tx:
        tx.cases.append(first, b"first")
    with pytest.raises(exc.IntegrityError), store.transaction() as tx:
        tx.cases.next_serial("case:2026")
        tx.log.enqueue("t.inbox.150404", first.case_id, b"row before the failure", [("a", b"1")])
        tx.cases.save(registered_case("150400-2026-000002"))
        tx.inbox.mark_received("e-0", "d", "150000", "applied")
        tx.inbox.park("e-p", first.case_id, b"p", [])
        tx.log.append(event(seq=1), b"log", "h")
        tx.cases.append(event(event_id="e-1", seq=2), b"duplicate")
    assert store.outbox.pending() == []
    assert store.stats() == {
        "cases": 0,
        "log_events": 0,
        "case_events": 1,
        "outbox_pending": 0,
        "outbox_set_aside": 0,
        "inbox": 0,
        "parked": 0,
    }
    with store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 1
        assert tx.cases.payloads(first.case_id) == [b"first"]
        assert tx.inbox.entry("e-0") is None


def test_save_case_inserts_then_updates(store: NodeStore) -> None:
    case = registered_case("150400-2026-000001")
    with store.transaction() as tx:
        tx.cases.save(case)
    [row] = store.cases.list_cases()
    assert row["case_id"] == case.case_id
    assert row["query_code"] == "ABCD2345"
    assert row["title"] == "小区供暖不达标"
    assert (row["status"], row["holder"], row["outcome"]) == (case.status.value, case.holder, None)
    assert row["version"] == case.version == 1
    first_update = row["updated_at"]
    assert first_update.utcoffset() == timedelta(0)
    moved = replace(
        case,
        status=CaseStatus.OPINION_ISSUED,
        holder="150404.zj",
        outcome=Outcome.SUPPORTED,
        history=(*case.history, "e-2", "e-3"),
    )
    with store.transaction() as tx:
        tx.cases.save(moved)
    [row] = store.cases.list_cases()
    assert (row["status"], row["holder"], row["outcome"], row["version"]) == (
        "OPINION_ISSUED",
        "150404.zj",
        "SUPPORTED",
        3,
    )
    assert row["updated_at"] >= first_update
    assert store.stats()["cases"] == 1


def test_matter_keys_and_open_cases(store: NodeStore) -> None:
    a, b, c = "150400-2026-000003", "150400-2026-000001", "150400-2026-000002"
    with store.transaction() as tx:
        tx.cases.save(registered_case(a), matter_key="k-1")
        tx.cases.save(registered_case(b), matter_key="k-1")
        tx.cases.save(registered_case(c))  # anonymous: no key
    with store.transaction() as tx:
        assert tx.cases.ids_with_matter_key("k-1") == [b, a]
        assert tx.cases.ids_with_matter_key("k-2") == []
        tx.cases.save(replace(registered_case(a), status=CaseStatus.CLOSED), matter_key="k-1")
    assert store.cases.open_ids() == [b, c]


def test_list_cases_is_ordered_by_case_id(store: NodeStore) -> None:
    ids = ["150400-2026-000003", "150400-2025-000009", "150400-2026-000001"]
    with store.transaction() as tx:
        for case_id in ids:
            tx.cases.save(registered_case(case_id))
    assert [r["case_id"] for r in store.cases.list_cases()] == sorted(ids)


def test_case_history_keeps_every_field(store: NodeStore) -> None:
    at = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=8)))
    ev = event(seq=7, event_id="e-hist", at=at)
    with store.transaction() as tx:
        tx.cases.append(ev, ALL_BYTES)
    [stored] = store.cases.history(ev.case_id)
    assert (stored.event_id, stored.case_id, stored.source, stored.seq) == (
        "e-hist",
        ev.case_id,
        "150400",
        7,
    )
    assert (stored.type, stored.actor) == ("StoreProbe", "150400.xfj")
    assert stored.payload == ALL_BYTES
    assert stored.occurred_at == at  # the same instant ...
    assert stored.occurred_at.tzinfo is not None
    assert stored.occurred_at.utcoffset() == timedelta(0)  # ... handed back in UTC
    assert store.cases.history("150400-2026-999999") == []


# -- outbox ----------------------------------------------------------------------------------
def test_outbox_is_pending_in_enqueue_order_until_marked_sent(store: NodeStore) -> None:
    with store.transaction() as tx:
        for i in range(3):
            tx.log.enqueue(f"topic-{i % 2}", f"k{i}", f"v{i}".encode(), [("i", str(i).encode())])
    with store.transaction() as tx:
        tx.log.enqueue("topic-0", "k3", b"v3", [])
    pending = store.outbox.pending()
    assert [(r.topic, r.key, r.value) for r in pending] == [
        ("topic-0", "k0", b"v0"),
        ("topic-1", "k1", b"v1"),
        ("topic-0", "k2", b"v2"),
        ("topic-0", "k3", b"v3"),
    ]
    assert [r.headers for r in pending] == [[("i", b"0")], [("i", b"1")], [("i", b"2")], []]
    ids = [r.id for r in pending]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [r.id for r in store.outbox.pending(limit=2)] == ids[:2]
    store.outbox.mark_sent(ids[:2])
    store.outbox.mark_sent([])
    assert [r.id for r in store.outbox.pending()] == ids[2:]
    assert store.stats()["outbox_pending"] == 2
    store.outbox.mark_sent(ids)  # marking again is harmless
    assert store.outbox.pending() == []


def test_headers_keep_arbitrary_bytes(store: NodeStore) -> None:
    headers: Headers = [
        ("all", ALL_BYTES),
        ("empty", b""),
        ("not-utf8", b"\xff\xfe\x00\xc3\x28\x80"),
        ("中文", "事项".encode("gb18030")),
        ("all", b"same key twice"),
    ]
    with store.transaction() as tx:
        tx.log.enqueue("t", "k", b"\x00value\xff", headers)
        tx.inbox.park("e-1", "case-1", b"\x00parked\xff", headers)
    [row] = store.outbox.pending()
    assert (row.value, row.headers) == (b"\x00value\xff", headers)
    with store.transaction() as tx:
        assert tx.inbox.parked_for("case-1") == [("e-1", b"\x00parked\xff", headers)]


# -- inbox and parked events -----------------------------------------------------------------
def test_inbox_entry_and_mark_received(store: NodeStore) -> None:
    with store.transaction() as tx:
        assert tx.inbox.entry("e-1") is None
        tx.inbox.mark_received("e-1", "hash-1", "150400", "parked")
        assert tx.inbox.entry("e-1") == ("hash-1", "parked")
    with store.transaction() as tx:
        tx.inbox.mark_received("e-1", "hash-other", "150400", "applied")  # status moves; hash stays
        tx.inbox.mark_received("e-2", "hash-2", "150000", "applied")
    with store.transaction() as tx:
        assert tx.inbox.entry("e-1") == ("hash-1", "applied")
        assert tx.inbox.entry("e-2") == ("hash-2", "applied")
    assert store.stats()["inbox"] == 2


def test_park_parked_for_unpark(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.inbox.park("e-b", "case-1", b"first", [("n", b"1")])
        tx.inbox.park("e-c", "case-2", b"other case", [])
    with store.transaction() as tx:
        tx.inbox.park("e-a", "case-1", b"second", [("n", b"2")])
    with store.transaction() as tx:
        assert tx.inbox.parked_for("case-1") == [
            ("e-b", b"first", [("n", b"1")]),
            ("e-a", b"second", [("n", b"2")]),
        ]
        assert tx.inbox.parked_for("case-3") == []
        tx.inbox.unpark("e-b")
        tx.inbox.unpark("e-unknown")
    with store.transaction() as tx:
        assert [e for e, _, _ in tx.inbox.parked_for("case-1")] == ["e-a"]
    assert store.stats()["parked"] == 2
    with pytest.raises(exc.IntegrityError), store.transaction() as tx:
        tx.inbox.park("e-a", "case-1", b"again", [])


def test_stats_counts_every_table(store: NodeStore) -> None:
    tables = ("cases", "log_events", "case_events", "outbox_pending", "outbox_set_aside")
    tables += ("inbox", "parked")
    assert store.stats() == dict.fromkeys(tables, 0)
    with store.transaction() as tx:
        ev = event(seq=1)
        tx.log.append(ev, b"p", "h")
        tx.cases.append(ev, b"p")
        tx.cases.save(registered_case(ev.case_id))
        tx.log.enqueue("a", "k", b"1", [])
        tx.log.enqueue("b", "k", b"2", [])
        tx.inbox.mark_received("r-1", "h", "150000", "applied")
        tx.inbox.park("r-2", ev.case_id, b"p", [])
    assert store.stats() == {
        "cases": 1,
        "log_events": 1,
        "case_events": 1,
        "outbox_pending": 2,
        "outbox_set_aside": 0,
        "inbox": 1,
        "parked": 1,
    }


def test_committed_state_survives_reopening(new_database: DatabaseFactory) -> None:
    url = new_database()
    store = NodeStore(url)
    with store.transaction() as tx:
        tx.log.append(event(seq=1), b"p", "h1")
        tx.cases.next_serial("case:2026")
    store.close()
    reopened = NodeStore(url)
    try:
        with reopened.transaction() as tx:
            assert tx.log.head() == (1, "h1")
            assert tx.cases.next_serial("case:2026") == 2
    finally:
        reopened.close()


def test_a_memory_database_is_migrated_too() -> None:
    store = NodeStore("sqlite://")
    try:
        assert current_revision(store.engine) == head_revision()
        with store.transaction() as tx:
            assert tx.cases.next_serial("n") == 1
    finally:
        store.close()


# -- pending writes of a unit of work (group commit) --------------------------------------------
def test_pending_writes_are_read_back_inside_the_transaction_and_written_at_commit(
    store: NodeStore,
) -> None:
    """Summaries, inbox entries, chain heads, case events and outbox rows are written in one
    executemany per table at commit; inside the transaction every read sees them already."""
    case = registered_case("150400-2026-000001")
    head = ChainSource("150404", 7, "ab" * 32, None, None)
    with store.transaction() as tx:
        tx.cases.save(case)
        assert tx.cases.version(case.case_id) == 1
        tx.cases.append(event(case.case_id, event_id="e-1"), b"payload-1")
        assert tx.cases.payloads(case.case_id) == [b"payload-1"]
        tx.inbox.mark_received("e-1", "hash-1", "150404", "parked")
        tx.inbox.mark_received("e-1", "hash-other", "150404", "applied")
        assert tx.inbox.entry("e-1") == ("hash-1", "applied")
        assert tx.inbox.chain_source("150404") is None
        tx.inbox.save_chain_source(head)
        assert tx.inbox.chain_source("150404") == head
        for n in range(3):
            tx.log.enqueue("t.log", case.case_id, f"row-{n}".encode(), [])
        assert tx.cases.ids_with_matter_key("none") == []
    with store.transaction() as tx:
        assert tx.cases.version(case.case_id) == 1
        assert tx.inbox.entry("e-1") == ("hash-1", "applied")
        assert tx.inbox.chain_source("150404") == head
    assert [r.value for r in store.outbox.pending()] == [b"row-0", b"row-1", b"row-2"]
    assert store.stats()["case_events"] == store.stats()["inbox"] == 1


def test_a_failed_transaction_writes_none_of_its_pending_rows(store: NodeStore) -> None:
    case = registered_case("150400-2026-000001")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.cases.save(case)
        tx.cases.append(event(case.case_id, event_id="e-1"), b"payload-1")
        tx.inbox.mark_received("e-1", "hash-1", "150404", "applied")
        tx.inbox.save_chain_source(ChainSource("150404", 1, "cd" * 32, None, None))
        tx.log.enqueue("t.log", case.case_id, b"row", [])
        raise RuntimeError("crash before commit")
    assert set(store.stats().values()) == {0}
    with store.transaction() as tx:
        assert tx.inbox.chain_source("150404") is None


def test_prefetched_inbox_entries_answer_like_single_lookups(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.inbox.mark_received("e-1", "hash-1", "150404", "applied")
    with store.transaction() as tx:
        tx.inbox.prefetch(["e-1", "e-2", "e-1"])
        assert tx.inbox.entry("e-1") == ("hash-1", "applied")
        assert tx.inbox.entry("e-2") is None
        assert tx.inbox.entry("e-3") is None  # not prefetched: looked up on its own
        tx.inbox.mark_received("e-2", "hash-2", "150400", "applied")
        assert tx.inbox.entry("e-2") == ("hash-2", "applied")
    assert store.stats()["inbox"] == 2


def test_prefetched_case_versions_follow_saves_in_the_same_transaction(store: NodeStore) -> None:
    case = registered_case("150400-2026-000001")
    with store.transaction() as tx:
        tx.cases.prefetch_versions([case.case_id, "150400-2026-000009"])
        assert tx.cases.version(case.case_id) is None
        tx.cases.save(case)
        assert tx.cases.version(case.case_id) == 1
        tx.cases.payloads(case.case_id)  # a read that writes the pending rows first
        assert tx.cases.version(case.case_id) == 1
        assert tx.cases.version("150400-2026-000009") is None
    with store.transaction() as tx:
        tx.cases.prefetch_versions([case.case_id])
        assert tx.cases.version(case.case_id) == 1


def test_cases_to_check_are_the_open_ones_whose_moment_has_come(store: NodeStore) -> None:
    """The deadline watcher's due-time index (migration 0004)."""
    due, later, unknown, closed, idle = (f"150400-2026-00000{n}" for n in range(1, 6))
    with store.transaction() as tx:
        tx.cases.save(registered_case(due), next_check=T0 + timedelta(days=15))
        tx.cases.save(registered_case(later), next_check=T0 + timedelta(days=60))
        tx.cases.save(registered_case(unknown))  # e.g. a row from before the index: null
        done = replace(registered_case(closed), status=CaseStatus.CLOSED)
        tx.cases.save(done, next_check=T0)
    assert store.cases.ids_to_check(T0) == [unknown]
    assert store.cases.ids_to_check(T0 + timedelta(days=15)) == [due, unknown]
    assert store.cases.ids_to_check(T0 + timedelta(days=61)) == [due, later, unknown]
    [row] = [r for r in store.cases.list_cases() if r["case_id"] == due]
    assert row["next_check_at"] == T0 + timedelta(days=15)
    assert idle not in store.cases.ids_to_check(T0 + timedelta(days=999))


def test_has_parked_counts_earlier_parks_and_this_transactions_own(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.inbox.park("e-1", "case-1", b"waiting", [])
    with store.transaction() as tx:
        assert tx.inbox.has_parked("case-1")
        assert not tx.inbox.has_parked("case-2")
        tx.inbox.park("e-2", "case-2", b"waiting too", [])
        assert tx.inbox.has_parked("case-2")


def test_a_set_aside_outbox_row_leaves_the_queue_until_it_is_resent(store: NodeStore) -> None:
    """Issue 10 item 10: what the relay sets aside is stored with its reason (migration 0005)."""
    with store.transaction() as tx:
        for key, value in (("c-1", b"a"), ("c-2", b"too large"), ("c-3", b"c")):
            tx.log.enqueue("t.log", key, value, [("ce_type", b"xinfang.events.CaseAccepted")])
    first, refused, last = store.outbox.pending()
    store.outbox.set_aside(refused.id, "record-too-large")
    store.outbox.mark_sent([first.id])
    assert store.outbox.pending() == [last]
    backlog = store.outbox.backlog()
    assert (backlog.pending, backlog.set_aside) == (1, {"record-too-large": 1})
    assert backlog.oldest_pending_at is not None and backlog.oldest_pending_at.tzinfo is not None
    [row] = store.outbox.set_aside_rows()
    assert (row.id, row.key, row.size, row.reason) == (refused.id, "c-2", 9, "record-too-large")
    assert row.event_type == "xinfang.events.CaseAccepted" and row.set_aside_at.tzinfo is not None
    assert (store.stats()["outbox_pending"], store.stats()["outbox_set_aside"]) == (1, 1)
    assert store.outbox.resend([first.id, 999]) == Resent([], [])  # neither is set aside
    assert store.outbox.resend([refused.id]) == Resent([refused.id], [])
    # back first in the queue, by its id, marked as re-sent for its receivers (decision 012)
    resent = replace(refused, headers=[*refused.headers, (RESENT_HEADER, b"1")])
    assert store.outbox.pending() == [resent, last]
    assert store.outbox.set_aside_rows() == [] and store.outbox.backlog().set_aside == {}


def test_a_set_aside_status_record_superseded_by_a_newer_one_is_not_resent(
    store: NodeStore,
) -> None:
    """On the compacted public status feed a late old record would overwrite the newer status of
    its case: it is closed as superseded instead (decision 012)."""
    with store.transaction() as tx:
        for topic, key in (
            ("t.public.status", "c-1"),
            ("t.log", "c-1"),
            ("t.public.status", "c-1"),
        ):
            tx.log.enqueue(topic, key, b"v", [])
        tx.log.enqueue("t.log", "c-2", b"w", [])
    old_status, log_row, new_status, other = store.outbox.pending()
    store.outbox.set_aside(old_status.id, "topic-not-authorised")
    store.outbox.set_aside(log_row.id, "topic-not-authorised")
    store.outbox.mark_sent([new_status.id, other.id])
    done = store.outbox.resend(None, lambda topic: topic == "t.public.status")
    assert done == Resent([log_row.id], [old_status.id])
    assert [r.id for r in store.outbox.pending()] == [log_row.id]
    assert store.outbox.set_aside_rows() == [] and store.outbox.backlog().set_aside == {}
