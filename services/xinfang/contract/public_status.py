"""The public status feed: an opaque feed id, a keyed hash of the query code, division, status
and deadlines — nothing else.

Petitioner-facing apps read `xinfang.public.status` (compacted, key = feed id). The node that
holds a case publishes a record whenever the case's public view (status, holder, a deadline)
changes, in the same transaction as the change (outbox). The record is built field by field
from an allow-list (`PUBLIC_FIELDS`): no petitioner data, no request, facts, reasons, title or
accused — nothing of what was petitioned or accused ever reaches it.

Since CaseStatus v2 (issue 15 item 4) the feed names no case and carries no query code: under
the feed key (`FeedKey`, 32+ random bytes shared by every node and the petitioner app, never
published) the record's key and `feed_id` are HMAC-SHA256(feed key, "xinfang-feed-id" NUL case
id), `query_hash` is HMAC-SHA256(feed key, "xinfang-query" NUL case id NUL query code) and
`event_id` HMAC-SHA256(feed key, "xinfang-feed-event" NUL event id), hex; `case_id` and
`query_code` stay in the schema (compatibility) and are always "". The app, given the case
number and query code from the petitioner's receipt, computes both (`FeedKey.feed_id`,
`FeedKey.query_hash`), reads the record with that key and shows it only if `query_hash`
matches (docs/integrators.md). Without the key nobody can tell which case a record is, nor
enumerate them, nor test guessed query codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Mapping
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
from ..domain.errors import ConfigurationError
from ..domain.events import Event
from ..domain.topology import Topology
from ..domain.vocabulary import zh
from ..store.records import Headers

log = logging.getLogger(__name__)

PUBLIC_NAMESPACE = "xinfang.public"
ENV_FEED_KEY = "XINFANG_FEED_KEY"  # base64 of the key, or:
ENV_FEED_KEY_FILE = "XINFANG_FEED_KEY_FILE"  # a 0600 file holding it (created if missing)
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
    "feed_id",
    "query_hash",
)
RETIRED_FIELDS = ("case_id", "query_code")  # always "" since v2: the record names no case


class FeedKeyInvalid(ConfigurationError):
    """The public feed's key cannot be used."""

    code = "XF-FEED-KEY"
    zh = "公开状态主题的密钥配置有误"
    en = "The public status feed key is not usable"


def _hmac(key: bytes, *parts: str) -> str:
    message = b"\x00".join(p.encode("utf-8") for p in parts)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class FeedKey:
    """The key of the public feed's identifiers (≥ 32 bytes); the app holds the same."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < 32:
            raise FeedKeyInvalid("至少 32 字节 / at least 32 bytes")

    def feed_id(self, case_id: str) -> str:
        """The record key and `feed_id` of case `case_id` (hex, 64 digits)."""
        return _hmac(self.key, "xinfang-feed-id", case_id)

    def query_hash(self, case_id: str, query_code: str) -> str:
        """`query_hash` of a case's query code (hex, 64 digits), bound to the case."""
        return _hmac(self.key, "xinfang-query", case_id, query_code.strip().upper())

    def event_ref(self, event_id: str) -> str:
        """`event_id` of a record: the changing event's id, keyed (not linkable to the logs)."""
        return _hmac(self.key, "xinfang-feed-event", event_id)[:32]

    def matches(self, datum: Mapping[str, Any], case_id: str, query_code: str) -> bool:
        """The app's check: `datum` is the status of `case_id` and `query_code` is its code."""
        return hmac.compare_digest(str(datum.get("feed_id", "")), self.feed_id(case_id)) and (
            hmac.compare_digest(
                str(datum.get("query_hash", "")), self.query_hash(case_id, query_code)
            )
        )


_lock = threading.Lock()
_EPHEMERAL: FeedKey | None = None


def ephemeral_feed_key() -> FeedKey:
    """One feed key per process, for feeds built without one (tests, in-process nodes)."""
    global _EPHEMERAL
    with _lock:
        if _EPHEMERAL is None:
            _EPHEMERAL = FeedKey(secrets.token_bytes(32))
        return _EPHEMERAL


def load_feed_key(env: Mapping[str, str], default_file: Path) -> FeedKey:
    """From `XINFANG_FEED_KEY` (base64), else the file `XINFANG_FEED_KEY_FILE` or
    `default_file` (base64, 0600; created with a fresh key if missing — every node of a
    deployment and the app must then be given that same file)."""
    try:
        if env.get(ENV_FEED_KEY):
            return FeedKey(base64.b64decode(env[ENV_FEED_KEY], validate=True))
        path = Path(env.get(ENV_FEED_KEY_FILE) or default_file)
        if not path.exists():
            _create_key_file(path)
        if path.stat().st_mode & 0o077:
            raise FeedKeyInvalid(f"{path}: readable by others; chmod 600 it")
        return FeedKey(base64.b64decode(path.read_text().strip(), validate=True))
    except (ValueError, OSError) as exc:
        raise FeedKeyInvalid(str(exc)) from exc


def _create_key_file(path: Path) -> None:
    """A fresh key, written atomically and never over one another node wrote first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, base64.b64encode(secrets.token_bytes(32)) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if a node beside this one created it meanwhile
        log.warning(
            "已生成公开状态主题密钥 %s，请将同一文件提供给所有节点和查询应用 / created the public "
            "feed key %s: give this same file to every node and to the petitioner app", path, path
        )
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


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


def public_view(case: Case, topology: Topology, key: FeedKey) -> dict[str, Any]:
    """What the public may know of a case (without the event that changed it)."""
    return {
        "case_id": "",
        "query_code": "",
        "feed_id": key.feed_id(case.case_id),
        "query_hash": key.query_hash(case.case_id, case.query_code),
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

    def __init__(
        self, topology: Topology, schema_dir: Path | None = None, key: FeedKey | None = None
    ) -> None:
        self.topology = topology
        self.key = key or ephemeral_feed_key()
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
        view = public_view(after, self.topology, self.key)
        if before is not None and public_view(before, self.topology, self.key) == view:
            return None
        ref = self.key.event_ref(event.header.event_id)
        datum = {**view, "updated_at": event.header.occurred_at, "event_id": ref}
        headers = self.headers(datum, division)
        return StatusRecord(view["feed_id"], self.encode(datum), headers, datum)

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
            ("ce_subject", str(datum["feed_id"]).encode()),
            ("ce_dataschema", f"urn:avro:crc64:{self.schema.fingerprint_hex}".encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
