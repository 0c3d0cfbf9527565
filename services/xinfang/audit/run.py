"""One audit run: read the logs (and inboxes) from the broker or an export folder, verify them,
and optionally rebuild the cases and check compliance."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..chain.keys import Keyring
from ..chain.verifier import Entry
from ..codec.resolving import ResolvingDecoder
from ..codec.schemas import SchemaCatalogue
from ..domain.events import Event
from ..domain.topology import Topology
from .compliance import ComplianceAuditor, ComplianceReport, Located, RuleBook
from .export import (
    SCHEMAS_FOLDER,
    TopicFile,
    check_manifest,
    learn_exported_schemas,
    write_manifest,
    write_schemas,
)
from .records import LogRecord
from .replay import (
    ALL_TIME,
    KafkaSource,
    Progress,
    TimeRange,
    export_files,
    node_topics,
    read_export,
)
from .signatures import RecordKeys
from .trail_check import TrailChain, read_trails
from .verify import Auditor, AuditResult, RecordDecoder


@dataclass
class AuditOutcome:
    integrity: AuditResult
    compliance: ComplianceReport | None
    topology: Topology
    about: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.integrity.ok


@dataclass(frozen=True)
class Source:
    """Where the logs are: a broker (bootstrap servers + topic prefix) or an export folder."""

    bootstrap_servers: str | None = None
    prefix: str = ""
    folder: Path | None = None

    def describe(self) -> dict[str, Any]:
        if self.folder is not None:
            return {"kind": "files", "folder": str(self.folder)}
        return {"kind": "kafka", "bootstrap_servers": self.bootstrap_servers, "prefix": self.prefix}


def run_audit(
    topology: Topology,
    source: Source,
    *,
    nodes: list[str] | None = None,
    keyring: Keyring | None = None,
    window: TimeRange = ALL_TIME,
    inboxes: bool = True,
    compliance: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    catalogue: SchemaCatalogue | None = None,
    rules_dir: Path | None = None,
    record_keys: RecordKeys | None = None,
) -> AuditOutcome:
    """Verify the logs at `source`. `keyring`: the published keys (checkpoints, and record
    signatures unless `record_keys` gives keys with validity periods, decision 024)."""
    progress = progress or Progress(quiet=True)
    explicit = nodes is not None
    wanted = nodes if nodes is not None else [d.code for d in topology.divisions]
    rulebook = RuleBook(str(rules_dir) if rules_dir else None)  # None: the shipped deploy/rules
    checker = ComplianceAuditor(topology, rulebook) if compliance else None
    collected: list[tuple[str, Entry, Event]] = []

    def sink(node: str, entry: Entry, event: Event) -> None:
        collected.append((node, entry, event))

    auditor = Auditor(
        topology,
        keyring,
        catalogue,
        anchored=window.bounded_below,
        sink=sink if checker is not None else None,
        record_keys=record_keys,
    )
    trails: list[TrailChain] = []  # operator trails this client may read (decision 027)
    if source.folder is not None:
        _from_files(auditor, source.folder, wanted, window, inboxes, explicit, progress)
    else:
        assert source.bootstrap_servers, "bootstrap servers or a folder"
        asyncio.run(
            _from_kafka(
                auditor, source.bootstrap_servers, source.prefix, wanted, window, inboxes,
                explicit, progress, trails,
            )
        )
    # whose missing log is a violation: every node asked for; from files, without --nodes, the
    # nodes whose logs were exported (an export may hold a part of the topology)
    auditor.audited = set(wanted) if explicit or source.folder is None else set(auditor.chains)
    progress.note("校验哈希链、签名与会签 …", "checking chains, signatures and countersignatures …")
    result = auditor.finish()
    result.findings += [f for chain in trails for f in chain.findings]
    report = None
    if checker is not None:
        progress.note("重建事项并检查期限与合规 …", "rebuilding cases, checking deadlines …")
        for node, entry, event in collected:  # only records on the chain: no forged ones
            if auditor.chains[node].canonical(entry.seq) is entry:
                checker.add(
                    Located(event, node, entry.seq, entry.topic, entry.partition, entry.offset)
                )
        report = checker.run(result.copies, now)
    about = {
        "source": source.describe(),
        "topology": topology.name,
        "nodes": sorted(auditor.chains),
        "since_ms": window.since_ms,
        "until_ms": window.until_ms,
        "inboxes": inboxes,
        "generated_at": datetime.now(UTC).isoformat(),
        "published_keys": sorted(keyring.keys) if keyring else [],
        "trails": {chain.node: chain.records for chain in trails},
    }
    return AuditOutcome(result, report, topology, about)


async def _from_kafka(
    auditor: Auditor,
    bootstrap: str,
    prefix: str,
    nodes: list[str],
    window: TimeRange,
    inboxes: bool,
    explicit: bool,
    progress: Progress,
    trails: list[TrailChain],
) -> None:
    async with KafkaSource(bootstrap, prefix) as kafka:
        await _learn_schemas(kafka, auditor.decoder.resolver, progress)
        if inboxes:  # copies first: a copy read after its source's log may be beyond its head
            for kind in COPY_KINDS:
                for division, topic in node_topics(prefix, nodes, kind).items():
                    if kafka.has(topic):
                        await kafka.read(
                            topic, _inbox_feeder(auditor, division, kind), window, progress
                        )
        absent = []
        for division, topic in node_topics(prefix, nodes, "log").items():
            if not kafka.has(topic):
                absent.append(division)
                if explicit:
                    auditor.no_log(division, topic)
                continue
            chain = auditor.chain(division, topic)
            await kafka.read(topic, chain.feed, window, progress)
        if absent and not explicit:
            progress.note(
                f"{len(absent)} 个行政区划没有日志主题（未运行节点）：{', '.join(absent)}",
                f"{len(absent)} divisions have no log topic (no node ran): {', '.join(absent)}",
            )
        trails += await read_trails(kafka, nodes, auditor.keys, window, progress)


async def _learn_schemas(
    kafka: KafkaSource, decoder: ResolvingDecoder, progress: Progress
) -> None:
    """Writer schemas of releases newer than the auditor's, from the catalogue topic: logs are
    kept forever, and every record must stay readable (decision 011)."""
    from aiokafka.errors import KafkaError

    from ..contract.catalogue import learn_from_catalogue
    from ..topics import TopicNames

    topics = TopicNames(kafka.prefix)
    if not kafka.has(topics.schemas()):
        return
    try:
        learned = await learn_from_catalogue(kafka.bootstrap_servers, topics, decoder, 30.0)
    except (LookupError, TimeoutError, KafkaError, OSError) as exc:
        progress.note(f"无法读取模式目录：{exc!r}", f"schema catalogue not read: {exc!r}")
        return
    if learned:
        progress.note(
            f"从 {topics.schemas()} 学到 {learned} 个写入模式",
            f"{learned} writer schemas learned from {topics.schemas()}",
        )


COPY_KINDS = ("inbox", "deadletter")
"""The topics holding copies of other nodes' records: what a node received and what it refused."""


def _inbox_feeder(auditor: Auditor, division: str, kind: str) -> Callable[[LogRecord], None]:
    def feed(rec: LogRecord) -> None:
        auditor.feed_inbox(division, [rec], kind)

    return feed


def _from_files(
    auditor: Auditor,
    folder: Path,
    nodes: list[str],
    window: TimeRange,
    inboxes: bool,
    explicit: bool,
    progress: Progress,
) -> None:
    auditor.extra += check_manifest(folder)
    learn_exported_schemas(folder, auditor.decoder.resolver)
    files = [f for f in export_files(folder) if f.division in nodes]
    logs = {f.division for f in files if f.kind == "log"}
    if explicit:
        for division in sorted(set(nodes) - logs):
            auditor.no_log(division, f"{folder}/{division}.log.avro")
    for f in files:
        auditor.files[f.topic] = f.path.name
        records = read_export(f.path, window, progress, f.topic)
        if f.kind == "log":
            chain = auditor.chain(f.division, f.topic)
            for rec in records:
                chain.feed(rec)
        elif inboxes:
            auditor.feed_inbox(f.division, records, f.kind)


def run_export(
    topology: Topology,
    bootstrap: str,
    prefix: str,
    out: Path,
    *,
    nodes: list[str] | None = None,
    window: TimeRange = ALL_TIME,
    inboxes: bool = True,
    progress: Progress | None = None,
    catalogue: SchemaCatalogue | None = None,
    deadletters: bool = False,
) -> Path:
    """Write every node log (and inbox, and with `deadletters` dead-letter) topic to `out`;
    returns the manifest's path."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.avro"):
        old.unlink()
    wanted = nodes if nodes is not None else [d.code for d in topology.divisions]
    progress = progress or Progress(quiet=True)
    decoder = RecordDecoder(catalogue)
    kinds = ("inbox", "deadletter")[: 2 if deadletters else 1] if inboxes else ()
    files = asyncio.run(_export(bootstrap, prefix, out, wanted, window, kinds, progress, decoder))
    schemas = write_schemas(out, decoder.resolver)
    return write_manifest(
        out,
        files,
        writer_schemas=f"{SCHEMAS_FOLDER}/ ({len(schemas)})",
        topology=topology.name,
        bootstrap_servers=bootstrap,
        prefix=prefix,
        since_ms=window.since_ms,
        until_ms=window.until_ms,
        wrapper_schema="schemas/audit/LogRecord.avsc",
    )


async def _export(
    bootstrap: str,
    prefix: str,
    out: Path,
    nodes: list[str],
    window: TimeRange,
    copies: tuple[str, ...],
    progress: Progress,
    decoder: RecordDecoder,
) -> list[dict[str, Any]]:
    written: list[dict[str, Any]] = []
    kinds = (*copies, "log")  # copies first, as verify reads: none is newer than its log
    async with KafkaSource(bootstrap, prefix) as kafka:
        await _learn_schemas(kafka, decoder.resolver, progress)
        for kind in kinds:
            for division, topic in node_topics(prefix, nodes, kind).items():
                if not kafka.has(topic):
                    continue
                target = TopicFile(out, division, kind, topic, decoder)
                handle: Callable[[LogRecord], None] = target.write
                try:
                    await kafka.read(topic, handle, window, progress)
                finally:
                    written.append(target.close())
    return written
