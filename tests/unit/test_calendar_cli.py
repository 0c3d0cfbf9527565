"""The calendar warning in the command line (DOMAIN.md §11), Chinese first.

`xinfang calendar status` reads the local holiday files or a node's /health; `xinfang case list`
prints the node's warning. The node client is routed to the HTTP handlers in process.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from xinfang import cli
from xinfang.client import ApiError
from xinfang.devtools.staff import signed_in
from xinfang.domain.calendar import BEIJING
from xinfang.domain.topology import Topology
from xinfang.rules_file import default_rules_dir

from .fakes import FakeBus


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


@pytest.fixture
def node(
    topology: Topology, tmp_path: Path, rules: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeBus]:
    bus = FakeBus(topology, ["150400"], tmp_path, rules_dir=rules)
    api = signed_in(bus.nodes["150400"])

    def request(_self: object, method: str, path: str, body: Any = None) -> Any:
        status, answer = api.dispatch(method, path, body)
        if status >= 400:
            raise ApiError(status, answer)
        return answer

    monkeypatch.setattr(cli.NodeClient, "request", request)
    monkeypatch.setenv("XINFANG_LANG", "zh")
    yield bus
    bus.close()


def test_calendar_status_warns_from_1_october_chinese_first(
    rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["calendar", "status", "--rules-dir", str(rules)]
    assert cli.main([*args, "--date", "2026-09-30"]) == 0
    assert "日历完整" in capsys.readouterr().out
    assert cli.main([*args, "--date", "2026-10-01"]) == 1
    out = capsys.readouterr().out
    assert "缺少 2027 年国务院节假日安排" in out
    assert out.index("缺少 2027") < out.index("No official holiday schedule for 2027")


def test_case_list_and_calendar_status_print_the_node_warning(
    node: FakeBus, capsys: pytest.CaptureFixture[str]
) -> None:
    node.clock.now = datetime(2027, 10, 1, 9, tzinfo=BEIJING)
    assert cli.main(["case", "--api", "http://node", "list"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("警告：缺少 2027、2028 年国务院节假日安排"), err
    assert cli.main(["calendar", "--json", "status", "--api", "http://node"]) == 1
    assert '"missing_years": [\n    2027,\n    2028\n  ]' in capsys.readouterr().out


def test_calendar_provisional_prints_the_shipped_2027_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["calendar", "provisional", "2027"]) == 0
    shipped = (default_rules_dir() / "holidays" / "CN-2027.yaml").read_text(encoding="utf-8")
    assert capsys.readouterr().out == shipped
