"""`xinfang keys generate|rotate|revoke|show`: the published key sets of the nodes
(docs/decisions/021-record-signatures.md).

- `generate`: a new key per node; the private key in `--private-dir` (`node-<division>.key`,
  0600), the public key published as a version-1 set `<division>.keys.json` in `keys/` beside
  the topology (or `--public-dir`).
- `rotate --division D`: a new key for D; the set's next version keeps the old key until
  `--overlap-hours` from now (records in flight and old records stay verifiable), adds the new
  one, and is endorsed by the old key. The old private key is kept as `node-D.key.<key id>`.
  Restart the node within the overlap so it signs with the new key.
- `revoke --division D --key-id K --endorse-key FILE [--endorser P]`: K revoked from now (a
  stolen key). The set's next version must be endorsed by a key still valid: the parent's
  (default endorser) or another key of D. Add `--new-key` to give D a fresh key at once.
- `show [--division D]`: each set, its keys and their validity (中英).

A running node re-reads `keys/` when it changes and accepts a new version only if endorsed
(node/published_keys.py). Exit 0; 2 for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..chain.keys import (
    Keyring,
    NodeKey,
    load_private_key,
    published_keys_dir,
    write_private_key,
)
from ..chain.keysets import KeySet, PublishedKey, single_key_set, write_key_set
from ..resources import checkout_root

SKEW = timedelta(minutes=5)
"""A new key is valid from a little before its publication: a receiver whose clock runs behind
(as acts' times tolerate, XINFANG_FUTURE_TOLERANCE) must not refuse its first records."""


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


def _topology_path(args: argparse.Namespace) -> Path | None:
    path = args.topology or os.environ.get("XINFANG_TOPOLOGY")
    return Path(path) if path else None


def _public_dir(args: argparse.Namespace) -> Path:
    if args.public_dir:
        return Path(args.public_dir)
    topology_path = _topology_path(args)
    if topology_path is None and checkout_root() is None:
        # keys/ beside the default topology would be inside the installed package
        raise SystemExit(
            _say(
                "已安装的包中不能发布公钥：请用 --public-dir 或 --topology 指定目录",
                "cannot publish keys inside the installed package: pass --public-dir or "
                "--topology (or set XINFANG_TOPOLOGY)",
            )
        )
    return published_keys_dir(topology_path)


def _held(public_dir: Path, division: str) -> KeySet:
    found = Keyring.from_dir(public_dir).key_set(division)
    if found is None:
        raise SystemExit(
            _say(f"{division} 没有已发布的密钥集（{public_dir}）",
                 f"{division} has no published key set in {public_dir}")
        )  # fmt: skip
    return found


def cmd_generate(args: argparse.Namespace) -> int:
    from ..privacy.node_keys import load_or_create_recipient_key, publish
    from ..topology_file import load_topology

    topology = load_topology(_topology_path(args))
    divisions = [n.strip() for n in (args.nodes or "").split(",") if n.strip()] or [
        d.code for d in topology.divisions
    ]
    unknown = [d for d in divisions if not topology.has_division(d)]
    if unknown:
        raise SystemExit(_say(f"拓扑中没有这些节点：{unknown}", f"not in the topology: {unknown}"))
    public_dir, private_dir = _public_dir(args), Path(args.private_dir)
    now = datetime.now(UTC)
    for division in divisions:
        private = private_dir / f"node-{division}.key"
        published = [public_dir / f"{division}{ext}" for ext in (".keys.json", ".pub")]
        if (private.exists() or any(p.exists() for p in published)) and not args.force:
            print(
                _say(f"{division}：已有密钥，跳过（--force 覆盖）", f"{division}: exists, skipped"),
                file=sys.stderr,
            )
            continue
        key = NodeKey.generate()
        write_private_key(key, private)
        path = write_key_set(single_key_set(division, key.public_raw, since=now), public_dir)
        # its X25519 key for wrapped case keys beside it, published signed (decision 028)
        enc, _ = load_or_create_recipient_key(private_dir / f"node-{division}.x25519")
        publish(division, enc, key, public_dir)
        print(f"{division} {topology.division(division).name}: {key.key_id}  {path}  {private}")
    print(
        _say(
            f"公钥已发布到 {public_dir}；私钥在 {private_dir}（仅限各节点自己持有，用 --key-file 或"
            " XINFANG_KEY_FILE 指定）",
            f"public keys in {public_dir}; private keys in {private_dir} (each node keeps its own; "
            "pass it with --key-file or XINFANG_KEY_FILE)",
        )
    )
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    public_dir, division = _public_dir(args), args.division
    private = Path(args.private_dir) / f"node-{division}.key"
    old_key = load_private_key(private)  # a KeyFileError is printed by cli.main (exit 2)
    held = _held(public_dir, division)
    if held.key(old_key.key_id) is None:
        raise SystemExit(
            _say(f"{private} 不在 {division} 的已发布密钥集中",
                 f"{private} is not in {division}'s published key set")
        )  # fmt: skip
    now = datetime.now(UTC)
    until = now + timedelta(hours=args.overlap_hours)
    new_key = NodeKey.generate()
    kept = tuple(
        replace(k, not_after=until) if k.key_id == old_key.key_id and k.not_after is None else k
        for k in held.keys
    )
    added = PublishedKey(new_key.public_raw, now - SKEW)
    rotated = KeySet(division, held.version + 1, (*kept, added))
    rotated = rotated.endorse(division, old_key)
    write_private_key(old_key, private.with_name(f"{private.name}.{old_key.key_id}"))
    write_private_key(new_key, private)
    path = write_key_set(rotated, public_dir)
    print(
        _say(
            f"{division}：新密钥 {new_key.key_id}（第 {rotated.version} 版，由 {old_key.key_id} "
            f"背书），旧密钥有效至 {until.isoformat()}；请在此前重启节点。{path}",
            f"{division}: new key {new_key.key_id} (version {rotated.version}, endorsed by "
            f"{old_key.key_id}); the old key stays valid until {until.isoformat()}: restart the "
            f"node before then. {path}",
        )
    )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    public_dir, division = _public_dir(args), args.division
    held = _held(public_dir, division)
    if held.key(args.key_id) is None:
        raise SystemExit(
            _say(f"{division} 没有密钥 {args.key_id}", f"{division} has no key {args.key_id}")
        )
    endorser = args.endorser or _parent(args, division)
    endorse_key = load_private_key(Path(args.endorse_key))
    now = datetime.now(UTC)
    keys = tuple(replace(k, revoked_at=now) if k.key_id == args.key_id else k for k in held.keys)
    fresh: NodeKey | None = None
    if args.new_key:
        fresh = NodeKey.generate()
        keys = (*keys, PublishedKey(fresh.public_raw, now - SKEW))
    revoked = KeySet(division, held.version + 1, keys).endorse(endorser, endorse_key)
    if fresh is not None:
        write_private_key(fresh, Path(args.private_dir) / f"node-{division}.key")
    path = write_key_set(revoked, public_dir)
    print(
        _say(
            f"{division}：密钥 {args.key_id} 自 {now.isoformat()} 起撤销（第 {revoked.version} 版，"
            f"由 {endorser} 的 {endorse_key.key_id} 背书）。{path}",
            f"{division}: key {args.key_id} revoked from {now.isoformat()} (version "
            f"{revoked.version}, endorsed by {endorser}'s {endorse_key.key_id}). {path}",
        )
    )
    return 0


def _parent(args: argparse.Namespace, division: str) -> str:
    from ..topology_file import load_topology

    parent = load_topology(_topology_path(args)).parent(division)
    if parent is None:
        raise SystemExit(
            _say("根节点没有上级：请用 --endorser 指定", "the root has no parent: pass --endorser")
        )
    return parent


def cmd_show(args: argparse.Namespace) -> int:
    ring = Keyring.from_dir(_public_dir(args))
    now = datetime.now(UTC)
    for division in sorted(ring.sets):
        if args.division and division != args.division:
            continue
        key_set = ring.sets[division]
        print(_say(f"{division} 第 {key_set.version} 版", f"{division} version {key_set.version}"))
        for k in key_set.keys:
            state = _say("有效", "valid") if k.valid_at(now) else _say("无效", "not valid")
            print(
                f"  {k.key_id} {k.suite} {state} not_before={k.not_before or '-'} "
                f"not_after={k.not_after or '-'} revoked_at={k.revoked_at or '-'}"
            )
    return 0


def add_keys_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="节点签名密钥 / node signing keys")
    actions = keys.add_subparsers(dest="keys_cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--topology", help="拓扑文件 / topology file (XINFANG_TOPOLOGY)")
        p.add_argument("--public-dir", help="公钥目录 / default: keys/ beside the topology")

    def private(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--private-dir", default="var/keys", help="私钥目录 / private keys (default var/keys)"
        )

    generate = actions.add_parser(
        "generate", help="生成密钥并发布公钥 / generate keys, publish the public keys"
    )
    common(generate)
    private(generate)
    generate.add_argument("--nodes", help="只为这些节点生成 / only these divisions (a,b,c)")
    generate.add_argument("--force", action="store_true", help="覆盖已有密钥 / overwrite")
    generate.set_defaults(func=cmd_generate)

    rotate = actions.add_parser("rotate", help="轮换密钥 / rotate a node's key")
    common(rotate)
    private(rotate)
    rotate.add_argument("--division", required=True, help="行政区划代码 / division")
    rotate.add_argument(
        "--overlap-hours", type=float, default=24.0, help="旧密钥保留时长 / old key kept (h)"
    )
    rotate.set_defaults(func=cmd_rotate)

    revoke = actions.add_parser("revoke", help="撤销密钥 / revoke a key")
    common(revoke)
    private(revoke)
    revoke.add_argument("--division", required=True, help="行政区划代码 / division")
    revoke.add_argument("--key-id", required=True, help="要撤销的密钥 / key id to revoke")
    revoke.add_argument(
        "--endorse-key", required=True, help="背书私钥 / private key endorsing the new set"
    )
    revoke.add_argument("--endorser", help="背书方 / endorsing division (default: the parent)")
    revoke.add_argument("--new-key", action="store_true", help="同时生成新密钥 / add a new key")
    revoke.set_defaults(func=cmd_revoke)

    show = actions.add_parser("show", help="显示已发布的密钥集 / show published key sets")
    common(show)
    show.add_argument("--division", help="只显示此节点 / only this division")
    show.set_defaults(func=cmd_show)
