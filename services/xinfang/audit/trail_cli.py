"""`xinfang audit trail`: read a node's operator trail (audit administrators, decision 027).

From the node (`--api URL`: `GET /api/audit/trail`, which only an audit administrator may call)
or from the broker (`xinfang.<division>.trail`, with the audit administrator's Kafka
credentials). Filters: `--person`, `--since`, `--until` (ISO 8601, Beijing time without an
offset), `--action` (operation id), `--case`. A table in Chinese and English, or `--json`.
Every entry shown is checked against the node's published key (the trail's chain and
signatures); a broken one is flagged and the command exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ..chain.keys import KeyBook, published_keys_dir
from ..chain.signing import millis
from ..domain.calendar import BEIJING
from ..identity.trail_record import TrailEntry, TrailFormatError, decode, signature_valid
from ..identity.trail_redact import redact
from ..topics import TopicNames
from .records import LogRecord
from .replay import KafkaSource, Progress, TimeRange

COLUMNS = (
    ("时间", "time"), ("人员", "person"), ("角色", "roles"), ("单位", "body"),
    ("动作", "action"), ("事项", "case"), ("结果", "outcome"), ("理由", "reason"),
    ("来源地址", "source"), ("校验", "check"),
)  # fmt: skip


def _entries_from_api(url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    from ..client import NodeClient

    params = {
        k: v
        for k, v in (
            ("person", args.person), ("action", args.action), ("case", args.case),
            ("since", args.since.isoformat() if args.since else None),
            ("until", args.until.isoformat() if args.until else None),
        )
        if v is not None
    }  # fmt: skip
    client, out, after = NodeClient(url), [], 0
    while True:
        page = client.get("/api/audit/trail?" + urlencode({**params, "after": after}))
        out += page["entries"]
        if page["next_after"] is None or len(out) >= args.limit:
            return out[: args.limit]
        after = page["next_after"]


def _matches(entry: TrailEntry, args: argparse.Namespace) -> bool:
    return (
        (args.person is None or entry.person == args.person)
        and (args.action is None or entry.action == args.action)
        and (args.case is None or entry.case_id == args.case)
    )


async def _from_kafka(bootstrap: str, prefix: str, node: str, window: TimeRange) -> list[LogRecord]:
    records: list[LogRecord] = []
    async with KafkaSource(bootstrap, prefix) as kafka:
        topic = TopicNames(prefix).trail(node)
        if kafka.has(topic):
            await kafka.read(topic, records.append, window, Progress(quiet=True))
    return records


def check(entries: list[TrailEntry], key: bytes | None) -> dict[int, str]:
    """seq → what is wrong with the entry as shown (signature; link to the entry shown before
    it when that is its predecessor); entries without a finding are not listed."""
    problems: dict[int, str] = {}
    previous: TrailEntry | None = None
    for entry in entries:
        if key is None:
            problems[entry.seq] = "未校验 / unchecked (no key)"
        elif not signature_valid(entry, key):
            problems[entry.seq] = "签名无效 / bad signature"
        elif (
            previous is not None
            and previous.seq == entry.seq - 1
            and previous.seq not in problems  # an altered predecessor is named already
            and entry.prev_hash != previous.digest
        ):
            problems[entry.seq] = "链断裂 / chain broken"
        previous = entry
    return problems


def _row(entry: TrailEntry, problem: str | None) -> list[str]:
    at = datetime.fromtimestamp(entry.at_ms / 1000, UTC).astimezone(BEIJING)
    outcome = str(entry.status) + (f" {entry.code}" if entry.code else "")
    if entry.sign_in:
        outcome += f" 登录{'成功' if entry.sign_in == 'ok' else '失败'}/sign-in {entry.sign_in}"
    return [
        at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], entry.person or "—",
        ",".join(entry.roles) or "—", entry.body or "—", entry.action or entry.http,
        entry.case_id or "—", outcome, redact(entry.reason) or "—", entry.source or "—",
        problem or "✓",
    ]  # fmt: skip  (a reason signed before trail_redact existed is masked when shown)


def table(entries: list[TrailEntry], problems: dict[int, str]) -> str:
    """The entries as an aligned text table with a Chinese / English header."""
    rows = [[f"{zh}/{en}" for zh, en in COLUMNS]]
    rows += [_row(e, problems.get(e.seq)) for e in entries]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    lines.append(f"共 {len(entries)} 条 / {len(entries)} entries")
    return "\n".join(line.rstrip() for line in lines)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # CJK take two columns


def cmd_trail(args: argparse.Namespace, say: Callable[[str, str], str]) -> int:
    from ..chain.keys import Keyring
    from ..topology_file import load_topology

    topology_path = args.topology or os.environ.get("XINFANG_TOPOLOGY")
    topology = load_topology(topology_path)
    folder = args.public_keys or os.environ.get("XINFANG_PUBLIC_KEYS")
    keys = Keyring.from_dir(
        Path(folder)
        if folder
        else published_keys_dir(Path(topology_path) if topology_path else None)
    )
    url = args.api or os.environ.get("XINFANG_API")
    if url:
        raw = _entries_from_api(url, args)
        entries = [decode(json.dumps(e).encode()) for e in raw]
    else:
        if not args.node:
            raise SystemExit(
                say("请用 --api 或 --node 指定节点", "pass --api URL or --node DIVISION")
            )
        bootstrap = args.bootstrap_servers or os.environ.get(
            "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"
        )
        prefix = (
            args.topic_prefix
            if args.topic_prefix is not None
            else os.environ.get("XINFANG_TOPIC_PREFIX", "")
        )
        window = TimeRange(
            millis(args.since) if args.since else None, millis(args.until) if args.until else None
        )
        entries = []
        for rec in asyncio.run(_from_kafka(bootstrap, prefix, args.node, window)):
            try:
                entries.append(decode(rec.value))
            except TrailFormatError:
                continue  # `audit verify` reports it with its offset
        entries = [e for e in entries if _matches(e, args)][: args.limit]
    node = entries[0].node if entries else (args.node or "")
    key = KeyBook(keys).expected(node) if node and topology.has_division(node) else None
    problems = check(entries, key)
    if args.json:
        out = [{**e.as_dict(), "check": problems.get(e.seq, "ok")} for e in entries]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(table(entries, problems))
    bad = [s for s, p in problems.items() if key is not None and p]
    return 1 if bad else 0


def add_trail_command(actions: Any, parse_time: Callable[[str], datetime]) -> None:
    trail = actions.add_parser(
        "trail", help="读操作审计记录（审计管理员）/ read the operator trail (audit administrators)"
    )
    trail.add_argument("--api", help="节点 API 地址 / node URL (XINFANG_API)")
    trail.add_argument("--node", help="从 Kafka 读该节点的记录 / read this division's trail topic")
    trail.add_argument("--bootstrap-servers", help="Kafka 地址 / KAFKA_BOOTSTRAP_SERVERS")
    trail.add_argument("--topic-prefix", help="主题前缀 / XINFANG_TOPIC_PREFIX")
    trail.add_argument("--topology", help="拓扑文件 / topology file (XINFANG_TOPOLOGY)")
    trail.add_argument("--public-keys", help="已发布公钥目录 / published keys")
    trail.add_argument("--person", help="人员 / person id")
    trail.add_argument("--since", type=parse_time, help="起始时间（ISO 8601，默认北京时间）/ from")
    trail.add_argument("--until", type=parse_time, help="截止时间（不含）/ until (exclusive)")
    trail.add_argument("--action", help="动作（接口操作名）/ action (operation id)")
    trail.add_argument("--case", help="事项编号 / case id")
    trail.add_argument("--limit", type=int, default=1000, help="最多条数 / at most (1000)")
    trail.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    trail.set_defaults(func=lambda args: cmd_trail(args, _say))


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"
