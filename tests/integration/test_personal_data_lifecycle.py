"""Issue 15 items 3, 5, 6 over the real broker with three node processes (decisions 028, 032):
the at-rest data keys of a running node are rotated with `xinfang data-keys rotate` (the sweep
runs in the command while the node serves; the node re-reads its key file), the old key is
retired and the node, restarted on the new key alone, still serves its cases; then the
retention period passes on the nodes' shared clock file, each node records
`PersonalDataErased` in its own log and shreds the case key, the views and the reveal route
say 已删除 / erased, `xinfang audit verify` over the topics still passes, and no needle is in
clear in any database file or topic."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from xinfang.cli import main
from xinfang.devtools.processes import NodeProcess
from xinfang.devtools.scenario import (
    CITY,
    CITY_OFFICE,
    COUNTY,
    HANDLING_BODY,
    PETITION,
    PROVINCE,
    run_slice,
    wait_for,
)
from xinfang.kafka_io import read_to_end
from xinfang.node.clock_file import write_offset
from xinfang.privacy.sealing import ERASED
from xinfang.topics import TopicNames

from .conftest import NodeFactory
from .test_personal_data_bytes import _every_topic

pytestmark = pytest.mark.integration

RETENTION_DAYS = 30
NEEDLES = [
    str(PETITION["petitioner"]["name"]),
    str(PETITION["petitioner"]["contact"]),
    str(PETITION["petitioner"]["address"]),
    str(PETITION["petitioner"]["id_number"]),
    str(PETITION["facts"]),
    str(PETITION["request"]),
]
REASON = {"reason": "电话回访核实办理结果"}
SECOND = {**PETITION, "title": "小区电梯长期故障无人维修", "request": "请求督促物业维修电梯"}
ERASED_TYPE = b"xinfang.events.PersonalDataErased"


def _found(blob: bytes) -> list[str]:
    return [n for n in NEEDLES if n.encode("utf-8") in blob]


def _data_keys(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """`xinfang data-keys … ` on `node`'s data folder, as its operator runs it."""
    cmd = [sys.executable, "-m", "xinfang", "data-keys", "--division", node.division,
           "--data-dir", str(node.data_dir), *args]  # fmt: skip
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, check=False, env={**os.environ}
    )


def _status(node: NodeProcess) -> dict[str, Any]:
    done = _data_keys(node, "status", "--json")
    assert done.returncode == 0, done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


def _settled(nodes: list[NodeProcess]) -> bool:
    return all(n.client.get("/health")["outbox_pending"] == 0 for n in nodes)


def _key_rows(node: NodeProcess) -> dict[str, tuple[str | None, str | None]]:
    with sqlite3.connect(node.data_dir / f"node-{node.division}.sqlite3") as conn:
        rows = conn.execute("SELECT case_id, sealed_key, erased_at FROM case_keys")
        return {r[0]: (r[1], r[2]) for r in rows}


def _closed(node: NodeProcess, case_id: str) -> bool:
    return bool(node.client.get(f"/api/cases/{case_id}")["status"] == "CLOSED")


def _shredded(node: NodeProcess, case_id: str) -> bool:
    return _key_rows(node)[case_id][0] is None


def _erasures(bootstrap: str, topic: str, case_id: str) -> int:
    records = asyncio.run(read_to_end(bootstrap, [topic]))
    return sum(
        1 for r in records
        if (("ce_type", ERASED_TYPE) in r.headers and ("ce_subject", case_id.encode()) in r.headers)
    )  # fmt: skip


def test_rotation_then_crypto_shredding_over_the_real_broker(
    start_node: NodeFactory,
    topic_prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = tmp_path / "clock.json"
    write_offset(clock, timedelta(0))
    env = {"XINFANG_RETENTION_DAYS": str(RETENTION_DAYS)}
    province, city, county = (
        start_node(d, clock_file=clock, sweep_interval_s=0.5, extra_env=env)
        for d in (PROVINCE, CITY, COUNTY)
    )
    nodes = [province, city, county]
    for node in nodes:
        node.wait_ready()
    case_id = run_slice(city.client, county.client, province.client)
    wait_for(lambda: _settled(nodes), "所有发件箱已发送", 60)
    city_office = city.client.acting(CITY_OFFICE)  # the registrar who routed the case
    shown = city_office.post(f"/api/cases/{case_id}/personal-data", REASON)
    assert shown["petitioner"]["name"] == PETITION["petitioner"]["name"]

    # (a) rotation while the city's node runs: rotate makes k2 current and sweeps at once
    before = _status(city)
    old = before["current"]
    assert before["columns"]["case_keys.sealed_key"] == {old: 1}
    rotated = _data_keys(city, "rotate")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    after = _status(city)
    new = after["current"]
    assert new != old and after["remaining"] == 0
    assert after["columns"]["case_keys.sealed_key"] == {new: 1}
    assert all(old not in counts for counts in after["columns"].values())
    # the running node seals with the new key from now on and still serves the case
    second = str(city.client.post("/api/cases", {"actor": CITY_OFFICE, **SECOND})["case_id"])
    assert _status(city)["columns"]["case_keys.sealed_key"] == {new: 2}
    assert city.client.get(f"/api/cases/{case_id}")["title"] == PETITION["title"]
    retired = _data_keys(city, "retire", old)
    assert retired.returncode == 0, retired.stdout + retired.stderr
    assert list(_status(city)["keys"]) == [new]
    # restarted on the new key alone (no cache), it opens the case keys and the columns
    city.stop()
    city.start()
    city.wait_ready()
    for held, petition in ((case_id, PETITION), (second, SECOND)):
        assert city.client.get(f"/api/cases/{held}")["title"] == petition["title"]
        shown = city_office.post(f"/api/cases/{held}/personal-data", REASON)
        assert shown["petitioner"]["id_number"] == PETITION["petitioner"]["id_number"]

    # (b) the review window lapses (the case is closed), then the retention period passes
    write_offset(clock, timedelta(days=120))
    for node in nodes:
        wait_for(partial(_closed, node, case_id), f"{node.division} 事项终结", 60)
    # not yet erased: the retention period runs from the close
    shown = city_office.post(f"/api/cases/{case_id}/personal-data", REASON)
    assert shown["petitioner"]["name"] == PETITION["petitioner"]["name"]
    write_offset(clock, timedelta(days=120 + RETENTION_DAYS + 1))
    topics = TopicNames(topic_prefix)
    bootstrap = city.bootstrap_servers
    for node in nodes:  # each node erases its own copy and records it in its own log
        wait_for(partial(_shredded, node, case_id), f"{node.division} 删除密钥", 60)
        sealed_key, erased_at = _key_rows(node)[case_id]
        assert sealed_key is None and erased_at is not None
        log_topic = topics.log(node.division)
        erased = partial(_erasures, bootstrap, log_topic, case_id)
        wait_for(erased, f"{log_topic} 删除事件", 60, interval=1.0)
        assert _erasures(bootstrap, log_topic, case_id) == 1, node.division
        assert _erasures(bootstrap, topics.inbox(node.division), case_id) == 0, node.division
    assert _key_rows(city)[second][0] is not None  # the open case keeps its key

    # the views and the reveal route say erased, on every node that shows the case
    view = city.client.get(f"/api/cases/{case_id}")
    assert view["title"] == ERASED
    assert view["petitioner"]["name"] == ERASED
    full = city_office.post(f"/api/cases/{case_id}/personal-data", REASON)["petitioner"]
    assert (full["name"], full["contact"], full["id_number"]) == (ERASED,) * 3
    county_view = county.client.acting(HANDLING_BODY).get(f"/api/cases/{case_id}")
    assert county_view["petitioner"]["contact"] == ERASED
    timeline = city.client.get(f"/api/cases/{case_id}/timeline")["timeline"]
    assert "PersonalDataErased" in [e["type"] for e in timeline]

    # the chains still verify, read from the topics
    capsys.readouterr()
    code = main([
        "audit", "verify", "--bootstrap-servers", bootstrap, "--topic-prefix", topic_prefix,
        "--public-keys", str(city.keys_dir), "--nodes", f"{PROVINCE},{CITY},{COUNTY}",
        "--quiet", "--json",
    ])  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload["integrity"]["violations"]
    assert payload["integrity"]["violations"] == []

    # and nothing readable in any database file (with WAL) nor on any topic
    files = sorted(p for p in tmp_path.rglob("*.sqlite3*") if p.is_file())
    assert len(files) >= 3
    for path in files:
        assert _found(path.read_bytes()) == [], path
    records = asyncio.run(_every_topic(bootstrap, topic_prefix))
    assert records
    for r in records:
        blob = (r.value or b"") + (r.key or b"") + b"".join(k.encode() + v for k, v in r.headers)
        assert _found(blob) == [], (r.topic, r.offset)
    print(
        f"\nafter rotation and erasure: {len(files)} SQLite files, {len(records)} records on "
        f"{len({r.topic for r in records})} topics; {len(NEEDLES)} needles; 0 found"
    )
