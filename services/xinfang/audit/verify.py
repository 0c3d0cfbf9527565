"""Verifying node logs without trusting any node (docs/decisions/006-audit-chain-checkpoints.md).

Per node log (`xinfang.<division>.log`, read in offset order):

- every record decodes (single-object encoding, a known schema, no trailing bytes) and names the
  node as its source;
- sequence numbers run 1, 2, 3 … without gaps and in order; an exact byte copy of a record seen
  before is a harmless re-publication (relay crash), a *different* record with a known sequence
  number or event id is a violation (forged, rewritten or replayed);
- `prev_hash` of every record is the SHA-256 of its predecessor's bytes ("" for seq 1);
- every record is signed (`xinfang_sig`, decision 021) by a key the node published, valid when
  the record was written (audit/signatures.py, decision 024); a record that is not is reported
  where it was found and left out of the chain (it is not the node's); records written before
  the node's first signed record (logs older than record signatures) are reported once;
- checkpoints and countersignatures are signed (Ed25519) by the node's published key — or, when
  none is published, by the key of its first signed record (trust on first use, reported);
- when a hash link is broken, a later valid checkpoint reachable through an intact chain proves
  which side is authentic: the record before the break was altered.

Across logs: every countersignature in a parent's log must match, byte for byte (by hash), the
child's checkpoint at that position — a node that rewrote its log and re-signed it is caught by
its parent's countersignature. Copies of records in inboxes (upward reporting, addressed events)
must be byte-identical to the record at that position of the source's log, and signed as it
is — a copy beyond the source's head, or one a record of the log does not match, is forged (or
the log was cut). Dead-lettered copies are checked the same way. Every location is where the
auditor read the record (topic, partition, offset from the broker; file and position in the
file from an export), never a field the record or an export's wrapper claims.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..chain.keys import KeyBook, Keyring, key_id
from ..chain.links import record_hash
from ..chain.verifier import SIGNED_TYPES, Entry, LogChain, Placed, is_resent, signature_problem
from ..codec.mapping import event_from_datum
from ..codec.resolving import ResolvingDecoder
from ..codec.schemas import SchemaCatalogue
from ..codec.wire import DecodeError, event_decoder
from ..domain.events import ChainCheckpointed, CheckpointCountersigned, Event
from ..domain.topology import Topology
from .records import LogRecord
from .signatures import KeyTable, RecordKeys, SignatureChecks, is_signed

VIOLATION = "violation"
WARNING = "warning"

# code -> (Chinese, English) title, for reports
CODES: dict[str, tuple[str, str]] = {
    "undecodable": ("无法解码", "undecodable record"),
    "wrong-source": ("来源不符", "record of another node"),
    "seq-missing": ("序号缺失（记录被删除）", "sequence numbers missing (records deleted)"),
    "seq-out-of-order": ("顺序错乱", "records out of order"),
    "seq-resent-late": (
        "代理搁置后补发（排在后续记录之后）",
        "set aside by the relay, re-sent after later records",
    ),
    "seq-conflict": ("同一序号两条不同记录", "two different records with one sequence number"),
    "event-replayed": ("旧事件重放", "old event replayed"),
    "chain-broken": ("哈希链断裂", "hash chain broken"),
    "record-altered": ("记录被改动", "record altered"),
    "bad-signature": ("检查点签名无效", "invalid checkpoint signature"),
    "bad-countersignature": ("会签签名无效", "invalid countersignature"),
    "key-mismatch": ("签名密钥不符", "signed with the wrong key"),
    "checkpoint-invalid": ("检查点内容无效", "malformed checkpoint"),
    "signed-record-invalid": ("签名记录无效", "malformed signed record"),
    "countersign-mismatch": ("会签与下级日志不符（日志被改写）", "countersignature contradicts"),
    "countersign-invalid": ("会签对象无效", "countersignature of a non-child"),
    "copy-mismatch": ("收件箱副本与来源日志不符", "inbox copy differs from source log"),
    "copy-not-in-log": ("收件箱副本不在来源日志中", "inbox copy missing from source log"),
    "copy-beyond-head": (
        "副本序号超出来源日志末尾（伪造）", "copy beyond the end of the source's log (forged)"
    ),
    "copy-bad-signature": ("副本签名无效", "copy not signed by its source"),
    "copy-replayed": ("旧记录再次投递（重放或重发）", "old record delivered again (replay)"),
    "record-unsigned": ("记录未签名（伪造）", "unsigned record (forged)"),
    "record-bad-signature": ("记录签名无效（伪造）", "record not signed by its node (forged)"),
    "record-header-mismatch": ("记录头与内容不符", "record headers disagree with its value"),
    "records-unsigned": (
        "记录签名启用前的未签名记录", "records written before record signatures"
    ),
    "manifest-missing": ("导出清单缺失", "export manifest missing"),
    "manifest-invalid": ("导出清单无法读取", "export manifest unreadable"),
    "export-file-altered": ("导出文件与清单哈希不符", "export file differs from its manifest"),
    "export-file-missing": ("清单中的导出文件缺失", "exported file missing"),
    "export-file-unlisted": ("导出文件不在清单中", "export file not in the manifest"),
    "unsigned-tail": ("尚未被检查点覆盖的记录", "records not yet covered by a checkpoint"),
    "not-countersigned": ("检查点尚未会签", "checkpoint not countersigned"),
    "key-not-published": ("公钥未发布（首次使用即信任）", "key not published (trust on first use)"),
    "no-log": ("没有日志主题", "no log topic"),
    "log-missing": ("日志缺失（已被删除）", "log missing (deleted)"),
    "log-partitions": ("日志主题不止一个分区", "log topic has more than one partition"),
}


FORGED_CODES = frozenset({
    "record-unsigned", "record-bad-signature", "record-header-mismatch", "copy-beyond-head",
    "copy-bad-signature", "copy-mismatch", "copy-not-in-log",
})
"""Findings about one record the source did not write as found: forged, or altered."""


@dataclass(frozen=True)
class Finding:
    """A violation (the log cannot be trusted as it is) or a warning, located precisely."""

    level: str  # VIOLATION | WARNING
    code: str
    node: str
    seq: int | None
    topic: str
    partition: int | None
    offset: int | None
    zh: str
    en: str
    related_seq: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)
    file: str | None = None  # the export file it was read from (offset: position in the file)

    @property
    def title_zh(self) -> str:
        return CODES.get(self.code, (self.code, self.code))[0]

    @property
    def title_en(self) -> str:
        return CODES.get(self.code, (self.code, self.code))[1]

    @property
    def location(self) -> str | None:
        """Where the auditor read the record: `topic:partition:offset` from the broker,
        `file#position` from an export; None for a finding about a whole log or range."""
        if self.file is not None:
            return f"{self.file}#{self.offset}" if self.offset is not None else self.file
        if self.partition is None or self.offset is None:
            return None
        return f"{self.topic}:{self.partition}:{self.offset}"

    def where(self) -> str:
        seq = f" seq {self.seq}" if self.seq is not None else ""
        place = self.topic
        if self.file is not None:
            place = f"{self.file}#{self.offset}" if self.offset is not None else self.file
        else:
            if self.partition is not None:
                place += f"[{self.partition}]"
            if self.offset is not None:
                place += f"@{self.offset}"
        return f"节点 {self.node}{seq}（{place}）"

    def line(self) -> str:
        return f"{self.where()} {self.code}: {self.zh} / {self.en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "code": self.code,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "node": self.node,
            "seq": self.seq,
            "related_seq": self.related_seq,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "file": self.file,
            "location": self.location,
            "message_zh": self.zh,
            "message_en": self.en,
            "evidence": self.evidence,
        }


class RecordDecoder:
    """Single-object encoding → (record name, Avro datum), records of every released schema
    version resolved to the current one (codec/resolving.py); checked bytes, never re-encoded."""

    def __init__(
        self, catalogue: SchemaCatalogue | None = None, resolver: ResolvingDecoder | None = None
    ) -> None:
        self.resolver = resolver or event_decoder(catalogue or SchemaCatalogue())

    def decode(self, value: bytes) -> tuple[str, dict[str, Any]]:
        schema, _, datum = self.resolver.decode(value)
        if not isinstance(datum.get("header"), dict):
            raise DecodeError("undecodable-body", "not an event record")
        return schema.name, datum


@dataclass(frozen=True)
class Signed:
    entry: Entry
    event: ChainCheckpointed | CheckpointCountersigned
    valid: bool


EventSink = Callable[[str, Entry, Event], None]


class NodeChain(LogChain):
    """The streaming verifier of one node's log: the chain package's `LogChain` (sequence and
    hash links) plus decoding, signatures and located findings.

    `record_keys`: the published keys record signatures are checked with (default: the
    `keys.published` keyring, valid at all times)."""

    def __init__(
        self,
        node: str,
        topic: str,
        decoder: RecordDecoder,
        keys: KeyBook,
        *,
        anchored: bool = False,
        sink: EventSink | None = None,
        record_keys: RecordKeys | None = None,
        checks: SignatureChecks | None = None,
    ) -> None:
        super().__init__(anchored=anchored)  # anchored: read from a time, not the beginning
        self.node = node
        self.topic = topic
        self.decoder = decoder
        self.keys = keys
        self.record_keys = record_keys or KeyTable.from_keyring(keys.published)
        self.checks = checks or SignatureChecks(self.record_keys)
        self.sink = sink
        self.signing = False  # a record signed by the node was read: from now on all must be
        self.legacy: list[int] = []  # seqs read unsigned before the node's first signed record
        self.signed_seqs: set[tuple[int, str]] = set()  # (seq, digest) of validly signed records
        self.forged: list[Entry] = []  # records left out of the chain: not signed by the node
        self.findings: list[Finding] = []
        self.signed: list[Signed] = []
        self.undecodable: list[tuple[LogRecord, str, int]] = []
        self.records = 0
        self._last_seq_read = 0
        self.partitions: set[int] = set()

    # -- streaming ------------------------------------------------------------------------
    def feed(self, rec: LogRecord) -> None:
        self.records += 1
        self.partitions.add(rec.partition)
        value = rec.value
        try:
            name, datum = self.decoder.decode(value)
        except DecodeError as exc:
            self.undecodable.append((rec, exc.reason, self._last_seq_read + 1))
            self._last_seq_read += 1
            return
        h = datum["header"]
        seq: int = h["seq"]
        entry = Entry(
            seq, record_hash(value), h["prev_hash"], rec.topic, rec.partition, rec.offset,
            h["event_id"], name, rec.timestamp_ms,
        )
        if h["source"] != self.node:
            self._violation(
                "wrong-source",
                entry,
                f"记录的来源是 {h['source']}，不是本节点",
                f"the record's source is {h['source']}, not this node",
            )
            return
        if not self._authored(rec, entry, h, name):
            return  # not the node's record: reported, and kept off the chain
        self._last_seq_read = seq
        added = self.add(entry)
        if added.placed is Placed.REPUBLISHED:
            return  # the relay published the same record again: harmless
        if added.placed is Placed.CONFLICT:
            if name in SIGNED_TYPES:  # a valid signature tells which record is authentic
                self._signed(entry, event_from_datum(name, datum))
            return
        first = added.replay_of
        if first is not None:
            original = self.by_seq.get(first)
            self._violation(
                "event-replayed",
                entry,
                f"事件 {entry.event_id} 已在 seq {first} 出现，又以 seq {seq} 写入（旧事件重放）",
                f"event {entry.event_id} already is seq {first}; written again as seq {seq} "
                "(an old event replayed)",
                related_seq=first,
                evidence={"original_offset": original.offset if original else None},
            )
        if added.behind is not None:
            m = added.behind
            # A record the relay set aside and an operator re-sent comes late by design; its
            # hash links are checked as for any other record (decision 012).
            late = is_resent(rec.headers)
            self._violation(
                "seq-resent-late" if late else "seq-out-of-order",
                entry,
                f"seq {seq}（offset {rec.offset}）排在 seq {m.seq}（offset {m.offset}）之后",
                f"seq {seq} (offset {rec.offset}) comes after seq {m.seq} (offset {m.offset})",
                related_seq=m.seq,
                level=WARNING if late else VIOLATION,
            )
        if name in SIGNED_TYPES:
            self._signed(entry, event_from_datum(name, datum))
        if self.sink is not None and first is None:
            self.sink(self.node, entry, event_from_datum(name, datum))

    def _authored(self, rec: LogRecord, entry: Entry, h: dict[str, Any], name: str) -> bool:
        """True if the record is the node's: signed with its published key (or read before
        the node signed anything, or the node published no key at all, both reported once)."""
        if not self.record_keys.publishes(self.node):
            return True  # nothing to check with: `key-not-published` says so
        if not is_signed(rec.headers) and not self.signing:
            self.legacy.append(entry.seq)
            return True
        problem = self.checks.problem(rec.value, entry.digest, rec.headers, h, name)
        if problem is None:
            self.signing = True
            self.signed_seqs.add((entry.seq, entry.digest))
            return True
        code = {"unsigned": "record-unsigned", "header-mismatch": "record-header-mismatch"}.get(
            problem.code, "record-bad-signature"
        )
        self.forged.append(entry)
        self._violation(
            code,
            entry,
            f"{problem.zh}：不是 {self.node} 写入的记录（伪造），不计入其日志",
            f"{problem.en}: not a record of {self.node} (forged); left out of its log",
            evidence={"event_id": entry.event_id, "type": entry.type,
                      "reason": problem.code},
        )
        return False

    def _signed(self, entry: Entry, event: Event) -> None:
        if not isinstance(event, ChainCheckpointed | CheckpointCountersigned):
            return  # pragma: no cover - SIGNED_TYPES are exactly these two
        problem = signature_problem(event, self.keys.expected(self.node))
        if problem is not None:
            self._violation(problem.code, entry, problem.zh, problem.en)
        else:
            self.keys.pin(self.node, event.public_key)
        self.signed.append(Signed(entry, event, problem is None))

    def _violation(
        self,
        code: str,
        entry: Entry,
        zh: str,
        en: str,
        *,
        level: str = VIOLATION,
        related_seq: int | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                level, code, self.node, entry.seq, entry.topic, entry.partition, entry.offset,
                zh, en, related_seq, evidence or {},
            )
        )

    # -- at the end ---------------------------------------------------------------------
    def _valid_signed(self) -> set[tuple[int, str]]:
        return {(s.entry.seq, s.entry.digest) for s in self.signed if s.valid}

    def _vouched(self, entry: Entry, valid: set[tuple[int, str]]) -> Entry | None:
        """The valid checkpoint reached from `entry` through intact hash links, if any."""
        current: Entry | None = entry
        for _ in range(len(self.by_seq) + 1):
            if current is None:
                return None
            if (current.seq, current.digest) in valid and current.type == ChainCheckpointed.TYPE:
                return current
            digest = current.digest
            current = next((c for c in self.candidates(current.seq + 1) if c.prev == digest), None)
        return None

    def finish(self) -> list[Finding]:
        valid = self._valid_signed()
        self._finish_links(valid)
        self._finish_conflicts(valid)
        self._finish_gaps()
        self._finish_coverage(valid)
        self._finish_legacy()
        if len(self.partitions) > 1:
            self.findings.append(
                Finding(
                    WARNING, "log-partitions", self.node, None, self.topic, None, None,
                    f"日志主题有 {len(self.partitions)} 个分区（应为 1 个）",
                    f"the log topic has {len(self.partitions)} partitions (1 expected)",
                )
            )
        return self.findings

    def _finish_links(self, valid: set[tuple[int, str]]) -> None:
        for entry, pred in self.broken_links():
            s = entry.seq
            if pred is None:
                self._violation(
                    "chain-broken",
                    entry,
                    "seq 1 的 prev_hash 应为空",
                    "the prev_hash of seq 1 must be empty",
                )
                continue
            voucher = self._vouched(entry, valid)
            if voucher is not None:  # the successor is authentic: the predecessor was altered
                self.findings.append(
                    Finding(
                        VIOLATION, "record-altered", self.node, pred.seq, pred.topic,
                        pred.partition, pred.offset,
                        f"seq {pred.seq} 的内容与 seq {s} 记录的哈希不符；seq {s} 起的链由"
                        f" seq {voucher.seq} 的有效检查点签名担保，故 seq {pred.seq} 被改动",
                        f"seq {pred.seq} does not hash to what seq {s} recorded; the chain from "
                        f"seq {s} is vouched for by the valid checkpoint at seq {voucher.seq}, "
                        f"so seq {pred.seq} was altered",
                        s, {"checkpoint_seq": voucher.seq},
                    )
                )
            else:
                self._violation(
                    "chain-broken",
                    entry,
                    f"seq {s} 的 prev_hash 不等于 seq {s - 1}（offset {pred.offset}）的 SHA-256："
                    f"seq {s - 1} 被改动，或 seq {s} 不是接在它之后写入的（伪造）",
                    f"prev_hash of seq {s} is not the SHA-256 of seq {s - 1} (offset "
                    f"{pred.offset}): seq {s - 1} was altered, or seq {s} was not written "
                    "after it (forged)",
                    related_seq=s - 1,
                )

    def _finish_conflicts(self, valid: set[tuple[int, str]]) -> None:
        for seq, alternatives in sorted(self.alts.items()):
            candidates = [self.by_seq[seq], *alternatives]
            # the record a valid checkpoint vouches for (through intact links) is authentic;
            # failing that, the one its successor links to
            on_chain = [c for c in candidates if self._vouched(c, valid) is not None]
            if len(on_chain) != 1:
                followers = self.candidates(seq + 1)
                on_chain = [c for c in candidates if any(f.prev == c.digest for f in followers)]
            offsets = ", ".join(str(c.offset) for c in candidates)
            if len(on_chain) == 1:
                kept = self.chosen[seq] = on_chain[0]
                for other in candidates:
                    if other is kept:
                        continue
                    self._violation(
                        "seq-conflict",
                        other,
                        f"seq {seq} 有 {len(candidates)} 条不同记录（offset {offsets}）；"
                        f"链从 offset {kept.offset} 继续，offset {other.offset} 不在链上"
                        "（伪造或被替换）",
                        f"seq {seq} has {len(candidates)} different records (offsets {offsets}); "
                        f"the chain continues from offset {kept.offset}, offset {other.offset} "
                        "is not part of it (forged or replaced)",
                        evidence={"chain_offset": kept.offset},
                    )
            else:
                self._violation(
                    "seq-conflict",
                    candidates[-1],
                    f"seq {seq} 有 {len(candidates)} 条不同记录（offset {offsets}），"
                    "无法确定哪条在链上",
                    f"seq {seq} has {len(candidates)} different records (offsets {offsets}); "
                    "none is confirmed by its successor",
                    evidence={"offsets": [c.offset for c in candidates]},
                )

    def _finish_gaps(self) -> None:
        missing = self.missing()
        # a seq whose only record is one the node did not sign: reported as that record
        explained: set[int] = {e.seq for e in self.forged}
        for rec, reason, inferred in self.undecodable:
            seq = inferred if inferred in missing else None
            if seq is not None:
                explained.add(seq)
            self.findings.append(
                Finding(
                    VIOLATION, "undecodable", self.node, seq, rec.topic, rec.partition,
                    rec.offset,
                    f"记录无法解码（{reason}）" + (f"，应为 seq {seq}" if seq else ""),
                    f"the record cannot be decoded ({reason})"
                    + (f"; it should be seq {seq}" if seq else ""),
                )
            )
        runs: list[tuple[int, int]] = []
        for s in missing:
            if s in explained:
                continue
            if runs and runs[-1][1] == s - 1:
                runs[-1] = (runs[-1][0], s)
            else:
                runs.append((s, s))
        for first, last in runs:
            after = self.by_seq.get(last + 1)
            span = f"seq {first}" if first == last else f"seq {first}–{last}"
            self.findings.append(
                Finding(
                    VIOLATION, "seq-missing", self.node, first, self.topic,
                    after.partition if after else None, after.offset if after else None,
                    f"{span} 缺失（日志被删改）",
                    f"{span} missing from the log (records deleted)",
                    last if last != first else None, {"last_missing": last},
                )
            )

    def _finish_coverage(self, valid: set[tuple[int, str]]) -> None:
        checkpoints = [
            s.entry.seq for s in self.signed if s.valid and s.entry.type == ChainCheckpointed.TYPE
        ]
        covered = max(checkpoints, default=0)
        if self.max_seq > covered:
            start = covered + 1 if covered else (self.floor or 1)
            self.findings.append(
                Finding(
                    WARNING, "unsigned-tail", self.node, start, self.topic, None, None,
                    f"seq {start}–{self.max_seq} 尚未被签名检查点覆盖",
                    f"seq {start}–{self.max_seq} are not yet covered by a signed checkpoint",
                    self.max_seq,
                )
            )

    def _finish_legacy(self) -> None:
        if not self.legacy:
            return
        first, last = min(self.legacy), max(self.legacy)
        self.findings.append(
            Finding(
                WARNING, "records-unsigned", self.node, first, self.topic, None, None,
                f"{len(self.legacy)} 条记录（seq {first}–{last}）写于本节点启用记录签名之前，"
                "只能靠哈希链与检查点核验",
                f"{len(self.legacy)} records (seq {first}–{last}) were written before the node "
                "signed its records; only the hash chain and checkpoints vouch for them",
                last, {"count": len(self.legacy), "signing": self.signing},
            )
        )

    def is_signed_record(self, seq: int, digest: str) -> bool:
        """True if the log record with this seq and digest carries the node's valid signature."""
        return (seq, digest) in self.signed_seqs

    # -- summary ---------------------------------------------------------------------------
    def checkpoints(self) -> list[Signed]:
        return [s for s in self.signed if s.entry.type == ChainCheckpointed.TYPE]

    def countersigns(self) -> list[Signed]:
        return [s for s in self.signed if s.entry.type == CheckpointCountersigned.TYPE]


@dataclass(frozen=True)
class InboxCopy:
    node: str  # the inbox's owner
    source: str
    seq: int
    digest: str
    event_id: str
    case_id: str
    type: str
    topic: str
    partition: int
    offset: int
    kind: str = "inbox"  # "inbox" | "deadletter": which topic of `node` holds the copy
    signature: str | None = None  # why its signature does not hold (a Problem code), or None
    signed: bool = False  # it carries a signature header at all
    file: str | None = None  # the export file it was read from


@dataclass
class AuditResult:
    nodes: dict[str, dict[str, Any]]
    findings: list[Finding]
    inbox_records: dict[str, int]
    inbox_undecodable: dict[str, int]
    copies: list[InboxCopy]

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.level == VIOLATION]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def forged(self) -> list[Finding]:
        """The records found that their claimed source did not write (or not so), each with
        where it was read."""
        return [f for f in self.violations if f.code in FORGED_CODES]


class Auditor:
    """Feeds node logs (and optionally inboxes) through the verifiers, then checks across logs."""

    def __init__(
        self,
        topology: Topology,
        keyring: Keyring | None = None,
        catalogue: SchemaCatalogue | None = None,
        *,
        anchored: bool = False,
        sink: EventSink | None = None,
        record_keys: RecordKeys | None = None,
    ) -> None:
        self.topology = topology
        self.keys = KeyBook(keyring or Keyring.empty())
        self.record_keys = record_keys or KeyTable.from_keyring(self.keys.published)
        self.checks = SignatureChecks(self.record_keys)  # shared: a copy is verified once
        self.decoder = RecordDecoder(catalogue)
        self.anchored = anchored
        self.sink = sink
        self.chains: dict[str, NodeChain] = {}
        self.copies: list[InboxCopy] = []
        self.files: dict[str, str] = {}  # topic -> the export file it was read from
        self.extra: list[Finding] = []  # findings about the input itself (export manifest)
        self._seen: dict[tuple[str, str, str], InboxCopy] = {}  # (node, kind, digest) -> first
        self._highest: dict[tuple[str, str, str], int] = {}  # (node, kind, source) -> max seq
        self.replays: list[tuple[InboxCopy, InboxCopy, int]] = []  # (copy, first, max seq)
        self.inbox_records: dict[str, int] = {}
        self.inbox_undecodable: dict[str, int] = {}
        self.missing_logs: list[tuple[str, str]] = []
        self.audited: set[str] = set()  # the nodes whose logs were asked for

    def chain(self, node: str, topic: str) -> NodeChain:
        if node not in self.chains:
            self.chains[node] = NodeChain(
                node, topic, self.decoder, self.keys, anchored=self.anchored, sink=self.sink,
                record_keys=self.record_keys, checks=self.checks,
            )
        return self.chains[node]

    def feed_log(self, node: str, records: Iterable[LogRecord]) -> None:
        for rec in records:
            self.chain(node, rec.topic).feed(rec)

    def no_log(self, node: str, topic: str) -> None:
        self.missing_logs.append((node, topic))

    def feed_inbox(
        self, node: str, records: Iterable[LogRecord], kind: str = "inbox"
    ) -> None:
        """Copies of other nodes' records held by `node`: its inbox, or (`kind="deadletter"`)
        the records it refused."""
        for rec in records:
            if kind == "inbox":
                self.inbox_records[node] = self.inbox_records.get(node, 0) + 1
            try:
                name, datum = self.decoder.decode(rec.value)
            except DecodeError:  # garbage a neighbour sent; the node dead-letters it
                if kind == "inbox":
                    self.inbox_undecodable[node] = self.inbox_undecodable.get(node, 0) + 1
                continue
            h = datum["header"]
            digest = record_hash(rec.value)
            problem = self.checks.problem(rec.value, digest, rec.headers, h, name)
            copy = InboxCopy(
                node, h["source"], h["seq"], digest,
                h["event_id"], h["case_id"], name, rec.topic, rec.partition, rec.offset,
                kind, problem.code if problem else None, is_signed(rec.headers),
                self.files.get(rec.topic),
            )
            self.copies.append(copy)
            if kind == "inbox":
                self._replayed(copy)

    def _replayed(self, copy: InboxCopy) -> None:
        """Note an exact copy delivered again after newer records of its source: a replay (or a
        relay's re-publication after a crash); the node must not apply it twice."""
        first = self._seen.setdefault((copy.node, copy.kind, copy.digest), copy)
        lane = (copy.node, copy.kind, copy.source)
        highest = self._highest.get(lane, 0)
        if first is not copy and copy.seq < highest:
            self.replays.append((copy, first, highest))
        self._highest[lane] = max(highest, copy.seq)

    def finish(self) -> AuditResult:
        findings: list[Finding] = []
        for node, topic in self.missing_logs:
            findings.append(
                Finding(
                    WARNING, "no-log", node, None, topic, None, None,
                    "代理服务器上没有该节点的日志主题", "no log topic for this node on the broker",
                )
            )
        for chain in self.chains.values():
            findings += chain.finish()
        findings += self._countersignatures()
        findings += self._copies()
        findings += self._replay_findings()
        findings += self._keys()
        findings = [self._filed(f) for f in findings] + self.extra
        order = {VIOLATION: 0, WARNING: 1}
        findings.sort(key=lambda f: (order[f.level], f.node, f.seq or 0, f.offset or 0))
        return AuditResult(
            self._summaries(findings),
            findings,
            dict(self.inbox_records),
            dict(self.inbox_undecodable),
            self.copies,
        )

    def _countersignatures(self) -> list[Finding]:
        found: list[Finding] = []
        countersigned: set[tuple[str, int]] = set()
        for parent, chain in self.chains.items():
            for signed in chain.countersigns():
                cs = signed.event
                assert isinstance(cs, CheckpointCountersigned)
                e = signed.entry
                if not signed.valid:
                    continue
                if not self.topology.has_division(cs.division) or (
                    self.topology.parent(cs.division) != parent
                ):
                    found.append(
                        Finding(
                            VIOLATION, "countersign-invalid", parent, e.seq, e.topic,
                            e.partition, e.offset,
                            f"会签对象 {cs.division} 不是本节点的直接下级",
                            f"countersigned {cs.division}, which is not a direct child",
                        )
                    )
                    continue
                child = self.chains.get(cs.division)
                if child is None:
                    if cs.division in self.audited:
                        found.append(self._log_missing(cs.division, parent, e.seq, cs))
                    continue  # the child's log was not audited
                records = child.candidates(cs.checkpoint_seq)
                if any(r.digest == cs.checkpoint_hash for r in records):
                    countersigned.add((cs.division, cs.checkpoint_seq))
                    continue
                if not records:
                    if child.anchored and cs.checkpoint_seq < (child.floor or 0):
                        continue  # before the time range
                    if cs.checkpoint_seq > child.max_seq:
                        code, zh, en = (
                            "copy-not-in-log",
                            f"{parent} 会签了 {cs.division} seq {cs.checkpoint_seq}，但其日志"
                            f"只到 seq {child.max_seq}（日志被截断）",
                            f"{parent} countersigned {cs.division} seq {cs.checkpoint_seq}, but "
                            f"its log ends at seq {child.max_seq} (truncated)",
                        )
                    else:
                        continue  # reported as missing by the child's chain
                    found.append(
                        Finding(
                            VIOLATION, code, cs.division, cs.checkpoint_seq, child.topic, None,
                            None, zh, en, None,
                            {"countersigned_by": parent, "countersign_seq": e.seq},
                        )
                    )
                    continue
                r = records[0]
                found.append(
                    Finding(
                        VIOLATION, "countersign-mismatch", cs.division, cs.checkpoint_seq,
                        r.topic, r.partition, r.offset,
                        f"{parent} 在其日志 seq {e.seq} 会签的检查点"
                        f"（哈希 {cs.checkpoint_hash[:12]}…）"
                        f"与 {cs.division} 日志中 seq {cs.checkpoint_seq} 的记录不符："
                        f"{cs.division} 改写了已会签的日志",
                        f"the checkpoint {parent} countersigned at its seq {e.seq} (hash "
                        f"{cs.checkpoint_hash[:12]}…) is not the record at seq "
                        f"{cs.checkpoint_seq} of {cs.division}'s log: {cs.division} rewrote "
                        "its countersigned log",
                        None, {"countersigned_by": parent, "countersign_seq": e.seq},
                    )
                )
        for node, chain in self.chains.items():
            above = self.topology.parent(node) if self.topology.has_division(node) else None
            if above is None or above not in self.chains:
                continue
            for signed in chain.checkpoints():
                e = signed.entry
                if signed.valid and (node, e.seq) not in countersigned:
                    found.append(
                        Finding(
                            WARNING, "not-countersigned", node, e.seq, e.topic, e.partition,
                            e.offset,
                            f"检查点 seq {e.seq} 尚未被上级 {above} 会签",
                            f"checkpoint seq {e.seq} is not (yet) countersigned by {above}",
                        )
                    )
        return found

    def _log_missing(
        self, node: str, parent: str, parent_seq: int, cs: CheckpointCountersigned
    ) -> Finding:
        return Finding(
            VIOLATION, "log-missing", node, cs.checkpoint_seq,
            f"xinfang.{node}.log", None, None,
            f"没有 {node} 的日志，但 {parent} 在其日志 seq {parent_seq} 会签了它 seq "
            f"{cs.checkpoint_seq} 的检查点（日志被删除）",
            f"no log of {node}, yet {parent} countersigned its checkpoint seq "
            f"{cs.checkpoint_seq} at its own seq {parent_seq} (the log was deleted)",
        )

    def _copies(self) -> list[Finding]:
        found: list[Finding] = []
        missing_reported: set[str] = set()
        for copy in self.copies:
            chain = self.chains.get(copy.source)
            missing = chain is None and copy.source in self.audited
            if missing and copy.source not in missing_reported:
                missing_reported.add(copy.source)
                found.append(
                    Finding(
                        VIOLATION, "log-missing", copy.source, copy.seq, copy.topic,
                        copy.partition, copy.offset,
                        f"没有 {copy.source} 的日志，但 {copy.node} 的收件箱中有它 seq {copy.seq} "
                        "的记录（日志被删除）",
                        f"no log of {copy.source}, yet {copy.node}'s inbox holds its seq "
                        f"{copy.seq} (the log was deleted)",
                    )
                )
            if chain is None or (chain.anchored and copy.seq < (chain.floor or 0)):
                continue
            finding = self._copy_finding(copy, chain)
            if finding is not None:
                found.append(finding)
        return found

    def _copy_finding(self, copy: InboxCopy, chain: NodeChain) -> Finding | None:
        """What is wrong with one copy: nothing if it is, byte for byte, the record at its seq
        of the source's log and signed as that record is."""
        on_chain = chain.canonical(copy.seq)
        held = "收件箱" if copy.kind == "inbox" else "死信"
        held_en = "inbox" if copy.kind == "inbox" else "dead letters"
        evidence: dict[str, Any] = {
            "inbox_of": copy.node, "held_in": copy.kind, "event_id": copy.event_id,
            "type": copy.type, "signature": copy.signature or "ok",
        }
        if on_chain is not None and on_chain.digest == copy.digest:
            # a dead letter is signed by the node that refused it (decision 021), not the source
            if copy.signature is None or copy.kind != "inbox" or not chain.is_signed_record(
                copy.seq, copy.digest
            ):
                return None
            code = "copy-bad-signature"
            zh = (f"{copy.node} {held}中 {copy.source} seq {copy.seq} 的副本内容与日志相同，"
                  f"但签名不成立（{copy.signature}）：记录头被改动或去掉了签名")
            en = (f"the copy of {copy.source} seq {copy.seq} in {copy.node}'s {held_en} has the "
                  f"log record's bytes but no valid signature ({copy.signature}): its headers "
                  "were altered or its signature stripped")
        elif copy.seq > chain.max_seq:
            code = "copy-beyond-head"
            zh = (f"{copy.node} {held}中 {copy.source} seq {copy.seq} 的副本（{copy.type}）超出"
                  f"其日志末尾 seq {chain.max_seq}：来源从未写入此记录（伪造）")
            en = (f"the copy of {copy.source} seq {copy.seq} ({copy.type}) in {copy.node}'s "
                  f"{held_en} is beyond the end of its log (seq {chain.max_seq}): the source "
                  "never wrote it (forged)")
            evidence["log_head"] = chain.max_seq
        else:
            records = chain.candidates(copy.seq)
            if not records and not any(u[2] == copy.seq for u in chain.undecodable):
                code = "copy-not-in-log"
            else:  # differs from the record on the chain (or equals one that is not on it)
                code = "copy-mismatch"
            log_offset = on_chain.offset if on_chain else None
            evidence["log_offset"] = log_offset
            zh = (f"{copy.node} {held}中 {copy.source} seq {copy.seq} 的副本（{copy.type}）"
                  f"与 {copy.source} 日志中的记录"
                  + ("不符：日志记录被改动，或副本被伪造" if records
                     else "不存在：日志记录被删除，或副本被伪造"))
            en = (f"the copy of {copy.source} seq {copy.seq} ({copy.type}) in {copy.node}'s "
                  + (f"{held_en} differs from the log record (offset {log_offset}): the log "
                     "record was altered, or the copy was forged" if records
                     else f"{held_en} is not in the source's log: deleted from the log, or "
                     "forged"))
        return Finding(
            VIOLATION, code, copy.source, copy.seq, copy.topic, copy.partition, copy.offset,
            zh, en, None, evidence, copy.file,
        )

    def _replay_findings(self) -> list[Finding]:
        return [
            Finding(
                WARNING, "copy-replayed", copy.source, copy.seq, copy.topic, copy.partition,
                copy.offset,
                f"{copy.node} 收件箱中 {copy.source} seq {copy.seq} 的同一记录在 offset "
                f"{first.offset} 已投递过，又在 seq {highest} 之后再次出现（重放或代理重发）",
                f"{copy.source} seq {copy.seq} was delivered to {copy.node}'s inbox at offset "
                f"{first.offset} and again after seq {highest} (a replay, or a relay's "
                "re-publication)",
                None, {"first_offset": first.offset, "after_seq": highest,
                       "event_id": copy.event_id},
                copy.file,
            )
            for copy, first, highest in self.replays
        ]

    def _filed(self, finding: Finding) -> Finding:
        """The finding located in its export file, when the record was read from one."""
        file = self.files.get(finding.topic)
        if file is None or finding.file is not None:
            return finding
        return replace(finding, file=file)

    def _keys(self) -> list[Finding]:
        found: list[Finding] = []
        for node, key in sorted(self.keys.pinned.items()):
            chain = self.chains[node]
            parent = self.topology.parent(node) if self.topology.has_division(node) else None
            anchor = f"，由上级 {parent} 会签担保" if parent else "，且为根节点：请发布其公钥"
            anchor_en = (
                f", vouched for by {parent}'s countersignatures"
                if parent
                else "; it is the root node: publish its key"
            )
            found.append(
                Finding(
                    WARNING, "key-not-published", node, None, chain.topic, None, None,
                    f"未找到已发布的公钥；信任其首个签名记录的公钥 {key_id(key)}{anchor}",
                    f"no published key; trusting the key of its first signed record, "
                    f"{key_id(key)}{anchor_en}",
                )
            )
        return found

    def _summaries(self, findings: list[Finding]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for node, chain in sorted(self.chains.items()):
            checkpoints = [s for s in chain.checkpoints() if s.valid]
            key = self.keys.expected(node)
            tails = [f for f in findings if f.node == node and f.code == "unsigned-tail"]
            out[node] = {
                "topic": chain.topic,
                "records": chain.records,
                "distinct": len(chain.by_seq),
                "redeliveries": chain.redeliveries,
                "first_seq": chain.floor,
                "last_seq": chain.max_seq,
                "checkpoints": len(checkpoints),
                "last_checkpoint_seq": max((s.entry.seq for s in checkpoints), default=None),
                "countersigns": len([s for s in chain.countersigns() if s.valid]),
                "key_id": key_id(key) if key else None,
                "key_published": node in self.keys.published,
                "unsigned_tail": [tails[0].seq, tails[0].related_seq] if tails else None,
                "signed_records": len(chain.signed_seqs),
                "unsigned_before_signing": len(chain.legacy),
                "forged": len([f for f in findings if f.node == node and f.code in FORGED_CODES]),
                "violations": len([f for f in findings if f.node == node and f.level == VIOLATION]),
            }
        return out
