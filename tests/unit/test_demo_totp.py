"""`xinfang demo --totp PERSON`: a demo account's TOTP code on the demo's shared clock (the
nodes' clock, moved 23 days ahead by the supervision chain), for signing in to the console."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xinfang import cli
from xinfang.identity import totp
from xinfang.node.clock_file import write_offset

PERSON = "registrar.150400.xfj"


@pytest.fixture
def output(tmp_path: Path) -> Path:
    """A demo output folder as `make demo` leaves it: accounts.json and the clock 23 days on."""
    accounts = {
        PERSON: {
            "node": "http://127.0.0.1:1",
            "body": "150400.xfj",
            "roles": "registrar",
            "secret": totp.new_secret(),
            "otpauth": "",
        }
    }
    (tmp_path / "accounts.json").write_text(json.dumps(accounts), encoding="utf-8")
    write_offset(tmp_path / "clock.json", timedelta(days=23))
    return tmp_path


def test_totp_prints_a_code_valid_on_the_demo_clock(
    output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo", "--output", str(output), "--totp", PERSON]) == 0
    code = capsys.readouterr().out.strip()
    secret = json.loads((output / "accounts.json").read_text())[PERSON]["secret"]
    now = datetime.now(UTC)
    assert totp.accepted_step(secret, code, now + timedelta(days=23), None) is not None
    assert totp.accepted_step(secret, code, now, None) is None  # not the wall clock's


def test_totp_of_an_unknown_person_is_refused(output: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["demo", "--output", str(output), "--totp", "nobody"])
    assert "没有该演示账户 / no such demo account: nobody" in str(refused.value)
