"""The schema catalogue topic: every writer schema, readable without the repository.

`<prefix>xinfang.schemas` is compacted; each record's key is a schema's fingerprint (16 hex
digits: the 8 bytes after C3 01 in the single-object encoding, as in `ce_dataschema`), its
value the self-contained writer schema as .avsc JSON (UTF-8), headers `content-type` and
`xinfang_schema_name`. Every node publishes, at startup, the schemas it writes with and every
released version (schemas/history), so old records stay decodable. Publishing is idempotent:
the same fingerprint always carries the same bytes, so compaction keeps one record per schema.

Readers learn from it the writer schemas of releases newer than their own (`SchemaLearner`,
docs/decisions/011-schema-resolution.md): a node reads it to the end at start, and again when
a fetch of its inbox holds a fingerprint it has never seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ..codec.resolving import ResolvingDecoder
from ..codec.schemas import canonical_and_fingerprint, default_schema_dir
from ..kafka_io import read_to_end
from ..kafka_security import aiokafka_security
from ..store.records import Headers
from ..topics import TopicNames
from .history import current_schemas, released

SCHEMA_CONTENT_TYPE = "application/vnd.apache.avro+json"
log = logging.getLogger(__name__)
REDRIVEN = "xinfang_redriven_from"  # header of a dead letter re-driven by an operator


@dataclass(frozen=True)
class CatalogueEntry:
    fingerprint_hex: str
    full_name: str
    schema_json: str  # self-contained .avsc text

    @property
    def record(self) -> str:
        return self.full_name.rpartition(".")[2]

    def verified(self) -> bool:
        """True if the schema's own CRC-64-AVRO fingerprint is the key it was published under."""
        _, fp = canonical_and_fingerprint(json.loads(self.schema_json))
        return fp.hex() == self.fingerprint_hex


def _entry(expanded: Any) -> CatalogueEntry:
    _, fp = canonical_and_fingerprint(expanded)
    name = expanded["name"]
    full_name = name if "." in name else f"{expanded.get('namespace', '')}.{name}".lstrip(".")
    text = json.dumps(expanded, ensure_ascii=False, separators=(",", ":"))
    return CatalogueEntry(fp.hex(), full_name, text)


def writer_schemas(schema_dir: Path | None = None) -> list[CatalogueEntry]:
    """The current schemas and every released version, one entry per fingerprint."""
    root = schema_dir or default_schema_dir()
    entries: dict[str, CatalogueEntry] = {}
    for versions in released(root).values():
        for version in versions:
            entry = _entry(version.expanded)
            entries.setdefault(entry.fingerprint_hex, entry)
    for schema in current_schemas(root).values():
        entry = _entry(schema.expanded)
        entries.setdefault(entry.fingerprint_hex, entry)
    return sorted(entries.values(), key=lambda e: (e.full_name, e.fingerprint_hex))


async def publish_schemas(
    bootstrap_servers: str, topics: TopicNames, schema_dir: Path | None = None
) -> int:
    """Publish every writer schema to the catalogue topic (idempotent); returns how many."""
    entries = writer_schemas(schema_dir)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        **aiokafka_security(),
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                topics.schemas(),
                key=e.fingerprint_hex.encode(),
                value=e.schema_json.encode("utf-8"),
                headers=[
                    ("content-type", SCHEMA_CONTENT_TYPE.encode()),
                    ("xinfang_schema_name", e.full_name.encode()),
                ],
            )
            for e in entries
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(entries)


async def read_catalogue(
    bootstrap_servers: str, topics: TopicNames, timeout_s: float = 30.0
) -> dict[str, CatalogueEntry]:
    """Read the catalogue topic from the beginning to its end: fingerprint hex -> entry."""
    entries: dict[str, CatalogueEntry] = {}
    for record in await read_to_end(bootstrap_servers, [topics.schemas()], timeout_s):
        key = (record.key or b"").decode()
        if record.value is None:
            entries.pop(key, None)  # tombstone
            continue
        headers = dict(record.headers or [])
        name = bytes(headers.get("xinfang_schema_name", b"")).decode()
        if not name:
            name = str(json.loads(record.value).get("name", ""))
        entries[key] = CatalogueEntry(key, name, bytes(record.value).decode("utf-8"))
    return entries


async def learn_from_catalogue(
    bootstrap_servers: str, topics: TopicNames, decoder: ResolvingDecoder, timeout_s: float = 10.0
) -> int:
    """Read the catalogue topic to its end; add to `decoder` every writer schema it does not
    know whose fingerprint is its key. Returns how many were new. LookupError if the topic does
    not exist, TimeoutError, KafkaError or OSError if it cannot be read in `timeout_s`."""
    entries = await read_catalogue(bootstrap_servers, topics, timeout_s)
    return sum(decoder.learn(e.schema_json, e.fingerprint_hex) for e in entries.values())


class SchemaLearner:
    """Keeps a node's decoder up to date with the catalogue topic, within bounds.

    `refresh()` reads the topic to its end (at start). `before(records)`, called with each
    inbox fetch before it is applied, reads it again only if the fetch holds a fingerprint the
    decoder does not know and that no read was made for in the last `retry_after_s`: one read
    (at most `timeout_s`) per fetch at most, one per fingerprint per `retry_after_s` (the last
    `remember` fingerprints are kept). A fingerprint still unknown after that read stays
    unknown: its records are dead letters (`unknown-schema-fingerprint`). A record re-driven
    by an operator (`xinfang dead-letters --redrive`, header `xinfang_redriven_from`) is
    always looked up again. A failed read is logged, never raised: it must not hold up the
    inbox.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topics: TopicNames,
        decoder: ResolvingDecoder,
        timeout_s: float = 10.0,
        remember: int = 1024,
        retry_after_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topics = topics
        self.decoder = decoder
        self.timeout_s = timeout_s
        self.remember = remember
        self.retry_after_s = retry_after_s
        self.clock = clock
        self.reads = 0  # catalogue reads made (for /health and tests)
        self._tried: OrderedDict[bytes, float] = OrderedDict()  # fingerprint -> when looked up

    async def refresh(self) -> int:
        """Read the catalogue; returns how many writer schemas were new (0 if it failed)."""
        self.reads += 1
        try:
            learned = await learn_from_catalogue(
                self.bootstrap_servers, self.topics, self.decoder, self.timeout_s
            )
        except (LookupError, TimeoutError, KafkaError, OSError) as exc:
            log.warning("schema catalogue %s not read: %r", self.topics.schemas(), exc)
            return 0
        if learned:
            log.info("learned %d writer schemas from %s", learned, self.topics.schemas())
        return learned

    async def before(self, records: Iterable[tuple[bytes, Headers]]) -> int:
        """Read the catalogue if `records` (value, headers) name a writer schema not looked up
        lately (or are re-driven); returns how many writer schemas were new."""
        records = list(records)
        now = self.clock()
        unknown = self.decoder.unknown_fingerprints(value for value, _ in records)
        if not unknown:
            return 0
        redriven = self.decoder.unknown_fingerprints(
            value for value, headers in records if any(k == REDRIVEN for k, _ in headers)
        )
        def due(fp: bytes) -> bool:
            last = self._tried.get(fp)
            return fp in redriven or last is None or now - last >= self.retry_after_s

        fresh = [fp for fp in unknown if due(fp)]
        if not fresh:
            return 0
        for fp in fresh:
            self._tried.pop(fp, None)
            self._tried[fp] = now
        while len(self._tried) > self.remember:
            self._tried.popitem(last=False)
        return await self.refresh()


def export(entries: dict[str, CatalogueEntry], folder: Path) -> list[Path]:
    """Write one .avsc per verified entry: <full name>.<fingerprint>.avsc."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in sorted(entries.values(), key=lambda e: (e.full_name, e.fingerprint_hex)):
        if not entry.verified():
            continue
        path = folder / f"{entry.full_name}.{entry.fingerprint_hex}.avsc"
        expanded = json.loads(entry.schema_json)
        path.write_text(json.dumps(expanded, ensure_ascii=False, indent=2) + "\n", "utf-8")
        written.append(path)
    return written


def schemas_command(
    bootstrap_servers: str,
    topics: TopicNames,
    action: str,
    folder: str | None,
    as_json: bool,
    say: Callable[[str, str], str],
) -> int:
    """`xinfang schemas list|export FOLDER`: read the catalogue topic, print or write it."""
    try:
        entries = asyncio.run(read_catalogue(bootstrap_servers, topics))
    except (LookupError, TimeoutError, KafkaError, OSError) as exc:
        print(
            say("无法读取模式目录", "cannot read the schema catalogue") + f": {exc}",
            file=sys.stderr,
        )
        return 1
    ordered = sorted(entries.values(), key=lambda e: (e.full_name, e.fingerprint_hex))
    if action == "export":
        target = Path(folder or "schemas-export")
        written = export(entries, target)
        print(
            say(
                f"已导出 {len(written)} 个模式到 {target}",
                f"exported {len(written)} schemas to {target}",
            )
        )
        return 0 if len(written) == len(entries) else 1
    if as_json:
        rows = [
            {"fingerprint": e.fingerprint_hex, "name": e.full_name, "verified": e.verified()}
            for e in ordered
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(
        say(
            f"{topics.schemas()}：{len(ordered)} 个模式",
            f"{topics.schemas()}: {len(ordered)} schemas",
        )
    )
    for e in ordered:
        mark = "" if e.verified() else "  " + say("指纹不符", "FINGERPRINT MISMATCH")
        print(f"  {e.fingerprint_hex}  {e.full_name}{mark}")
    return 0
