"""The node database's key ring for protected columns (issue 15 item 3; privacy/columns.py).

`key_ring_for(engine, env, default_file)` loads the node's data keys, creating the key file
only for a database that holds no ciphertext yet, and refuses (DataKeysInvalid, a clear
start-up error) a ring that lacks a key some stored value is sealed under. `key_usage` counts
the values of every registered column by key id (clear text under None), for `xinfang
data-keys status` and `retire`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, column, func, select, table
from sqlalchemy.sql.expression import ColumnClause

from ..privacy.fields import PREFIX
from ..privacy.keyfile import DataKeyRing, DataKeys, DataKeysInvalid, key_file_path, load_data_keys
from ..privacy.registry import PROTECTED_COLUMNS

_lock = threading.Lock()
_EPHEMERAL: DataKeys | None = None


def ephemeral_keys() -> DataKeys:
    """One key ring per process for stores opened without one (tests, tools on a memory or
    server database): reopening the same database in the process still reads it."""
    global _EPHEMERAL
    with _lock:
        if _EPHEMERAL is None:
            _EPHEMERAL = DataKeys.generate()
        return _EPHEMERAL


def key_usage(engine: Engine) -> dict[str, dict[str | None, int]]:
    """Per "table.column": how many non-null values are under each key id (None: clear)."""
    usage: dict[str, dict[str | None, int]] = {}
    with engine.connect() as conn:
        for name, col, _ in PROTECTED_COLUMNS:
            value: ColumnClause[str] = column(col)
            t = table(name, value)
            # the key id: what lies between "xf1." and the next "."
            rest = func.substr(value, len(PREFIX) + 1)
            counts: dict[str | None, int] = {}
            every = select(func.count()).select_from(t).where(value.is_not(None))
            sealed = select(rest.label("rest")).select_from(t).where(value.like(f"{PREFIX}%"))
            total = int(conn.execute(every).scalar_one())
            for (tail,) in conn.execute(sealed).yield_per(1000):
                kid = str(tail).split(".", 1)[0]
                counts[kid] = counts.get(kid, 0) + 1
            clear = total - sum(counts.values())
            if clear:
                counts[None] = clear
            usage[f"{name}.{col}"] = counts
    return usage


def holds_ciphertext(engine: Engine) -> bool:
    """True if any registered column holds a sealed value."""
    with engine.connect() as conn:
        for name, col, _ in PROTECTED_COLUMNS:
            value: ColumnClause[str] = column(col)
            found = conn.execute(
                select(value).select_from(table(name, value)).where(value.like(f"{PREFIX}%"))
                .limit(1)
            ).first()  # fmt: skip
            if found is not None:
                return True
    return False


def key_ring_for(
    engine: Engine, env: Mapping[str, str], default_file: Path | None
) -> DataKeyRing:
    """The node's key ring (privacy/keyfile.py sources), checked against what `engine` holds."""
    keys = load_data_keys(env, default_file, may_create=not holds_ciphertext(engine))
    missing = sorted(
        {k for counts in key_usage(engine).values() for k in counts if k and k not in keys.keys}
    )
    if missing:
        raise DataKeysInvalid(
            f"数据库中有字段由密钥 {', '.join(missing)} 加密，而密钥文件中没有这些密钥 / fields "
            f"in the database are sealed under keys {', '.join(missing)} the key ring lacks"
        )
    path = None if env.get("XINFANG_DATA_KEYS") else key_file_path(env, default_file)
    return DataKeyRing(keys, path)


def default_key_ring(engine: Engine, env: Mapping[str, str] | None = None) -> DataKeyRing:
    """The ring of a store or account book opened without one: the keys of the environment
    (`XINFANG_DATA_KEYS` / `_FILE`), else for a SQLite file the key file beside it
    (`node-150400.sqlite3` → `node-150400.datakeys.json`, the node's default), else one ring
    per process (tests, memory databases)."""
    env = os.environ if env is None else env
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:"):
        path = Path(str(database))
        return key_ring_for(engine, env, path.with_name(path.stem + ".datakeys.json"))
    if env.get("XINFANG_DATA_KEYS") or env.get("XINFANG_DATA_KEYS_FILE"):
        return key_ring_for(engine, env, None)
    return DataKeyRing(ephemeral_keys())
