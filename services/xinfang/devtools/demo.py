"""`make demo`: a real broker, three node processes, one case across three levels."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from ..audit.demo import audit_demo, generate_keys
from ..client import NodeClient
from ..identity import totp
from ..identity.principal import Role
from ..node.clock_file import FileClock, write_offset
from .broker import find_or_start_broker
from .processes import NodeProcess
from .scenario import CITY, COUNTY, PROVINCE, run_review_chain, run_slice, run_supervision_chain
from .staff import PASSWORD

NAMES = {PROVINCE: "内蒙古自治区", CITY: "赤峰市", COUNTY: "松山区"}
TRAIL_SHOWN = 12  # the last entries of the city's trail printed at the end
# Printers of the operator trail (issue 14 item 3), run at the end while the nodes still run.
TRAIL_PRINTERS: list[Callable[[dict[str, NodeProcess]], None]] = []


def sign_in_staff(nodes: dict[str, NodeProcess]) -> None:
    """Create the demo's built-in accounts (password + TOTP) and sign in as a registrar at
    赤峰市 and a handler at 松山区; every later request is made by such signed-in staff."""
    print("\n—— 登录 / sign-in (内置账户：口令 + 动态口令) ——", flush=True)
    for division, body, role in ((CITY, "150400.xfj", Role.REGISTRAR),
                                 (COUNTY, "150404.zj", Role.HANDLER)):  # fmt: skip
        node = nodes[division]
        headers = node.staff.headers(body, role)
        me = node.anonymous.request("GET", "/api/me", None, headers)
        print(f"  {NAMES[division]}：{me['person']}（{role.zh} / {role.value}，{me['body']}）"
              " 已登录 / signed in", flush=True)  # fmt: skip
    status = node.anonymous
    try:
        status.get("/api/cases")
    except Exception as refused:
        print(f"  未登录访问 /api/cases / without signing in: {refused}", flush=True)


def print_console(nodes: dict[str, NodeProcess], output: Path) -> None:
    """Each node's console URL and the demo's accounts (person ids, otpauth secrets, also in
    `output/accounts.json`), for signing in with a browser while the nodes run."""
    accounts: dict[str, dict[str, str]] = {}
    print("\n—— 信访工作台 / staff console ——", flush=True)
    for division, node in nodes.items():
        print(f"  {NAMES[division]}：{node.url}/", flush=True)
        book = node.staff.accounts
        for person, secret in sorted(node.staff.secrets.items()):
            account = book.get(person)
            roles = ",".join(r.value for r in account.roles)
            uri = totp.provisioning_uri(secret, person, division)
            accounts[person] = {"node": node.url, "body": account.body, "roles": roles,
                                "secret": secret, "otpauth": uri}  # fmt: skip
            print(f"    {person}（{account.body}，{roles}）动态口令密钥 / TOTP secret {secret}")
    (output / "accounts.json").write_text(json.dumps(accounts, indent=1), encoding="utf-8")
    print(
        f"  口令 / password: {PASSWORD}；动态口令 / TOTP code: "
        f"xinfang demo --output {output} --totp <person>（按演示时钟 / on the demo's clock；"
        "每个只能用一次 / each code works once）",
        flush=True,
    )


def wait_for_stop() -> None:
    """Until Ctrl-C or SIGTERM (a background job ignores SIGINT): then the nodes stop."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass


def totp_code(output: Path, person: str) -> str:
    """The current TOTP code of a demo account on the demo's clock (`--totp`)."""
    accounts = json.loads((output / "accounts.json").read_text(encoding="utf-8"))
    if person not in accounts:
        raise SystemExit(f"没有该演示账户 / no such demo account: {person}")
    return totp.code_at(accounts[person]["secret"], FileClock(output / "clock.json")())


def print_timeline(client: NodeClient, case_id: str, title: str) -> None:
    data = client.get(f"/api/cases/{case_id}/timeline")
    print(
        f"\n== {title}（节点 {data['node']} 本地库）/ timeline as stored at node {data['node']} =="
    )
    for entry in data["timeline"]:
        by = f"  ({entry['person']})" if entry.get("person") else ""
        print(
            f"  {entry['occurred_at_local']}  "
            f"[{entry['division']} {entry['division_name']}]  "
            f"{entry['label_zh']}（{entry['label_en']}）  {entry['summary_zh']}{by}"
        )


def run_demo(output: Path, keep_running: bool = False) -> int:
    began = time.monotonic()
    output.mkdir(parents=True, exist_ok=True)
    nodes_dir = output / "nodes"
    shutil.rmtree(nodes_dir, ignore_errors=True)
    print("启动 Kafka / starting Apache Kafka …", flush=True)
    broker = find_or_start_broker(output / "kafka")
    print(
        f"  Kafka: {broker.bootstrap_servers} ({broker.kind}, {broker.security}, "
        f"{broker.startup_s:.1f}s)",
        flush=True,
    )
    prefix = f"demo-{uuid.uuid4().hex[:6]}."
    clock = output / "clock.json"  # the demo moves time forward to show a missed deadline
    write_offset(clock, timedelta(0))
    keys_dir = output / "keys"  # published public keys; private keys in each node's folder
    generate_keys([PROVINCE, CITY, COUNTY], keys_dir, nodes_dir)
    nodes = {
        d: NodeProcess(
            d,
            broker.bootstrap_servers,
            nodes_dir / d,
            topic_prefix=prefix,
            clock_file=clock,
            sweep_interval_s=0.5,
            extra_env={"XINFANG_PUBLIC_KEYS": str(keys_dir)},
        )
        for d in (PROVINCE, CITY, COUNTY)
    }
    try:
        for division, node in nodes.items():
            node.start()
            print(
                f"启动节点 / starting node {division} {NAMES[division]} on {node.url}", flush=True
            )
        for node in nodes.values():
            node.wait_ready()
        print("三个节点已就绪 / all three nodes ready", flush=True)
        sign_in_staff(nodes)
        case_id = run_slice(nodes[CITY].client, nodes[COUNTY].client, nodes[PROVINCE].client)
        print(f"\n信访事项 / case {case_id}")
        print_timeline(nodes[COUNTY].client, case_id, "县级 松山区")
        print_timeline(nodes[CITY].client, case_id, "市级 赤峰市")
        print_timeline(nodes[PROVINCE].client, case_id, "省级 内蒙古自治区")
        final = nodes[PROVINCE].client.get(f"/api/cases/{case_id}")
        print(
            f"\n省级节点所见结果 / outcome seen at 150000: {final['status_zh']}，"
            f"{final['outcome_zh']}（承办：{final['holder_name']}）"
        )
        clients = (nodes[CITY].client, nodes[COUNTY].client, nodes[PROVINCE].client)
        print("\n—— 复查、复核链 / review chain ——", flush=True)
        review_id = run_review_chain(*clients)
        print_timeline(nodes[PROVINCE].client, review_id, "省级 内蒙古自治区")
        print(
            "\n—— 督办链（时钟前进 23 日）/ supervision chain (clock moved 23 days) ——", flush=True
        )
        supervised_id = run_supervision_chain(
            *clients, advance=lambda days: write_offset(clock, timedelta(days=days))
        )
        print_timeline(nodes[PROVINCE].client, supervised_id, "省级 内蒙古自治区")
        audited = audit_demo(  # checkpoints, logs to demo-output/logs, demo-output/audit.html
            {d: n.client for d, n in nodes.items()},
            [COUNTY, CITY, PROVINCE],
            broker.bootstrap_servers,
            prefix,
            output,
            keys_dir,
        )
        print_trail(nodes[CITY].client, keys_dir)  # 赤峰市's operator trail (decision 027)
        for printer in TRAIL_PRINTERS:  # more of it, while the nodes still run
            printer(nodes)
        print_console(nodes, output)
        if keep_running:
            print("节点运行中，按 Ctrl-C 结束 / nodes running, Ctrl-C to stop", flush=True)
            wait_for_stop()
    finally:
        for node in nodes.values():
            node.stop()
        broker.stop()
    print(f"\n演示完成 / demo finished in {time.monotonic() - began:.1f}s")
    return audited


def print_trail(client: NodeClient, keys_dir: Path) -> None:
    """The city's operator trail as its audit administrator reads it (`GET /api/audit/trail`,
    what `xinfang audit trail --api` does), each entry's signature checked against the
    published key: who did what, on which case, with what outcome (等保 安全审计)."""
    from ..audit.trail_cli import check, table
    from ..chain.keys import KeyBook, Keyring
    from ..identity.trail_record import decode

    entries = []
    after = 0
    while True:  # every page: the trail of a demo is a few hundred entries
        page = client.get(f"/api/audit/trail?limit=500&after={after}")
        entries += [decode(json.dumps(e).encode()) for e in page["entries"]]
        if page.get("next_after") is None:
            break
        after = int(page["next_after"])
    key = KeyBook(Keyring.from_dir(keys_dir)).expected(CITY)
    problems = check(entries, key)
    bad = [seq for seq, problem in problems.items() if problem]
    people = sorted({e.person for e in entries if e.person})
    print(
        f"\n== 赤峰市操作审计记录 / 150400's operator trail: {len(entries)} 条 / entries, "
        f"{len(people)} 人 / people, 签名与链接 / signatures and links: "
        f"{'全部正确 / all valid' if not bad else f'有问题 / problems at {bad}'}; "
        f"最后 {TRAIL_SHOWN} 条 / the last {TRAIL_SHOWN}:"
    )
    print(table(entries[-TRAIL_SHOWN:], problems))
