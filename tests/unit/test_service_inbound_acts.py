"""Issue 12 item 3 through the service: a neighbour's record that is not a legal act of its
actor on the case as the receiver knows it is dead-lettered as `unauthorised-act`, changes
nothing, is recorded in the inbox as refused, and does not hold up the source's later records.

Each forged record is what a dishonest county node with its genuine key could send: the
county's own service records it (a decider that skips the rules), so it is encoded, positioned
in the county's log (seq, prev_hash, causation) and addressed to the city like any other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from xinfang.domain.case import Case
from xinfang.domain.commands import AcceptCase
from xinfang.domain.context import Context
from xinfang.domain.deciders import decide_accept
from xinfang.domain.events import (
    CaseClosed,
    CaseTransferred,
    Event,
    HandlingOpinionIssued,
    ReviewDecided,
)
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import CaseStatus, CloseReason, Outcome, ReviewResult
from xinfang.store.records import OutboxRow

from .fakes import FakeBus
from .lifecycle import handled, register, types
from .test_service_inbox import dead_letters

PROVINCE, CITY, COUNTY = "150000", "150400", "150404"
Forgery = Callable[[Context, Case], Event]


def rows_to(bus: FakeBus, sender: str, receiver: str) -> list[OutboxRow]:
    """The sender's records for `receiver`'s inbox not yet delivered; taken off its outbox."""
    node = bus.nodes[sender]
    rows = [r for r in node.store.outbox.pending() if r.topic == bus.topics.inbox(receiver)]
    node.store.outbox.mark_sent([r.id for r in rows])
    return rows


def forge(bus: FakeBus, case_id: str, make: Forgery) -> OutboxRow:
    """The county's node records `make(ctx, case)` in its own log, skipping the deciders."""
    bus.nodes[COUNTY].execute(case_id, lambda ctx, case, _: [make(ctx, case)], None)
    [row] = rows_to(bus, COUNTY, CITY)
    return row


def review_requested_at_the_city(bus: FakeBus) -> str:
    """松山区 decided; 赤峰市住建局 took up the 复查 request: the case is held by the city."""
    case_id = handled(bus)
    bus.run(CITY, case_id, "review-request", {"actor": "150400.zj", "reasons": "不服处理意见"})
    assert bus.nodes[COUNTY].case(case_id).holder == "150400.zj"  # the county knows it
    return case_id


def closes(ctx: Context, case: Case) -> Event:
    header = ctx.header(case.case_id, "150404.zj")
    return CaseClosed(header=header, reason=CloseReason.PETITIONER_DECEASED)


def decides(ctx: Context, case: Case) -> Event:
    header = ctx.header(case.case_id, "150404.zj")
    return HandlingOpinionIssued(
        header=header, body="150404.zj", outcome=Outcome.SUPPORTED, opinion="予以支持"
    )


def reroutes(ctx: Context, case: Case) -> Event:
    return CaseTransferred(
        header=ctx.header(case.case_id, "150404.xfj"),
        to_body="150404.rs",
        to_division=COUNTY,
        query_code=case.query_code,
        file=case.file,
        acceptance_due=ctx.now,
        objection_due=ctx.now,
    )


@pytest.mark.parametrize("forgery", [closes, decides, reroutes], ids=["close", "decide", "reroute"])
def test_county_act_on_a_case_held_by_its_city_is_refused_and_changes_nothing(
    topology: Topology, tmp_path: Path, forgery: Forgery
) -> None:
    bus = FakeBus(topology, [PROVINCE, CITY, COUNTY], tmp_path)
    city, province = bus.nodes[CITY], bus.nodes[PROVINCE]
    case_id = review_requested_at_the_city(bus)
    before = city.case(case_id)
    row = forge(bus, case_id, forgery)
    event_id = dict(row.headers)["ce_id"].decode()

    assert city.receive(row.value, row.headers).value == "refused"
    [(reason, original)] = dead_letters(bus, CITY)
    assert (reason, original) == ("unauthorised-act", row.value)
    [letter] = [r for r in city.store.outbox.pending() if r.topic == bus.topics.deadletter(CITY)]
    detail = dict(letter.headers)["xinfang_dlq_detail"].decode()
    assert detail.startswith("150404.") and case_id in detail and "[XF-NOT-HOLDER]" in detail
    assert "当前承办单位为 150400.zj" in detail and "does not currently hold" in detail
    # nothing else: no case state, no forward to the province, no status, no reaction
    assert city.case(case_id) == before
    assert [r.topic for r in city.store.outbox.pending()] == [bus.topics.deadletter(CITY)]
    with city.store.transaction() as tx:
        assert tx.inbox.entry(event_id) is not None
        assert tx.inbox.entry(event_id)[1] == "refused"  # type: ignore[index]
    # redelivered: a duplicate, not judged (or dead-lettered) again
    assert city.receive(row.value, row.headers).value == "duplicate"
    assert len(dead_letters(bus, CITY)) == 1
    # the county's next genuine record still applies, and reaches the province
    other = {"name": "王五", "address": "松山区另一村", "contact": "13900000000"}
    new_case = register(bus, COUNTY, petitioner=other)
    assert city.case(new_case).status is CaseStatus.REGISTERED
    assert province.case(new_case).status is CaseStatus.REGISTERED
    assert province.case(case_id).status is CaseStatus.REVIEW_REQUESTED
    assert event_id not in province.case(case_id).history
    letters = bus.published  # what settle() delivered, dead letters included
    assert letters[bus.topics.deadletter(CITY)] == [row.value]
    assert bus.topics.deadletter(PROVINCE) not in letters


def test_an_actor_not_of_the_source_division_is_refused(topology: Topology, tmp_path: Path) -> None:
    bus = FakeBus(topology, [CITY, COUNTY], tmp_path)
    city = bus.nodes[CITY]
    case_id = review_requested_at_the_city(bus)
    before = city.case(case_id)

    def as_city_reviewer(ctx: Context, case: Case) -> Event:
        header = ctx.header(case.case_id, "150400.zj")  # the city's body, sent by the county
        return ReviewDecided(
            header=header, reviewer="150400.zj", result=ReviewResult.REVOKE, opinion="撤销"
        )

    row = forge(bus, case_id, as_city_reviewer)
    assert city.receive(row.value, row.headers).value == "dead_lettered"
    assert [reason for reason, _ in dead_letters(bus, CITY)] == ["actor-not-of-source"]
    assert city.case(case_id) == before


def test_legal_acts_from_the_county_are_applied(topology: Topology, tmp_path: Path) -> None:
    bus = FakeBus(topology, [PROVINCE, CITY, COUNTY], tmp_path)
    case_id = handled(bus)  # transfer down, accept, opinion and its service, up two levels
    for division in (CITY, PROVINCE):
        assert types(bus, division, case_id)[-4:] == [
            "CaseAccepted", "NoticeServed", "HandlingOpinionIssued", "NoticeServed",
        ]  # fmt: skip
        assert bus.nodes[division].case(case_id).status is CaseStatus.OPINION_ISSUED
        assert dead_letters(bus, division) == []


def test_a_parked_act_is_judged_when_its_predecessor_arrives(
    topology: Topology, tmp_path: Path
) -> None:
    """At the province a county's records arrive forwarded and may come before their
    predecessor: the forged one waits, and is refused once the case is known as far as it."""
    bus = FakeBus(topology, [PROVINCE, CITY, COUNTY], tmp_path)
    province = bus.nodes[PROVINCE]
    case_id = register(bus)
    bus.run(CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    bus.nodes[COUNTY].execute(case_id, decide_accept, AcceptCase("150404.zj"))
    accepted = rows_to(bus, COUNTY, CITY)  # CaseAccepted, NoticeServed

    def by_other_department(ctx: Context, case: Case) -> Event:
        header = ctx.header(case.case_id, "150404.rs")  # the holder is 150404.zj
        return CaseClosed(header=header, reason=CloseReason.PETITIONER_DECEASED)

    forged = forge(bus, case_id, by_other_department)
    assert province.receive(forged.value, forged.headers).value == "parked"
    for row in accepted:
        assert province.receive(row.value, row.headers).value == "applied"
    assert province.store.stats()["parked"] == 0
    assert province.case(case_id).status is CaseStatus.ACCEPTED
    assert [reason for reason, _ in dead_letters(bus, PROVINCE)] == ["unauthorised-act"]
    event_id = dict(forged.headers)["ce_id"].decode()
    with province.store.transaction() as tx:
        assert tx.inbox.entry(event_id) is not None
        assert tx.inbox.entry(event_id)[1] == "refused"  # type: ignore[index]
    assert province.receive(forged.value, forged.headers).value == "duplicate"
