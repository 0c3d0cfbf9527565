"""Issue 15, tried as an outsider: where a petitioner's identity or phone number still showed in
clear after validation, masking and sealing — the operator trail (a reason stated for viewing
personal data, read by the 审计管理员 and published on the trail topic) and 4xx answers that
echoed what was sent. Over HTTP with signed-in staff (NodeApi.dispatch)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from xinfang.identity.trail_record import signature_valid
from xinfang.identity.trail_redact import redact

from .test_personal_data_http import CITY, ID_NUMBER, Nodes

PHONE = "13912345678"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    made = Nodes(tmp_path_factory.mktemp("no-leaks"))
    try:
        yield made
    finally:
        made.bus.close()


def test_numbers_written_into_a_reveal_reason_are_masked_on_the_trail(nodes: Nodes) -> None:
    status, done = nodes.register({"name": "王小明", "contact": PHONE, "id_number": ID_NUMBER})
    assert status == 201, done
    reason = f"核实 {ID_NUMBER} 的身份，回拨 139 1234 5678"
    path = f"/api/cases/{done['case_id']}/personal-data"
    status, shown = nodes.city.dispatch("POST", path, {"reason": reason})
    assert status == 200, shown
    assert shown["petitioner"]["id_number"] == ID_NUMBER  # the viewer still gets the values

    [entry] = [e for e in nodes.trail(CITY) if e.http == f"POST {path}"]
    assert entry.reason == "核实 110105********002X 的身份，回拨 139****5678"
    status, listed = nodes.city.dispatch("GET", "/api/audit/trail", None)
    assert status == 200, listed
    text = json.dumps(listed, ensure_ascii=False)
    assert "110105********002X" in text
    assert ID_NUMBER not in text and "1234 5678" not in text
    # what is signed, hashed and published on the trail topic is the masked reason
    assert ID_NUMBER.encode() not in entry.to_bytes()
    assert signature_valid(entry, nodes.world.keys[CITY].public_raw)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"核实{ID_NUMBER}", "核实110105********002X"),
        ("身份证 150404 19800312 2035 核对", "身份证 150404********2035 核对"),
        ("电话13912345678。", "电话139****5678。"),
        ("座机 0476-8123456", "座机 047****3456"),
        ("账号 6222 0201 2345", "账号 ********2345"),
        ("全角１３９１２３４５６７８", "全角１３９****５６７８"),
        ("2026 年 3 月回访，卷宗第 12 页", "2026 年 3 月回访，卷宗第 12 页"),  # short numbers stay
        ("复核 150400-2026-000001，2026-01-05 来访", "复核 150400-2026-000001，2026-01-05 来访"),
        ("139-1234-5678", "139****5678"),
    ],
)
def test_redact_masks_identity_and_phone_numbers_however_written(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_an_invalid_choice_is_refused_without_echoing_the_value(nodes: Nodes) -> None:
    before = len(nodes.trail(CITY))
    status, answer = nodes.city.dispatch(
        "POST", "/api/cases",
        {"title": "t", "channel": "ONLINE", "category": ID_NUMBER, "request": "r",
         "place": "150404", "petitioner": {"name": "王小明"}},
    )  # fmt: skip
    assert (status, answer["code"], answer["context"]) == (
        422, "XF-INVALID-INPUT", {"field": "category"}
    )
    assert "PROPOSAL, ACCUSATION, APPEAL" in answer["message_en"]  # still says what is allowed
    assert ID_NUMBER not in json.dumps(answer, ensure_ascii=False)
    assert len(nodes.trail(CITY)) == before + 1  # the refusal recorded, nothing else


def test_an_invalid_birth_date_is_refused_without_echoing_it(nodes: Nodes) -> None:
    wrong = "150404202602301237"  # 30 February, check character right
    status, answer = nodes.register({"name": "王小明", "id_number": wrong})
    assert (status, answer["code"], answer["context"]["reason"]) == (
        422, "XF-ID-NUMBER-INVALID", "birth-date"
    )
    assert "20260230" not in json.dumps(answer, ensure_ascii=False)  # the part masks hide
