"""Alembic environment of the node database.

Run by :mod:`xinfang.store.database` (and ``python -m xinfang.store.migrations``),
never through an ``alembic.ini``: the caller hands over an open connection in
``config.attributes["connection"]`` (inside its own transaction), or a URL in the
``sqlalchemy.url`` main option.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from xinfang.store.tables import metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite has almost no ALTER TABLE: autogenerate batch ops
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    config = context.config
    if context.is_offline_mode():  # `sql` subcommand: print DDL instead of running it
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("xinfang migrations need a connection or sqlalchemy.url")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


_run()
