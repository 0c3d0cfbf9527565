"""The schema catalogue: every .avsc under schemas/, parsed, with fingerprints.

schemas/types/ holds named types shared by events (EventHeader, CaseFile, enums);
schemas/events/ holds one record per event type. The fingerprint of a schema is
the CRC-64-AVRO of its Parsing Canonical Form with named types expanded, as the
Avro single-object encoding requires: each named type is defined where it is first
used and referred to by its full name afterwards (`expand_named_types`), exactly as
Apache Avro's `SchemaNormalization.parsingFingerprint64` sees the self-contained schema.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from ..resources import data_dir

NAMESPACE = "xinfang.events"
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})


def _full_name(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def expand_named_types(raw: Any, types: dict[str, Any]) -> Any:
    """A self-contained copy of schema `raw`: each named type it refers to from `types`
    (full name -> raw JSON) is defined inline where it is first used and referred to by full
    name afterwards. Docs and defaults are kept, so the result is a valid .avsc that any Avro
    library parses on its own and whose Parsing Canonical Form is the one on the wire."""
    defined: set[str] = set()

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            if node in PRIMITIVES:
                return node
            name = _full_name(node, namespace)
            if name in defined or name not in types:
                return name
            return walk(copy.deepcopy(types[name]), None)
        if isinstance(node, list):
            return [walk(branch, namespace) for branch in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        out = dict(node)
        if kind in NAMED:
            name = _full_name(node["name"], node.get("namespace", namespace))
            defined.add(name)
            inner = name.rpartition(".")[0] or None
            if kind in ("record", "error"):
                out["fields"] = [
                    {**f, "type": walk(f["type"], inner)} for f in node.get("fields", [])
                ]
            return out
        if kind == "array":
            out["items"] = walk(node["items"], namespace)
        elif kind == "map":
            out["values"] = walk(node["values"], namespace)
        elif not isinstance(kind, str) or kind not in PRIMITIVES:
            out["type"] = walk(kind, namespace)
        return out

    return walk(copy.deepcopy(raw), raw.get("namespace") if isinstance(raw, dict) else None)


def canonical_and_fingerprint(expanded: Any) -> tuple[str, bytes]:
    """Parsing Canonical Form of a self-contained schema and its CRC-64-AVRO fingerprint,
    8 bytes little-endian as written after C3 01 in the single-object encoding."""
    canonical = to_parsing_canonical_form(expanded)
    # fastavro renders CRC-64-AVRO little-endian, the byte order the wire format uses.
    return canonical, bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


def default_schema_dir() -> Path:
    """The schema folder: schemas/ of a checkout, or the copy shipped in the wheel
    (xinfang.resources). Raises ResourceMissing (a FileNotFoundError) if neither is there."""
    return data_dir("schemas")


@dataclass(frozen=True)
class EventSchema:
    name: str  # record name, e.g. CaseTransferred
    full_name: str  # xinfang.events.CaseTransferred
    parsed: Any  # fastavro parsed schema (named types resolved)
    canonical: str  # Parsing Canonical Form
    fingerprint: bytes  # 8 bytes, little-endian, as written on the wire
    path: Path
    expanded: Any = field(default=None, compare=False)  # self-contained .avsc JSON, with docs

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()


class SchemaCatalogue:
    """Loads and indexes event schemas by record name and by fingerprint."""

    def __init__(self, schema_dir: Path | None = None) -> None:
        self.schema_dir = schema_dir or default_schema_dir()
        self._named: dict[str, Any] = {}
        self.types: dict[str, Any] = {}  # full name -> raw JSON of the shared named types
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
                self.types[_full_name(raw["name"], raw.get("namespace"))] = raw
                del pending[path]
                progressed = True
            if not progressed:
                names = ", ".join(p.name for p in pending)
                raise ValueError(f"cannot resolve schema types: {names}")

    def _add_event(self, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        named = dict(self._named)
        parsed = parse_schema(raw, named_schemas=named)
        expanded = expand_named_types(raw, self.types)
        canonical, fp = canonical_and_fingerprint(expanded)
        full_name = f"{raw.get('namespace', NAMESPACE)}.{raw['name']}"
        schema = EventSchema(raw["name"], full_name, parsed, canonical, fp, path, expanded)
        if fp in self.by_fingerprint:
            raise ValueError(f"duplicate fingerprint for {path}")
        self.by_name[schema.name] = schema
        self.by_fingerprint[fp] = schema

    def get(self, name: str) -> EventSchema:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no schema for event type {name!r} in {self.schema_dir}") from None
