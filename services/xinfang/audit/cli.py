"""`xinfang audit …` (verify, report, export, checkpoint); `xinfang keys …` is ops/keys.py."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ..chain.keys import (
    Keyring,
    published_keys_dir,
)
from ..chain.signing import millis
from ..domain.client_time import parse_client_time
from ..domain.topology import Topology
from .replay import Progress, TimeRange


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


def parse_time(text: str) -> datetime:
    """ISO 8601; a date or a time without offset is Beijing time (the API's reading too)."""
    try:
        return parse_client_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _say(f"无法识别的时间：{text}", f"not an ISO 8601 time: {text}")
        ) from None


def _topology(args: argparse.Namespace) -> tuple[Topology, Path | None]:
    from ..topology_file import load_topology

    path = args.topology or os.environ.get("XINFANG_TOPOLOGY")
    return load_topology(path), Path(path) if path else None


def _nodes(args: argparse.Namespace, topology: Topology) -> list[str] | None:
    if not args.nodes:
        return None
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    unknown = [n for n in nodes if not topology.has_division(n)]
    if unknown:
        raise SystemExit(
            _say(f"拓扑中没有这些节点：{', '.join(unknown)}", f"not in the topology: {unknown}")
        )
    return nodes


def _window(args: argparse.Namespace) -> TimeRange:
    return TimeRange(
        millis(args.since) if args.since else None, millis(args.until) if args.until else None
    )


def _keyring(args: argparse.Namespace, topology_path: Path | None) -> Keyring:
    folder = args.public_keys or os.environ.get("XINFANG_PUBLIC_KEYS")
    path = Path(folder) if folder else published_keys_dir(topology_path)
    return Keyring.from_dir(path)  # a KeyFileError is printed by cli.main (exit 2)


def _bootstrap(args: argparse.Namespace) -> str:
    return str(
        args.bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )


def _prefix(args: argparse.Namespace) -> str:
    return str(
        args.topic_prefix
        if args.topic_prefix is not None
        else os.environ.get("XINFANG_TOPIC_PREFIX", "")
    )


def _catalogue(args: argparse.Namespace) -> Any:
    """The reader schemas (and released versions) to decode with: --schema-dir,
    XINFANG_SCHEMA_DIR, else the installed schemas/."""
    from ..codec.schemas import SchemaCatalogue

    folder = args.schema_dir or os.environ.get("XINFANG_SCHEMA_DIR")
    if folder and not (Path(folder) / "events").is_dir():
        raise SystemExit(
            _say(f"模式目录须含 events/：{folder}", f"schema folder must hold events/: {folder}")
        )
    return SchemaCatalogue(Path(folder) if folder else None)


def _audit(args: argparse.Namespace, compliance: bool) -> Any:
    from ..settings import rules_dir_setting
    from .run import Source, run_audit

    topology, topology_path = _topology(args)
    keyring = _keyring(args, topology_path)
    progress = Progress(quiet=args.quiet)
    if args.source:
        source = Source(folder=Path(args.source))
        progress.note(f"回放导出的日志：{args.source}", f"replaying exported logs: {args.source}")
    else:
        source = Source(bootstrap_servers=_bootstrap(args), prefix=_prefix(args))
        where = f"Kafka {source.bootstrap_servers} {source.prefix or '—'}"
        progress.note(f"从头回放节点日志：{where}", f"replaying node logs from the start: {where}")
    if keyring.keys:
        progress.note(
            f"已发布公钥 {len(keyring.keys)} 个（{keyring.folder}）",
            f"{len(keyring.keys)} published keys ({keyring.folder})",
        )
    return run_audit(
        topology,
        source,
        nodes=_nodes(args, topology),
        keyring=keyring,
        window=_window(args),
        inboxes=not args.no_inboxes,
        compliance=compliance,
        now=getattr(args, "now", None),
        progress=progress,
        catalogue=_catalogue(args),
        rules_dir=rules_dir_setting(),  # XINFANG_RULES_DIR, as the nodes count deadlines
    )


def cmd_verify(args: argparse.Namespace) -> int:
    from .report import outcome_json, text_summary

    outcome = _audit(args, compliance=False)
    if args.json:
        import json

        print(json.dumps(outcome_json(outcome), ensure_ascii=False, indent=2, default=str))
    else:
        print(text_summary(outcome))
    return 0 if outcome.ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    from .report import dumps, html_report, text_summary

    outcome = _audit(args, compliance=True)
    if args.html:
        path = Path(args.html)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html_report(outcome), encoding="utf-8")
        print(_say(f"HTML 报告：{path}", f"HTML report: {path}"), file=sys.stderr)
    if args.json:
        print(dumps(outcome))
    else:
        print(text_summary(outcome))
    return 0 if outcome.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    from .run import run_export

    topology, _ = _topology(args)
    progress = Progress(quiet=args.quiet)
    out = Path(args.out)
    progress.note(f"导出节点日志到 {out}", f"exporting node logs to {out}")
    manifest = run_export(
        topology,
        _bootstrap(args),
        _prefix(args),
        out,
        nodes=_nodes(args, topology),
        window=_window(args),
        inboxes=not args.no_inboxes,
        progress=progress,
        catalogue=_catalogue(args),
        deadletters=args.dead_letters,
    )
    print(_say(f"已导出，清单：{manifest}", f"exported; manifest: {manifest}"))
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    import json

    from ..client import NodeClient

    url = args.api or os.environ.get("XINFANG_API")
    if not url:
        raise SystemExit(_say("请用 --api 指定节点地址", "pass the node URL with --api"))
    print(json.dumps(NodeClient(url).post("/admin/checkpoint", {}), ensure_ascii=False, indent=2))
    return 0


def _source_options(p: argparse.ArgumentParser, files: bool = True) -> None:
    p.add_argument("--bootstrap-servers", help="Kafka 地址 / KAFKA_BOOTSTRAP_SERVERS")
    p.add_argument("--topic-prefix", help="主题前缀 / XINFANG_TOPIC_PREFIX")
    p.add_argument("--topology", help="拓扑文件 / topology file (XINFANG_TOPOLOGY)")
    p.add_argument("--nodes", help="只审计这些节点，逗号分隔 / only these divisions (a,b,c)")
    p.add_argument("--since", type=parse_time, help="起始时间（ISO 8601，默认北京时间）/ from")
    p.add_argument("--until", type=parse_time, help="截止时间（ISO 8601）/ until")
    p.add_argument("--no-inboxes", action="store_true", help="不读收件箱 / logs only")
    p.add_argument("--quiet", action="store_true", help="不显示进度 / no progress lines")
    p.add_argument("--schema-dir", help="模式目录（含 history/）/ schemas/ (XINFANG_SCHEMA_DIR)")
    if files:
        p.add_argument(
            "--from", dest="source", metavar="DIR", help="从导出文件校验 / verify exported files"
        )
        p.add_argument(
            "--public-keys", help="已发布公钥目录 / published keys (default: keys/ by topology)"
        )


def add_audit_commands(sub: Any) -> None:
    audit = sub.add_parser("audit", help="审计：回放、校验、导出、报告 / auditors' tools")
    actions = audit.add_subparsers(dest="audit_cmd", required=True)

    verify = actions.add_parser(
        "verify", help="回放并校验哈希链、签名与会签 / replay and verify the logs"
    )
    _source_options(verify)
    verify.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    verify.set_defaults(func=cmd_verify)

    report = actions.add_parser(
        "report", help="校验并重建事项、检查期限与指标 / verify, rebuild cases, compliance"
    )
    _source_options(report)
    report.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    report.add_argument("--html", help="写出 HTML 报告 / write the HTML report to this file")
    report.add_argument(
        "--now", type=parse_time, help="统计截止时间 / reference time (default: now)"
    )
    report.set_defaults(func=cmd_report)

    export = actions.add_parser(
        "export", help="导出日志为 Avro 容器文件 / export logs to Avro container files"
    )
    _source_options(export, files=False)
    export.add_argument("--out", required=True, help="输出目录 / output folder")
    export.add_argument(
        "--dead-letters", action="store_true",
        help="也导出死信主题 / also export the dead-letter topics (<division>.deadletter.avro)",
    )
    export.set_defaults(func=cmd_export)

    checkpoint = actions.add_parser(
        "checkpoint", help="让节点立即签署检查点 / make a node sign a checkpoint now"
    )
    checkpoint.add_argument("--api", help="节点 API 地址 / node URL (XINFANG_API)")
    checkpoint.set_defaults(func=cmd_checkpoint)


    from .trail_cli import add_trail_command

    add_trail_command(actions, parse_time)  # `audit trail` (decision 027)
