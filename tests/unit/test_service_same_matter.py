"""R11 and R12 recognise the same matter through trivial variation (DOMAIN.md §11, issue 10
item 5), driven through the HTTP handlers of nodes on the in-process bus."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinfang.domain.events import CaseFile, Petitioner
from xinfang.domain.matter import matter_parts, normalise_contact, same_matter
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import Category, Channel

from .fakes import FakeBus
from .http_world import Http

NAME = "李四"
REQUEST = "请求足额发放2025年征地补偿款5000元"
CONTACT = "13700000000"
PETITION: dict[str, Any] = {
    "title": "征地补偿款未足额发放",
    "channel": "ONLINE",
    "category": "APPEAL",
    "petitioner": {"name": NAME, "address": "松山区某村", "contact": CONTACT},
    "request": REQUEST,
    "facts": "2025 年征地后补偿款仅发放六成",
    "reasons": "违反征地补偿安置方案",
    "place": "150404",
}


def petition(**person: Any) -> dict[str, Any]:
    body = copy.deepcopy(PETITION)
    request = person.pop("request", None)
    if request is not None:
        body["request"] = request
    body["petitioner"].update(person)
    return body


def final_case(http: Http) -> str:
    """A case through 复核 (final, R11): 赤峰市 registers, 松山区住建局 handles, 赤峰市住建局
    reviews, 内蒙古自治区住建局 re-reviews."""
    case_id = http.register("150400", petition())
    http.command("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    http.command("150404", case_id, "accept", {"actor": "150404.zj"})
    http.command(
        "150404", case_id, "opinion",
        {"actor": "150404.zj", "outcome": "NOT_SUPPORTED", "opinion": "已按标准发放"},
    )  # fmt: skip
    http.command("150400", case_id, "review-request", {"actor": "150400.zj", "reasons": "不服"})
    http.command(
        "150400", case_id, "review-decide",
        {"actor": "150400.zj", "result": "UPHOLD", "opinion": "维持"},
    )  # fmt: skip
    http.command("150000", case_id, "re-review-request", {"actor": "150000.zj", "reasons": "不服"})
    http.command(
        "150000", case_id, "re-review-decide",
        {"actor": "150000.zj", "result": "UPHOLD", "opinion": "维持"},
    )  # fmt: skip
    assert http.get("150400", f"/api/cases/{case_id}")[1]["status"] == "CLOSED"
    return case_id


@pytest.mark.rule("R11")
def test_R11_the_issues_variations_of_a_final_matter_are_refused(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    http = Http(bus)
    final_case(http)
    def stats() -> dict[str, int]:  # the operator trail records the refusals (decision 027)
        return {k: v for k, v in bus.nodes["150400"].store.stats().items() if k != "trail_pending"}

    before = stats()
    for variant in (
        petition(),  # identical
        petition(request=REQUEST + "。"),  # a trailing full stop
        petition(contact=None),  # no contact
        petition(contact="137-0000-0000", request=" " + REQUEST.replace("2025", "２０２５")),
    ):
        assert http.refused("150400", "/api/cases", variant) == (409, "XF-R11-FINAL")
    assert stats() == before  # a refusal changes nothing
    # a different matter, or the same words from another person with another phone, is new
    assert http.register("150400", petition(request="请求公开征地批复文件"))
    assert http.register("150400", petition(contact="13911112222"))
    bus.close()


@pytest.mark.rule("R12")
def test_R12_a_zero_width_space_in_the_name_does_not_make_a_new_matter(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    http = Http(bus)
    county = http.register("150404", petition())  # raised first with 松山区信访局
    http.command(
        "150404", county, "transfer", {"actor": "150404.xfj", "to_body": "150404.zrzy"}
    )
    status, answer = http.post("150400", "/api/cases", petition(name="李\u200b四"))
    assert (status, answer["code"]) == (409, "XF-R12-IN-PROGRESS")
    assert county in answer["message_zh"]
    assert http.refused("150400", "/api/cases", petition()) == (409, "XF-R12-IN-PROGRESS")
    bus.close()


# -- the property: any trivial variation of name, request and contact is the same matter
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
SPACES = [" ", "\u3000", "\t", "\n", "\u00a0"]
PUNCTUATION = list("，。、！？；：·-—…“”‘’()（）《》[]【】.,!?;:'\"~～/")


def full_width(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


@st.composite
def varied(draw: st.DrawFn, text: str) -> str:
    """`text` with ignorable characters inserted and ASCII turned full-width at random."""
    out = []
    for ch in text:
        out.append(draw(st.sampled_from(INVISIBLE + SPACES + PUNCTUATION + [""] * 12)))
        out.append(full_width(ch) if draw(st.booleans()) else ch)
    out.append(draw(st.sampled_from(INVISIBLE + SPACES + PUNCTUATION + [""] * 4)))
    return "".join(out)


@st.composite
def varied_phone(draw: st.DrawFn) -> str | None:
    if draw(st.integers(0, 4)) == 0:
        return None  # a missing contact
    prefix = draw(st.sampled_from(["", "", "+86 ", "+86-", "0086", "86"]))
    groups = [CONTACT[:3], CONTACT[3:7], CONTACT[7:]]
    seps = [draw(st.sampled_from(["", " ", "-", ".", "\u3000", "\u200b"])) for _ in groups]
    number = "".join(g + s for g, s in zip(groups, seps, strict=True)).strip()
    if draw(st.booleans()):
        number = f"({number[:3]}){number[3:]}"
    if draw(st.booleans()):
        number = "".join(full_width(ch) for ch in number)
    return prefix + number


@pytest.fixture(scope="module")
def in_progress(topology: Topology, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Http]:
    """The matter in progress at 松山区住建局, registered by 松山区信访局."""
    bus = FakeBus(topology, ["150400", "150404"], tmp_path_factory.mktemp("r12"))
    http = Http(bus)
    case_id = http.register("150404", petition())
    http.command("150404", case_id, "transfer", {"actor": "150404.xfj", "to_body": "150404.zj"})
    yield http
    bus.close()


@pytest.mark.rule("R12")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=varied(NAME), request=varied(REQUEST), contact=varied_phone())
def test_R12_matching_survives_any_trivial_variation(
    in_progress: Http, name: str, request: str, contact: str | None
) -> None:
    body = petition(name=name, request=request, contact=contact)
    before = in_progress.bus.nodes["150400"].store.stats()
    assert in_progress.refused("150400", "/api/cases", body) == (409, "XF-R12-IN-PROGRESS")
    assert in_progress.bus.nodes["150400"].store.stats() == before


def _file(name: str | None, contact: str | None, request: str = REQUEST) -> CaseFile:
    from datetime import UTC, datetime

    return CaseFile(
        title="t", channel=Channel.ONLINE, category=Category.APPEAL,
        petitioner=Petitioner(name, "addr", contact), request=request, facts="", reasons="",
        place="150404", received_at=datetime(2026, 1, 5, tzinfo=UTC),
    )  # fmt: skip


def test_contacts_and_keys_normalise_as_documented() -> None:
    assert normalise_contact("+86 (137) 0000-0000") == CONTACT
    assert normalise_contact("００８６１３７００００００００") == CONTACT
    assert normalise_contact("Li.Si@Example.com ") == normalise_contact("li.si@example.com")
    assert matter_parts(_file("  ", CONTACT)) is None  # no name to match
    assert matter_parts(_file("李四", None)) == matter_parts(_file("李 四", CONTACT))
    assert same_matter(_file("李四", CONTACT), _file("李四", None))
    assert not same_matter(_file("李四", CONTACT), _file("李四", "13911112222"))
    assert not same_matter(_file("李四", CONTACT), _file("李四", CONTACT, "请求公开文件"))


def test_the_audit_counts_a_trivially_varied_matter_as_a_repeat_petition(
    topology: Topology, tmp_path: Path
) -> None:
    """重复信访率 (DOMAIN.md §7) recognises the same matter as R11/R12 do."""
    from xinfang.audit.compliance import ComplianceAuditor, Located

    bus = FakeBus(topology, ["150400", "150404"], tmp_path)
    http = Http(bus)
    first = http.register("150400", petition())
    http.command("150400", first, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    http.command("150404", first, "reject", {"actor": "150404.zj", "reasons": "不属于受理范围"})
    again = http.register("150400", petition(name="李\u200b四", request=REQUEST + "。"))
    other = http.register("150400", petition(contact="13911112222"))  # another 李四
    checker = ComplianceAuditor(topology)
    for case_id in (first, again, other):
        for offset, (_, event) in enumerate(bus.nodes["150400"].history(case_id)):
            source = event.header.source
            checker.add(Located(event, source, event.header.seq, source, 0, offset))
    repeat = checker.run(now=bus.clock()).metrics["150400"].repeat
    assert (repeat.numerator, repeat.denominator) == (1, 3)
    bus.close()
