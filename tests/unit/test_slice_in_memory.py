"""The vertical slice through three in-process node services over a fake bus."""

from __future__ import annotations

from pathlib import Path

from xinfang.domain.commands import AcceptCase, IssueOpinion, TransferCase
from xinfang.domain.deciders import decide_accept, decide_opinion, decide_transfer
from xinfang.domain.events import CaseFile, Petitioner
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import CaseStatus, Category, Channel, Outcome

from .fakes import FakeBus


def sample_file(bus: FakeBus, place: str = "150404") -> CaseFile:
    return CaseFile(
        title="小区供暖不达标",
        channel=Channel.ONLINE,
        category=Category.APPEAL,
        petitioner=Petitioner(name="张三", address="松山区某小区", contact="13800000000"),
        request="请求督促供热公司整改",
        facts="室温长期低于 18 度",
        reasons="违反供热条例",
        place=place,
        received_at=bus.clock(),
    )


def test_transfer_accept_opinion_reaches_city_and_province(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    city, county, province = bus.nodes["150400"], bus.nodes["150404"], bus.nodes["150000"]
    reg = city.register("150400.xfj", sample_file(bus))
    city.execute(
        reg.case_id, decide_transfer, TransferCase(actor="150400.xfj", to_body="150404.zj")
    )
    bus.settle()
    assert county.case(reg.case_id).status is CaseStatus.TRANSFERRED
    county.execute(reg.case_id, decide_accept, AcceptCase(actor="150404.zj"))
    bus.settle()
    county.execute(
        reg.case_id,
        decide_opinion,
        IssueOpinion(actor="150404.zj", outcome=Outcome.SUPPORTED, opinion="责令供热公司限期整改"),
    )
    bus.settle()
    for node in (city, province, county):
        case = node.case(reg.case_id)
        assert case.status is CaseStatus.OPINION_ISSUED
        assert case.outcome is Outcome.SUPPORTED
    types = [e.type for _, e in province.history(reg.case_id)]
    assert types == [
        "PetitionRegistered",
        "CaseTransferred",
        "CaseAccepted",
        "NoticeServed",
        "HandlingOpinionIssued",
        "NoticeServed",
    ]
    # the county never sees the registration itself, only the transfer
    assert next(e.type for _, e in county.history(reg.case_id)) == "CaseTransferred"


def test_redelivery_changes_nothing(topology: Topology, tmp_path: Path) -> None:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    city, county = bus.nodes["150400"], bus.nodes["150404"]
    reg = city.register("150400.xfj", sample_file(bus))
    city.execute(
        reg.case_id, decide_transfer, TransferCase(actor="150400.xfj", to_body="150404.zj")
    )
    bus.settle()
    before = county.store.stats()
    for value in bus.published[bus.topics.inbox("150404")]:
        assert county.receive(value, []).value == "duplicate"
    assert county.store.stats() == before
