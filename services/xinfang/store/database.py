"""Engine creation and schema migrations: SQLite (WAL) by default, PostgreSQL by URL.

``make_engine(url)`` opens the node database and upgrades it to the newest Alembic
revision (``migrations/versions/``) before returning. That is safe on a new database,
on one already at head (nothing happens), on one a node started before migrations
existed (tables made by ``metadata.create_all``: stamped at the initial revision,
then upgraded), and when two processes open a new database at once (they take turns:
``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL). On both engines the
whole upgrade is one transaction: a failing revision leaves the schema as it was.

URLs: ``sqlite:///path/node.sqlite3`` or ``postgresql+psycopg://user@host:port/db``
(a bare ``postgresql://`` is taken to mean psycopg 3).

See :mod:`xinfang.store.migrations` for how to add a revision.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.pool import NullPool, StaticPool

from ..domain.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
INITIAL_REVISION = "0001"
# The tables revision 0001 creates: what a pre-migration node database holds.
INITIAL_TABLES = frozenset(
    {"log_events", "case_events", "cases", "outbox", "inbox", "parked", "counters"}
)
VERSION_TABLE = "alembic_version"
_PG_MIGRATION_LOCK = 0x78696E66616E67  # "xinfang": one migrator per PostgreSQL database


class SchemaError(StorageError, RuntimeError):
    """The database holds something the migrations cannot safely build on."""

    code = "XF-STORE-SCHEMA"
    zh = "数据库内容与迁移不符"
    en = "The database holds something the migrations cannot safely build on"


def normalize_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _is_sqlite_memory(url: URL) -> bool:
    return _is_sqlite(url) and url.database in (None, "", ":memory:")


def _sqlite_pragmas(dbapi_conn: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        _sqlite_wal(cur)  # readers never block the writer
        cur.execute("PRAGMA synchronous=FULL")  # a committed transition survives power loss
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        cur.close()


def _sqlite_wal(cur: Any, patience_s: float = 30.0) -> None:
    # Switching a new database to WAL needs it to itself, and SQLite answers "database is
    # locked" at once instead of waiting (no busy handler here): retry while others hold it.
    deadline = time.monotonic() + patience_s
    delay = 0.005
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")  # a memory database stays "memory"
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def owner_only(path: Path) -> None:
    """Create the SQLite file 0600 (or narrow an existing one to 0600) before SQLite opens it:
    it holds personal data (个人信息保护法 Art. 51), and SQLite gives its -wal and -shm files
    the database file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if existing.exists() and existing.stat().st_mode & 0o077:
            os.chmod(existing, 0o600)


def make_engine(url: str | URL, *, upgrade: bool = True) -> Engine:
    """An engine on the node database, upgraded to the newest schema unless ``upgrade=False``."""
    parsed = normalize_url(url)
    if _is_sqlite(parsed):
        if _is_sqlite_memory(parsed):
            # One in-memory database per connection: every thread (the web layer runs handlers
            # in worker threads) must share the one connection that holds the tables.
            engine = create_engine(
                parsed,
                poolclass=StaticPool,
                connect_args={"timeout": 30, "check_same_thread": False},
            )
        else:
            if parsed.database:
                owner_only(Path(parsed.database))
            engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            _sqlite_pragmas(dbapi_conn)

    else:
        engine = create_engine(parsed, pool_pre_ping=True)
    if upgrade:
        try:
            upgrade_to_head(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


def alembic_config(
    connection: Connection | None = None,
    url: str | None = None,
    script_location: Path = MIGRATIONS_DIR,
) -> Config:
    """The Alembic configuration, built in code (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision(script_location: Path = MIGRATIONS_DIR) -> str:
    config = alembic_config(script_location=script_location)
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise SchemaError(f"no migrations in {script_location}")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _migration_engine(engine: Engine) -> Engine:
    """The engine migrations run on: the node engine itself, except for SQLite files.

    pysqlite runs DDL outside any transaction unless told otherwise; a separate
    engine that issues ``BEGIN IMMEDIATE`` itself makes the upgrade one transaction
    and serialises concurrent migrators on the database's write lock.
    """
    if not _is_sqlite(engine.url) or _is_sqlite_memory(engine.url):
        return engine  # PostgreSQL DDL is transactional; a memory database is per-engine
    migrator = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(migrator, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # no implicit BEGIN/COMMIT from the driver
        _sqlite_pragmas(dbapi_conn)

    @event.listens_for(migrator, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return migrator


def upgrade_to_head(engine: Engine, script_location: Path = MIGRATIONS_DIR) -> None:
    """Upgrade in one transaction: if any revision fails, the database stays as it was."""
    migrator = _migration_engine(engine)
    try:
        with migrator.begin() as conn:
            if conn.dialect.name == "postgresql":
                lock = text("SELECT pg_advisory_xact_lock(:key)")
                conn.execute(lock, {"key": _PG_MIGRATION_LOCK})
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head_revision(script_location):
                return  # the usual case: one query, no migration scripts loaded
            cfg = alembic_config(conn, script_location=script_location)
            _adopt_unversioned(conn, cfg)
            command.upgrade(cfg, "head")
    finally:
        if migrator is not engine:
            migrator.dispose()


def _adopt_unversioned(conn: Connection, cfg: Config) -> None:
    """Stamp a database made by ``metadata.create_all`` (before migrations) at 0001."""
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE in names:
        return
    ours = names & INITIAL_TABLES
    if not ours:
        return  # a new database (other applications' tables are left alone)
    if ours != INITIAL_TABLES:
        raise SchemaError(
            "数据库中有部分节点表但无迁移版本 / the database has some node tables but no "
            f"{VERSION_TABLE}: {sorted(ours)}; refusing to migrate it"
        )
    log.info("node database predates migrations: stamping it at %s", INITIAL_REVISION)
    command.stamp(cfg, INITIAL_REVISION)
