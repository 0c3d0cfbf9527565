"""xinfang.resources in a checkout (the editable install): the top-level folders themselves.

The installed-wheel side is tests/integration/test_docker_image.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xinfang.bootstrap import node_parts
from xinfang.codec.schemas import default_schema_dir
from xinfang.resources import SHIPPED, ResourceMissing, checkout_dir, checkout_root, data_dir
from xinfang.rules_file import default_rules_dir, load_calendar
from xinfang.settings import RULES_DIR_ENV, NodeSettings
from xinfang.topology_file import default_topology_path

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_reads_its_own_folders_the_source_of_truth() -> None:
    assert checkout_root() == ROOT
    for name, (source, _) in SHIPPED.items():
        assert data_dir(name) == ROOT / source
    assert default_schema_dir() == ROOT / "schemas"
    assert default_topology_path() == ROOT / "deploy" / "topology" / "chifeng.yaml"


def test_every_data_file_of_the_checkout_is_shipped() -> None:
    """A file the patterns of SHIPPED miss would be absent from the wheel and the image
    (documentation, published keys and caches are not data the node reads)."""
    for source, patterns in SHIPPED.values():
        folder = ROOT / source
        files = {
            p
            for p in folder.rglob("*")
            if p.is_file() and p.suffix != ".md" and not {"keys", "__pycache__"} & set(p.parts)
        }
        assert files == {p for pattern in patterns for p in folder.glob(pattern)}, source


def test_rules_dir_setting_overrides_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(RULES_DIR_ENV, raising=False)
    assert default_rules_dir() == ROOT / "deploy" / "rules"
    (tmp_path / "holidays").mkdir()
    (tmp_path / "holidays" / "CN-2026.yaml").write_bytes(
        (ROOT / "deploy" / "rules" / "holidays" / "CN-2026.yaml").read_bytes()
    )
    # read once, by the node's settings (decision 020); rules_file takes it as an argument
    monkeypatch.setenv(RULES_DIR_ENV, str(tmp_path))
    settings = NodeSettings.from_env(division="150400", data_dir=str(tmp_path / "var"))
    assert settings.rules_dir == tmp_path
    assert default_rules_dir() == ROOT / "deploy" / "rules"  # the setting is not a hidden default
    assert load_calendar("150400", settings.rules_dir).years == frozenset({2026})
    # the node wired from these settings counts on that folder's calendar (and its rules)
    (tmp_path / "provinces").mkdir()
    (tmp_path / "provinces" / "15.yaml").write_bytes(
        (ROOT / "deploy" / "rules" / "provinces" / "15.yaml").read_bytes()
    )
    parts = node_parts(settings)
    try:
        assert parts.service.calendar.years == frozenset({2026})
    finally:
        parts.service.store.close()
    # an explicit argument wins over the setting
    assert len(load_calendar("150400", ROOT / "deploy" / "rules").years) > 1
    flagged = NodeSettings.from_env(division="150400", rules_dir=str(ROOT / "deploy" / "rules"))
    assert flagged.rules_dir == ROOT / "deploy" / "rules"


def test_a_missing_checkout_folder_is_refused_with_advice() -> None:
    with pytest.raises(ResourceMissing) as err:
        checkout_dir("deploy/no-such-tool", ("请先获取", "fetch it first"))
    message = str(err.value)
    assert "deploy/no-such-tool" in message
    assert "源码检出" in message and "source checkout" in message
    assert "请先获取" in message and "fetch it first" in message
    assert isinstance(err.value, FileNotFoundError)  # callers catching FileNotFoundError still do
