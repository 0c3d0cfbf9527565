"""Entry point: `python -m bench.run [--quick] [--out docs/benchmarks.md]` (what `make bench` runs).

Starts its own Kafka broker (deploy/kafka, a private port and state folder; secured: TLS +
SASL/SCRAM-SHA-512 + ACLs, the bench acting as admin), runs the measurements one after another
on this machine, each beside its raw baseline over the same secured listener, plus the raw
baselines on a second, plaintext broker (the TLS/SASL cost), rewrites the generated table of
docs/benchmarks.md and stops everything it started, even on failure or ^C.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from xinfang.devtools.broker import Broker, start_deploy_broker
from xinfang.devtools.secured import use_broker

from .common import REPO, load_average, machine, say, working_directory
from .report import render, rewrite

STEPS = (
    "hop", "throughput", "audit", "audit_module", "signing", "encryption", "tls_cost", "scale",
)  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    hop_cases: int
    hop_raw: int
    throughput_cases: int  # two events per case
    audit_records: int
    scale_topology: Path
    scale_per_county: int
    scale_per_host: int = 16
    scale_idle_window_s: float = 10.0


FULL = Sizes(200, 300, 5000, 4000, REPO / "deploy" / "topology" / "neimenggu.yaml", 2)
QUICK = Sizes(30, 50, 200, 400, REPO / "deploy" / "topology" / "chifeng.yaml", 1)


def run_all(
    bootstrap: str,
    prefix: str,
    workdir: Path,
    sizes: Sizes,
    steps: tuple[str, ...] = STEPS,
    broker_pid: int | None = None,
) -> dict[str, Any]:
    """Run the chosen measurements; a failing one is recorded as {"error": ...}."""
    from .audit import run_audit
    from .encryption import run_encryption
    from .hop import run_hop
    from .scale import run_scale
    from .signing import run_signing
    from .throughput import run_throughput
    from .tls_cost import BrokerNotSecured, run_tls_cost

    plan: dict[str, tuple[str, str, Callable[[], Any]]] = {
        "hop": (
            "测量跳转延迟",
            "measuring hop latency",
            lambda: run_hop(
                bootstrap, f"{prefix}hop.", workdir / "hop", sizes.hop_cases, sizes.hop_raw
            ),
        ),
        "throughput": (
            "测量节点吞吐量",
            "measuring node throughput",
            lambda: run_throughput(
                bootstrap, f"{prefix}tp.", workdir / "throughput", sizes.throughput_cases
            ),
        ),
        "audit": (
            "测量审计回放校验速率（暂定）",
            "measuring audit replay-and-verify (provisional)",
            lambda: run_audit(
                bootstrap,
                f"{prefix}audit.",
                sizes.audit_records,
                # the throughput run's pre-load wrote a 松山区 log: replay that one if it is there
                topic=f"{prefix}tp.xinfang.150404.log" if _ok(results, "throughput") else None,
            ),
        ),
        "audit_module": (
            "测量审计模块 xinfang.audit 的回放校验速率",
            "measuring xinfang.audit's replay-and-verify",
            lambda: _audit_module()(bootstrap, f"{prefix}auditmod.", sizes.audit_records),
        ),
        "signing": (
            "测量记录签名与验签的开销",
            "measuring record signing and verification cost",
            lambda: run_signing(min(sizes.audit_records, 2000)),
        ),
        "encryption": (
            "测量个人信息加密的开销（字段加密、整条事件封装）与原始编解码",
            "measuring personal-data encryption (per field, per event) beside raw encode/decode",
            lambda: run_encryption(min(sizes.audit_records, 500)),
        ),
        "tls_cost": (
            "测量 TLS/SASL 开销：原始基线在明文与加密 Kafka 上",
            "measuring the TLS/SASL cost: raw baselines on plaintext and secured Kafka",
            lambda: run_tls_cost(
                bootstrap,
                f"{prefix}tls.",
                workdir / "tls_cost",
                sizes.hop_raw,
                sizes.throughput_cases,
                sizes.audit_records,
            ),
        ),
        "scale": (
            "测量规模：全部节点同时运行",
            "measuring scale: every node running",
            lambda: run_scale(
                bootstrap,
                f"{prefix}scale.",
                workdir / "scale",
                sizes.scale_topology,
                sizes.scale_per_county,
                per_host=sizes.scale_per_host,
                broker_pid=broker_pid,
                idle_window_s=sizes.scale_idle_window_s,
            ),
        ),
    }
    results: dict[str, Any] = {}
    for name in steps:
        zh, en, step = plan[name]
        say(f"{zh} …", f"{en} …")
        began = time.monotonic()
        try:
            results[name] = step().as_dict()
            results[name]["seconds"] = time.monotonic() - began
            say(
                f"完成（{time.monotonic() - began:.0f} 秒）",
                f"done in {time.monotonic() - began:.0f}s",
            )
        except (NotAvailable, BrokerNotSecured) as exc:
            results[name] = {"skipped": str(exc)}
            say("跳过", f"skipped: {exc}")
        except Exception as exc:
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            say("失败", f"FAILED: {exc!r}")
    return results


class NotAvailable(Exception):
    pass


def _audit_module() -> Callable[[str, str, int], Any]:
    """bench.audit_verify (the audit module's verifier) if xinfang.audit.verify is there."""
    if importlib.util.find_spec("xinfang.audit.verify") is None:
        raise NotAvailable("xinfang.audit.verify is not in this tree")
    from .audit_verify import run_audit_verify

    return run_audit_verify


def _ok(results: dict[str, Any], name: str) -> bool:
    return name in results and "error" not in results[name]


def describe_broker(broker: Broker | None, bootstrap: str, kafka_version: str) -> str:
    """One line naming the broker every step ran on: how many, its security, Kafka's version."""
    from xinfang.kafka_security import client_security

    secured = client_security().secured if broker is None else broker.security != "plaintext"
    how = (
        "secured: TLS 1.3/1.2 + SASL/SCRAM-SHA-512, StandardAuthorizer with ACLs (clients: "
        "the bench as `admin`, each node as its own principal)"
        if secured
        else "plaintext: no TLS, no SASL, no ACLs"
    )
    if broker is None:
        return f"given broker at {bootstrap}, {how} (per this process's XINFANG_KAFKA_* settings)"
    count = "single broker" if broker.brokers == 1 else f"{broker.brokers}-broker cluster"
    where = {"deploy": "deploy/kafka, KRaft", "env": "KAFKA_BOOTSTRAP_SERVERS"}
    return f"{count} ({where.get(broker.kind, broker.kind)}), {how}; Apache Kafka {kafka_version}"


def _broker_pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / "kafka.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, default=REPO / "var" / "bench-results.json")
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, DBs)")
    args = parser.parse_args(argv)
    out, json_out = args.out.resolve(), args.json.resolve()
    steps = tuple(args.only.split(",")) if args.only else STEPS
    unknown = set(steps) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps: {sorted(unknown)}")
    sizes = QUICK if args.quick else FULL

    began = time.monotonic()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    info = machine()
    load_start = "/".join(f"{x:.2f}" for x in load_average())
    say(
        f"机器：{info['nproc']} 核，{info['memory_gib']} GiB，负载 {load_start}",
        f"machine: {info['nproc']} cores, {info['memory_gib']} GiB, load average {load_start}",
    )
    workdir = Path(tempfile.mkdtemp(prefix="xinfang-bench-"))
    broker: Broker | None = None
    results: dict[str, Any] = {}
    try:
        if args.bootstrap:
            bootstrap, pid = args.bootstrap, None
            kind = describe_broker(None, bootstrap, info["kafka"])
        else:
            say("启动 Kafka", "starting Apache Kafka")
            broker = start_deploy_broker(workdir / "kafka", secure=True)
            use_broker(broker)  # the bench runs as admin, its node processes as themselves
            bootstrap = broker.bootstrap_servers
            kind = describe_broker(broker, bootstrap, info["kafka"])
            pid = _broker_pid(workdir / "kafka")
            say(
                f"Kafka 已就绪：{bootstrap}（{broker.startup_s:.1f} 秒）",
                f"Kafka ready at {bootstrap} ({broker.startup_s:.1f}s)",
            )
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        with working_directory(workdir):
            results = run_all(bootstrap, prefix, workdir, sizes, steps, broker_pid=pid)
    finally:
        if broker is not None:
            say("停止 Kafka", "stopping Apache Kafka")
            broker.stop()
        if args.keep:
            say(f"保留工作目录 {workdir}", f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    results["run"] = {
        "started": started,
        "mode": "quick" if args.quick else "full",
        "sizes": {k: str(v) for k, v in asdict(sizes).items()},
        "duration_s": time.monotonic() - began,
        "broker": kind,
        "load_start": load_start,
        "load_end": "/".join(f"{x:.2f}" for x in load_average()),
        "machine": info,
    }
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    rewrite(out, render(results))
    say(f"结果已写入 {out} 与 {json_out}", f"results written to {out} and {json_out}")
    failed = [name for name in steps if "error" in results.get(name, {})]
    if failed:
        say(f"失败的测量：{', '.join(failed)}", f"failed measurements: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
