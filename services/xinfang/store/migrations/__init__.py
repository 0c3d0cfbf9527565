"""Alembic migrations of the node database (one database per node).

``xinfang.store.database.make_engine`` upgrades every database it opens to the newest
revision here; there is no ``alembic.ini`` (the configuration is built in code by
``xinfang.store.database.alembic_config``; ``env.py`` receives an open connection).

Adding a revision (a change to ``xinfang/store/tables.py``)
-----------------------------------------------------------
1. Change the tables in ``tables.py``.
2. Generate the revision; Alembic compares ``tables.metadata`` with a scratch
   database upgraded to the current head::

       .venv/bin/python -m xinfang.store.migrations revision -m "add cases.deadline"

   This writes ``versions/<NNNN>_<slug>.py`` with the next number as revision id.
   The scratch database is a temporary SQLite file; SQLite cannot see some changes
   (e.g. a longer ``String``), so for those compare against PostgreSQL with
   ``--url postgresql+psycopg://...`` (``python -m xinfang.devtools.postgres`` starts a
   throwaway server and prints its URL).
3. Read and tidy the generated file: autogenerate misses renames (it sees a drop and
   an add), server defaults and data moves. Keep it working on both engines: the
   ``batch_alter_table`` blocks it writes recreate the table on SQLite and are plain
   ``ALTER TABLE`` on PostgreSQL. A new NOT NULL column on a table with rows needs a
   ``server_default`` (or a data step) before the constraint.
4. Run ``pytest tests/backends``: it upgrades fresh SQLite and PostgreSQL databases
   and fails if the migrated schema differs from ``tables.metadata`` in any way.

Never edit a revision that has been released: nodes have already run it. Other
commands: ``upgrade URL``, ``current URL``, ``sql [--dialect postgresql]`` (print the
DDL of the whole upgrade, for a DBA who applies it by hand).
"""
