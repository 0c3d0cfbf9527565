"""The public status feed: case number, query code, division, status and deadlines — nothing else.

Petitioner-facing apps read `xinfang.public.status` (compacted, key = case id). The node that
holds a case publishes a record whenever the case's public view (status, holder, a deadline)
changes, in the same transaction as the change (outbox). The record is built field by field
from an allow-list (`PUBLIC_FIELDS`): no petitioner data, no request, facts, reasons, title or
accused — nothing of what was petitioned or accused ever reaches it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from fastavro import parse_schema

from ..codec.framing import frame
from ..codec.resolving import ResolvingDecoder, history_writers
from ..codec.schemas import (
    EventSchema,
    canonical_and_fingerprint,
    default_schema_dir,
    expand_named_types,
)
from ..codec.wire import CONTENT_TYPE
from ..domain.case import Case
from ..domain.events import Event
from ..domain.topology import Topology
from ..domain.vocabulary import zh
from ..store.records import Headers

PUBLIC_NAMESPACE = "xinfang.public"
RECORD = "CaseStatus"
# The only fields a public record has (the schema test checks they are exactly the schema's).
PUBLIC_FIELDS = (
    "case_id",
    "query_code",
    "division",
    "holder",
    "holder_name",
    "status",
    "status_zh",
    "final",
    "closed_reason",
    "acceptance_due",
    "handling_due",
    "report_due",
    "review_due",
    "re_review_due",
    "updated_at",
    "event_id",
)


def public_schema_path(schema_dir: Path | None = None) -> Path:
    return (schema_dir or default_schema_dir()) / "public" / f"{RECORD}.avsc"


def load_public_schema(schema_dir: Path | None = None) -> EventSchema:
    path = public_schema_path(schema_dir)
    raw = json.loads(path.read_text(encoding="utf-8"))
    expanded = expand_named_types(raw, {})
    canonical, fp = canonical_and_fingerprint(expanded)
    full_name = f"{raw.get('namespace', PUBLIC_NAMESPACE)}.{raw['name']}"
    parsed = parse_schema(expanded)
    return EventSchema(raw["name"], full_name, parsed, canonical, fp, path, expanded)


def _holder_name(topology: Topology, holder: str) -> str:
    return topology.body(holder).name if topology.has_body(holder) else ""


def public_view(case: Case, topology: Topology) -> dict[str, Any]:
    """What the public may know of a case (without the event that changed it)."""
    return {
        "case_id": case.case_id,
        "query_code": case.query_code,
        "division": case.holder_division,
        "holder": case.holder,
        "holder_name": _holder_name(topology, case.holder),
        "status": case.status.value,
        "status_zh": zh(case.status),
        "final": case.final,
        "closed_reason": case.closed_reason.value if case.closed_reason else None,
        "acceptance_due": case.acceptance_due,
        "handling_due": case.handling_due,
        "report_due": case.report_due,
        "review_due": case.review_due,
        "re_review_due": case.re_review_due,
    }


@dataclass(frozen=True)
class StatusRecord:
    key: str
    value: bytes
    headers: Headers
    datum: dict[str, Any]


class PublicStatusFeed:
    """Decides whether a state change is published and encodes the record."""

    def __init__(self, topology: Topology, schema_dir: Path | None = None) -> None:
        self.topology = topology
        self.schema = load_public_schema(schema_dir)
        self.schema_dir = schema_dir or default_schema_dir()

    @cached_property
    def decoder(self) -> ResolvingDecoder:
        """Reads records of every released CaseStatus version (and those it `learn`s); built
        on first use: nodes only write the feed."""
        return ResolvingDecoder(
            {self.schema.full_name: self.schema}, history_writers(self.schema_dir)
        )

    def change(
        self, before: Case | None, after: Case, event: Event, division: str
    ) -> StatusRecord | None:
        """The record to publish after `event`, if `division` holds the case and its public
        view changed; else None."""
        if after.holder_division != division:
            return None
        view = public_view(after, self.topology)
        if before is not None and public_view(before, self.topology) == view:
            return None
        datum = {**view, "updated_at": event.header.occurred_at, "event_id": event.header.event_id}
        return StatusRecord(after.case_id, self.encode(datum), self.headers(datum, division), datum)

    def encode(self, datum: dict[str, Any]) -> bytes:
        fields = {k: datum[k] for k in PUBLIC_FIELDS}
        return frame(self.schema.fingerprint, self.schema.parsed, fields)

    def decode(self, data: bytes) -> dict[str, Any]:
        """A status record of any known CaseStatus version, in the current schema's shape.
        Raises DecodeError (a ValueError) for anything else."""
        _, _, datum = self.decoder.decode(data)
        return datum

    def headers(self, datum: dict[str, Any], division: str) -> Headers:
        """CloudEvents 1.0 Kafka binary-mode headers, as on the node topics."""
        updated_at: datetime = datum["updated_at"]
        return [
            ("ce_specversion", b"1.0"),
            ("ce_id", f"{datum['event_id']}/status".encode()),
            ("ce_source", division.encode()),
            ("ce_type", self.schema.full_name.encode()),
            ("ce_time", updated_at.isoformat().encode()),
            ("ce_subject", str(datum["case_id"]).encode()),
            ("ce_dataschema", f"urn:avro:crc64:{self.schema.fingerprint_hex}".encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
