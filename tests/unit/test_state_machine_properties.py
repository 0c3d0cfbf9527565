"""Property-based tests of the case state machine: random command sequences (hypothesis).

Commands are decided against the case folded from every event so far (instant
delivery); refusals must leave the case unchanged, accepted commands must keep
the case valid, lose no event, and never move the handling deadline backwards
or extend it without an approved extension.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xinfang.domain import commands as c
from xinfang.domain import deciders as d
from xinfang.domain.case import Case, evolve, fold
from xinfang.domain.context import Context
from xinfang.domain.errors import DomainError
from xinfang.domain.events import CaseFile, Event, HandlingExtended, Petitioner, ReviewDecided
from xinfang.domain.hierarchy import ReviewHierarchy
from xinfang.domain.obligations import lapsed, next_check, overdue
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import (
    CaseStatus,
    Category,
    Channel,
    CloseReason,
    DiversionRoute,
    Outcome,
    Rating,
    ReviewResult,
)
from xinfang.rules_file import load_calendar
from xinfang.topology_file import load_topology

TOPOLOGY: Topology = load_topology()
CALENDAR = load_calendar("15")
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BODIES = [
    "150400.xfj",
    "150404.zj",
    "150404.rs",
    "150400.zj",
    "150000.zj",
    "150400.jw",
    "150404.xfj",
]

step = st.tuples(
    st.sampled_from(
        # forward steps weighted up, so that sequences reach review and re-review
        [
            "transfer",
            "assign",
            "divert",
            "object",
            "return",
            "accept",
            "reject",
            "extend",
            "opinion",
            "complete",
            "review-request",
            "review-decide",
            "re-review-request",
            "re-review-decide",
            "close",
            "supervise",
            "answer",
            "evaluate",
        ]
        + [
            "transfer",
            "accept",
            "opinion",
            "review-request",
            "review-decide",
            "re-review-request",
            "re-review-decide",
        ]
        * 3
    ),
    st.one_of(st.none(), st.none(), st.none(), st.sampled_from(BODIES)),  # actor; None = plausible
    st.sampled_from(["150404.zj", "150404.rs", "150402.zj", "150000.zj"]),  # target body
    st.integers(min_value=0, max_value=40),  # days / amounts
    st.integers(min_value=0, max_value=3),  # which enum member
    st.sampled_from([0, 0, 0, 0, 1, 3, 10, 31, 65]),  # days the clock moves before the step
)


def command(name: str, actor: str, target: str, n: int, k: int, case: Case) -> tuple:
    outcomes, results = list(Outcome), list(ReviewResult)
    sid = case.supervisions[-1].supervision_id if case.supervisions else "none"
    table = {
        "transfer": (d.decide_transfer, c.TransferCase(actor, target)),
        "assign": (d.decide_assign, c.AssignCase(actor, target, max(n, 1))),
        "divert": (
            d.decide_divert,
            c.DivertCase(actor, DiversionRoute.DISCIPLINE, "告知", "150400.jw"),
        ),
        "object": (d.decide_object, c.ObjectTransfer(actor, "不属于职权")),
        "return": (d.decide_return, c.ReturnTransfer(actor)),
        "accept": (d.decide_accept, c.AcceptCase(actor)),
        "reject": (d.decide_reject, c.RejectCase(actor, "不属于受理范围")),
        "extend": (d.decide_extend, c.ExtendHandling(actor, n, "负责人", "复杂")),
        "opinion": (d.decide_opinion, c.IssueOpinion(actor, outcomes[k % 4], "意见")),
        "complete": (d.decide_completion, c.ReportCompletion(actor, "已办结")),
        "review-request": (d.decide_request_review, c.RequestReview(actor, "不服")),
        "review-decide": (d.decide_review, c.DecideReview(actor, results[k % 3], "复查意见")),
        "re-review-request": (d.decide_request_re_review, c.RequestReview(actor, "不服")),
        "re-review-decide": (d.decide_re_review, c.DecideReview(actor, results[k % 3], "复核意见")),
        "close": (d.decide_close, c.CloseCase(actor, CloseReason.PETITIONER_DECEASED)),
        "supervise": (d.decide_supervise, c.Supervise(actor, target, "HANDLING", "请加快")),
        "answer": (d.decide_answer, c.AnswerSupervision(actor, sid, "已改进", True)),
        "evaluate": (
            d.decide_evaluate,
            c.Evaluate(actor, list(Rating)[k % 3], list(Rating)[n % 3]),
        ),
    }
    return table[name]


def plausible_actor(name: str, case: Case) -> str:
    """The body that would normally take this step, so sequences reach deep states."""
    hierarchy = ReviewHierarchy(TOPOLOGY)
    if name == "return":
        return case.routed_by or case.holder
    if name == "review-request" and case.handling_body:
        return hierarchy.reviewer(case.handling_body).id
    if name == "re-review-request" and case.reviewer:
        return hierarchy.reviewer(case.reviewer).id
    if name == "answer" and case.supervisions:
        return case.supervisions[-1].to_body
    if name == "complete" and case.handling_body:
        return case.handling_body
    if name in ("supervise", "evaluate"):
        return "150400.xfj"
    return case.holder


def check_valid(case: Case, events: list[Event]) -> None:
    assert case.status in CaseStatus
    assert TOPOLOGY.has_body(case.holder)
    assert case.history == tuple(e.header.event_id for e in events)  # nothing lost or doubled
    assert len(set(case.history)) == len(case.history)
    if case.status is CaseStatus.ACCEPTED:
        assert case.handling_due is not None
    if case.final:
        assert case.status is CaseStatus.CLOSED
    if case.status in (CaseStatus.TRANSFERRED, CaseStatus.ASSIGNED):
        assert case.acceptance_due is not None and case.objection_due is not None
    assert 0 <= case.extension_days <= 30


def check_watch_index(case: Case, division: str, now: datetime) -> None:
    """The deadline watcher looks only at cases whose `next_check` has come: whenever it would
    find something overdue or lapsed, that moment must already have come (R1–R10)."""
    if case.closed:
        return  # the watcher never looks at closed cases

    def at(moment: datetime) -> Context:
        return Context(division, TOPOLOGY, moment, lambda: "probe", calendar=CALENDAR)

    when = next_check(at(now), case)
    for days in (0, 1, 16, 31, 61, 91, 400):
        moment = now + timedelta(days=days)
        try:
            fires = bool(overdue(case, moment, division)) or lapsed(at(moment), case) is not None
        except DomainError:  # no calendar that far ahead
            continue
        if fires:
            assert when is not None and when <= moment, (division, moment, when)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=3, max_size=30))
@example(  # the full review chain, with waits that cross deadlines
    [
        (n, None, "150404.zj", 10, 1, w)
        for n, w in [
            ("transfer", 0),
            ("accept", 3),
            ("extend", 70),
            ("opinion", 0),
            ("review-request", 5),
            ("review-decide", 40),
            ("re-review-request", 1),
            ("re-review-decide", 0),
            ("review-request", 0),
            ("evaluate", 0),
        ]
    ]
)
@example(  # revocation, re-handling, supervision and its answer
    [
        (n, None, "150404.zj", 25, 2, w)
        for n, w in [
            ("assign", 0),
            ("accept", 0),
            ("supervise", 0),
            ("answer", 2),
            ("opinion", 0),
            ("review-request", 0),
            ("review-decide", 0),
            ("opinion", 0),
            ("extend", 0),
            ("extend", 0),
            ("complete", 0),
        ]
    ]
)
def test_random_command_sequences_keep_the_case_valid(steps: list[tuple]) -> None:
    ids = itertools.count(1)
    now = START
    file = CaseFile(
        "标题",
        Channel.ONLINE,
        Category.APPEAL,
        Petitioner("王五", "地址", "电话"),
        "诉求",
        "事实",
        "理由",
        "150404",
        START,
    )

    def ctx(division: str) -> Context:
        return Context(division, TOPOLOGY, now, lambda: f"e{next(ids)}", calendar=CALENDAR)

    events = d.decide_register(
        ctx("150400"), None, c.RegisterPetition("150400.xfj", "150400-2026-000001", "Q", file)
    )
    case = fold(events)
    assert case is not None
    for name, actor, target, n, k, wait in steps:
        now = now + timedelta(days=wait)
        actor = actor or plausible_actor(name, case)
        decide, cmd = command(name, actor, target, n, k, case)
        before = case
        try:
            new = decide(ctx(actor.split(".")[0]), case, cmd)
        except DomainError:
            assert case == before  # a refusal changes nothing
            continue
        for event in new:
            # every legal act passes the inbound check at each node that hears it (decision 023)
            source = event.header.source
            for receiver in ("150000", "150400", "150404"):
                if receiver != source and (
                    TOPOLOGY.is_within(receiver, source) or TOPOLOGY.is_within(source, receiver)
                ):
                    assert d.authorise_inbound(ctx(receiver), case, event) is None, receiver
            due_before = case.handling_due
            case = evolve(case, event)
            same_round = case.accepted_at == before.accepted_at and not isinstance(
                event, ReviewDecided
            )
            if due_before is not None and case.handling_due is not None and same_round:
                assert case.handling_due >= due_before  # never backwards
                if case.handling_due != due_before:
                    assert isinstance(
                        event, HandlingExtended
                    )  # only an approved extension moves it
        events += new
        check_valid(case, events)
        for division in ("150000", "150400", "150404"):
            check_watch_index(case, division, now)
