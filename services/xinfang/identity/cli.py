"""`xinfang keycloak realm`, `xinfang login`, `xinfang logout` (issue 14 item 1a, decision 026).

    xinfang keycloak realm --topology deploy/topology/chifeng.yaml > realm.json
    XINFANG_KEYCLOAK_TEST_PASSWORD=… xinfang keycloak realm --test-users > realm.json
    xinfang login [--issuer URL] [--client-id xinfang] [--browser] [--token-file PATH]
    xinfang logout [--token-file PATH]

`login` runs the device authorization grant (RFC 8628; or, with --browser, the authorization
code flow with PKCE, RFC 7636, on a loopback redirect, RFC 8252) against the provider and keeps
the tokens in a file only its owner may read (0600); `xinfang case …` sends the access token as
`Authorization: Bearer …`, refreshing it with the refresh token when it has expired.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..topology_file import load_topology
from .keycloak_realm import CLIENT_ID, DEFAULT_AUDIENCE, realm

TEST_PASSWORD_ENV = "XINFANG_KEYCLOAK_TEST_PASSWORD"


def _say(zh: str, en: str) -> str:
    return en if os.environ.get("XINFANG_LANG", "zh") == "en" else f"{zh} / {en}"


def cmd_realm(args: argparse.Namespace) -> int:
    password = None
    if args.test_users:
        password = os.environ.get(TEST_PASSWORD_ENV)
        if not password:
            print(
                _say(
                    f"--test-users 需要环境变量 {TEST_PASSWORD_ENV}（测试用户的口令）",
                    f"--test-users needs {TEST_PASSWORD_ENV} (the test users' password)",
                ),
                file=sys.stderr,
            )
            return 2
    try:
        rep = realm(
            load_topology(args.topology),
            audience=args.audience,
            test_password=password,
            console_urls=args.console_url or (),
        )
    except ValueError as err:  # a console URL with a path, or no scheme
        print(err, file=sys.stderr)
        return 2
    json.dump(rep, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    from .login import login

    login(
        issuer=args.issuer or os.environ.get("XINFANG_OIDC_ISSUER", ""),
        client_id=args.client_id or os.environ.get("XINFANG_OIDC_CLIENT_ID") or CLIENT_ID,
        browser=args.browser,
        open_browser=args.open,
        token_file=args.token_file,
        say=lambda zh, en: print(_say(zh, en), flush=True),
    )
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from .login import logout

    removed = logout(args.token_file)
    if removed:
        print(_say(f"已退出登录，已删除 {removed}", f"signed out, removed {removed}"))
    else:
        print(_say("未登录", "not signed in"))
    return 0


def add_identity_commands(sub: Any) -> None:
    """Add `keycloak realm`, `login` and `logout` to the `xinfang` parser's subcommands."""
    kc = sub.add_parser("keycloak", help="Keycloak 领域 / the Keycloak realm of a topology")
    actions = kc.add_subparsers(dest="keycloak_cmd", required=True)
    rl = actions.add_parser(
        "realm", help="由拓扑生成领域 JSON（标准输出）/ print the realm JSON of a topology"
    )
    rl.add_argument("--topology", help="拓扑文件 / topology file (default: the demo topology)")
    rl.add_argument(
        "--audience",
        default=DEFAULT_AUDIENCE,
        help=f"访问令牌的 aud / `aud` of access tokens (XINFANG_OIDC_AUDIENCE; {DEFAULT_AUDIENCE})",
    )
    rl.add_argument(
        "--console-url",
        action="append",
        metavar="URL",
        help="节点控制台地址，可多次 / a node console's base URL, repeatable (decision 035)",
    )
    rl.add_argument(
        "--test-users",
        action="store_true",
        help=f"加入测试用户与测试客户端（口令取自 {TEST_PASSWORD_ENV}）/ add test users and "
        "test clients (never in production)",
    )
    rl.set_defaults(func=cmd_realm)

    token_help = "令牌文件 / token file (XINFANG_TOKEN_FILE; ~/.config/xinfang/token.json)"
    login = sub.add_parser("login", help="通过 OIDC 提供方登录 / sign in with the OIDC provider")
    login.add_argument("--issuer", help="签发者 URL / issuer URL (XINFANG_OIDC_ISSUER)")
    login.add_argument(
        "--client-id", help=f"客户端 / client id (XINFANG_OIDC_CLIENT_ID; {CLIENT_ID})"
    )
    login.add_argument(
        "--browser",
        action="store_true",
        help="浏览器授权码流程（PKCE）代替设备流程 / browser flow (code + PKCE) instead of the "
        "device flow",
    )
    login.add_argument(
        "--open", action="store_true", help="自动打开浏览器 / open the browser (with --browser)"
    )
    login.add_argument("--token-file", help=token_help)
    login.set_defaults(func=cmd_login)
    logout = sub.add_parser("logout", help="退出登录并删除令牌 / sign out, delete the token file")
    logout.add_argument("--token-file", help=token_help)
    logout.set_defaults(func=cmd_logout)
