"""The audit part of `make demo`: keys before the nodes start; checkpoints, export, verification
and the HTML report before they stop."""

from __future__ import annotations

import time
from pathlib import Path

from ..chain.keys import NodeKey, write_private_key, write_public_key
from ..client import NodeClient
from ..topology_file import load_topology
from .replay import Progress
from .report import html_report, text_summary
from .run import AuditOutcome, Source, run_audit, run_export


def generate_keys(divisions: list[str], keys_dir: Path, nodes_dir: Path) -> dict[str, str]:
    """As `xinfang keys generate` would: each node's private key in its data folder (where the
    node looks by default), the public keys published in `keys_dir`. Returns key ids."""
    ids = {}
    for division in divisions:
        key = NodeKey.generate()
        write_private_key(key, nodes_dir / division / f"node-{division}.key")
        write_public_key(key.public_raw, keys_dir / f"{division}.pub")
        ids[division] = key.key_id
    return ids


def _countersigned(bootstrap: str, prefix: str, keys_dir: Path, child: str) -> bool:
    outcome = _verify(bootstrap, prefix, keys_dir, inboxes=False)
    return not any(
        w.code == "not-countersigned" and w.node == child for w in outcome.integrity.warnings
    )


def _verify(
    bootstrap: str, prefix: str, keys_dir: Path, *, inboxes: bool = True
) -> AuditOutcome:
    from ..chain.keys import Keyring

    return run_audit(
        load_topology(),
        Source(bootstrap_servers=bootstrap, prefix=prefix),
        keyring=Keyring.from_dir(keys_dir),
        inboxes=inboxes,
    )


def checkpoint_bottom_up(
    clients: dict[str, NodeClient],
    order: list[str],
    bootstrap: str,
    prefix: str,
    keys_dir: Path,
    timeout: float = 30.0,
) -> None:
    """Each node signs its head, children first, each after its parent countersigned the
    child's checkpoint — so every log ends covered by a countersigned checkpoint."""
    for division in order:
        done = clients[division].post("/admin/checkpoint", {})
        seq = done.get("seq", "—")
        print(
            f"  {division} 签署检查点 / signed checkpoint: seq {seq}, 密钥 / key {done['key_id']}",
            flush=True,
        )
        if division == order[-1]:
            break
        deadline = time.monotonic() + timeout
        while not _countersigned(bootstrap, prefix, keys_dir, division):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{division} 的检查点未被会签 / checkpoint not countersigned")
            time.sleep(0.3)


def audit_demo(
    clients: dict[str, NodeClient],
    order: list[str],
    bootstrap: str,
    prefix: str,
    output: Path,
    keys_dir: Path,
) -> int:
    print("\n—— 审计 / audit ——", flush=True)
    checkpoint_bottom_up(clients, order, bootstrap, prefix, keys_dir)
    topology = load_topology()
    logs = output / "logs"
    manifest = run_export(
        topology, bootstrap, prefix, logs, nodes=order, progress=Progress(quiet=True)
    )
    print(f"  日志已导出 / logs exported: {logs}（{manifest.name}）", flush=True)
    from ..chain.keys import Keyring

    outcome = run_audit(
        topology,
        Source(folder=logs),
        keyring=Keyring.from_dir(keys_dir),
        compliance=True,
        progress=Progress(quiet=True),
    )
    html_path = output / "audit.html"
    html_path.write_text(html_report(outcome), encoding="utf-8")
    print(text_summary(outcome))
    print(f"\n审计报告 / audit report: {html_path}")
    print(
        f"复核命令 / to check it yourself: .venv/bin/xinfang audit verify --from {logs} "
        f"--public-keys {keys_dir}"
    )
    return 0 if outcome.ok else 1
