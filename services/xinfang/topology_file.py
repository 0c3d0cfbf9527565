"""Loading a topology file (YAML) from disk."""

from __future__ import annotations

from pathlib import Path

import yaml

from .domain.topology import Topology
from .resources import ResourceMissing, data_dir

DEFAULT_TOPOLOGY = "chifeng.yaml"


def default_topology_path() -> Path:
    """deploy/topology/chifeng.yaml of a checkout, or its copy shipped in the wheel
    (xinfang.resources); XINFANG_TOPOLOGY / --topology name another file."""
    path = data_dir("topology") / DEFAULT_TOPOLOGY
    if not path.is_file():
        raise ResourceMissing(
            f"找不到默认拓扑 {path}，请用 --topology 或 XINFANG_TOPOLOGY 指定 / default topology "
            f"not found: {path}; pass --topology or set XINFANG_TOPOLOGY"
        )
    return path


def load_topology(path: Path | str | None = None) -> Topology:
    file = Path(path) if path else default_topology_path()
    with file.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return Topology.from_mapping(data)
