"""Avro single-object encoding (C3 01 + CRC-64-AVRO fingerprint + body) and CloudEvents headers.

A subscriber needs only the .avsc files: the fingerprint names the writer schema.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from fastavro import schemaless_reader, schemaless_writer

from ..domain.events import EVENT_TYPES, Event
from .mapping import event_from_datum, to_datum
from .schemas import NAMESPACE, EventSchema, SchemaCatalogue

MAGIC = b"\xc3\x01"
CONTENT_TYPE = "application/avro"  # body is in Avro single-object encoding


class DecodeError(ValueError):
    """Bytes that cannot be turned into a known event (dead-letter material)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason  # stable machine-readable reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class Decoded:
    event: Event
    schema: EventSchema


class EventCodec:
    def __init__(self, catalogue: SchemaCatalogue | None = None) -> None:
        self.catalogue = catalogue or SchemaCatalogue()
        missing = set(EVENT_TYPES) - set(self.catalogue.by_name)
        if missing:
            raise ValueError(f"event types without a schema: {sorted(missing)}")

    def encode(self, event: Event) -> bytes:
        schema = self.catalogue.get(event.type)
        buf = io.BytesIO()
        buf.write(MAGIC)
        buf.write(schema.fingerprint)
        schemaless_writer(buf, schema.parsed, to_datum(event))
        return buf.getvalue()

    def decode(self, data: bytes) -> Decoded:
        if len(data) < 10 or data[:2] != MAGIC:
            raise DecodeError("not-single-object-encoding", f"{len(data)} bytes")
        schema = self.catalogue.by_fingerprint.get(data[2:10])
        if schema is None:
            raise DecodeError("unknown-schema-fingerprint", data[2:10].hex())
        if schema.name not in EVENT_TYPES:
            raise DecodeError("unknown-event-type", schema.full_name)
        buf = io.BytesIO(data[10:])
        try:
            datum = schemaless_reader(buf, schema.parsed, None)
        except Exception as exc:
            raise DecodeError("undecodable-body", repr(exc)) from exc
        if buf.tell() != len(data) - 10:
            raise DecodeError("trailing-bytes", f"{len(data) - 10 - buf.tell()} bytes")
        if not isinstance(datum, dict):
            raise DecodeError("undecodable-body", "not a record")
        try:
            event = event_from_datum(schema.name, datum)
        except (KeyError, TypeError, ValueError) as exc:
            raise DecodeError("invalid-content", repr(exc)) from exc
        return Decoded(event, schema)


def cloudevents_headers(event: Event, fingerprint_hex: str) -> list[tuple[str, bytes]]:
    """CloudEvents 1.0 Kafka binary-mode headers."""
    h = event.header
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", h.event_id.encode()),
        ("ce_source", h.source.encode()),
        ("ce_type", f"{NAMESPACE}.{event.type}".encode()),
        ("ce_time", h.occurred_at.isoformat().encode()),
        ("ce_subject", h.case_id.encode()),
        ("ce_dataschema", f"urn:avro:crc64:{fingerprint_hex}".encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
