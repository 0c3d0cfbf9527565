"""Nodes of two releases exchange records over the real broker (issue 10 item 7, decision 011).

Release v2 adds an optional field to CaseAccepted (`remark`, ["null","string"], default null;
tests/schema_release.py builds it in a temporary schemas/ folder, and its code fills the field).
赤峰市 (150400) stays at v1; 内蒙古自治区 (150000) runs v2 (started last); 松山区 (150404)
starts at v1 and is upgraded to v2 halfway, so its log holds CaseAccepted of both versions:

- case A is accepted at v1 松山区: the v1 record reaches the v2 province through the v1 city;
- 松山区 restarts at v2 and decides on case A, which it folds from its stored v1 record;
- case B, transferred by the v1 city, is accepted at v2 松山区 with the new field set: the v1
  city applies it and reports it up. v2 was published to the catalogue topic `xinfang.schemas`
  only after the city started, so the city learns it when the record names an unknown
  fingerprint;
- nothing is dead-lettered, and `xinfang audit verify` — at v1, at v2, and from an export —
  reads the log holding both versions and reports it intact.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.schema_release import NEW_FIELD, release_v2, v2_code
from xinfang.audit.records import LogRecord
from xinfang.audit.replay import KafkaSource
from xinfang.cli import main
from xinfang.codec.schemas import SchemaCatalogue
from xinfang.codec.wire import EventCodec
from xinfang.devtools.broker import Broker
from xinfang.devtools.scenario import PETITION, case_status, wait_for
from xinfang.ops.deadletters import list_sync
from xinfang.topics import TopicNames

from .conftest import NodeFactory

pytestmark = pytest.mark.integration
PROVINCE, CITY, COUNTY = "150000", "150400", "150404"
OFFICE, BODY = "150400.xfj", "150404.zj"


async def _read(bootstrap: str, topic: str) -> list[LogRecord]:
    out: list[LogRecord] = []
    async with KafkaSource(bootstrap) as kafka:
        await kafka.read(topic, out.append)
    return out


def _register_and_transfer(city: object, county: object, title: str, who: str) -> str:
    petitioner = {**PETITION["petitioner"], "name": who}
    body = {"actor": OFFICE, **PETITION, "title": title, "request": title, "petitioner": petitioner}
    case_id = str(city.post("/api/cases", body)["case_id"])  # type: ignore[attr-defined]
    city.post(  # type: ignore[attr-defined]
        f"/api/cases/{case_id}/transfer", {"actor": OFFICE, "to_body": BODY}
    )
    wait_for(lambda: case_status(county, case_id) == "TRANSFERRED", f"松山区收到 {title}")  # type: ignore[arg-type]
    return case_id


def test_nodes_of_v1_and_v2_exchange_records_and_the_audit_reads_both(
    kafka: Broker,
    start_node: NodeFactory,
    topic_prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    v2_dir = release_v2(tmp_path / "release-v2" / "schemas")
    v2_env = {"XINFANG_SCHEMA_DIR": str(v2_dir), **v2_code(tmp_path / "release-v2" / "code")}
    v1_codec, v2_codec = EventCodec(), EventCodec(SchemaCatalogue(v2_dir))
    fp_v1 = v1_codec.catalogue.get("CaseAccepted").fingerprint
    fp_v2 = v2_codec.catalogue.get("CaseAccepted").fingerprint
    topics = TopicNames(topic_prefix)

    city = start_node(CITY)
    county = start_node(COUNTY)
    for node in (city, county):
        node.wait_ready()  # their start-up read of xinfang.schemas finds no v2 yet
    province = start_node(PROVINCE, extra_env=dict(v2_env))
    province.wait_ready()

    # Case A, accepted at v1 松山区; the v1 record reaches the v2 province (v1 -> v2).
    case_a = _register_and_transfer(city.client, county.client, "A：v1 受理", "甲某某")
    county.client.post(f"/api/cases/{case_a}/accept", {"actor": BODY})
    wait_for(lambda: case_status(province.client, case_a) == "ACCEPTED", "自治区看到 A 受理")

    # 松山区 is upgraded to v2 (same database) and decides on case A: it folds its v1 record.
    county.stop()
    county.extra_env = dict(v2_env)
    county.start()
    county.wait_ready()
    county.client.post(
        f"/api/cases/{case_a}/opinion",
        {"actor": BODY, "outcome": "SUPPORTED", "opinion": "经调查属实，责令整改"},
    )
    timeline_a = county.client.get(f"/api/cases/{case_a}/timeline")["timeline"]
    assert {"CaseAccepted", "HandlingOpinionIssued"} <= {e["type"] for e in timeline_a}
    assert case_status(county.client, case_a) == "OPINION_ISSUED"

    # Case B, from the v1 city to the v2 county, accepted there with the new field (v2 -> v1),
    # applied at the v1 city and reported up to the province.
    case_b = _register_and_transfer(city.client, county.client, "B：v2 受理", "乙某某")
    county.client.post(f"/api/cases/{case_b}/accept", {"actor": BODY})
    for node, name in ((city, "赤峰市"), (province, "自治区")):
        wait_for(lambda n=node: case_status(n.client, case_b) == "ACCEPTED", f"{name}看到 B 受理")
    wait_for(lambda: case_status(city.client, case_a) == "OPINION_ISSUED", "赤峰市看到 A 意见")
    # The v1 city learned v2 from xinfang.schemas when the first v2 record reached its inbox.
    health = city.client.get("/health")
    assert health["writer_schemas_learned"] == 1 and health["schema_catalogue_reads"] >= 2

    # The county log holds CaseAccepted of both versions; v2's carries the new field, set.
    log = asyncio.run(_read(kafka.bootstrap_servers, topics.log(COUNTY)))
    accepted = {
        r.value[2:10]: v2_codec.decoder.decode(r.value)[2]
        for r in log
        if v2_codec.decode(r.value).event.type == "CaseAccepted"
    }
    assert set(accepted) == {fp_v1, fp_v2}
    assert accepted[fp_v1][NEW_FIELD] is None
    assert accepted[fp_v2][NEW_FIELD] == f"v2 {case_b}"
    for division in (PROVINCE, CITY, COUNTY):
        assert list_sync(kafka.bootstrap_servers, topics, division) == [], division

    # audit verify reads the log and the inbox copies of both versions: with the v1 reader
    # (learning v2 from the catalogue topic), with the v2 reader, and from an export.
    common = ["--bootstrap-servers", kafka.bootstrap_servers, "--topic-prefix", topic_prefix]
    nodes = ["--nodes", f"{PROVINCE},{CITY},{COUNTY}", "--quiet"]
    for reader in ([], ["--schema-dir", str(v2_dir)]):
        code = main(["audit", "verify", *common, *nodes, "--json", *reader])
        result = json.loads(capsys.readouterr().out)["integrity"]
        assert code == 0, result["violations"]
        assert result["nodes"][COUNTY]["records"] == len(log)
        inboxes = result["inboxes"]
        assert {d: (v["records"] > 0, v["undecodable"]) for d, v in inboxes.items()} == {
            d: (True, 0) for d in (PROVINCE, CITY, COUNTY)
        }
    out = tmp_path / "export"
    assert main(["audit", "export", "--out", str(out), *common, *nodes]) == 0
    assert (out / "schemas" / f"xinfang.events.CaseAccepted.{fp_v2.hex()}.avsc").is_file()
    assert main(["audit", "verify", "--from", str(out), *nodes]) == 0
    assert "日志完整" in capsys.readouterr().out
