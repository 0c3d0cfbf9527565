"""The schema catalogue: every .avsc under schemas/, parsed, with fingerprints.

schemas/types/ holds named types shared by events (EventHeader, CaseFile, enums);
schemas/events/ holds one record per event type. The fingerprint of a schema is
the CRC-64-AVRO of its Parsing Canonical Form with named types expanded, as the
Avro single-object encoding requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

NAMESPACE = "xinfang.events"


def default_schema_dir() -> Path:
    """schemas/ at the repository root (the package is installed in editable mode)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "schemas"
        if (candidate / "events").is_dir():
            return candidate
    raise FileNotFoundError("schemas/ directory not found above " + str(here))


@dataclass(frozen=True)
class EventSchema:
    name: str  # record name, e.g. CaseTransferred
    full_name: str  # xinfang.events.CaseTransferred
    parsed: Any  # fastavro parsed schema (named types resolved)
    canonical: str  # Parsing Canonical Form
    fingerprint: bytes  # 8 bytes, little-endian, as written on the wire
    path: Path

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()


class SchemaCatalogue:
    """Loads and indexes event schemas by record name and by fingerprint."""

    def __init__(self, schema_dir: Path | None = None) -> None:
        self.schema_dir = schema_dir or default_schema_dir()
        self._named: dict[str, Any] = {}
        self.by_name: dict[str, EventSchema] = {}
        self.by_fingerprint: dict[bytes, EventSchema] = {}
        self._load_types(sorted((self.schema_dir / "types").glob("*.avsc")))
        for path in sorted((self.schema_dir / "events").glob("*.avsc")):
            self._add_event(path)

    def _load_types(self, paths: list[Path]) -> None:
        # Shared types may refer to each other: parse until no progress.
        pending = {p: json.loads(p.read_text(encoding="utf-8")) for p in paths}
        while pending:
            progressed = False
            for path, raw in list(pending.items()):
                try:
                    parse_schema(raw, named_schemas=self._named)
                except Exception:
                    continue
                del pending[path]
                progressed = True
            if not progressed:
                names = ", ".join(p.name for p in pending)
                raise ValueError(f"cannot resolve schema types: {names}")

    def _add_event(self, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        named = dict(self._named)
        parsed = parse_schema(raw, named_schemas=named)
        expanded = parse_schema(raw, named_schemas=dict(self._named), expand=True)
        canonical = to_parsing_canonical_form(expanded)
        # fastavro renders CRC-64-AVRO little-endian, the byte order the wire format uses.
        fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
        full_name = f"{raw.get('namespace', NAMESPACE)}.{raw['name']}"
        schema = EventSchema(raw["name"], full_name, parsed, canonical, fp, path)
        if fp in self.by_fingerprint:
            raise ValueError(f"duplicate fingerprint for {path}")
        self.by_name[schema.name] = schema
        self.by_fingerprint[fp] = schema

    def get(self, name: str) -> EventSchema:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no schema for event type {name!r} in {self.schema_dir}") from None
