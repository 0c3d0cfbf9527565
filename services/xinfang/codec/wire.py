"""Avro single-object encoding (C3 01 + CRC-64-AVRO fingerprint + body) and CloudEvents headers.

A subscriber needs only the .avsc files: the fingerprint names the writer schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.events import EVENT_TYPES, Event
from .framing import MAGIC, frame
from .mapping import event_from_datum, to_datum
from .resolving import DecodeError, ResolvingDecoder, WriterSchema, history_writers
from .schemas import NAMESPACE, EventSchema, SchemaCatalogue

__all__ = ["CONTENT_TYPE", "MAGIC", "DecodeError", "Decoded", "EventCodec", "cloudevents_headers"]

CONTENT_TYPE = "application/avro"  # body is in Avro single-object encoding


@dataclass(frozen=True)
class Decoded:
    event: Event
    schema: EventSchema  # the reader schema (the current one)
    writer: WriterSchema  # the schema the record was written with (any released version)


def event_decoder(catalogue: SchemaCatalogue) -> ResolvingDecoder:
    """The resolving decoder of the event records: readers = the catalogue's current schemas,
    writers = those plus every released version in its schemas/history/."""
    readers = {s.full_name: s for s in catalogue.by_name.values()}
    return ResolvingDecoder(readers, history_writers(catalogue.schema_dir))


class EventCodec:
    """Encodes with the current schemas; decodes records of every known writer schema
    (`self.decoder`, which also learns schemas from the catalogue topic)."""

    def __init__(
        self, catalogue: SchemaCatalogue | None = None, decoder: ResolvingDecoder | None = None
    ) -> None:
        self.catalogue = catalogue or SchemaCatalogue()
        missing = set(EVENT_TYPES) - set(self.catalogue.by_name)
        if missing:
            raise ValueError(f"event types without a schema: {sorted(missing)}")
        self.decoder = decoder or event_decoder(self.catalogue)

    def encode(self, event: Event) -> bytes:
        schema = self.catalogue.get(event.type)
        return frame(schema.fingerprint, schema.parsed, to_datum(event))

    def decode(self, data: bytes) -> Decoded:
        """The event in `data`, written with any known version of its schema; DecodeError."""
        schema, writer, datum = self.decoder.decode(data)
        if schema.name not in EVENT_TYPES:
            raise DecodeError("unknown-event-type", schema.full_name)
        try:
            event = event_from_datum(schema.name, datum)
        except (KeyError, TypeError, ValueError) as exc:
            raise DecodeError("invalid-content", repr(exc)) from exc
        return Decoded(event, schema, writer)


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
