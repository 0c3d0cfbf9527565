"""The one wiring place (issue 11 item 1, decision 020): every node is built by
xinfang.bootstrap; NodeService takes its rules, calendar and ports as arguments and reads no
files; the settings (XINFANG_RULES_DIR, the drill's crash points) are read once."""

from __future__ import annotations

import ast
from collections.abc import Hashable
from pathlib import Path

import pytest

import xinfang
from xinfang.bootstrap import node_parts, rule_data, service_for
from xinfang.codec.wire import EventCodec
from xinfang.contract.public_status import PublicStatusFeed
from xinfang.domain.calendar import HolidayCalendar
from xinfang.domain.clock import ManualClock
from xinfang.domain.rule_errors import RulesInvalid
from xinfang.domain.topology import Topology
from xinfang.node.checkpoints import ChainKeeper
from xinfang.node.relay import OutboxRelay
from xinfang.node.service import NodeService
from xinfang.settings import NodeSettings, SettingsError
from xinfang.store.unit_of_work import NodeStore
from xinfang.topics import TopicNames

PACKAGE = Path(xinfang.__file__).parent
REPO = PACKAGE.parents[1]
COUNTY = "150404"


def _calls_to(name: str, path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    )


def test_only_bootstrap_constructs_a_node_service() -> None:
    """The faust app, the in-process bus, the CLI, bench and tests get their node from it."""
    folders = [PACKAGE, REPO / "tests", REPO / "bench", REPO / "examples"]
    builders = sorted(
        str(path.relative_to(REPO))
        for folder in folders
        for path in folder.rglob("*.py")
        if _calls_to("NodeService", path)
    )
    # (and this file, which hands the constructor a fake calendar source)
    assert builders == ["services/xinfang/bootstrap.py", "tests/unit/test_bootstrap.py"]


def test_the_service_reads_no_files() -> None:
    source = PACKAGE / "node" / "service.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    file_adapters = {"rules_file", "topology_file", "resources", "settings", "pathlib", "os"}
    assert imported & file_adapters == set()
    for reader in ("open", "read_text", "read_bytes", "glob", "stat", "load_calendar"):
        assert _calls_to(reader, source) == 0, reader


def test_the_node_package_reads_no_settings_nor_files_but_through_bootstrap() -> None:
    """Only node/app.py (the faust entrypoint) takes NodeSettings; keys, rules and topology are
    read by bootstrap (keeper_for, rule_data, load_topology)."""
    readers = {"settings", "rules_file", "topology_file", "resources"}
    found = sorted(
        f"{path.name} -> {node.module}"
        for path in (PACKAGE / "node").glob("*.py")
        if path.name != "app.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module in readers
    )
    assert found == []


class FakeSource:
    """A CalendarSource whose holiday files an operator 'installs' by setting `calendar`."""

    def __init__(self, calendar: HolidayCalendar) -> None:
        self.version = 1
        self.calendar = calendar
        self.reads = 0
        self.broken = False

    def signature(self) -> Hashable:
        return self.version

    def current(self) -> tuple[Hashable, HolidayCalendar]:
        self.reads += 1
        if self.broken:
            raise RulesInvalid("CN-2028.yaml: 不是日期 (YYYY-MM-DD): 'soon'")
        return self.version, self.calendar


def test_the_sweep_asks_the_calendar_source_and_reads_only_on_a_change(
    topology: Topology, tmp_path: Path
) -> None:
    data = rule_data(COUNTY, topology)
    full = data.calendar
    fewer = HolidayCalendar(  # before the 2025 file was installed
        province=full.province,
        years=frozenset(full.years - {2025}),
        holidays=frozenset(d for d in full.holidays if d.year != 2025),
        working_days=frozenset(d for d in full.working_days if d.year != 2025),
        provisional_years=full.provisional_years,
    )
    source = FakeSource(data.calendar)
    codec = EventCodec()
    service = NodeService(
        COUNTY, topology, NodeStore(f"sqlite:///{tmp_path / 'n.db'}"), codec, TopicNames("t."),
        rules=data.rules, calendar=fewer, hierarchy=data.hierarchy,
        chain=ChainKeeper(COUNTY, topology), public=PublicStatusFeed(topology),
        clock=ManualClock(), calendar_source=source, calendar_signature=1,
    )  # fmt: skip
    try:
        assert service.sweep_deadlines() == 0 and source.reads == 0  # unchanged: not re-read
        source.version, source.broken = 2, True  # a malformed file installed
        assert service.refresh_calendar() is False and service.calendar == fewer
        assert service.refresh_calendar() is False and source.reads == 1  # not retried
        source.version, source.broken = 3, False  # the official file installed
        assert service.refresh_calendar() is True
        assert service.calendar == data.calendar and source.reads == 2
    finally:
        service.store.close()


def test_a_calendar_given_to_service_for_is_fixed(topology: Topology, tmp_path: Path) -> None:
    data = rule_data(COUNTY, topology)
    service = service_for(
        COUNTY, topology, NodeStore(f"sqlite:///{tmp_path / 'n.db'}"), calendar=data.calendar
    )
    try:
        assert service.refresh_calendar() is False
    finally:
        service.store.close()


def test_settings_are_read_once_and_handed_down(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {
        "XINFANG_DIVISION": COUNTY,
        "XINFANG_DATA_DIR": str(tmp_path),
        "XINFANG_RULES_DIR": str(REPO / "deploy" / "rules"),
        "XINFANG_FAULT_CRASH_BEFORE_MARK": "0.25",
    }
    settings = NodeSettings.from_env(env)
    assert settings.rules_dir == REPO / "deploy" / "rules"
    parts = node_parts(settings)
    try:
        assert parts.relay.crash_points.before_mark == 0.25
        assert parts.relay.crash_points.before_publish == 0.0
        assert parts.service.division == COUNTY and parts.inbox.service is parts.service
        assert parts.relay.wake in parts.service.on_commit
    finally:
        parts.service.store.close()
    # the relay itself reads no environment: only what bootstrap hands it
    monkeypatch.setenv("XINFANG_FAULT_CRASH_BEFORE_MARK", "1")
    relay = OutboxRelay(NodeStore("sqlite://"), "127.0.0.1:9", client_id="x")
    assert relay.crash_points.before_mark == 0.0
    with pytest.raises(SettingsError, match="XINFANG_FAULT_CRASH_BEFORE_PUBLISH"):
        NodeSettings.from_env({**env, "XINFANG_FAULT_CRASH_BEFORE_PUBLISH": "2"})
