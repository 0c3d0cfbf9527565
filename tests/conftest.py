from __future__ import annotations

import pytest

from xinfang.domain.topology import Topology
from xinfang.topology_file import load_topology


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()
