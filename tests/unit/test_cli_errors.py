"""Issue 11 item 5: the CLI prints any XinfangError in Chinese and English (English only with
XINFANG_LANG=en) and exits non-zero — never a traceback. A configuration error exits 2."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from xinfang import cli
from xinfang.domain.errors import NotHolder
from xinfang.rules_file import default_rules_dir

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_malformed_holiday_file_is_a_bilingual_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XINFANG_LANG", "zh")
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    broken = rules / "holidays" / "CN-2026.yaml"
    broken.write_text("region: CN\nyear: 2026\nholidays: [2027-01-01]\n", encoding="utf-8")
    code = cli.main(["calendar", "status", "--rules-dir", str(rules), "--date", "2026-05-01"])
    err = capsys.readouterr().err
    assert code == 2
    assert "[XF-RULES-INVALID]" in err
    assert "规则数据文件有误" in err and "The rules data is invalid" in err
    assert "Traceback" not in err


def test_malformed_topology_is_a_configuration_error_in_english_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    topology = tmp_path / "topology.yaml"
    topology.write_text(
        "name: t\ndivisions:\n  - {code: '150404', name: 县, level: county, parent: '150400'}\n",
        encoding="utf-8",
    )
    args = ["keys", "generate", "--topology", str(topology), "--private-dir", str(tmp_path)]
    monkeypatch.setenv("XINFANG_LANG", "zh")
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "[XF-TOPOLOGY-INVALID] 拓扑文件有误：150404 的上级 150400 不在拓扑中" in err
    assert "The topology file is invalid" in err
    monkeypatch.setenv("XINFANG_LANG", "en")
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error [XF-TOPOLOGY-INVALID] The topology file is invalid")
    assert "拓扑文件有误" not in err


def test_a_domain_refusal_escaping_a_command_is_printed_in_both_languages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(output: Path, keep_running: bool = False) -> int:
        raise NotHolder(case="150400-2026-000001")

    monkeypatch.setattr("xinfang.devtools.demo.run_demo", refuse)
    monkeypatch.setenv("XINFANG_LANG", "zh")
    assert cli.main(["demo"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "错误 / error [XF-NOT-HOLDER] 该机关当前不承办此事项 / "
        "This body does not currently hold the case"
    )
    monkeypatch.setenv("XINFANG_LANG", "en")
    assert cli.main(["demo"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error [XF-NOT-HOLDER] This body does not currently hold the case"
    assert not CJK.search(err)
