"""Issue 12 item 3: a neighbour's case event is applied only if it is a legal act of its actor
on the case as the receiver knows it, by the same `may_*` rules as local commands
(domain/deciders/inbound.py, decision 023). Pure domain: events made by the deciders, or
forged from them with the fields a dishonest node would change."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from xinfang.domain import commands as c
from xinfang.domain import deciders as d
from xinfang.domain.case import Case, evolve, fold
from xinfang.domain.context import Context
from xinfang.domain.deadlines import Obligation
from xinfang.domain.errors import DomainError, UnauthorisedAct
from xinfang.domain.events import (
    CaseAccepted,
    CaseClosed,
    CaseFile,
    CaseTransferred,
    ChainCheckpointed,
    CompletionReported,
    DeadlineMissed,
    Event,
    EventHeader,
    HandlingExtended,
    HandlingOpinionIssued,
    NoticeServed,
    Petitioner,
    ReviewRequested,
    SatisfactionEvaluated,
    SupervisionAnswered,
    SupervisionIssued,
)
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import (
    CaseStatus,
    Category,
    Channel,
    CloseReason,
    NoticeKind,
    Outcome,
    Rating,
    Receipt,
    ServiceMethod,
    SupervisionLevel,
)
from xinfang.rules_file import load_calendar

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CALENDAR = load_calendar("15")
PROVINCE, CITY, COUNTY, SIBLING = "150000", "150400", "150404", "150402"
_ids = itertools.count(1)


def ctx(topology: Topology, division: str) -> Context:
    return Context(division, topology, NOW, lambda: f"ev-{next(_ids)}", calendar=CALENDAR)


FILE = CaseFile(
    "供暖", Channel.ONLINE, Category.APPEAL, Petitioner("张三", "地址", "电话"),
    "诉求", "事实", "理由", COUNTY, NOW,
)  # fmt: skip


class World:
    """One case decided step by step; `case` is what every node knows (instant delivery)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.events: list[Event] = d.decide_register(
            ctx(topology, CITY), None, c.RegisterPetition("150400.xfj", "150400-2026-1", "Q", FILE)
        )

    @property
    def case(self) -> Case:
        case = fold(self.events)
        assert case is not None
        return case

    def do(self, division: str, decide: object, cmd: object) -> list[Event]:
        new: list[Event] = decide(ctx(self.topology, division), self.case, cmd)  # type: ignore[operator]
        self.events += new
        return new


def held_by_the_city(topology: Topology) -> World:
    """赤峰市 transferred to 松山区, which accepted and decided; the city's 住建局 took up the
    复查 request: the case is now held by the city's reviewer (the issue's forged CaseClosed)."""
    w = World(topology)
    w.do(CITY, d.decide_transfer, c.TransferCase("150400.xfj", "150404.zj"))
    w.do(COUNTY, d.decide_accept, c.AcceptCase("150404.zj"))
    w.do(COUNTY, d.decide_opinion, c.IssueOpinion("150404.zj", Outcome.NOT_SUPPORTED, "不支持"))
    w.do(CITY, d.decide_request_review, c.RequestReview("150400.zj", "不服"))
    assert (w.case.holder, w.case.status) == ("150400.zj", CaseStatus.REVIEW_REQUESTED)
    return w


def by_county(w: World, event: Event, actor: str = "150404.zj") -> Event:
    """`event` as the county's node would record it: its division, its body, after the case's
    last event (a valid link: what a dishonest node with a genuine key can send)."""
    header = replace(event.header, source=COUNTY, actor=actor, causation_id=w.case.last_event_id)
    return replace(event, header=header)


def refusal(topology: Topology, receiver: str, case: Case | None, event: Event) -> str:
    found = d.authorise_inbound(ctx(topology, receiver), case, event)
    assert isinstance(found, UnauthorisedAct)
    assert found.code == "XF-UNAUTHORISED-ACT"
    return str(found.context["why"])


def test_county_closing_a_case_held_by_its_city_is_refused_with_the_rule_it_breaks(
    topology: Topology,
) -> None:
    w = held_by_the_city(topology)
    header = ctx(topology, COUNTY).header(w.case.case_id, "150404.zj")
    closed = by_county(w, CaseClosed(header=header, reason=CloseReason.PETITIONER_DECEASED))
    found = d.authorise_inbound(ctx(topology, CITY), w.case, closed)
    assert isinstance(found, UnauthorisedAct)
    assert found.context == {
        "actor": "150404.zj", "act": "CaseClosed", "case": w.case.case_id, "why": "XF-NOT-HOLDER",
    }  # fmt: skip
    assert "当前承办单位为 150400.zj" in found.detail and "does not currently hold" in found.detail
    # the province hears it forwarded from the city (source: the grandchild): the same answer
    assert refusal(topology, PROVINCE, w.case, closed) == "XF-NOT-HOLDER"
    # one copy of the rule: the county deciding the same act locally is refused alike
    with pytest.raises(DomainError) as local:
        d.decide_close(
            ctx(topology, COUNTY), w.case, c.CloseCase("150404.zj", CloseReason.PETITIONER_DECEASED)
        )
    assert local.value.code == "XF-NOT-HOLDER"


def test_county_deciding_or_rerouting_a_case_held_by_its_city_is_refused(
    topology: Topology,
) -> None:
    w = held_by_the_city(topology)
    header = ctx(topology, COUNTY).header(w.case.case_id, "150404.zj")
    opinion = HandlingOpinionIssued(
        header=header, body="150404.zj", outcome=Outcome.SUPPORTED, opinion="予以支持"
    )
    assert refusal(topology, CITY, w.case, by_county(w, opinion)) == "XF-NOT-HOLDER"
    # a case the city registered and still holds: the county's transfer of it is refused
    fresh = World(topology)
    [transfer] = d.decide_transfer(
        ctx(topology, CITY), fresh.case, c.TransferCase("150400.xfj", "150400.zj")
    )
    assert isinstance(transfer, CaseTransferred)
    forged = by_county(
        fresh, replace(transfer, to_body="150404.rs", to_division=COUNTY), "150404.xfj"
    )
    assert refusal(topology, CITY, fresh.case, forged) == "XF-NOT-HOLDER"


def test_legal_acts_pass_from_below_from_above_and_forwarded(topology: Topology) -> None:
    w = World(topology)
    [transfer] = w.do(CITY, d.decide_transfer, c.TransferCase("150400.xfj", "150404.zj"))
    before = fold(w.events[:-1])
    # the county first learns of the case by its transfer down: legal
    assert d.authorise_inbound(ctx(topology, COUNTY), None, transfer) is None
    assert d.authorise_inbound(ctx(topology, PROVINCE), before, transfer) is None
    case = w.case
    for event in w.do(COUNTY, d.decide_accept, c.AcceptCase("150404.zj")):
        for receiver in (CITY, PROVINCE):  # from a child, and forwarded from a grandchild
            assert d.authorise_inbound(ctx(topology, receiver), case, event) is None
        case = evolve(case, event)


def test_a_transfer_down_that_the_receiver_learns_first_is_still_judged(
    topology: Topology,
) -> None:
    w = World(topology)
    [transfer] = d.decide_transfer(
        ctx(topology, CITY), w.case, c.TransferCase("150400.xfj", "150404.zj")
    )
    # the city's 住建局 is no petition office: it may not route, whatever the county knows
    by_department = replace(transfer, header=replace(transfer.header, actor="150400.zj"))
    assert refusal(topology, COUNTY, None, by_department) == "XF-NOT-PETITION-OFFICE"


def test_an_act_on_a_case_the_receiver_never_heard_of_from_below_is_refused(
    topology: Topology,
) -> None:
    w = World(topology)
    w.do(CITY, d.decide_transfer, c.TransferCase("150400.xfj", "150404.zj"))
    accepted = d.decide_accept(ctx(topology, COUNTY), w.case, c.AcceptCase("150404.zj"))[0]
    unknown = replace(accepted, header=replace(accepted.header, causation_id=""))
    assert refusal(topology, CITY, None, unknown) == "XF-CASE-NOT-FOUND"


def test_fields_the_decider_fills_from_the_actor_must_match(topology: Topology) -> None:
    w = World(topology)
    w.do(CITY, d.decide_transfer, c.TransferCase("150400.xfj", "150404.zj"))
    [accepted, _] = d.decide_accept(ctx(topology, COUNTY), w.case, c.AcceptCase("150404.zj"))
    assert d.authorise_inbound(ctx(topology, CITY), w.case, accepted) is None
    assert isinstance(accepted, CaseAccepted)
    other = replace(accepted, body="150404.rs")
    assert refusal(topology, CITY, w.case, other) == "XF-INVALID-INPUT"


def test_from_above_a_copy_that_may_lack_acts_is_not_judged(topology: Topology) -> None:
    """A county whose copy misses acts the city saw (the item went on to a sibling county, or
    the predecessor has not reached it) cannot tell a legal act from an illegal one: it checks
    only the actor's division (routing.sender_refusal)."""
    w = World(topology)
    w.do(CITY, d.decide_transfer, c.TransferCase("150400.xfj", "150404.zj"))
    w.do(COUNTY, d.decide_object, c.ObjectTransfer("150404.zj", "不属于职权"))
    w.do(CITY, d.decide_return, c.ReturnTransfer("150400.xfj"))
    w.do(CITY, d.decide_transfer, c.TransferCase("150400.xfj", "150402.zj"))
    county_copy = w.case  # then 红山区 accepts and decides; 松山区 hears none of it
    w.do(SIBLING, d.decide_accept, c.AcceptCase("150402.zj"))
    w.do(SIBLING, d.decide_opinion, c.IssueOpinion("150402.zj", Outcome.SUPPORTED, "支持"))
    [review] = d.decide_request_review(
        ctx(topology, CITY), w.case, c.RequestReview("150400.zj", "不服")
    )
    assert refusal(topology, CITY, county_copy, review) == "XF-ILLEGAL-TRANSITION"  # stale copy
    assert d.authorise_inbound(ctx(topology, COUNTY), county_copy, review) is None
    lagging = fold(w.events[:3])  # the county has not yet had the city's return
    returned = fold(w.events[:4])
    assert lagging is not None and returned is not None
    [again] = d.decide_transfer(
        ctx(topology, CITY), returned, c.TransferCase("150400.xfj", "150404.rs")
    )
    again = again.positioned(9, "", returned.last_event_id)  # as the city's service records it
    assert refusal(topology, COUNTY, lagging, replace(again, header=replace(
        again.header, causation_id=lagging.last_event_id))) == "XF-NOT-HOLDER"  # fmt: skip
    assert d.authorise_inbound(ctx(topology, COUNTY), lagging, again) is None


def test_chain_events_are_not_case_acts(topology: Topology) -> None:
    header = ctx(topology, COUNTY).header("_chain", "150404.xfj")
    checkpoint = ChainCheckpointed(
        header=header, head_seq=1, head_hash="0" * 64, key_id="k", public_key=b"", signature=b""
    )
    assert d.authorise_inbound(ctx(topology, CITY), None, checkpoint) is None


def test_the_same_transfer_by_the_holding_office_passes(topology: Topology) -> None:
    """The forged transfer above is refused for the holder, not for anything else: the city's
    own office may route the same case (the refusal depends on who acts)."""
    fresh = World(topology)
    [transfer] = d.decide_transfer(
        ctx(topology, CITY), fresh.case, c.TransferCase("150400.xfj", "150404.zj")
    )
    assert d.authorise_inbound(ctx(topology, COUNTY), fresh.case, transfer) is None


def _illegal_acts(case: Case, header: EventHeader) -> dict[str, tuple[Event, str]]:
    """Acts a county may not send about its own decided case, and the rule each breaks."""
    at = NOW

    def h(actor: str) -> EventHeader:
        return replace(header, actor=actor)

    return {
        "review requested at the county itself": (
            ReviewRequested(header=h("150404.xfj"), reviewer="150404.xfj", reasons="r",
                            decision_due=at),
            "XF-WRONG-REVIEWER",
        ),
        "supervision of a city body": (
            SupervisionIssued(header=h("150404.xfj"), supervision_id="s", to_body="150400.zj",
                              level=SupervisionLevel.REMINDER, obligation=Obligation.HANDLING,
                              reasons="r", answer_due=at),
            "XF-ROUTING-NOT-ALLOWED",
        ),
        "answer to no supervision": (
            SupervisionAnswered(header=h("150404.zj"), supervision_id=f"{case.case_id}/S1",
                                body="150404.zj", answer="a", adopted=True),
            "XF-ILLEGAL-TRANSITION",
        ),
        "service of another body's opinion": (
            NoticeServed(header=h("150404.rs"), kind=NoticeKind.HANDLING_OPINION, served_at=at,
                         method=ServiceMethod.POST, receipt=Receipt.SIGNED),
            "XF-NOT-ISSUER",
        ),
        "a missed deadline recorded by another body": (
            DeadlineMissed(header=h("150404.xfj"), obligation=Obligation.HANDLING, rule_id="R5",
                           body="150404.zj", due=at),
            "XF-INVALID-INPUT",
        ),
        "an evaluation naming another office": (
            SatisfactionEvaluated(header=h("150404.zj"), handling_body="150404.zj",
                                  handling_rating=Rating.SATISFIED, office="150404.xfj",
                                  office_rating=Rating.SATISFIED),
            "XF-INVALID-INPUT",
        ),
        "completion report of a transferred item": (
            CompletionReported(header=h("150404.zj"), body="150404.zj", to_body="150400.xfj",
                               summary="s"),
            "XF-ILLEGAL-TRANSITION",
        ),
        "extension after the opinion": (
            HandlingExtended(header=h("150404.zj"), body="150404.zj", days=10, approved_by="a",
                             reasons="r", handling_due=at),
            "XF-ILLEGAL-TRANSITION",
        ),
    }  # fmt: skip


def test_each_kind_of_act_is_checked_by_its_deciders_rule(topology: Topology) -> None:
    w = World(topology)
    w.do(CITY, d.decide_transfer, c.TransferCase("150400.xfj", "150404.zj"))
    w.do(COUNTY, d.decide_accept, c.AcceptCase("150404.zj"))
    w.do(COUNTY, d.decide_opinion, c.IssueOpinion("150404.zj", Outcome.NOT_SUPPORTED, "不支持"))
    header = replace(
        ctx(topology, COUNTY).header(w.case.case_id, "150404.zj"),
        causation_id=w.case.last_event_id,
    )
    acts = _illegal_acts(w.case, header)
    found = {what: refusal(topology, CITY, w.case, event) for what, (event, _) in acts.items()}
    assert found == {what: why for what, (_, why) in acts.items()}
