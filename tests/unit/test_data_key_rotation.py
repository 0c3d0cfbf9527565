"""At-rest key rotation (issue 15 item 3): `xinfang data-keys rotate` adds a key and makes it
current (SM4-GCM selectable), the re-encryption sweep moves every registered column to it in
batches and resumes after a crash, old keys stay readable until it is done, and `retire`
refuses while anything still uses the old key. The node keeps serving throughout (its key ring
re-reads the file). Driven through the CLI (in this process and as a real process that is
killed mid-sweep) beside nodes on the in-process bus."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from xinfang.cli import main
from xinfang.domain.topology import Topology
from xinfang.privacy.columns import ColumnCipher
from xinfang.privacy.keyfile import load_data_keys, read_key_file
from xinfang.privacy.registry import PROTECTED_COLUMNS
from xinfang.store.reseal import SweepStep, reseal
from xinfang.store.unit_of_work import NodeStore

from .fakes import FakeBus
from .http_world import Http
from .test_service_same_matter import petition

TITLE = "征地补偿款未足额发放"


def _bus(topology: Topology, tmp_path: Path) -> FakeBus:
    # the node's own file names, so the CLI finds database and key file by --data-dir
    return FakeBus(
        topology, ["150400"], tmp_path, database_url=lambda d: f"sqlite:///{tmp_path}/node-{d}.sqlite3"
    )


def _register(http: Http, n: int) -> list[str]:
    return [http.register("150400", petition(request=f"请求事项 {i}")) for i in range(n)]


def _keys_in_use(db: Path) -> dict[str, set[str]]:
    """Per protected column, the key ids its values are sealed under ("clear" for none)."""
    used: dict[str, set[str]] = {}
    with sqlite3.connect(db) as conn:
        for table, column, _ in PROTECTED_COLUMNS:
            values = [v for (v,) in conn.execute(f"SELECT {column} FROM {table}") if v]
            used[f"{table}.{column}"] = {
                v.split(".")[1] if v.startswith("xf1.") else "clear" for v in values
            }
    return used


def _cli(tmp_path: Path, *args: str) -> int:
    return main(["data-keys", "--division", "150400", "--data-dir", str(tmp_path), *args])


def test_rotation_to_sm4_with_a_sweep_interrupted_then_resumed_and_the_old_key_retired(
    topology: Topology, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bus = _bus(topology, tmp_path)
    http = Http(bus)
    ids = _register(http, 5)
    db, key_file = tmp_path / "node-150400.sqlite3", tmp_path / "node-150400.datakeys.json"
    assert _keys_in_use(db)["cases.title"] == {"k1"}

    assert _cli(tmp_path, "rotate", "--cipher", "sm4-gcm", "--no-sweep") == 0
    keys = read_key_file(key_file)
    assert (keys.current, keys.suite_of("k2").name, keys.suite_of("k1").name) == (
        "k2", "sm4-gcm", "aes-256-gcm"
    )
    assert key_file.stat().st_mode & 0o777 == 0o600

    # the sweep crashes after its first batch of two
    store = bus.nodes["150400"].store
    assert isinstance(store, NodeStore)

    def crash(step: SweepStep) -> None:
        raise RuntimeError(f"crash after {step.line()}")

    with pytest.raises(RuntimeError, match="crash"):
        reseal(store.engine, ColumnCipher(read_key_file(key_file)), batch=2, progress=crash)
    half = _keys_in_use(db)
    assert half["cases.title"] == {"k1", "k2"}  # moved in part

    # meanwhile the node reads both keys and seals new values with the new one
    rows = bus.nodes["150400"].list_cases()
    assert [(r["case_id"], r["title"]) for r in rows] == [(i, TITLE) for i in ids]
    new_case = http.register("150400", petition(request="请求事项 新"))
    with sqlite3.connect(db) as conn:
        [(title,)] = conn.execute("SELECT title FROM cases WHERE case_id = ?", (new_case,))
    assert title.startswith("xf1.k2.")

    # the old key cannot go while anything uses it
    capsys.readouterr()
    assert _cli(tmp_path, "retire", "k1") == 1
    assert "XF-DATA-KEY-IN-USE" in capsys.readouterr().err
    assert "k1" in read_key_file(key_file).keys

    # resumed: everything under k2, progress shown; then k1 retired
    assert _cli(tmp_path, "sweep", "--batch", "2") == 0
    out = capsys.readouterr().out
    assert "cases.title" in out and "剩余 0" in out
    assert all(used <= {"k2"} for used in _keys_in_use(db).values())
    assert _cli(tmp_path, "retire", "k1") == 0
    assert set(read_key_file(key_file).keys) == {"k2"}

    # the node still reads everything, matches (the index key did not change) and signs
    # people in (TOTP secrets re-encrypted too)
    assert http.refused("150400", "/api/cases", petition(request="请求事项 3")) == (
        409, "XF-R12-IN-PROGRESS"
    )
    assert {r["title"] for r in bus.nodes["150400"].list_cases()} == {TITLE}
    assert _keys_in_use(db)["accounts.totp_secret"] == {"k2"}
    assert Http(bus).register("150400", petition(request="请求公开征地批复文件"))
    capsys.readouterr()
    assert _cli(tmp_path, "status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["current"], status["remaining"]) == ("k2", 0)
    bus.close()


def test_a_sweep_process_killed_mid_way_resumes(topology: Topology, tmp_path: Path) -> None:
    bus = _bus(topology, tmp_path)
    _register(Http(bus), 4)
    bus.close()
    db = tmp_path / "node-150400.sqlite3"
    base = [sys.executable, "-m", "xinfang", "data-keys", "--division", "150400",
            "--data-dir", str(tmp_path)]  # fmt: skip
    env = {**os.environ, "XINFANG_FAULT_RESEAL_CRASH_AFTER": "2"}
    killed = subprocess.run([*base, "rotate", "--batch", "1"], env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert killed.returncode == 70, killed.stderr  # died after two batches of one value
    assert killed.stdout.count("已重新加密") == 2
    assert _keys_in_use(db)["cases.title"] == {"k1", "k2"}
    resumed = subprocess.run([*base, "sweep"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert all(used <= {"k2"} for used in _keys_in_use(db).values())
    retired = subprocess.run([*base, "retire", "k1"], capture_output=True, text=True, timeout=120)
    assert retired.returncode == 0, retired.stderr
    reopened = NodeStore(f"sqlite:///{db}")  # the key file alone opens everything
    assert {r["title"] for r in reopened.cases.list_cases()} == {TITLE}
    reopened.close()


def test_the_cipher_of_a_new_key_file_is_selectable(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    keys = load_data_keys({"XINFANG_DATA_CIPHER": "sm4-gcm"}, path)
    assert keys.suite.name == "sm4-gcm" and len(keys.current_key) == 16
    sealed = ColumnCipher(keys).seal("cases", "title", "c-1", TITLE)
    assert ColumnCipher(read_key_file(path)).open("cases", "title", "c-1", sealed) == TITLE
