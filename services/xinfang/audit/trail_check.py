"""`audit verify` on the operator trails (`xinfang.<division>.trail`, decision 027).

Per node, in offset order, every entry (identity/trail_record.py) must decode, name the node,
carry a valid Ed25519 signature by the node's key — the published key, else the key its log's
signed checkpoints use (the shared `KeyBook`) — and link by `seq` and `prev_hash` to the entry
before. An altered entry fails its signature (`trail-altered`, at its seq and offset); a deleted
one leaves its seq missing (`trail-missing`) and its successor's link broken. The last entries
of a trail can be removed without a trace in the topic alone: the node database
(`GET /api/audit/trail`) holds them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..chain.keys import KeyBook
from ..chain.links import record_hash
from ..chain.verifier import Entry, LogChain, Placed
from ..identity.trail_record import TrailFormatError, decode, signature_valid
from ..topics import TopicNames
from .records import LogRecord
from .replay import KafkaSource, Progress, TimeRange
from .verify import CODES, VIOLATION, WARNING, Finding

TRAIL_CODES: dict[str, tuple[str, str]] = {
    "trail-undecodable": ("操作审计记录无法解码", "trail entry undecodable"),
    "trail-wrong-node": ("操作审计记录来源不符", "trail entry of another node"),
    "trail-altered": ("操作审计记录被改动（签名无效）", "trail entry altered (bad signature)"),
    "trail-missing": ("操作审计记录缺失（被删除）", "trail entries missing (deleted)"),
    "trail-chain-broken": ("操作审计记录哈希链断裂", "trail hash chain broken"),
    "trail-seq-conflict": ("同一序号两条不同审计记录", "two trail entries with one seq"),
    "trail-out-of-order": ("操作审计记录顺序错乱", "trail entries out of order"),
    "trail-key-unknown": ("无公钥，未校验审计记录签名", "no key: trail signatures unchecked"),
}
CODES.update(TRAIL_CODES)  # titles for the reports, beside the log's codes


class TrailChain(LogChain):
    """The streaming verifier of one node's trail topic."""

    def __init__(self, node: str, topic: str, keys: KeyBook, *, anchored: bool = False) -> None:
        super().__init__(anchored=anchored)
        self.node, self.topic, self.keys = node, topic, keys
        self.findings: list[Finding] = []
        self.records = 0
        self.altered: set[int] = set()

    def feed(self, rec: LogRecord) -> None:
        self.records += 1
        try:
            entry = decode(rec.value)
        except TrailFormatError as exc:
            self._add(VIOLATION, "trail-undecodable", None, rec, f"无法解码：{exc}", f"{exc}")
            return
        if entry.node != self.node:
            self._add(
                VIOLATION, "trail-wrong-node", entry.seq, rec,
                f"记录的节点是 {entry.node}，不是 {self.node}",
                f"the entry names node {entry.node}, not {self.node}",
            )  # fmt: skip
            return
        placed = Entry(
            entry.seq, record_hash(rec.value), entry.prev_hash, rec.topic, rec.partition,
            rec.offset, entry.signature, "trail", rec.timestamp_ms,
        )  # fmt: skip
        added = self.add(placed)
        if added.placed is Placed.REPUBLISHED:
            return  # the relay published the same bytes again: harmless
        key = self.keys.expected(self.node)
        if key is not None and not signature_valid(entry, key):
            self.altered.add(entry.seq)
            self._add(
                VIOLATION, "trail-altered", entry.seq, rec,
                f"seq {entry.seq} 的签名无效：内容被改动（人员 {entry.person or '—'}，动作 "
                f"{entry.action or '—'}，结果 {entry.status}）",
                f"seq {entry.seq} does not verify: the entry was altered (person "
                f"{entry.person or '-'}, action {entry.action or '-'}, status {entry.status})",
                {"person": entry.person, "action": entry.action, "status": entry.status},
            )  # fmt: skip
        if added.placed is Placed.CONFLICT:
            self._add(
                VIOLATION, "trail-seq-conflict", entry.seq, rec,
                f"seq {entry.seq} 有不止一条不同记录", f"seq {entry.seq} has more than one entry",
            )  # fmt: skip
        elif added.behind is not None:
            self._add(
                VIOLATION, "trail-out-of-order", entry.seq, rec,
                f"seq {entry.seq} 排在 seq {added.behind.seq} 之后",
                f"seq {entry.seq} comes after seq {added.behind.seq}",
            )  # fmt: skip

    def _add(
        self, level: str, code: str, seq: int | None, rec: LogRecord | None, zh: str, en: str,
        evidence: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.findings.append(
            Finding(
                level, code, self.node, seq, self.topic, rec.partition if rec else None,
                rec.offset if rec else None, zh, en, None, evidence or {},
            )
        )  # fmt: skip

    def finish(self) -> list[Finding]:
        if self.keys.expected(self.node) is None and self.records:
            self._add(
                WARNING, "trail-key-unknown", None, None,
                f"节点 {self.node} 没有已发布（或日志中使用）的公钥，审计记录签名未校验",
                f"no published (or log-pinned) key of {self.node}: trail signatures unchecked",
            )  # fmt: skip
        for entry, pred in self.broken_links():
            if pred is not None and pred.seq in self.altered:
                continue  # reported: the predecessor's signature already names it
            self.findings.append(
                Finding(
                    VIOLATION, "trail-chain-broken", self.node, entry.seq, entry.topic,
                    entry.partition, entry.offset,
                    f"seq {entry.seq} 的 prev_hash 与前一条记录不符",
                    f"prev_hash of seq {entry.seq} does not match the entry before it",
                    entry.seq - 1,
                )
            )  # fmt: skip
        for first, last in _runs(self.missing()):
            after = self.by_seq.get(last + 1)
            span = f"seq {first}" if first == last else f"seq {first}–{last}"
            self.findings.append(
                Finding(
                    VIOLATION, "trail-missing", self.node, first, self.topic,
                    after.partition if after else None, after.offset if after else None,
                    f"{span} 缺失（审计记录被删除）", f"{span} missing (trail entries deleted)",
                    last if last != first else None, {"last_missing": last},
                )
            )  # fmt: skip
        return self.findings


def _runs(seqs: Iterable[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for s in seqs:
        if runs and runs[-1][1] == s - 1:
            runs[-1] = (runs[-1][0], s)
        else:
            runs.append((s, s))
    return runs


def verify_trail(
    node: str, topic: str, records: Iterable[LogRecord], keys: KeyBook, anchored: bool = False
) -> TrailChain:
    """Verify one trail from records in offset order; the chain holds counts and findings."""
    chain = TrailChain(node, topic, keys, anchored=anchored)
    for rec in records:
        chain.feed(rec)
    chain.finish()
    return chain


async def read_trails(
    kafka: KafkaSource,
    nodes: list[str],
    keys: KeyBook,
    window: TimeRange,
    progress: Progress,
) -> list[TrailChain]:
    """Verify the trail topic of each of `nodes` this client may read (audit administrators;
    an auditor sees none and gets none)."""
    names = TopicNames(kafka.prefix)
    chains = []
    for node in nodes:
        topic = names.trail(node)
        if not kafka.has(topic):
            continue
        chain = TrailChain(node, topic, keys, anchored=window.bounded_below)
        await kafka.read(topic, chain.feed, window, progress)
        chain.finish()
        chains.append(chain)
    if chains:
        entries = sum(c.records for c in chains)
        progress.note(
            f"已校验 {len(chains)} 个操作审计记录主题，{entries} 条",
            f"{len(chains)} operator trails verified, {entries} entries",
        )
    return chains
