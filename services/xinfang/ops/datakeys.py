"""`xinfang data-keys status|rotate|sweep|retire`: the node's at-rest data keys (issue 15
item 3; privacy/keyfile.py, decision 028).

- `status`: the suite and keys of the ring, the current key, and per protected column
  (privacy/registry.py) how many values each key seals (清文 / clear: written before).
- `rotate [--cipher sm4-gcm] [--key-id K]`: a new key, made current in the key file (0600);
  then the re-encryption sweep (store/reseal.py) unless `--no-sweep`. A running node re-reads
  the key file and seals with the new key from then on.
- `sweep`: move every value not under the current key to it, in batches (`--batch`), each line
  of progress printed and logged. Safe to kill: running it again resumes.
- `retire K`: remove key K from the ring; refused (XF-DATA-KEY-IN-USE, exit 1) while any value
  is still under it or it is the current key.

The keys: `XINFANG_DATA_KEYS_FILE`, else `<data dir>/node-<division>.datakeys.json`; keys
given inline in `XINFANG_DATA_KEYS` cannot be rotated here (edit the variable). Exit 0; 1 for a
refusal; 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..domain.errors import StorageError
from ..privacy.columns import ColumnCipher
from ..privacy.keyfile import (
    ENV_KEYS,
    DataKeyRing,
    DataKeys,
    DataKeysInvalid,
    key_file_path,
    write_key_file,
)
from ..settings import NodeSettings
from ..store.database import make_engine
from ..store.protection import key_ring_for, key_usage
from ..store.reseal import SweepStep, remaining, reseal

CRASH_AFTER_ENV = "XINFANG_FAULT_RESEAL_CRASH_AFTER"  # tests: exit 70 after N batches


class DataKeyInUse(StorageError):
    """A key still seals stored values (or is the current key)."""

    code = "XF-DATA-KEY-IN-USE"
    zh = "该密钥仍在使用，不能停用"
    en = "The key is still in use and cannot be retired"


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


class _Node:
    """The node's database and key file, as its settings name them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.settings = NodeSettings.from_env(
            division=args.division, data_dir=args.data_dir, db_url=args.db_url
        )
        self.engine = make_engine(self.settings.database_url)
        self.env = dict(os.environ)
        self.ring: DataKeyRing = key_ring_for(self.engine, self.env, self.settings.data_keys_path)

    def key_file(self) -> Any:
        if self.env.get(ENV_KEYS):
            raise DataKeysInvalid(
                f"密钥由环境变量 {ENV_KEYS} 给出，请直接修改该变量 / the keys come from "
                f"{ENV_KEYS}: change the variable itself"
            )
        return key_file_path(self.env, self.settings.data_keys_path)

    def write(self, keys: DataKeys) -> None:
        write_key_file(keys, self.key_file())

    def close(self) -> None:
        self.engine.dispose()


def _sweep(node: _Node, batch: int) -> int:
    crash_after = int(os.environ.get(CRASH_AFTER_ENV, "0") or 0)
    batches = 0

    def show(step: SweepStep) -> None:
        nonlocal batches
        print(step.line(), flush=True)
        batches += 1
        if crash_after and batches >= crash_after:
            os._exit(70)  # a crash in the middle (tests): the next sweep resumes

    moved = reseal(node.engine, ColumnCipher(node.ring), batch=batch, progress=show)
    left = sum(remaining(node.engine, node.ring.current().current).values())
    print(_say(f"完成：重新加密 {moved} 个字段，剩余 {left}",
               f"done: {moved} fields re-encrypted, {left} left"))  # fmt: skip
    return 0 if left == 0 else 1


def cmd_data_keys(args: argparse.Namespace) -> int:
    node = _Node(args)
    try:
        keys = node.ring.current()
        if args.data_keys_cmd == "status":
            return _status(node, keys, args.json)
        if args.data_keys_cmd == "rotate":
            node.key_file()  # refuses inline keys before anything changes
            new = keys.rotated(args.key_id or keys.next_key_id(), args.cipher)
            node.write(new)
            print(_say(f"当前密钥：{new.current}（{new.suite.name}）",
                       f"current key: {new.current} ({new.suite.name})"))  # fmt: skip
            return 0 if args.no_sweep else _sweep(node, args.batch)
        if args.data_keys_cmd == "sweep":
            return _sweep(node, args.batch)
        return _retire(node, keys, args.key_id)
    finally:
        node.close()


def _status(node: _Node, keys: DataKeys, as_json: bool) -> int:
    usage = key_usage(node.engine)
    doc = {
        "current": keys.current,
        "keys": {k: keys.suite_of(k).name for k in keys.keys},
        "columns": {c: {str(k or "clear"): n for k, n in u.items()} for c, u in usage.items()},
        "remaining": sum(remaining(node.engine, keys.current).values()),
    }
    if as_json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print(_say(f"当前密钥：{keys.current}", f"current key: {keys.current}"))
    for key_id, suite_name in doc["keys"].items():  # type: ignore[attr-defined]
        print(f"  {key_id}  {suite_name}")
    for column, counts in doc["columns"].items():  # type: ignore[attr-defined]
        shown = ", ".join(f"{k}: {n}" for k, n in counts.items()) or "-"
        print(f"  {column}  {shown}")
    print(_say(f"待重新加密：{doc['remaining']}", f"to re-encrypt: {doc['remaining']}"))
    return 0


def _retire(node: _Node, keys: DataKeys, key_id: str) -> int:
    if key_id == keys.current:
        raise DataKeyInUse(f"{key_id} 是当前密钥 / {key_id} is the current key")
    using = {c: u[key_id] for c, u in key_usage(node.engine).items() if u.get(key_id)}
    if using:
        listed = ", ".join(f"{c}: {n}" for c, n in using.items())
        raise DataKeyInUse(
            f"{key_id} 仍加密着 {listed}；先运行 xinfang data-keys sweep / still seals {listed}: "
            "run `xinfang data-keys sweep` first"
        )
    node.write(keys.without(key_id))
    print(_say(f"已停用密钥 {key_id}", f"key {key_id} retired"))
    return 0


def add_data_keys_commands(sub: Any) -> None:
    """The `data-keys` command group on the CLI's subparsers."""
    group = sub.add_parser("data-keys", help="个人信息加密密钥 / at-rest data keys (issue 15)")
    group.add_argument("--division", help="行政区划代码 / XINFANG_DIVISION")
    group.add_argument("--data-dir", help="节点数据目录 / XINFANG_DATA_DIR")
    group.add_argument("--db-url", help="节点数据库 / XINFANG_DB_URL")
    actions = group.add_subparsers(dest="data_keys_cmd", required=True)
    status = actions.add_parser("status", help="密钥与使用情况 / keys and what they seal")
    status.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    rotate = actions.add_parser("rotate", help="新增并启用新密钥 / add a key, make it current")
    rotate.add_argument("--cipher", choices=["aes-256-gcm", "sm4-gcm"],
                        help="新密钥的算法 / the new key's suite (default: as now)")  # fmt: skip
    rotate.add_argument("--key-id", help="新密钥编号 / new key id (default k<n+1>)")
    rotate.add_argument("--no-sweep", action="store_true", help="不立即重新加密 / sweep later")
    for parser in (rotate, actions.add_parser("sweep", help="重新加密 / re-encrypt (resumes)")):
        parser.add_argument("--batch", type=int, default=200, help="每批行数 / rows per batch")
    retire = actions.add_parser("retire", help="停用旧密钥 / remove an unused old key")
    retire.add_argument("key_id", help="密钥编号 / key id")
    group.set_defaults(func=cmd_data_keys)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run `xinfang data-keys …`")
