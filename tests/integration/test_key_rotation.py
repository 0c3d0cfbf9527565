"""Issue 12 item 1 "Keys" over the broker with node processes: a county rotates its key with
`xinfang keys rotate`; its running parent learns the endorsed set from `keys/` without a
restart and applies the county's records signed with the new key (decision 021)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xinfang.chain.keys import Keyring, load_private_key
from xinfang.devtools.broker import Broker
from xinfang.devtools.scenario import PETITION, case_status, wait_for

from .conftest import NodeFactory

pytestmark = pytest.mark.integration
CITY, COUNTY = "150400", "150404"


def test_a_rotated_key_is_learnt_by_the_running_parent(
    kafka: Broker, start_node: NodeFactory
) -> None:
    city, county = start_node(CITY), start_node(COUNTY)
    city.wait_ready()
    county.wait_ready()
    case_id = city.client.post("/api/cases", {"actor": "150400.xfj", **PETITION})["case_id"]
    city.client.post(
        f"/api/cases/{case_id}/transfer", {"actor": "150400.xfj", "to_body": "150404.zj"}
    )
    wait_for(lambda: case_status(county.client, case_id) == "TRANSFERRED", "县级收到转送", 60)
    old = county.client.get("/health")["key_id"]

    county.stop()
    rotated = subprocess.run(
        [
            sys.executable, "-m", "xinfang", "keys", "rotate", "--division", COUNTY,
            "--public-dir", str(county.keys_dir), "--private-dir", str(county.data_dir),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    new = load_private_key(county.data_dir / f"node-{COUNTY}.key").key_id
    key_set = Keyring.from_dir(county.keys_dir).key_set(COUNTY)
    assert key_set is not None and [k.key_id for k in key_set.keys] == [old, new]

    county = start_node(COUNTY)  # signs with the new key from now on
    assert county.wait_ready()["key_id"] == new
    county.client.post(
        f"/api/cases/{case_id}/accept",
        {"actor": "150404.zj", "notice": {"method": "ELECTRONIC", "receipt": "SIGNED"}},
    )
    applied = "市级应用新密钥签名的记录 / the city applies a record signed with the new key"
    wait_for(lambda: case_status(city.client, case_id) == "ACCEPTED", applied, 60)
