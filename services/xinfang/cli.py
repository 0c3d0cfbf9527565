"""The `xinfang` command line: run a node, drive cases through a node's API, run the demo.

Messages are Chinese first; `--lang en` (or XINFANG_LANG=en) switches to English.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .client import ApiError, NodeClient
from .domain.errors import ConfigurationError, XinfangError


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


def _print_json(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def cmd_node_run(args: argparse.Namespace) -> int:
    from .node.app import run_node
    from .settings import NodeSettings

    settings = NodeSettings.from_env(
        division=args.division,
        bootstrap_servers=args.bootstrap_servers,
        topology_path=args.topology,
        topic_prefix=args.topic_prefix,
        db_url=args.db_url,
        data_dir=args.data_dir,
        http_host=args.http_host,
        http_port=args.http_port,
        sweep_interval_s=args.sweep_interval,
        clock_file=args.clock_file,
        key_file=args.key_file,
        public_keys_dir=args.public_keys,
        checkpoint_interval_s=args.checkpoint_interval,
        schema_dir=args.schema_dir,
    )
    run_node(settings)
    return 0


def _client(args: argparse.Namespace) -> NodeClient:
    url = args.api or os.environ.get("XINFANG_API")
    if not url:
        raise SystemExit(_say("请用 --api 指定节点地址", "pass the node URL with --api"))
    from .identity.login import access_token

    return NodeClient(url, token=access_token())  # `xinfang login`'s token, if signed in


def cmd_case(args: argparse.Namespace) -> int:
    client = _client(args)
    action = args.action
    if action == "register":
        body = json.loads(Path(args.file).read_text(encoding="utf-8")) if args.file else {}
        result = client.post("/api/cases", body)
    elif action == "show":
        result = client.get(f"/api/cases/{args.case_id}")
    elif action == "list":
        result = client.get("/api/cases")
        _warn_calendar(client.get("/health").get("calendar"))
    elif action == "timeline":
        result = client.get(f"/api/cases/{args.case_id}/timeline")
        if not args.json:
            for entry in result["timeline"]:
                print(
                    f"{entry['occurred_at'][:19]}  [{entry['division']} {entry['division_name']}]"
                    f"  {entry['label_zh']}  {entry['summary_zh']}"
                )
            return 0
    elif action == "do":
        payload: dict[str, Any] = json.loads(args.data) if args.data else {}
        for item in args.set or []:
            key, _, raw = item.partition("=")
            try:
                payload[key] = json.loads(raw)
            except ValueError:
                payload[key] = raw
        result = client.post(f"/api/cases/{args.case_id}/{args.command_name}", payload)
    else:  # pragma: no cover - argparse restricts the choices
        raise SystemExit(2)
    _print_json(result)
    return 0


def _warn_calendar(status: Any) -> None:
    """Print the node's holiday-calendar warning (DOMAIN.md §11) to stderr, Chinese first."""
    if isinstance(status, dict) and status.get("status") == "warning":
        print(
            _say(
                f"警告：{status.get('message_zh', '')}", f"warning: {status.get('message_en', '')}"
            ),
            file=sys.stderr,
        )


def cmd_calendar(args: argparse.Namespace) -> int:
    """`xinfang calendar status` (a node's, with --api; else the local holiday files on
    today's Beijing date) and `xinfang calendar provisional YEAR` (a provisional file)."""
    from .rules_file import render_provisional_year
    from .settings import rules_dir_setting

    if args.action == "provisional":
        try:
            sys.stdout.write(render_provisional_year(args.year))
        except KeyError:
            print(_say("暂定日历只能计算 2024–2099 年", "years 2024–2099 only"), file=sys.stderr)
            return 2
        return 0
    url = args.api or os.environ.get("XINFANG_API")
    if url:
        status = NodeClient(url).get("/health").get("calendar", {})
    else:
        status = _local_calendar_status(args.rules_dir or rules_dir_setting(), args.date)
    if args.json:
        _print_json(status)
    else:
        official = ", ".join(str(y) for y in status.get("official_years", []))
        print(_say(f"正式节假日安排：{official}", f"official holiday schedules: {official}"))
        if status.get("status") == "warning":
            print(_say(f"警告：{status['message_zh']}", f"warning: {status['message_en']}"))
        else:
            print(_say("日历完整", "calendar complete"))
    return 1 if status.get("status") == "warning" else 0


def _local_calendar_status(rules_dir: str | Path | None, day: str | None) -> dict[str, Any]:
    from datetime import date, datetime

    from .domain.calendar import BEIJING, NATIONAL, calendar_status
    from .rules_file import load_calendar

    try:
        today = date.fromisoformat(day) if day else datetime.now(BEIJING).date()
    except ValueError:
        raise SystemExit(_say(f"日期格式应为 YYYY-MM-DD：{day}", f"not a date: {day}")) from None
    return calendar_status(load_calendar(NATIONAL, rules_dir), today)


def cmd_demo(args: argparse.Namespace) -> int:
    from .devtools.demo import run_demo, totp_code

    if args.totp:
        print(totp_code(Path(args.output), args.totp))
        return 0
    return run_demo(Path(args.output), keep_running=args.keep_running)


def _node_db(args: argparse.Namespace) -> str:
    return f"sqlite:///{Path(args.data_dir) / f'node-{args.node}.sqlite3'}"


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from .ops.deadletters import chain_heads, list_sync, redrive_sync
    from .topics import TopicNames

    bootstrap = args.bootstrap_servers or os.environ.get(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"
    )
    topics = TopicNames(args.topic_prefix or os.environ.get("XINFANG_TOPIC_PREFIX", ""))
    if args.redrive:
        # with the node's database, a chain refusal is re-driven if it fits the chain now
        database = args.db_url or (_node_db(args) if args.data_dir else None)
        heads = [chain_heads(database)] if database else []
        verdicts = redrive_sync(bootstrap, topics, args.node, args.redrive, *heads)
        for v in verdicts:
            x = v.letter
            inbox = topics.inbox(args.node)
            print(
                _say(f"偏移量 {x.offset}（{x.reason}）已重新投递到 {inbox}",
                     f"offset {x.offset} ({x.reason}) re-driven to {inbox}")
                if v.redrive
                else _say(f"偏移量 {x.offset} 未重新投递：{v.zh}",
                          f"offset {x.offset} not re-driven: {v.en}")
            )  # fmt: skip
        return 0 if all(v.redrive for v in verdicts) else 1  # 1: some would be refused again
    letters = list_sync(bootstrap, topics, args.node)
    if args.json:
        _print_json(
            [
                {
                    "offset": x.offset,
                    "reason": x.reason,
                    "detail": x.detail,
                    "bytes": len(x.value),
                    "key": (x.key or b"").decode("utf-8", "replace"),
                    "timestamp_ms": x.timestamp_ms,
                }
                for x in letters
            ]
        )
        return 0
    print(
        _say(
            f"{topics.deadletter(args.node)}：{len(letters)} 条死信",
            f"{topics.deadletter(args.node)}: {len(letters)} dead letters",
        )
    )
    for x in letters:
        print(f"  #{x.offset}  {x.reason:<28} {len(x.value):>6} B  {x.detail[:80]}")
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from .contract.catalogue import schemas_command
    from .topics import TopicNames

    bootstrap = args.bootstrap_servers or os.environ.get(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"
    )
    topics = TopicNames(args.topic_prefix or os.environ.get("XINFANG_TOPIC_PREFIX", ""))
    folder = getattr(args, "folder", None)
    return schemas_command(bootstrap, topics, args.action, folder, args.json, _say)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xinfang", description="信访事项跨层级流转系统 / multi-level petition case transfer"
    )
    # Kafka client security for every subcommand (kafka_security.py; flags win over env)
    parser.add_argument(
        "--kafka-security-protocol",
        choices=["SASL_SSL", "PLAINTEXT"],
        help="XINFANG_KAFKA_SECURITY_PROTOCOL",
    )
    parser.add_argument("--kafka-ca-file", help="CA 证书 / XINFANG_KAFKA_CA_FILE")
    parser.add_argument("--kafka-credentials", help="凭据文件 / XINFANG_KAFKA_CREDENTIALS")
    sub = parser.add_subparsers(dest="command", required=True)

    node = sub.add_parser("node", help="节点 / node").add_subparsers(dest="node_cmd", required=True)
    run = node.add_parser("run", help="运行一个节点 / run one node")
    run.add_argument("--division", help="行政区划代码 / division code (XINFANG_DIVISION)")
    run.add_argument("--bootstrap-servers", help="Kafka 地址 / KAFKA_BOOTSTRAP_SERVERS")
    run.add_argument("--topology", help="拓扑文件 / topology file (XINFANG_TOPOLOGY)")
    run.add_argument("--topic-prefix", help="主题前缀 / topic prefix (XINFANG_TOPIC_PREFIX)")
    run.add_argument("--db-url", help="数据库 URL / SQLAlchemy URL (XINFANG_DB_URL)")
    run.add_argument("--data-dir", help="数据目录 / data folder (XINFANG_DATA_DIR)")
    run.add_argument("--http-host", help="HTTP 监听地址 / XINFANG_HTTP_HOST")
    run.add_argument("--http-port", help="HTTP 端口 / XINFANG_HTTP_PORT")
    run.add_argument("--sweep-interval", help="期限检查间隔（秒）/ XINFANG_SWEEP_INTERVAL")
    run.add_argument("--clock-file", help="仅测试用：时钟偏移文件 / test-only XINFANG_CLOCK_FILE")
    run.add_argument("--key-file", help="节点签名私钥 / Ed25519 private key (XINFANG_KEY_FILE)")
    run.add_argument("--public-keys", help="已发布公钥目录 / published keys (XINFANG_PUBLIC_KEYS)")
    run.add_argument(
        "--checkpoint-interval", help="检查点间隔（秒）/ XINFANG_CHECKPOINT_INTERVAL"
    )
    run.add_argument("--schema-dir", help="模式目录（含 history/）/ schemas/ (XINFANG_SCHEMA_DIR)")
    run.set_defaults(func=cmd_node_run)

    case = sub.add_parser("case", help="信访事项 / cases")
    case.add_argument("--api", help="节点 API 地址 / node URL (XINFANG_API)")
    case.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    actions = case.add_subparsers(dest="action", required=True)
    reg = actions.add_parser("register", help="登记 / register from a JSON file")
    reg.add_argument("file", help="登记内容 JSON 文件 / JSON file with the case file")
    actions.add_parser("list", help="列出 / list")
    for name, help_text in (("show", "查看 / show"), ("timeline", "时间线 / timeline")):
        p = actions.add_parser(name, help=help_text)
        p.add_argument("case_id")
    from .commands import COMMANDS

    do = actions.add_parser(
        "do",
        help="执行操作 / run a command: " + ", ".join(f"{c.name}（{c.zh}）" for c in COMMANDS),
    )
    do.add_argument("case_id")
    do.add_argument("command_name", choices=[c.name for c in COMMANDS], metavar="COMMAND")
    do.add_argument("--data", help="JSON 请求体 / JSON body")
    do.add_argument(
        "--set", action="append", help="字段=值，可重复 / field=value (repeatable; JSON values)"
    )
    case.set_defaults(func=cmd_case)

    dlq = sub.add_parser(
        "dead-letters", help="死信：列出或重新投递 / list or re-drive dead letters"
    )
    dlq.add_argument("--node", required=True, help="行政区划代码 / division code")
    dlq.add_argument("--bootstrap-servers", help="Kafka 地址 / KAFKA_BOOTSTRAP_SERVERS")
    dlq.add_argument("--topic-prefix", help="主题前缀 / XINFANG_TOPIC_PREFIX")
    dlq.add_argument(
        "--redrive", type=int, action="append", metavar="OFFSET",
        help="重新投递该偏移量，可重复 / re-drive one (repeatable)",
    )  # fmt: skip
    dlq.add_argument("--data-dir", help="节点数据目录，用于链检查 / node data (chain check)")
    dlq.add_argument("--db-url", help="节点数据库 / node database (XINFANG_DB_URL)")
    dlq.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    dlq.set_defaults(func=cmd_dead_letters)

    schemas = sub.add_parser("schemas", help="模式目录（Kafka 主题）/ the schema catalogue topic")
    schemas.add_argument("--bootstrap-servers", help="Kafka 地址 / KAFKA_BOOTSTRAP_SERVERS")
    schemas.add_argument("--topic-prefix", help="主题前缀 / XINFANG_TOPIC_PREFIX")
    schemas.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    schema_actions = schemas.add_subparsers(dest="action", required=True)
    schema_actions.add_parser("list", help="列出指纹和名称 / list fingerprints and names")
    export = schema_actions.add_parser("export", help="导出 .avsc 文件 / write .avsc files")
    export.add_argument("folder", help="目标目录 / target folder")
    schemas.set_defaults(func=cmd_schemas)

    from .audit.cli import add_audit_commands

    add_audit_commands(sub)  # `xinfang audit …` (decision 006)
    from .ops.keys import add_keys_commands

    add_keys_commands(sub)  # `xinfang keys generate|rotate|revoke|show` (decision 021)
    from .ops.datakeys import add_data_keys_commands

    add_data_keys_commands(sub)  # `xinfang data-keys status|rotate|sweep|retire` (issue 15)

    cal = sub.add_parser("calendar", help="节假日日历 / holiday calendar")
    cal.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    cal_actions = cal.add_subparsers(dest="action", required=True)
    status = cal_actions.add_parser(
        "status", help="缺少的年度安排（退出码 1 表示警告）/ missing schedules (exit 1 = warning)"
    )
    status.add_argument("--api", help="节点 API 地址 / node URL (XINFANG_API)")
    status.add_argument(
        "--rules-dir", help="规则目录 / rules folder (default XINFANG_RULES_DIR, else deploy/rules)"
    )
    status.add_argument("--date", help="按该日判断 / as of date YYYY-MM-DD (default today)")
    prov = cal_actions.add_parser(
        "provisional", help="输出暂定年度文件 / print a provisional CN-<year>.yaml"
    )
    prov.add_argument("year", type=int)
    cal.set_defaults(func=cmd_calendar)
    from .ops.outbox import add_outbox_commands

    add_outbox_commands(sub)  # `xinfang outbox set-aside|resend` (decision 012)
    from .identity.accounts_cli import add_account_commands

    add_account_commands(sub)  # `xinfang accounts …` on the node's database (decision 025)
    from .kafka_cli import add_kafka_commands

    add_kafka_commands(sub)  # `xinfang kafka provision|acls` as admin (decision 018)
    from .identity.cli import add_identity_commands

    add_identity_commands(sub)  # `xinfang keycloak realm`, `login`, `logout` (decision 026)

    demo = sub.add_parser("demo", help="演示：三级节点流转一个事项 / run the three-level demo")
    demo.add_argument("--output", default="demo-output", help="输出目录 / output folder")
    demo.add_argument(
        "--keep-running", action="store_true",
        help="演示后节点继续运行，供登录工作台 / keep the nodes running for the console",
    )  # fmt: skip
    demo.add_argument(
        "--totp", metavar="PERSON",
        help="打印演示账户当前动态口令 / print a demo account's current TOTP code",
    )  # fmt: skip
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Any XinfangError (audit and key commands included) is printed in
    Chinese and English (English only with XINFANG_LANG=en), never as a traceback; exit 2
    for a configuration error (fix it and run again), 1 for any other refusal."""
    from .kafka_security import KafkaSecurity

    args = build_parser().parse_args(argv)
    for flag, key in (
        ("kafka_security_protocol", "XINFANG_KAFKA_SECURITY_PROTOCOL"),
        ("kafka_ca_file", "XINFANG_KAFKA_CA_FILE"),
        ("kafka_credentials", "XINFANG_KAFKA_CREDENTIALS"),
    ):
        if getattr(args, flag, None):
            os.environ[key] = str(getattr(args, flag))  # every client reads the environment
    try:
        KafkaSecurity.from_env()  # a bad setting fails here, naming its key
        return int(args.func(args))
    except ApiError as err:
        payload = err.payload if isinstance(err.payload, dict) else {}
        print(
            f"拒绝 / refused [{err.status} {payload.get('code', '')}]: "
            f"{payload.get('message_zh', '')} / {payload.get('message_en', '')}",
            file=sys.stderr,
        )
        return 1
    except XinfangError as err:
        print(describe(err), file=sys.stderr)
        return 2 if isinstance(err, ConfigurationError) else 1


def describe(err: XinfangError) -> str:
    """`错误 / error [code] 中文 / English`, or English only with XINFANG_LANG=en."""
    lang = os.environ.get("XINFANG_LANG", "zh")
    return f"{_say('错误', 'error')} {err.bilingual('en' if lang == 'en' else 'zh')}"
