"""``python -m xinfang.store.migrations``: revision / upgrade / current / sql."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from ..database import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    normalize_url,
)


def next_revision_id(heads: list[str]) -> str:
    numbers = [int(h) for h in heads if re.fullmatch(r"\d+", h)]
    return f"{max(numbers, default=0) + 1:04d}"


def revision(message: str, url: str | None) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    rev_id = next_revision_id(list(script.get_heads()))
    with tempfile.TemporaryDirectory(prefix="xinfang-revision-") as scratch:
        target = url or f"sqlite:///{Path(scratch) / 'scratch.sqlite3'}"
        engine = make_engine(target)  # the scratch database at the current head
        try:
            with engine.begin() as conn:
                cfg = alembic_config(conn)
                written = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    scripts = written if isinstance(written, list) else [written]
    paths = [s.path for s in scripts if s is not None]
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff and paths:  # the project's style (the template alone cannot get quotes right)
        subprocess.run([ruff, "format", "--quiet", *paths], check=False)
        subprocess.run([ruff, "check", "--fix", "--quiet", *paths], check=False)
    print(f"wrote {', '.join(paths) or rev_id}: review it before use")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xinfang.store.migrations")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="autogenerate a revision from tables.py")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--url", help="scratch database to compare against (default: temp SQLite)")
    up = sub.add_parser("upgrade", help="upgrade a database to head")
    up.add_argument("url")
    cur = sub.add_parser("current", help="print a database's revision and the head")
    cur.add_argument("url")
    sql = sub.add_parser("sql", help="print the DDL of the whole upgrade")
    sql.add_argument("--dialect", default="postgresql", choices=["postgresql", "sqlite"])
    args = parser.parse_args(argv)

    if args.cmd == "revision":
        revision(args.message, args.url)
    elif args.cmd == "upgrade":
        make_engine(args.url).dispose()
        print(f"at {head_revision()}")
    elif args.cmd == "current":
        engine = make_engine(args.url, upgrade=False)
        try:
            print(f"current: {current_revision(engine)}  head: {head_revision()}")
        finally:
            engine.dispose()
    else:
        fake_url = "postgresql+psycopg://" if args.dialect == "postgresql" else "sqlite://"
        url = normalize_url(fake_url).render_as_string(hide_password=False)
        command.upgrade(alembic_config(url=url), "head", sql=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
