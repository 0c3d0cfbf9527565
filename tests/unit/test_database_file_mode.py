"""Issue 15 item 3: the node's SQLite files (with WAL and SHM) are readable by the owner only."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from xinfang.store.database import make_engine


def test_a_new_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    os.umask(0o022)
    path = tmp_path / "data" / "node-150400.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
        conn.execute(text("INSERT INTO t VALUES ('张三')"))
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert {p.name for p in files} >= {path.name, path.name + "-wal"}
    assert {p.name: p.stat().st_mode & 0o777 for p in files} == {p.name: 0o600 for p in files}
    engine.dispose()


def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    make_engine(f"sqlite:///{path}").dispose()
    os.chmod(path, 0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert path.stat().st_mode & 0o777 == 0o600
