"""The node store's contract, proven on every backend (SQLite file and PostgreSQL): migrations,
and the unit of work over every role (all or nothing, pending writes read back, row counts).

Parametrized by the `backend` fixture (conftest.py); each test gets fresh databases. Each role
has its own contract module: test_case_events_contract.py, test_log_outbox_contract.py,
test_inbox_contract.py, test_idempotency_store.py; test_service_on_backends.py runs the
FakeBus-driven unit tests with every node on the backend under test.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, exc, text
from sqlalchemy import inspect as sa_inspect

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
from xinfang.store.protocols import IdempotencyKeys, Store, UnitOfWork
from xinfang.store.records import ChainSource
from xinfang.store.tables import metadata
from xinfang.store.unit_of_work import NodeStore

from .conftest import DatabaseFactory
from .store_world import event, registered_case, schema_differences


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


# -- case events and summaries ---------------------------------------------------------------


# -- the unit of work over every role ----------------------------------------------------------
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
        "chain_parked": 0,
        "trail_pending": 0,
    }
    with store.transaction() as tx:
        assert tx.cases.next_serial("case:2026") == 1
        assert tx.cases.payloads(first.case_id) == [b"first"]
        assert tx.inbox.entry("e-0") is None


# -- outbox ----------------------------------------------------------------------------------


# -- inbox and parked events -----------------------------------------------------------------


def test_stats_counts_every_table(store: NodeStore) -> None:
    tables = ("cases", "log_events", "case_events", "outbox_pending", "outbox_set_aside")
    tables += ("inbox", "parked", "chain_parked", "trail_pending")
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
        "chain_parked": 0,
        "trail_pending": 0,
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




def test_the_store_and_its_unit_of_work_implement_their_protocols(store: NodeStore) -> None:
    assert isinstance(store, Store) and isinstance(store.idempotency, IdempotencyKeys)
    with store.transaction() as tx:
        assert isinstance(tx, UnitOfWork)
