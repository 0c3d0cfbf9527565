"""`xinfang accounts`: create (password from stdin, never argv), enrol TOTP (otpauth URI),
list, lock, grant with 三员分立 — then the account signs in over HTTP."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xinfang.api.handlers import NodeApi
from xinfang.bootstrap import service_for
from xinfang.cli import main
from xinfang.identity import totp
from xinfang.store.unit_of_work import NodeStore
from xinfang.topology_file import load_topology


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path,
        *args: str, stdin: str = "") -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["accounts", "--division", "150400", "--data-dir", str(data), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_accounts_cli_creates_an_account_that_signs_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "node"
    code, out, _ = run(
        capsys, monkeypatch, data, "create", "zhang.san", "--name", "张三",
        "--body", "150400.xfj", "--roles", "registrar", stdin="Zhang-2026-pw\n",
    )  # fmt: skip
    assert code == 0 and "已创建账户 zhang.san" in out and "created zhang.san" in out
    code, out, _ = run(capsys, monkeypatch, data, "enrol-totp", "zhang.san")
    assert code == 0
    uri = next(line for line in out.splitlines() if line.startswith("otpauth://totp/"))
    secret = re.search(r"secret=([A-Z2-7]+)", uri)
    assert secret is not None and f"{secret.group(1)}" in out
    code, out, _ = run(capsys, monkeypatch, data, "list")
    assert code == 0 and "zhang.san\t张三\t150400.xfj\tregistrar\tTOTP" in out
    # 三员分立: refused with the account's error, exit 1, nothing changed
    code, _, err = run(capsys, monkeypatch, data, "grant", "zhang.san", "--roles",
                       "registrar,system-admin")  # fmt: skip
    assert code == 1 and "XF-ACCOUNT-INVALID" in err and "三员分立" in err
    code, _, err = run(capsys, monkeypatch, data, "create", "x", "--name", "x", "--body",
                       "150400.xfj", "--roles", "registrar", stdin="short\n")  # fmt: skip
    assert code == 1 and "XF-ACCOUNT-INVALID" in err
    # the node on that database signs the person in
    store = NodeStore(f"sqlite:///{data / 'node-150400.sqlite3'}")
    node = service_for("150400", load_topology(), store)
    api = NodeApi(node)
    now = datetime.now(UTC)
    body = {
        "person": "zhang.san",
        "password": "Zhang-2026-pw",
        "totp": totp.code_at(secret.group(1), now),
    }
    status, answer = api.dispatch("POST", "/api/session", body)
    assert (status, answer["body"], answer["roles"]) == (200, "150400.xfj", ["registrar"])
    code, out, _ = run(capsys, monkeypatch, data, "lock", "zhang.san")
    assert code == 0
    headers = {"Authorization": f"Bearer {answer['token']}"}
    assert api.dispatch("GET", "/api/me", None, headers=headers)[0] == 401  # sessions ended
    store.close()
