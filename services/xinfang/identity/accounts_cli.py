"""`xinfang accounts create|list|reset-password|enrol-totp|lock|unlock|grant` (decision 025).

Run on the node's host by its system administrator (accounts) or security administrator
(grant), against the node's database. A password is read from a prompt (twice) or, when
stdin is not a terminal, from its first line — never from the command line, where `ps` and
the shell history would keep it. `enrol-totp` prints the otpauth:// URI and the secret once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from ..settings import NodeSettings
from .accounts import AccountBook, parse_roles
from .errors import AccountInvalid


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


def add_account_commands(sub: Any) -> None:
    """The `accounts` command group on the CLI's subparsers."""
    accounts = sub.add_parser("accounts", help="本节点的登录账户 / the node's built-in accounts")
    accounts.add_argument("--division", help="行政区划代码 / XINFANG_DIVISION")
    accounts.add_argument("--data-dir", help="节点数据目录 / XINFANG_DATA_DIR")
    accounts.add_argument("--db-url", help="节点数据库 / XINFANG_DB_URL")
    accounts.add_argument("--topology", help="拓扑文件 / XINFANG_TOPOLOGY")
    accounts.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    actions = accounts.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="新建账户 / create an account")
    create.add_argument("person", help="人员标识 / person id")
    create.add_argument("--name", required=True, help="姓名 / display name")
    create.add_argument("--body", required=True, help="所属机关 / body id, e.g. 150404.zj")
    create.add_argument(
        "--roles", required=True, help="角色，逗号分隔 / roles, comma separated (registrar,…)"
    )
    actions.add_parser("list", help="列出账户 / list accounts")
    for name, zh, en in (
        ("reset-password", "重设口令", "set a new password"),
        ("enrol-totp", "绑定动态口令（打印 otpauth URI）", "enrol TOTP (prints the otpauth URI)"),
        ("lock", "锁定", "lock the account"),
        ("unlock", "解锁（含失败锁定）", "unlock (also a lock-out)"),
    ):
        actions.add_parser(name, help=f"{zh} / {en}").add_argument("person")
    grant = actions.add_parser("grant", help="授予角色（替换）/ set the roles")
    grant.add_argument("person")
    grant.add_argument("--roles", required=True, help="角色，逗号分隔 / roles, comma separated")
    accounts.set_defaults(func=cmd_accounts)


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_say("口令: ", "password: "))
    if getpass.getpass(_say("再次输入口令: ", "password again: ")) != first:
        raise AccountInvalid(_say("两次输入的口令不同", "the passwords differ"))
    return first


def _book(args: argparse.Namespace) -> AccountBook:
    from ..domain.clock import system_clock
    from ..privacy.columns import ColumnCipher
    from ..store.database import make_engine
    from ..store.protection import key_ring_for
    from ..topology_file import load_topology

    settings = NodeSettings.from_env(
        division=args.division, data_dir=args.data_dir, db_url=args.db_url,
        topology_path=args.topology,
    )  # fmt: skip
    if not settings.db_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    topology = load_topology(settings.topology_path)
    engine = make_engine(settings.database_url)
    # the node's data keys (TOTP secrets are sealed with them, issue 15 item 3)
    ring = key_ring_for(engine, os.environ, settings.data_keys_path)
    return AccountBook(engine, settings.division, topology, system_clock, None, ColumnCipher(ring))


def cmd_accounts(args: argparse.Namespace) -> int:
    book = _book(args)
    try:
        return _run(book, args)
    finally:
        book.engine.dispose()


def _run(book: AccountBook, args: argparse.Namespace) -> int:
    action, person = args.action, str(getattr(args, "person", ""))
    if action == "list":
        listed = book.list()
        if args.json:
            print(json.dumps([a.to_dict() for a in listed], ensure_ascii=False, indent=2))
            return 0
        for a in listed:
            state = "锁定 locked" if a.disabled or a.locked_until else "正常 ok"
            totp = "TOTP" if a.enrolled else _say("未绑定TOTP", "no TOTP")
            print(f"{a.person}\t{a.name}\t{a.body}\t{','.join(a.roles)}\t{totp}\t{state}")
        return 0
    if action == "create":
        account = book.create(
            person, args.name, args.body, parse_roles(args.roles.split(",")), _password()
        )
        print(_say(f"已创建账户 {account.person}（{account.body}，{','.join(account.roles)}）；"
                   "请绑定动态口令：xinfang accounts enrol-totp",
                   f"created {account.person} ({account.body}, {','.join(account.roles)}); "
                   "enrol TOTP next: xinfang accounts enrol-totp"))  # fmt: skip
    elif action == "reset-password":
        book.reset_password(person, _password())
        print(_say(f"已重设 {person} 的口令", f"password of {person} set"))
    elif action == "enrol-totp":
        secret, uri = book.enrol_totp(person)
        print(_say("用身份验证器扫描或输入：", "scan or type into an authenticator app:"))
        print(uri)
        print(_say(f"密钥：{secret}", f"secret: {secret}"))
    elif action == "lock":
        book.lock(person)
        print(_say(f"已锁定 {person}", f"{person} locked"))
    elif action == "unlock":
        book.unlock(person)
        print(_say(f"已解锁 {person}", f"{person} unlocked"))
    elif action == "grant":
        account = book.grant(person, parse_roles(args.roles.split(",")))
        print(_say(f"{person} 的角色：{','.join(account.roles)}",
                   f"roles of {person}: {','.join(account.roles)}"))  # fmt: skip
    if action in ("reset-password", "enrol-totp", "lock", "grant"):
        from .sessions import SessionBook

        SessionBook(book).close_all(person)  # a changed credential or grant ends sessions
    return 0
