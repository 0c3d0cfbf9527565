"""Reading node logs (and inboxes) for an audit: from the broker, from the beginning or from a
time, with aiokafka; or from the Avro container files `xinfang audit export` wrote."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import fastavro
from aiokafka import AIOKafkaConsumer

from ..kafka_io import partitions, read_partition
from ..kafka_security import aiokafka_security
from ..topics import TopicNames
from .records import LogRecord, parse_topic


def _say(zh: str, en: str) -> str:
    import os

    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


@dataclass(frozen=True)
class TimeRange:
    """Kafka record timestamps (ms) to read; None: unbounded."""

    since_ms: int | None = None
    until_ms: int | None = None

    @property
    def bounded_below(self) -> bool:
        return self.since_ms is not None

    def contains(self, timestamp_ms: int) -> bool:
        if self.since_ms is not None and timestamp_ms < self.since_ms:
            return False
        return self.until_ms is None or timestamp_ms <= self.until_ms


ALL_TIME = TimeRange()


class Progress:
    """Progress lines on stderr, Chinese first; at most one line per `every_s` per topic."""

    def __init__(self, stream: IO[str] | None = None, every_s: float = 2.0, quiet: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.every_s = every_s
        self.quiet = quiet
        self._topic = ""
        self._total: int | None = None
        self._count = 0
        self._last = 0.0

    def _print(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def start(self, topic: str, total: int | None) -> None:
        self._topic, self._total, self._count = topic, total, 0
        self._last = time.monotonic()
        size = f"{total} 条 / {total} records" if total is not None else "…"
        self._print(f"  {_say('读取', 'reading')} {topic}（{size}）")

    def advance(self, n: int = 1) -> None:
        self._count += n
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            total = f"/{self._total}" if self._total is not None else ""
            self._print(f"    {self._topic}: {self._count}{total}")

    def done(self) -> None:
        self._print(f"    {self._topic}: {_say('完成', 'done')}，{self._count} 条 / records")

    def note(self, zh: str, en: str) -> None:
        self._print(_say(zh, en))


def node_topics(prefix: str, divisions: list[str], kind: str) -> dict[str, str]:
    """division -> its topic of `kind` ("log", "inbox" or "deadletter")."""
    names = TopicNames(prefix)
    topic = {"log": names.log, "inbox": names.inbox, "deadletter": names.deadletter}[kind]
    return {d: topic(d) for d in divisions}


class KafkaSource:
    """Reads whole topics (every partition, in offset order) from a running broker."""

    def __init__(self, bootstrap_servers: str, prefix: str = "") -> None:
        self.bootstrap_servers = bootstrap_servers
        self.prefix = prefix
        self.consumer: AIOKafkaConsumer | None = None
        self.existing: set[str] = set()

    async def __aenter__(self) -> KafkaSource:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=16 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            request_timeout_ms=30000,
            **aiokafka_security(),
        )
        await self.consumer.start()
        self.existing = set(await self.consumer.topics())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    def has(self, topic: str) -> bool:
        return topic in self.existing

    async def read(
        self,
        topic: str,
        handle: Callable[[LogRecord], None],
        window: TimeRange = TimeRange(),
        progress: Progress | None = None,
        batch: int = 5000,
    ) -> int:
        """Feed every record of `topic` in `window` to `handle`; returns how many."""
        consumer = self.consumer
        assert consumer is not None, "use `async with KafkaSource(...)`"
        fed = 0
        for tp in partitions(consumer, topic):

            def span(start: int, end: int, name: str = f"{topic}[{tp.partition}]") -> None:
                if progress is not None:
                    progress.start(name, max(end - start, 0))

            async for records in read_partition(
                consumer, tp, since_ms=window.since_ms, batch=batch, on_span=span
            ):
                for r in records:
                    if not window.contains(r.timestamp):
                        continue
                    handle(
                        LogRecord(
                            topic,
                            tp.partition,
                            r.offset,
                            r.timestamp,
                            r.key,
                            r.value or b"",
                            tuple((k, bytes(v or b"")) for k, v in (r.headers or ())),
                        )
                    )
                    fed += 1
                if progress is not None:
                    progress.advance(len(records))
            if progress is not None:
                progress.done()
        return fed


# -- export files ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportFile:
    division: str
    kind: str  # "log" | "inbox" | "deadletter"
    path: Path
    topic: str


def export_files(folder: Path) -> list[ExportFile]:
    """The `<division>.<kind>.avro` files of an export folder, logs first."""
    found: list[ExportFile] = []
    for path in sorted(folder.glob("*.avro")):
        with path.open("rb") as fh:
            reader = fastavro.reader(fh)
            topic = str(reader.metadata.get("xinfang.topic", ""))
            if not topic:  # metadata stripped: the records still name their topic
                first = next(iter(reader), None)
                topic = str(first["topic"]) if isinstance(first, dict) else ""
        parsed = parse_topic(topic)
        if parsed is None or path.name != f"{parsed[1]}.{parsed[2]}.avro":
            # never skip silently: an unattributable file would hide a rewritten log; the
            # topic a file claims must be the one its (manifest-hashed) name says
            raise ValueError(f"导出文件无法识别所属主题 / unknown topic: {path.name}")
        found.append(ExportFile(parsed[1], parsed[2], path, topic))
    found.sort(key=lambda f: (f.kind != "log", f.division))
    return found


def read_export(
    path: Path,
    window: TimeRange = TimeRange(),
    progress: Progress | None = None,
    topic: str | None = None,
) -> Iterator[LogRecord]:
    """The records of one export file in file order. Where a record is located comes from what
    the auditor read, not from the wrapper's unverified fields: `topic` (the file's, see
    `export_files`; default: the wrapper's), partition 0 (one partition per node topic,
    decision 001) and offset = the record's position in the file (its Kafka offset in a
    complete export). The wrapper's timestamp only selects the time window."""
    with path.open("rb") as fh:
        reader = fastavro.reader(fh)
        if progress is not None:
            progress.start(path.name, None)
        for position, raw in enumerate(reader):
            rec = _record(raw, position, topic)
            if progress is not None:
                progress.advance()
            if window.contains(rec.timestamp_ms):
                yield rec
        if progress is not None:
            progress.done()


def _record(raw: Any, position: int, topic: str | None) -> LogRecord:
    return LogRecord(
        topic if topic is not None else str(raw["topic"]),
        0,
        position,
        int(raw["timestamp_ms"]),
        raw["key"],
        bytes(raw["value"]),
        tuple((str(h["key"]), bytes(h["value"] or b"")) for h in raw["headers"]),
    )
