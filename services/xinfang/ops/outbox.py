"""`xinfang outbox set-aside|resend`: records the relay set aside, and re-sending them.

The relay sets aside an outbox row the broker will never accept (node/publish_errors.py) and
keeps publishing the rows after it; /health then says `degraded`. An operator lists those rows
here (read from the node's own database: `--data-dir` or `--db-url`, as for `node run`), fixes
the cause (raises the topic's `max.message.bytes` and XINFANG_MAX_RECORD_BYTES, grants the ACL,
creates the topic) and re-sends them: they go back in the relay's queue, first by their ids,
and the running node publishes them within a second. A row that is refused again is set aside
again with the new reason. Exit status 0; 2 for bad settings; 1 when an id is not set aside.

Copies held for a recipient's encryption key (`recipient-key-missing`, node/key_wait.py) are
listed too; the relay sends them by itself once the key is published, and a re-sent one is
wrapped as it goes out (or held again while the key is still unknown: decision 038).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..settings import NodeSettings
from ..store.unit_of_work import NodeStore
from ..topics import TopicNames


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


def add_outbox_commands(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="发件箱：被搁置的记录 / the outbox: set-aside records")
    outbox.add_argument("--division", help="行政区划代码 / XINFANG_DIVISION")
    outbox.add_argument("--data-dir", help="节点数据目录 / XINFANG_DATA_DIR")
    outbox.add_argument("--db-url", help="节点数据库 / XINFANG_DB_URL")
    outbox.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    actions = outbox.add_subparsers(dest="action", required=True)
    actions.add_parser("set-aside", help="列出被搁置的记录 / list set-aside records")
    resend = actions.add_parser("resend", help="重新发送 / put them back in the relay's queue")
    which = resend.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, action="append", help="记录编号，可重复 / row id")
    which.add_argument("--all", action="store_true", help="全部 / every set-aside record")
    outbox.set_defaults(func=cmd_outbox)


def cmd_outbox(args: argparse.Namespace) -> int:
    settings = NodeSettings.from_env(  # a SettingsError is printed by cli.main (exit 2)
        division=args.division, data_dir=args.data_dir, db_url=args.db_url
    )
    database = settings.data_dir / f"node-{settings.division}.sqlite3"
    if not settings.db_url and not database.is_file():  # a typo must not answer "0 records"
        print(
            _say(f"没有节点数据库：{database}", f"no node database at {database}"), file=sys.stderr
        )
        return 2
    store = NodeStore(settings.database_url)
    try:
        if args.action == "resend":
            return _resend(store, None if args.all else list(args.id), args.json)
        return _list(store, args.json)
    finally:
        store.close()


def _list(store: NodeStore, as_json: bool) -> int:
    rows = store.outbox.set_aside_rows()
    if as_json:
        payload = [
            {
                "id": r.id,
                "topic": r.topic,
                "case_id": r.key,
                "event_type": r.event_type,
                "bytes": r.size,
                "reason": r.reason,
                "set_aside_at": r.set_aside_at.isoformat(),
            }
            for r in rows
        ]
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(_say(f"{len(rows)} 条被搁置的记录", f"{len(rows)} set-aside records"))
    for r in rows:
        print(f"  #{r.id}  {r.reason:<22} {r.size:>8} B  {r.topic}  {r.key}  {r.event_type}")
    return 0


def _latest_per_key(topic: str) -> bool:
    """The public status feed is compacted: only the newest record per case counts."""
    return topic.endswith(TopicNames("").public_status())


def _resend(store: NodeStore, ids: list[int] | None, as_json: bool) -> int:
    result = store.outbox.resend(ids, _latest_per_key)
    done, superseded = result.requeued, result.superseded
    missing = sorted(set(ids or ()) - set(done) - set(superseded))
    if as_json:
        print(json.dumps({"resent": done, "superseded": superseded, "not_set_aside": missing}))
    else:
        print(
            _say(
                f"已放回发布队列：{len(done)} 条 {done}",
                f"put back in the relay's queue: {len(done)} {done}",
            )
        )
        if superseded:
            print(
                _say(
                    f"已有更新的状态记录，不再补发：{superseded}",
                    f"superseded by a newer status record, not re-sent: {superseded}",
                )
            )
    if missing:
        print(
            _say(f"这些编号不是被搁置的记录：{missing}", f"not set-aside records: {missing}"),
            file=sys.stderr,
        )
        return 1
    return 0
