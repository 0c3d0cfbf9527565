"""Refusals of the transfer slice's commands, each with its stable error code."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from xinfang.domain.case import Case, fold
from xinfang.domain.commands import AcceptCase, IssueOpinion, RegisterPetition, TransferCase
from xinfang.domain.context import Context
from xinfang.domain.deciders import decide_accept, decide_opinion, decide_register, decide_transfer
from xinfang.domain.errors import (
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotHolder,
    NotPetitionOffice,
    NotThisNode,
    RoutingNotAllowed,
    UnknownBody,
)
from xinfang.domain.events import CaseFile, Event, Petitioner
from xinfang.domain.lifecycle_errors import AccusedUnitExcluded
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import CaseStatus, Category, Channel, Outcome
from xinfang.rules_file import load_calendar

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


CALENDAR = load_calendar("15")


def ctx(topology: Topology, division: str) -> Context:
    counter = itertools.count(1)
    return Context(
        division, topology, NOW, lambda: f"ev-{division}-{next(counter)}", calendar=CALENDAR
    )


def file(category: Category = Category.APPEAL, accused_body: str | None = None) -> CaseFile:
    return CaseFile(
        title="供暖",
        channel=Channel.VISIT,
        category=category,
        petitioner=Petitioner("张三", "地址", "电话"),
        request="诉求",
        facts="事实",
        reasons="理由",
        place="150404",
        received_at=NOW,
        accused_body=accused_body,
    )


def registered(topology: Topology, f: CaseFile | None = None) -> tuple[Case, list[Event]]:
    events = decide_register(
        ctx(topology, "150400"),
        None,
        RegisterPetition("150400.xfj", "150400-2026-000001", "Q", f or file()),
    )
    case = fold(events)
    assert case is not None
    return case, events


def test_R1_registration_by_petition_office_only(topology: Topology) -> None:
    with pytest.raises(NotPetitionOffice) as info:
        decide_register(
            ctx(topology, "150400"), None, RegisterPetition("150400.zj", "c", "q", file())
        )
    assert info.value.code == "XF-NOT-PETITION-OFFICE"


def test_node_acts_only_for_its_own_bodies(topology: Topology) -> None:
    with pytest.raises(NotThisNode):
        decide_register(
            ctx(topology, "150400"), None, RegisterPetition("150000.xfj", "c", "q", file())
        )
    with pytest.raises(UnknownBody):
        decide_register(
            ctx(topology, "150400"), None, RegisterPetition("150400.nope", "c", "q", file())
        )


def test_registration_needs_title_request_and_a_named_or_anonymous_petitioner(
    topology: Topology,
) -> None:
    c = ctx(topology, "150400")
    for bad in (
        replace(file(), title=" "),
        replace(file(), request=""),
        replace(file(), petitioner=Petitioner(None, None, None, anonymous=False)),
        replace(file(), place="999999"),
        replace(file(), collective_size=0),
    ):
        with pytest.raises(InvalidInput):
            decide_register(c, None, RegisterPetition("150400.xfj", "c", "q", bad))
    anonymous = replace(file(), petitioner=Petitioner(None, None, None, anonymous=True))
    assert decide_register(c, None, RegisterPetition("150400.xfj", "c", "q", anonymous))


def test_R1_transfer_goes_to_same_level_or_below_only(topology: Topology) -> None:
    case, _ = registered(topology)
    c = ctx(topology, "150400")
    with pytest.raises(RoutingNotAllowed):
        decide_transfer(c, case, TransferCase("150400.xfj", "150000.zj"))  # upwards
    with pytest.raises(RoutingNotAllowed):
        decide_transfer(c, case, TransferCase("150400.xfj", "150400.xfj"))  # to itself
    [event] = decide_transfer(c, case, TransferCase("150400.xfj", "150404.zj"))
    assert event.to_division == "150404"  # type: ignore[attr-defined]


@pytest.mark.rule("R17")
def test_R17_accusation_is_never_transferred_to_the_accused_body(topology: Topology) -> None:
    case, _ = registered(topology, file(Category.ACCUSATION, accused_body="150404.zrzy"))
    for target in ("150404.zrzy", "150404.zj"):  # the accused unit, or any body of its division
        with pytest.raises(AccusedUnitExcluded) as info:
            decide_transfer(ctx(topology, "150400"), case, TransferCase("150400.xfj", target))
        assert "R17" in info.value.message("zh")


def test_R3_only_the_receiving_body_accepts_and_only_once(topology: Topology) -> None:
    case, events = registered(topology)
    events += decide_transfer(
        ctx(topology, "150400"), case, TransferCase("150400.xfj", "150404.zj")
    )
    transferred = fold(events)
    assert transferred is not None and transferred.status is CaseStatus.TRANSFERRED
    county = ctx(topology, "150404")
    with pytest.raises(NotHolder):
        decide_accept(county, transferred, AcceptCase("150404.rs"))
    accepted_events = decide_accept(county, transferred, AcceptCase("150404.zj"))
    accepted = fold(events + accepted_events)
    assert accepted is not None and accepted.status is CaseStatus.ACCEPTED
    assert accepted.handling_due is not None and (accepted.handling_due - NOW).days >= 60  # R5
    with pytest.raises(IllegalTransition):
        decide_accept(county, accepted, AcceptCase("150404.zj"))


def test_R5_opinion_needs_acceptance_and_text(topology: Topology) -> None:
    case, events = registered(topology)
    events += decide_transfer(
        ctx(topology, "150400"), case, TransferCase("150400.xfj", "150404.zj")
    )
    transferred = fold(events)
    assert transferred is not None
    county = ctx(topology, "150404")
    with pytest.raises(IllegalTransition):
        decide_opinion(county, transferred, IssueOpinion("150404.zj", Outcome.SUPPORTED, "意见"))
    accepted = fold(events + decide_accept(county, transferred, AcceptCase("150404.zj")))
    assert accepted is not None
    with pytest.raises(InvalidInput):
        decide_opinion(county, accepted, IssueOpinion("150404.zj", Outcome.SUPPORTED, "  "))


def test_every_error_has_code_and_both_languages() -> None:
    def all_subclasses(cls: type) -> list[type]:
        return [cls] + [s for c in cls.__subclasses__() for s in all_subclasses(c)]

    codes = set()
    for cls in all_subclasses(DomainError):
        err = cls("detail")
        assert err.code.startswith("XF-") and err.zh and err.en
        assert err.to_dict()["message_zh"].startswith(err.zh)
        codes.add(err.code)
    assert len(codes) == len(all_subclasses(DomainError))  # codes are unique
