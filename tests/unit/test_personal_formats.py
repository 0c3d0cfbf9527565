"""Issue 15 item 1–2, the pure parts: GB 11643 identity numbers, phone numbers, masks."""

from __future__ import annotations

from datetime import date

import pytest

from xinfang.domain.personal.id_number import InvalidIdNumber, check_character, parse_id_number
from xinfang.domain.personal.masking import mask_address, mask_id_number, mask_name, mask_phone
from xinfang.domain.personal.phone import InvalidPhone, normalise_phone

TODAY = date(2026, 11, 29)


def _valid(first17: str) -> str:
    return first17 + check_character(first17)


def test_the_standards_worked_example_checks() -> None:
    # GB 11643-1999 Annex A example: 11010519491231002X
    assert check_character("11010519491231002") == "X"
    parsed = parse_id_number("11010519491231002x", TODAY)
    assert parsed.value == "11010519491231002X"
    assert parsed.birth == date(1949, 12, 31) and parsed.division == "110105"
    assert not parsed.male


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1504041990010112", "length"),
        ("15040419900101123456", "length"),
        ("15040419900101A234", "characters"),
        ("150404199001011230" if _valid("15040419900101123")[-1] != "0" else "150404199001011231",
         "check-digit"),
        (_valid("99040419900101123"), "division"),
        (_valid("15040419900230123"), "birth-date"),  # 30 February
        (_valid("15040418991231123"), "birth-date"),  # before 1900
        (_valid("15040420270101123"), "birth-date"),  # in the future
    ],
)
def test_each_defect_is_named(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw, TODAY)
    assert caught.value.context["reason"] == reason
    assert caught.value.code == "XF-ID-NUMBER-INVALID"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13912345678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("0086-13912345678", "13912345678"),
        ("0476-8123456", "0476-8123456"),
        ("010 12345678", "010-12345678"),
    ],
)
def test_phone_numbers_are_normalised(raw: str, stored: str) -> None:
    assert normalise_phone(raw) == stored


@pytest.mark.parametrize("raw", ["12345", "12912345678", "1391234567", "139123456789", "abc"])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)


def test_masks_match_domain_section_10() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13912345678") == "139****5678"
    assert mask_phone("0476-8123456") == "0476-***3456"
    assert mask_id_number("150404199001011234") == "150404********1234"
    assert mask_address("内蒙古自治区赤峰市松山区某街道1号") == "内蒙古自治区****"
    assert mask_name("") == "" and mask_address("") == ""


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("赤峰市松山区某街道1号", "赤峰市松山区****"),  # the division part
        ("松山区某村", "松山区****"),  # short: never the village
        ("幸福小区3号楼", "****"),  # 小区 is no division: never the estate
        ("新华市场5号", "****"),
        ("赤峰市", "****"),  # all of it a division: nothing kept
    ],
)
def test_address_masks_keep_only_the_division_part(address: str, shown: str) -> None:
    assert mask_address(address) == shown
