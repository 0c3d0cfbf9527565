"""Released schema versions: schemas/history/<Record>/v<N>.avsc, one file per released version.

Each file is the record's writer schema fully expanded (named types defined inline, docs
kept), so it parses on its own with any Avro library. The newest version of each record is
the schema the nodes write with today (a test checks it), and every version must stay
FULL_TRANSITIVE compatible with every other (`xinfang.contract.avro_compat`).

After changing a schema under schemas/events, schemas/types or schemas/public:

    python -m xinfang.contract.history snapshot   # writes v<N+1> for each changed record
    python -m xinfang.contract.history status     # lists records whose current schema is new
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..codec.schemas import (
    EventSchema,
    SchemaCatalogue,
    canonical_and_fingerprint,
    default_schema_dir,
)
from .public_status import load_public_schema

_VERSION = re.compile(r"^v(\d+)\.avsc$")


@dataclass(frozen=True)
class Version:
    record: str
    number: int
    path: Path
    expanded: Any
    canonical: str
    fingerprint: bytes

    @property
    def label(self) -> str:
        return f"{self.record}/v{self.number}"


def history_dir(schema_dir: Path) -> Path:
    return schema_dir / "history"


def current_schemas(schema_dir: Path | None = None) -> dict[str, EventSchema]:
    """Every schema a node writes with today: the event records and the public record."""
    catalogue = SchemaCatalogue(schema_dir)
    current = dict(catalogue.by_name)
    public = load_public_schema(catalogue.schema_dir)
    current[public.name] = public
    return current


def released(schema_dir: Path) -> dict[str, list[Version]]:
    """Record name -> its released versions, oldest first."""
    out: dict[str, list[Version]] = {}
    root = history_dir(schema_dir)
    if not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        versions = []
        for path in folder.glob("v*.avsc"):
            match = _VERSION.match(path.name)
            if match is None:
                continue
            expanded = json.loads(path.read_text(encoding="utf-8"))
            canonical, fp = canonical_and_fingerprint(expanded)
            versions.append(Version(folder.name, int(match[1]), path, expanded, canonical, fp))
        out[folder.name] = sorted(versions, key=lambda v: v.number)
    return out


def unreleased(schema_dir: Path | None = None) -> list[EventSchema]:
    """Current schemas that are not the newest released version of their record."""
    root = schema_dir or default_schema_dir()
    current = current_schemas(root)
    history = released(root)
    changed = []
    for name, schema in sorted(current.items()):
        versions = history.get(name, [])
        if not versions or versions[-1].canonical != schema.canonical:
            changed.append(schema)
    return changed


def render(expanded: Any) -> str:
    return json.dumps(expanded, ensure_ascii=False, indent=2) + "\n"


def snapshot(schema_dir: Path | None = None) -> list[Path]:
    """Release every changed schema as the next version of its record; returns the new files."""
    root = schema_dir or default_schema_dir()
    written = []
    for schema in unreleased(root):
        versions = released(root).get(schema.name, [])
        number = versions[-1].number + 1 if versions else 1
        path = history_dir(root) / schema.name / f"v{number}.avsc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(schema.expanded), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xinfang.contract.history",
        description="已发布的模式版本 / released schema versions (schemas/history)",
    )
    parser.add_argument("action", choices=["snapshot", "status"])
    parser.add_argument("--schemas", type=Path, help="schemas/ folder (default: the repository's)")
    args = parser.parse_args(argv)
    if args.action == "snapshot":
        for path in snapshot(args.schemas):
            print(f"released {path}")
        return 0
    changed = unreleased(args.schemas)
    for schema in changed:
        print(f"unreleased: {schema.full_name} ({schema.fingerprint_hex})")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
