"""One decoder for every released writer schema (docs/decisions/011-schema-resolution.md).

A record names its writer schema by fingerprint (C3 01 + 8 bytes). The decoder knows:

- the current schemas (schemas/events, schemas/public): the *reader* schemas, one per record;
- every released version, schemas/history/<Record>/v<N>.avsc (self-contained writer schemas);
- writer schemas learned at run time from the catalogue topic `xinfang.schemas` (`learn`), for
  versions released after this reader's schemas were taken.

A body is read with its writer schema and resolved to the reader schema of the same record
(Avro specification, "Schema Resolution": a field the reader lacks is skipped, a field the writer
lacks takes the reader's default), so a node reads records of older and newer releases alike.
Records are never re-encoded: hashes and signatures are over the bytes as received.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader

from ..domain.errors import WireError
from .framing import BODY_OFFSET, fingerprint_of
from .schemas import EventSchema, canonical_and_fingerprint

_VERSION_FILE = re.compile(r"^v\d+\.avsc$")
# Learned schemas are kept in memory for the life of the process: a bound against a catalogue
# topic flooded with junk. Far above what releases produce (tens of records, a few versions).
MAX_LEARNED = 4096


class DecodeError(WireError, ValueError):
    """Bytes that cannot be turned into a known record (dead-letter material)."""

    code = "XF-DECODE"
    zh = "无法解码的记录"
    en = "A record that cannot be decoded"

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason  # stable machine-readable reason (the dead letter's reason)
        text = f"{reason}: {detail}" if detail else reason
        super().__init__(text)
        self.args = (text,)  # str(err) is the dead letter's detail, as before


@dataclass(frozen=True)
class WriterSchema:
    """A schema some release wrote with: its record's full name, parsed form and fingerprint."""

    full_name: str  # e.g. xinfang.events.CaseAccepted
    fingerprint: bytes  # 8 bytes, little-endian CRC-64-AVRO, as on the wire
    parsed: Any  # fastavro parsed, self-contained
    origin: str  # "current" | "history" | "catalogue"
    expanded: Any = field(default=None, compare=False)  # the self-contained .avsc JSON

    @property
    def name(self) -> str:
        return self.full_name.rpartition(".")[2]


def _full_name(expanded: Any) -> str:
    name = str(expanded["name"])
    namespace = expanded.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


def writer_from_json(expanded: Any, origin: str) -> WriterSchema:
    """A self-contained .avsc (named types defined inline) as a writer schema.
    Raises ValueError (or fastavro's errors) if it is not a parseable record schema."""
    if not isinstance(expanded, dict) or expanded.get("type") != "record":
        raise ValueError("not a record schema")
    _, fp = canonical_and_fingerprint(expanded)
    return WriterSchema(_full_name(expanded), fp, parse_schema(expanded), origin, expanded)


def history_writers(schema_dir: Path) -> list[WriterSchema]:
    """Every released version under schema_dir/history/<Record>/v<N>.avsc."""
    root = schema_dir / "history"
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.glob("*/v*.avsc")):
        if _VERSION_FILE.match(path.name):
            found.append(writer_from_json(json.loads(path.read_text("utf-8")), "history"))
    return found


class ResolvingDecoder:
    """Single-object encoding -> (reader schema, datum in the reader's shape).

    `readers`: full record name -> the current schema (what this process reads into).
    Errors (`DecodeError.reason`): not-single-object-encoding, unknown-schema-fingerprint (no
    writer schema with that fingerprint), unknown-record (a writer schema of a record this
    reader has no schema for), unresolvable-schema (writer and reader do not resolve),
    undecodable-body, trailing-bytes.
    """

    def __init__(
        self, readers: Mapping[str, EventSchema], writers: Iterable[WriterSchema] = ()
    ) -> None:
        self.readers = dict(readers)
        self.writers: dict[bytes, WriterSchema] = {}
        self.learned = 0
        for reader in self.readers.values():
            self._add(
                WriterSchema(
                    reader.full_name, reader.fingerprint, reader.parsed, "current", reader.expanded
                )
            )
        for writer in writers:
            self._add(writer)

    def _add(self, writer: WriterSchema) -> bool:
        if writer.fingerprint in self.writers:
            return False
        self.writers[writer.fingerprint] = writer
        return True

    def knows(self, fingerprint: bytes) -> bool:
        return fingerprint in self.writers

    def unknown_fingerprints(self, values: Iterable[bytes]) -> set[bytes]:
        """The fingerprints of single-object records among `values` that no writer schema has."""
        found = {fingerprint_of(v) for v in values}
        return {fp for fp in found if fp is not None and fp not in self.writers}

    def learn(self, schema_json: str | bytes, fingerprint_hex: str | None = None) -> bool:
        """Add a writer schema from the catalogue topic (key = fingerprint hex, value = the
        self-contained .avsc) or an exported .avsc file (no key). With a key, only if the
        schema's own fingerprint is that key; a value that does not parse, or one beyond
        MAX_LEARNED, is ignored. True if it was new."""
        if self.learned >= MAX_LEARNED:
            return False
        try:
            writer = writer_from_json(json.loads(schema_json), "catalogue")
        except Exception:  # a junk catalogue entry must not stop the reader
            return False
        if fingerprint_hex is not None and writer.fingerprint.hex() != fingerprint_hex:
            return False
        added = self._add(writer)
        self.learned += added
        return added

    def decode(self, data: bytes) -> tuple[EventSchema, WriterSchema, dict[str, Any]]:
        """(reader schema, writer schema, datum shaped by the reader schema); DecodeError."""
        fingerprint = fingerprint_of(data)
        if fingerprint is None:
            raise DecodeError("not-single-object-encoding", f"{len(data)} bytes")
        writer = self.writers.get(fingerprint)
        if writer is None:
            raise DecodeError("unknown-schema-fingerprint", fingerprint.hex())
        reader = self.readers.get(writer.full_name)
        if reader is None:
            raise DecodeError("unknown-record", writer.full_name)
        buf = io.BytesIO(data)
        buf.seek(BODY_OFFSET)
        # Same fingerprint: no resolution needed (the common case, and the fast one).
        reader_parsed = None if writer.fingerprint == reader.fingerprint else reader.parsed
        try:
            datum = schemaless_reader(buf, writer.parsed, reader_parsed)
        except Exception as exc:
            reason = "unresolvable-schema" if "Resolution" in type(exc).__name__ else None
            raise DecodeError(reason or "undecodable-body", repr(exc)[:200]) from exc
        if buf.tell() != len(data):
            raise DecodeError("trailing-bytes", f"{len(data) - buf.tell()} bytes")
        if not isinstance(datum, dict):
            raise DecodeError("undecodable-body", "not a record")
        return reader, writer, datum
