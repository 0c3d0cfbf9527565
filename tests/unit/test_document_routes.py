"""Issue 16 item 3 through HTTP: `GET /api/cases/{id}/documents[/{kind}]` on a node's ASGI
app, by signed-in staff — each kind's elements in the HTML, the PDF's text and embedded CJK
fonts, need-to-know (404), roles (403), no act (409), bad kind or format (422), and that
producing a document records nothing in the case."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from xinfang.api.handlers import NodeApi
from xinfang.devtools.staff import InProcessStaff
from xinfang.documents import DocumentKind
from xinfang.identity.principal import Role
from xinfang.store.trail import TrailQuery

from .documents_world import (
    CITY,
    COUNTY,
    HANDLER,
    OFFICE,
    PERSON,
    PROVINCE,
    RE_REVIEWER,
    REVIEWER,
    full_case,
    refused_case,
    world,
)
from .fakes import FakeBus
from .lifecycle import register

K = DocumentKind
# who prints each kind in full: (node, body) of the issuing body's staff
ISSUERS = {
    K.ACCEPTANCE: (COUNTY, HANDLER),
    K.NON_ACCEPTANCE: (COUNTY, HANDLER),
    K.TRANSFER: (CITY, OFFICE),
    K.ASSIGNMENT: (CITY, OFFICE),
    K.HANDLING_OPINION: (COUNTY, HANDLER),
    K.EXTENSION: (COUNTY, HANDLER),
    K.REVIEW_OPINION: (CITY, REVIEWER),
    K.RE_REVIEW_OPINION: (PROVINCE, RE_REVIEWER),
    K.SUPERVISION: (CITY, OFFICE),
}
# an element of each kind's own, as printed
OWN = {
    K.ACCEPTANCE: "自受理之日起60日内",
    K.NON_ACCEPTANCE: "已通过诉讼程序处理",
    K.TRANSFER: "转送你单位",
    K.ASSIGNMENT: "报送办结报告",
    K.HANDLING_OPINION: "经核查，补偿已按标准发放",
    K.EXTENSION: "需实地测量",
    K.REVIEW_OPINION: "原处理意见认定事实清楚",
    K.RE_REVIEW_OPINION: "不再受理",
    K.SUPERVISION: "请抓紧决定是否受理",
}
ISSUER_NAMES = {
    HANDLER: "松山区住房和城乡建设局",
    OFFICE: "赤峰市信访局",
    REVIEWER: "赤峰市住房和城乡建设局",
    RE_REVIEWER: "内蒙古自治区住房和城乡建设局",
}


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.content)


class Nodes:
    """Each node's app and signed-in staff; requests as (body, role)."""

    def __init__(self, bus: FakeBus) -> None:
        self.bus = bus
        self.staff = {d: InProcessStaff(NodeApi(node)) for d, node in bus.nodes.items()}

    def get(
        self, division: str, path: str, body: str | None = None, role: Role = Role.HANDLER
    ) -> Answer:
        staff = self.staff[division]
        headers = staff.staff.headers(body, role) if body is not None else {}

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=staff.api.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.get(path, headers=headers)

        response = asyncio.run(send())
        return Answer(response.status_code, response.headers, response.content)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Nodes, str, str, str]]:
    bus = world(tmp_path_factory.mktemp("documents"))
    full, refused = full_case(bus), refused_case(bus)
    bare = register(bus)  # registered only: no document yet
    yield Nodes(bus), full, refused, bare
    bus.close()


def _case_of(kind: DocumentKind, full: str, refused: str) -> str:
    return refused if kind in (K.TRANSFER, K.NON_ACCEPTANCE) else full


@pytest.mark.parametrize("kind", list(K), ids=[k.value for k in K])
def test_each_kind_as_html_with_its_elements(
    cases: tuple[Nodes, str, str, str], kind: DocumentKind
) -> None:
    nodes, full, refused, _ = cases
    case_id = _case_of(kind, full, refused)
    division, body = ISSUERS[kind]
    role = Role.REGISTRAR if body == OFFICE else Role.HANDLER
    answer = nodes.get(division, f"/api/cases/{case_id}/documents/{kind.value}", body, role)
    assert answer.status == 200, answer.content[:300]
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert answer.headers["content-disposition"].startswith("inline;")
    html = answer.content.decode()
    wanted = (
        kind.zh,
        ISSUER_NAMES[body],
        OWN[kind],
        PERSON["name"],
        PERSON["address"],
        PERSON["contact"],
        "依据：《信访工作条例》第",
        "（盖章）",
        "〔20",
        case_id,
    )
    for element in wanted:
        assert element in html, (kind, element)
    assert "个人信息已遮蔽" not in html  # the issuing body's staff print the original


def test_the_list_names_the_kinds_available_now(cases: tuple[Nodes, str, str, str]) -> None:
    nodes, full, refused, bare = cases
    answer = nodes.get(COUNTY, f"/api/cases/{full}/documents", HANDLER)
    assert answer.status == 200
    listed = answer.json()
    assert listed["case_id"] == full
    kinds = [d["kind"] for d in listed["documents"]]
    assert kinds == [k.value for k in K if k not in (K.TRANSFER, K.NON_ACCEPTANCE)]
    first = listed["documents"][0]
    assert (first["title_zh"], first["issuer"]) == ("受理告知书", "松山区住房和城乡建设局")
    assert first["number"].startswith("松山区受〔") and first["issued_on"][:2] == "20"
    assert first["pdf"] == f"/api/cases/{full}/documents/acceptance?format=pdf"
    refused_list = nodes.get(CITY, f"/api/cases/{refused}/documents", OFFICE, Role.REGISTRAR)
    assert [d["kind"] for d in refused_list.json()["documents"]] == ["non-acceptance", "transfer"]
    bare_list = nodes.get(CITY, f"/api/cases/{bare}/documents", OFFICE, Role.REGISTRAR)
    assert (bare_list.status, bare_list.json()["documents"]) == (200, [])


def test_a_reader_of_another_body_gets_the_masked_copy(cases: tuple[Nodes, str, str, str]) -> None:
    nodes, full, _, _ = cases
    answer = nodes.get(
        CITY, f"/api/cases/{full}/documents/handling-opinion", OFFICE, Role.SUPERVISOR
    )
    html = answer.content.decode()
    assert answer.status == 200 and "个人信息已遮蔽" in html and "张**" in html
    assert PERSON["contact"] not in html and "139****5678" in html


def test_the_masked_copy_masks_as_the_case_view_does(cases: tuple[Nodes, str, str, str]) -> None:
    """One set of masks (domain/personal/masking.py, decision 030): a printed copy for a reader
    outside the issuing body shows the petitioner exactly as the API's case view does."""
    nodes, full, _, _ = cases
    view = nodes.get(CITY, f"/api/cases/{full}", OFFICE, Role.SUPERVISOR).json()
    shown = view["petitioner"]
    assert view["personal_masked"] and shown["address"] != PERSON["address"]
    answer = nodes.get(
        CITY, f"/api/cases/{full}/documents/handling-opinion", OFFICE, Role.SUPERVISOR
    )
    html = answer.content.decode()
    assert answer.status == 200 and "个人信息已遮蔽" in html
    for field in ("name", "address", "contact"):
        assert shown[field] in html, (field, shown[field])
        assert PERSON[field] not in html
    assert "赤峰市松山区****" not in html  # the old local mask kept more of the address


def test_refusals_404_403_409_422_401(cases: tuple[Nodes, str, str, str]) -> None:
    nodes, full, _, bare = cases
    doc = f"/api/cases/{full}/documents/acceptance"
    refusals = {
        # need-to-know: a body that never held the case, and an unknown case, alike
        "other body": (nodes.get(COUNTY, doc, "150404.rs"), 404, "XF-CASE-NOT-FOUND"),
        "other body list": (
            nodes.get(COUNTY, f"/api/cases/{full}/documents", "150404.rs"), 404,
            "XF-CASE-NOT-FOUND",
        ),
        "unknown case": (
            nodes.get(COUNTY, "/api/cases/150400-2026-999999/documents/acceptance", HANDLER),
            404, "XF-CASE-NOT-FOUND",
        ),
        # roles: auditors read logs and reports, not documents; administrators no case content
        "auditor": (nodes.get(CITY, doc, OFFICE, Role.AUDITOR), 403, "XF-FORBIDDEN"),
        "sysadmin": (nodes.get(CITY, doc, OFFICE, Role.SYSTEM_ADMIN), 403, "XF-FORBIDDEN"),
        "no act": (
            nodes.get(CITY, f"/api/cases/{bare}/documents/acceptance", OFFICE, Role.REGISTRAR),
            409, "XF-DOCUMENT-NOT-AVAILABLE",
        ),
        "kind": (
            nodes.get(COUNTY, f"/api/cases/{full}/documents/receipt", HANDLER), 422,
            "XF-DOCUMENT-KIND-UNKNOWN",
        ),
        "format": (nodes.get(COUNTY, doc + "?format=docx", HANDLER), 422,
                   "XF-DOCUMENT-FORMAT-UNKNOWN"),
        "signed out": (nodes.get(COUNTY, doc), 401, "XF-AUTH-REQUIRED"),
    }  # fmt: skip
    for name, (answer, status, code) in refusals.items():
        refusal = answer.json()
        assert (answer.status, refusal["code"]) == (status, code), (name, refusal)
        assert refusal["message_zh"] and refusal["message_en"], name


def test_producing_a_document_records_nothing_but_the_trail_entry(
    cases: tuple[Nodes, str, str, str],
) -> None:
    nodes, full, _, _ = cases
    node = nodes.bus.nodes[COUNTY]

    def state() -> tuple[dict[str, int], int, Any]:
        stats = node.stats()
        stats.pop("trail_pending")  # the operator trail's own entries (decision 027)
        return stats, len(node.history(full)), node.case(full)

    before = state()
    trail = node.trail
    assert trail is not None
    head = trail.head()[0]
    for fmt in ("html", "pdf"):
        path = f"/api/cases/{full}/documents/handling-opinion?format={fmt}"
        assert nodes.get(COUNTY, path, HANDLER).status == 200
    assert state() == before  # no event, no outbox record, the case unchanged
    entries = trail.read(TrailQuery(after_seq=head))
    printed = [e for e in entries if e.case_id == full and e.status == 200]
    assert len(printed) == 2 and {e.action for e in printed} == {"getDocument"}, entries


def test_the_pdf_has_the_chinese_elements_and_embeds_its_fonts(
    cases: tuple[Nodes, str, str, str],
) -> None:
    nodes, full, _, _ = cases
    path = f"/api/cases/{full}/documents/handling-opinion?format=pdf"
    answer = nodes.get(COUNTY, path, HANDLER)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(answer.content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    for element in ("信访处理意见书", "松山区处〔", "松山区住房和城乡建设局", PERSON["name"],
                    "不予支持", "经核查，补偿已按标准发放", "赤峰市住房和城乡建设局请求复查",
                    "《信访工作条例》第三十二条", "盖章"):  # fmt: skip
        assert element in text, (element, text[:400])
    fonts = []
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendant = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = descendant["/FontDescriptor"].get_object()
            embedded = {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)
            fonts.append((str(font["/BaseFont"]), bool(embedded)))
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert any("Noto-Serif-CJK-SC" in name for name, _ in fonts), fonts
