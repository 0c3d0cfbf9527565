"""Issue 16 item 3: each statutory document carries the elements DOMAIN.md names —
petitioner, request, facts and reasons, opinion and legal basis, the right to request
复查/复核 with the body and the window, date, issuing body, document number — built from a
case's events (in-process nodes, real services and stores)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xinfang.documents import (
    DocumentKind,
    DocumentKindUnknown,
    DocumentNotAvailable,
    available,
    render_html,
)
from xinfang.documents.compose import cn_date
from xinfang.domain.calendar import local_date
from xinfang.domain.events import Event

from .documents_world import (
    CITY,
    COUNTY,
    HANDLER,
    HOSTILE,
    OFFICE,
    PERSON,
    PROVINCE,
    RE_REVIEWER,
    REVIEWER,
    events,
    full_case,
    paper,
    refused_case,
    world,
)
from .fakes import FakeBus
from .lifecycle import register

K = DocumentKind
ZJ_COUNTY, ZJ_CITY = "松山区住房和城乡建设局", "赤峰市住房和城乡建设局"
ZJ_PROVINCE = "内蒙古自治区住房和城乡建设局"


@pytest.fixture
def bus(tmp_path: Path) -> FakeBus:
    return world(tmp_path)


def _act(bus: FakeBus, case_id: str, type_: str) -> Event:
    return [e for e in events(bus, CITY, case_id) if e.type == type_][-1]


def _number(division_name: str, word: str, act: Event) -> str:
    year = local_date(act.header.occurred_at).year
    return f"{division_name}{word}〔{year}〕第{act.header.seq}号"


def test_every_kind_has_its_act_issuer_number_date_and_petition(bus: FakeBus) -> None:
    full, refused = full_case(bus), refused_case(bus)
    assert set(available(events(bus, CITY, full))) == set(K) - {K.TRANSFER, K.NON_ACCEPTANCE}
    assert available(events(bus, CITY, refused)) == [K.NON_ACCEPTANCE, K.TRANSFER]
    expected = {  # kind: (case, act type, issuing body, division of the number)
        K.ACCEPTANCE: (full, "CaseAccepted", ZJ_COUNTY, "松山区"),
        K.NON_ACCEPTANCE: (refused, "CaseNotAccepted", ZJ_COUNTY, "松山区"),
        K.TRANSFER: (refused, "CaseTransferred", "赤峰市信访局", "赤峰市"),
        K.ASSIGNMENT: (full, "CaseAssigned", "赤峰市信访局", "赤峰市"),
        K.HANDLING_OPINION: (full, "HandlingOpinionIssued", ZJ_COUNTY, "松山区"),
        K.EXTENSION: (full, "HandlingExtended", ZJ_COUNTY, "松山区"),
        K.REVIEW_OPINION: (full, "ReviewDecided", ZJ_CITY, "赤峰市"),
        K.RE_REVIEW_OPINION: (full, "ReReviewDecided", ZJ_PROVINCE, "内蒙古自治区"),
        K.SUPERVISION: (full, "SupervisionIssued", "赤峰市信访局", "赤峰市"),
    }
    assert set(expected) == set(K)
    for kind, (case_id, act_type, issuer, division) in expected.items():
        act = _act(bus, case_id, act_type)
        p = paper(bus, CITY, case_id, kind)
        assert p.issuer == issuer, kind
        assert p.number == _number(division, kind.word, act), kind
        assert p.issued_on == local_date(act.header.occurred_at), kind
        assert p.request.startswith("请求") and p.facts and p.reasons, kind
        assert p.received_on == local_date(bus.nodes[CITY].case(case_id).file.received_at), kind
        html = render_html(paper(bus, CITY, case_id, kind, reader=act.header.actor))
        wanted = (kind.zh, p.number, issuer, cn_date(p.issued_on), p.legal_basis,
                  PERSON["name"], PERSON["address"], PERSON["contact"], p.facts, p.reasons,
                  "（盖章）", "@page", "size: A4", "Noto Serif CJK SC")  # fmt: skip
        for element in wanted:
            assert element in html, (kind, element)


def test_a_reprint_is_the_same_document_at_every_node(bus: FakeBus) -> None:
    case_id = full_case(bus)
    for kind in available(events(bus, CITY, case_id)):
        first = paper(bus, CITY, case_id, kind)
        assert paper(bus, CITY, case_id, kind) == first
        assert paper(bus, PROVINCE, case_id, kind) == first
        assert paper(bus, COUNTY, case_id, kind) == first
    numbers = [paper(bus, CITY, case_id, k).number for k in available(events(bus, CITY, case_id))]
    assert len(set(numbers)) == len(numbers)  # one number per document
    assert all(re.fullmatch(r"\S+〔20\d\d〕第[1-9]\d*号", n) for n in numbers), numbers


def test_acceptance_notice_tells_the_handling_limit_and_the_right_to_review(bus: FakeBus) -> None:
    case_id = full_case(bus)
    p = paper(bus, CITY, case_id, K.ACCEPTANCE)
    assert p.to_petitioner and p.addressee == "张**"  # masked: the reader is not the issuer
    accepted = _act(bus, case_id, "CaseAccepted")
    assert p.extra["accepted_on"] == cn_date(local_date(accepted.header.occurred_at))
    assert (p.extra["handling_limit"], p.extra["extension_max"]) == ("60日", "30日")
    assert "第二十三条" in p.legal_basis and "第三十四条" in p.legal_basis
    assert p.rights is not None
    assert f"30日内向{ZJ_CITY}请求复查" in p.rights and "第三十五条" in p.rights


def test_non_acceptance_notice_gives_the_reasons(bus: FakeBus) -> None:
    p = paper(bus, CITY, refused_case(bus), K.NON_ACCEPTANCE, reader=HANDLER)
    assert p.extra["decision_reasons"] == "已通过诉讼程序处理"
    assert p.addressee == PERSON["name"] and "第二十三条" in p.legal_basis
    assert p.rights is None


def test_transfer_and_assignment_letters_go_to_the_receiving_body(bus: FakeBus) -> None:
    transfer = paper(bus, CITY, refused_case(bus), K.TRANSFER, reader=OFFICE)
    assign = paper(bus, CITY, full_case(bus), K.ASSIGNMENT, reader=OFFICE)
    for p in (transfer, assign):
        assert not p.to_petitioner and p.addressee == ZJ_COUNTY
        assert (p.extra["acceptance_limit"], p.extra["objection_limit"]) == ("15日", "5个工作日")
        assert "第二十二条" in p.legal_basis and p.petitioner_name == PERSON["name"]
    assert "report_due" in assign.extra and "report_due" not in transfer.extra
    assert assign.extra["note"] == "重点督办"
    html = render_html(assign)
    assert f"于{assign.extra['report_due']}前将办理结果反馈本机关并报送办结报告" in html


def test_handling_opinion_states_outcome_basis_and_review_window(bus: FakeBus) -> None:
    p = paper(bus, CITY, full_case(bus), K.HANDLING_OPINION, reader=HANDLER)
    assert (p.extra["outcome"], p.extra["opinion"]) == ("不予支持", "经核查，补偿已按标准发放")
    assert "《信访工作条例》第三十二条" in p.legal_basis
    assert "《内蒙古自治区征地补偿安置办法》第十条" in p.legal_basis
    assert p.rights is not None and f"30日内向{ZJ_CITY}请求复查" in p.rights


def test_extension_notice_states_days_reasons_and_approval(bus: FakeBus) -> None:
    p = paper(bus, CITY, full_case(bus), K.EXTENSION)
    assert (p.extra["days"], p.extra["extension_reasons"]) == ("20", "需实地测量")
    assert p.extra["approved_by"] == "王局长" and "第三十四条" in p.legal_basis


def test_review_and_re_review_opinions_name_the_next_body_or_finality(bus: FakeBus) -> None:
    case_id = full_case(bus)
    review = paper(bus, CITY, case_id, K.REVIEW_OPINION, reader=REVIEWER)
    assert (review.extra["result"], review.extra["handling_body"]) == ("维持", ZJ_COUNTY)
    assert "第三十五条" in review.legal_basis
    assert review.rights is not None
    assert f"30日内向{ZJ_PROVINCE}请求复核" in review.rights and "第三十六条" in review.rights
    final = paper(bus, CITY, case_id, K.RE_REVIEW_OPINION, reader=RE_REVIEWER)
    assert final.extra["opinion"] == "复查意见并无不当" and "第三十六条" in final.legal_basis
    assert final.rights is not None and "不再受理" in final.rights
    assert "第三十六条第三款" in final.rights


def test_supervision_letter_names_obligation_level_and_answer_window(bus: FakeBus) -> None:
    p = paper(bus, CITY, full_case(bus), K.SUPERVISION, reader=OFFICE)
    assert p.addressee == ZJ_COUNTY and p.extra["supervision_reasons"] == "请抓紧决定是否受理"
    assert (p.extra["level"], p.extra["answer_limit"]) == ("督办", "30日")
    assert "第四十条" in p.legal_basis and p.extra["supervision_id"]


def test_no_document_without_its_act(bus: FakeBus) -> None:
    case_id = register(bus)
    assert available(events(bus, CITY, case_id)) == []
    for kind in K:
        with pytest.raises(DocumentNotAvailable) as info:
            paper(bus, CITY, case_id, kind)
        assert info.value.code == "XF-DOCUMENT-NOT-AVAILABLE"
    with pytest.raises(DocumentKindUnknown):
        K.parse("receipt")


def test_personal_data_is_full_only_for_the_issuing_body(bus: FakeBus) -> None:
    case_id = full_case(bus)
    own = paper(bus, CITY, case_id, K.HANDLING_OPINION, reader=HANDLER)
    other = paper(bus, CITY, case_id, K.HANDLING_OPINION, reader=OFFICE)
    assert (own.petitioner_name, own.petitioner_contact) == (PERSON["name"], PERSON["contact"])
    assert not own.personal_masked and other.personal_masked
    assert (other.petitioner_name, other.petitioner_contact) == ("张**", "139****5678")
    assert other.petitioner_address == "内蒙古自治区****"  # as the case view masks it
    html = render_html(other)
    assert PERSON["contact"] not in html and "振兴大街" not in html and "个人信息已遮蔽" in html


def test_user_text_is_escaped(bus: FakeBus) -> None:
    html = render_html(paper(bus, CITY, full_case(bus), K.ACCEPTANCE, reader=HANDLER))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;" in html
    assert HOSTILE not in html
