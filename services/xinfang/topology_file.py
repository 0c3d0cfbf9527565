"""Loading a topology file (YAML) from disk."""

from __future__ import annotations

from pathlib import Path

import yaml

from .domain.topology import Topology


def default_topology_path() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "deploy" / "topology" / "chifeng.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("deploy/topology/chifeng.yaml not found; pass --topology")


def load_topology(path: Path | str | None = None) -> Topology:
    file = Path(path) if path else default_topology_path()
    with file.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return Topology.from_mapping(data)
