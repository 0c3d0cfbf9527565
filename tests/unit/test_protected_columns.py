"""Projection columns at rest (issue 15 item 3): the case title and query code and the staff's
TOTP secrets are stored as `xf1.` field ciphertext bound to their row, the R11/R12 matter key
is a keyed hash, the keys live in a 0600 file beside the database and never in it, and a node
whose key file is missing refuses to start with a clear error. Driven through the HTTP
handlers of nodes on the in-process bus, reading the SQLite files as an intruder would."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from xinfang.bootstrap import rekey_matters
from xinfang.domain.matter import matter_parts
from xinfang.domain.topology import Topology
from xinfang.privacy.blind import blind_index
from xinfang.privacy.columns import MATTER_PURPOSE
from xinfang.privacy.keyfile import DataKeysInvalid, read_key_file
from xinfang.privacy.suites import DecryptionFailed
from xinfang.store.account_tables import accounts
from xinfang.store.tables import cases
from xinfang.store.unit_of_work import NodeStore

from .fakes import FakeBus
from .http_world import Http
from .test_service_same_matter import REQUEST, petition

TITLE = "征地补偿款未足额发放"


def _raw(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


@pytest.mark.rule("R12")
def test_title_query_code_and_matter_key_are_protected_and_matching_still_works(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    http = Http(bus)
    answer = http.ok("150404", "/api/cases", petition())
    case_id, query_code = answer["case_id"], answer["query_code"]
    db, key_file = tmp_path / "150404.db", tmp_path / "150404.datakeys.json"

    [(title, stored_code, matter_key)] = _raw(
        db, f"SELECT title, query_code, matter_key FROM cases WHERE case_id = '{case_id}'"
    )
    assert str(title).startswith("xf1.k1.") and TITLE not in str(title)
    assert str(stored_code).startswith("xf1.k1.") and query_code not in str(stored_code)
    # the matter key: HMAC under the index key of the key file, not an unkeyed SHA-256
    keys = read_key_file(key_file)
    parts = matter_parts(bus.nodes["150404"].case(case_id).file)
    assert parts is not None
    unkeyed = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    assert matter_key == blind_index(keys.index_key, MATTER_PURPOSE, "\x1f".join(parts))
    assert matter_key not in (unkeyed, unkeyed[:32])
    # the keys: owner-only, beside the database, never in it
    assert key_file.stat().st_mode & 0o777 == 0o600
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("150404.db*"))
    for key in (*keys.keys.values(), keys.index_key):
        assert key not in raw and base64.b64encode(key) not in raw
    # read paths open them
    [row] = [r for r in bus.nodes["150404"].list_cases() if r["case_id"] == case_id]
    assert (row["title"], row["query_code"]) == (TITLE, query_code)
    # R12 still finds the matter in progress through the keyed index
    http.command("150404", case_id, "transfer", {"actor": "150404.xfj", "to_body": "150404.zj"})
    variant = petition(request=" " + REQUEST + "。")
    assert http.refused("150404", "/api/cases", variant) == (409, "XF-R12-IN-PROGRESS")
    bus.close()


def test_a_sealed_value_moved_to_another_row_does_not_open(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400"], tmp_path)
    http = Http(bus)
    first = http.register("150400", petition())
    second = http.register("150400", petition(request="请求公开征地批复文件"))
    store = bus.nodes["150400"].store
    assert isinstance(store, NodeStore)
    with store.engine.begin() as conn:
        title = conn.execute(cases.select().where(cases.c.case_id == first)).one().title
        conn.execute(update(cases).where(cases.c.case_id == second).values(title=title))
    with pytest.raises(DecryptionFailed):
        store.cases.list_cases()
    bus.close()


def test_totp_secrets_are_sealed_and_sign_in_still_works(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400"], tmp_path)
    http = Http(bus)  # signs its staff in with password and TOTP code (devtools/staff.py)
    assert http.register("150400", petition())  # a signed-in request
    store = bus.nodes["150400"].store
    assert isinstance(store, NodeStore)
    with store.engine.connect() as conn:
        secrets = [r.totp_secret for r in conn.execute(accounts.select())]
    assert secrets and all(str(s).startswith("xf1.k1.") for s in secrets)
    bus.close()


def test_legacy_unkeyed_matter_keys_are_rekeyed_at_start_up(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    http = Http(bus)
    case_id = http.register("150404", petition())
    http.command("150404", case_id, "transfer", {"actor": "150404.xfj", "to_body": "150404.zj"})
    node = bus.nodes["150404"]
    store = node.store
    assert isinstance(store, NodeStore)
    parts = matter_parts(node.case(case_id).file)
    assert parts is not None
    legacy = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]  # migration 0006's
    with store.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.case_id == case_id).values(matter_key=legacy))
    assert store.cases.ids_to_rekey() == [case_id]
    rekey_matters(node, store)
    assert store.cases.ids_to_rekey() == []
    assert http.refused("150404", "/api/cases", petition()) == (409, "XF-R12-IN-PROGRESS")
    bus.close()


def test_a_missing_key_file_for_a_database_holding_ciphertext_is_a_clear_error(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400"], tmp_path)
    Http(bus).register("150400", petition())
    bus.close()
    key_file = tmp_path / "150400.datakeys.json"
    kept = key_file.read_text()
    key_file.unlink()
    with pytest.raises(DataKeysInvalid, match="密钥文件不存在") as missing:
        NodeStore(f"sqlite:///{tmp_path / '150400.db'}")
    assert missing.value.code == "XF-DATA-KEYS"
    # a key file without the key the values are sealed under: named, not a crash dump
    other = json.loads(kept)
    other["keys"] = {"k9": other["keys"]["k1"]}
    other["current"] = "k9"
    key_file.write_text(json.dumps(other))
    key_file.chmod(0o600)
    with pytest.raises(DataKeysInvalid, match="k1"):
        NodeStore(f"sqlite:///{tmp_path / '150400.db'}")


def test_a_node_started_without_its_key_file_stops_with_a_clear_error(tmp_path: Path) -> None:
    store = NodeStore(f"sqlite:///{tmp_path / 'node-150400.sqlite3'}")  # the node's file names
    with store.engine.begin() as conn:
        sealed = store.columns.seal("accounts", "totp_secret", "p1", "JBSWY3DPEHPK3PXP")
        conn.execute(accounts.insert().values(
            person="p1", name="甲", body="150400.xfj", roles=[], password_hash="x",
            totp_secret=sealed, failed=0, disabled=False, created_at=datetime.now(UTC),
        ))  # fmt: skip
    store.close()
    (tmp_path / "node-150400.datakeys.json").unlink()
    run = subprocess.run(
        [sys.executable, "-m", "xinfang", "node", "run", "--division", "150400",
         "--data-dir", str(tmp_path), "--bootstrap-servers", "127.0.0.1:1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "XF-DATA-KEYS" in run.stderr and "密钥文件不存在" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "node-150400.datakeys.json").exists()  # no new key made


def test_an_idempotent_registrations_recorded_answer_is_sealed(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400"], tmp_path)
    http = Http(bus)
    staff = http.apis["150400"]

    def register() -> tuple[int, object]:
        def send(headers: dict[str, str]) -> tuple[int, object]:
            headers = {**headers, "Idempotency-Key": "reg-1"}
            return staff.api.dispatch("POST", "/api/cases", petition(), headers=headers)

        return staff.staff.act_as(send, "POST", "/api/cases", petition(), None)

    first, again = register(), register()
    assert first[0] == 201 and again == first  # the same answer, the query code included
    answer = first[1]
    assert isinstance(answer, dict)
    [(stored,)] = _raw(tmp_path / "150400.db", "SELECT response FROM idempotency_keys")
    assert answer["query_code"] not in str(stored) and '"xf1": "xf1.k1.' in str(stored)
    bus.close()
