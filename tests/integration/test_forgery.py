"""Issue 12 item 5 over the real broker: one test per forgery kind (devtools/forge.py), against
three separate node processes (内蒙古 150000, 赤峰市 150400, 松山区 150404) with published keys.

Each test runs its own case to the county's acceptance, then an outsider reads 松山区's public
log and produces a forged record claiming 松山区 into 赤峰市's inbox; then 松山区 issues its
genuine opinion (不予支持) on the case. Asserted:
1. `audit verify` names the forged record where it was produced (`<inbox>:0:<offset>`) — the
   auditor's part (decision 024);
2. the genuine opinion after it still reached 赤峰市 and 内蒙古, in order after the county's
   earlier records of the case, and the forged record was never applied at either node (its
   event id is in no timeline, the state is the genuine one) — the receivers' part
   (decisions 021–023: signatures, strict chains, inbound authorisation).
Part 1 holds on the auditor's own (decision 024); part 2 needs the signing receivers (021, 022)
and, for the illegal act, the inbound authorisation (023) — and that refusing an unauthorised
act leaves the source's chain where it was, so that the genuine record behind it still fits.
The nodes are shared by the module: a forged record that poisoned a chain breaks the tests after
it too, as it would break the genuine traffic.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.audit.demo import generate_keys
from xinfang.audit.run import Source, run_audit
from xinfang.audit.signatures import KeyTable, PublishedKey
from xinfang.chain.keys import Keyring, NodeKey, load_private_key
from xinfang.cli import main
from xinfang.client import NodeClient
from xinfang.codec.wire import EventCodec
from xinfang.devtools import forge
from xinfang.devtools.broker import Broker
from xinfang.devtools.processes import NodeProcess, stop_all
from xinfang.devtools.scenario import PETITION, case_status, wait_for
from xinfang.domain.events import CaseAccepted, CaseClosed, EventHeader, HandlingOpinionIssued
from xinfang.domain.vocabulary import CloseReason, Outcome
from xinfang.topics import TopicNames
from xinfang.topology_file import load_topology

pytestmark = pytest.mark.integration
PROVINCE, CITY, COUNTY = "150000", "150400", "150404"
CODEC = EventCodec()
CITY_OFFICE, HANDLER = "150400.xfj", "150404.zj"
APPLIED_S = 30.0  # bound on waiting for a genuine record to reach a node


@dataclass
class Nodes:
    bootstrap: str
    prefix: str
    keys_dir: Path
    root: Path
    procs: dict[str, NodeProcess]

    def api(self, division: str) -> NodeClient:
        return self.procs[division].client

    @property
    def topics(self) -> TopicNames:
        return TopicNames(self.prefix)

    def county_log(self) -> list[forge.Record]:
        return asyncio.run(forge.read_records(self.bootstrap, self.topics.log(COUNTY)))

    def forge_into_city(self, record: forge.Record) -> str:
        """Produce `record` into 赤峰市's inbox; its location as the auditor must report it."""
        topic = self.topics.inbox(CITY)
        [offset] = forge.produce_sync(self.bootstrap, topic, [record])
        return f"{topic}:0:{offset}"


@pytest.fixture(scope="module")
def nodes(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    root = tmp_path_factory.mktemp("forgery")
    keys_dir = root / "keys"
    generate_keys([PROVINCE, CITY, COUNTY], keys_dir, root)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    procs = {
        d: NodeProcess(
            d, kafka.bootstrap_servers, root / d, topic_prefix=prefix,
            extra_env={"XINFANG_PUBLIC_KEYS": str(keys_dir)},
        )
        for d in (PROVINCE, CITY, COUNTY)
    }
    try:
        for proc in procs.values():
            proc.start()
        for proc in procs.values():
            assert proc.wait_ready()["key_id"]
        yield Nodes(kafka.bootstrap_servers, prefix, keys_dir, root, procs)
    finally:
        stop_all(procs.values())


def petition() -> dict[str, Any]:
    """A matter of its own (a second one alike would be refused as the same matter, R12)."""
    tag = uuid.uuid4().hex[:6]
    return {
        "actor": CITY_OFFICE, **PETITION, "title": f"{PETITION['title']}（{tag}）",
        "petitioner": {**PETITION["petitioner"], "name": f"王某{tag}"},
    }


def accepted_case(n: Nodes) -> str:
    """A case registered at 赤峰市, transferred to and accepted by 松山区 (everywhere)."""
    city, county = n.api(CITY), n.api(COUNTY)
    case_id = str(city.post("/api/cases", petition())["case_id"])
    city.post(f"/api/cases/{case_id}/transfer", {"actor": CITY_OFFICE, "to_body": HANDLER})
    wait_for(lambda: case_status(county, case_id) == "TRANSFERRED", "松山区收到转送")
    county.post(f"/api/cases/{case_id}/accept", {"actor": HANDLER})
    for d in (CITY, PROVINCE):
        wait_for(lambda d=d: case_status(n.api(d), case_id) == "ACCEPTED", f"{d} 看到受理")
    quiet_log(n)
    return case_id


def quiet_log(n: Nodes) -> None:
    """Wait until 松山区's log holds every record it wrote (the forger reads its head)."""
    def settled() -> bool:
        health = n.api(COUNTY).get("/health")
        return int(health.get("outbox_pending", 0)) == 0
    wait_for(settled, "松山区发件箱清空")


def header(case_id: str, actor: str = HANDLER) -> EventHeader:
    return EventHeader(str(uuid.uuid4()), case_id, COUNTY, actor, datetime.now(UTC))


def forged_opinion(case_id: str) -> HandlingOpinionIssued:
    return HandlingOpinionIssued(
        header=header(case_id), body=HANDLER, outcome=Outcome.SUPPORTED, opinion="予以支持（伪造）"
    )


def genuine_opinion(n: Nodes, case_id: str) -> str:
    """松山区 issues its real opinion (不予支持); returns its event id."""
    answer = n.api(COUNTY).post(
        f"/api/cases/{case_id}/opinion",
        {"actor": HANDLER, "outcome": "NOT_SUPPORTED", "opinion": "经调查不属实，不予支持"},
    )
    return next(e["event_id"] for e in answer["events"] if e["type"] == "HandlingOpinionIssued")


def audit_names(n: Nodes, capsys: pytest.CaptureFixture[str], location: str) -> dict[str, Any]:
    """`xinfang audit verify` over the three nodes lists the forged record at `location`."""
    code = main([
        "audit", "verify", "--bootstrap-servers", n.bootstrap, "--topic-prefix", n.prefix,
        "--public-keys", str(n.keys_dir), "--nodes", f"{PROVINCE},{CITY},{COUNTY}",
        "--quiet", "--json",
    ])  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    listed = {f["location"]: f for f in payload["integrity"]["forged"]}
    assert location in listed, (location, sorted(listed))
    assert listed[location]["node"] == COUNTY
    return dict(listed[location])


def never_applied(n: Nodes, case_id: str, forged_id: str, genuine_id: str) -> None:
    """The genuine opinion reached 赤峰市 and 内蒙古 after the county's earlier records of the
    case, in order; the forged record is in no timeline and the state is the genuine one."""
    for d in (CITY, PROVINCE):
        api = n.api(d)
        wait_for(
            lambda api=api: genuine_id in _ids(api, case_id), f"{d} 收到真实意见",
            timeout=APPLIED_S,
        )
        timeline = api.get(f"/api/cases/{case_id}/timeline")["timeline"]
        assert forged_id not in {e["event_id"] for e in timeline}, d
        seqs = [e["seq"] for e in timeline if e["division"] == COUNTY]
        assert seqs == sorted(seqs), (d, seqs)
        case = api.get(f"/api/cases/{case_id}")
        assert (case["status"], case["outcome"]) == ("OPINION_ISSUED", "NOT_SUPPORTED"), d


def _ids(api: NodeClient, case_id: str) -> set[str]:
    return {e["event_id"] for e in api.get(f"/api/cases/{case_id}/timeline")["timeline"]}


def event_id(record: forge.Record) -> str:
    return CODEC.decode(record[0]).event.header.event_id


def test_valid_link_impersonation_of_the_county(
    nodes: Nodes, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12's first finding: 予以支持 claiming 松山区, seq = head + 1, prev_hash = the hash of
    its last log record, no signature."""
    case_id = accepted_case(nodes)
    forged = forge.impersonation(nodes.county_log(), forged_opinion(case_id), CITY)
    where = nodes.forge_into_city(forged)
    genuine = genuine_opinion(nodes, case_id)
    found = audit_names(nodes, capsys, where)
    assert found["code"] in ("copy-beyond-head", "copy-mismatch")
    never_applied(nodes, case_id, event_id(forged), genuine)


def test_seq_gap_with_a_bogus_link(nodes: Nodes, capsys: pytest.CaptureFixture[str]) -> None:
    """A 终结 claiming 松山区 two ahead of its head, prev_hash all `f`, signed by a wrong key."""
    case_id = accepted_case(nodes)
    closed = CaseClosed(header=header(case_id), reason=CloseReason.DIVERTED, note="伪造终结")
    forged = forge.seq_gap(nodes.county_log(), closed, CITY, key=NodeKey.generate())
    where = nodes.forge_into_city(forged)
    genuine = genuine_opinion(nodes, case_id)
    found = audit_names(nodes, capsys, where)
    assert (found["code"], found["seq"]) in {
        ("copy-beyond-head", found["seq"]), ("copy-mismatch", found["seq"])
    }
    assert found["seq"] == CODEC.decode(forged[0]).event.header.seq
    never_applied(nodes, case_id, event_id(forged), genuine)


def test_altered_payload_with_recomputed_hashes(
    nodes: Nodes, capsys: pytest.CaptureFixture[str]
) -> None:
    """松山区's genuine 受理 of the case with its handling deadline moved a year on, re-encoded,
    its genuine signature kept."""
    case_id = accepted_case(nodes)
    log = nodes.county_log()
    original = next(
        r for r in log
        if isinstance(e := CODEC.decode(r[0]).event, CaseAccepted) and e.case_id == case_id
    )

    def later(event: Any) -> Any:
        return replace(event, handling_due=event.handling_due + timedelta(days=365))

    forged = forge.altered(original, later)
    where = nodes.forge_into_city(forged)
    genuine = genuine_opinion(nodes, case_id)
    found = audit_names(nodes, capsys, where)
    assert (found["code"], found["seq"]) == (
        "copy-mismatch", CODEC.decode(original[0]).event.header.seq
    )
    never_applied(nodes, case_id, "-", genuine)
    for d in (CITY, PROVINCE):  # the deadline the receivers hold is the genuine one
        due = nodes.api(d).get(f"/api/cases/{case_id}")["handling_due"]
        assert due == CODEC.decode(original[0]).event.handling_due.isoformat(), d


def test_a_replayed_old_record(nodes: Nodes, capsys: pytest.CaptureFixture[str]) -> None:
    """松山区's oldest genuine record, byte for byte, delivered again into 赤峰市's inbox."""
    case_id = accepted_case(nodes)
    log = nodes.county_log()
    old = forge.replay(log[0])
    where = nodes.forge_into_city(old)
    genuine = genuine_opinion(nodes, case_id)
    code = main([
        "audit", "verify", "--bootstrap-servers", nodes.bootstrap, "--topic-prefix",
        nodes.prefix, "--public-keys", str(nodes.keys_dir), "--quiet", "--json",
        "--nodes", f"{PROVINCE},{CITY},{COUNTY}",
    ])  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    replays = {
        f["location"]: f for f in payload["integrity"]["warnings"] if f["code"] == "copy-replayed"
    }
    assert where in replays and replays[where]["seq"] == 1
    del code  # other tests' forged records make the whole run fail; this one is a warning
    never_applied(nodes, case_id, "-", genuine)
    old_case = CODEC.decode(log[0][0]).event.case_id
    for d in (CITY, PROVINCE):  # applied once, not twice
        ids = [e["event_id"] for e in
               nodes.api(d).get(f"/api/cases/{old_case}/timeline")["timeline"]]
        assert ids.count(event_id(old)) == 1, d


def test_a_record_signed_by_a_revoked_key(nodes: Nodes) -> None:
    """A key 松山区 published once and revoked before this record's time signs a valid link."""
    case_id = accepted_case(nodes)
    old = NodeKey.generate()
    forged = forge.revoked_key(nodes.county_log(), forged_opinion(case_id), CITY, old)
    where = nodes.forge_into_city(forged)
    genuine = genuine_opinion(nodes, case_id)
    keyring = Keyring.from_dir(nodes.keys_dir)
    keys = KeyTable.from_keyring(keyring)
    revoked_at = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
    keys.add(PublishedKey(COUNTY, old.public_raw, revoked_at_ms=revoked_at))
    outcome = run_audit(
        load_topology(), Source(bootstrap_servers=nodes.bootstrap, prefix=nodes.prefix),
        nodes=[PROVINCE, CITY, COUNTY], keyring=keyring, record_keys=keys,
    )
    listed = {f.location: f for f in outcome.integrity.forged}
    assert where in listed and listed[where].evidence["signature"] == "bad-signature"
    never_applied(nodes, case_id, event_id(forged), genuine)


def test_a_genuine_key_used_for_an_act_its_body_may_not_do(
    nodes: Nodes, capsys: pytest.CaptureFixture[str]
) -> None:
    """松山区's real key signs a 终结 of a case 赤峰市 holds (never transferred to it)."""
    city = nodes.api(CITY)
    held = str(city.post("/api/cases", petition())["case_id"])
    wait_for(lambda: case_status(nodes.api(PROVINCE), held) == "REGISTERED", "内蒙古看到登记")
    case_id = accepted_case(nodes)
    key = load_private_key(nodes.root / COUNTY / f"node-{COUNTY}.key")
    closed = CaseClosed(header=header(held), reason=CloseReason.DIVERTED, note="越权终结")
    forged = forge.illegal_act(nodes.county_log(), closed, CITY, key)
    where = nodes.forge_into_city(forged)
    genuine = genuine_opinion(nodes, case_id)
    found = audit_names(nodes, capsys, where)
    assert found["code"] in ("copy-beyond-head", "copy-mismatch")
    never_applied(nodes, case_id, event_id(forged), genuine)
    for d in (CITY, PROVINCE):
        assert case_status(nodes.api(d), held) == "REGISTERED", d
        assert event_id(forged) not in _ids(nodes.api(d), held), d
