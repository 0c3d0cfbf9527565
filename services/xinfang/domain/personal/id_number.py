"""公民身份号码 (citizen identity number), GB 11643-1999.

18 characters: a six-digit division code (GB/T 2260: the first two digits a province-level
code), the birth date YYYYMMDD, a three-digit sequence (odd for men, even for women) and a
check character computed by ISO 7064 MOD 11-2 over the first 17 digits ("X" stands for 10).
An identity number is sensitive personal information (个人信息保护法 Art. 28).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..errors import InvalidInput

# GB/T 2260 province-level codes (incl. 71 台湾, 81 香港, 82 澳门).
PROVINCES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
        "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
        "63", "64", "65", "71", "81", "82",
    }
)  # fmt: skip
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"  # check character for (sum of weighted digits) mod 11
EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidIdNumber(InvalidInput):
    """Not a valid 公民身份号码 (GB 11643-1999); `reason` says which part is wrong."""

    code = "XF-ID-NUMBER-INVALID"
    zh = "公民身份号码无效"
    en = "Not a valid citizen identity number"


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A checked identity number: `value` normalised (18 characters, upper-case X)."""

    value: str
    division: str
    birth: date

    @property
    def male(self) -> bool:
        return int(self.value[16]) % 2 == 1


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_id_number(raw: str, today: date) -> IdNumber:
    """`raw` checked as GB 11643: length, digits, check character, division code, birth date
    (a real date between 1900-01-01 and `today`). Raises InvalidIdNumber(reason=…)."""
    value = raw.strip().upper()
    if len(value) != 18:
        raise InvalidIdNumber(
            f"应为 18 位，实为 {len(value)} 位 / must be 18 characters, not {len(value)}",
            field="id_number",
            reason="length",
        )
    if not value[:17].isascii() or not value[:17].isdigit() or not (
        value[17].isdigit() or value[17] == "X"
    ):
        raise InvalidIdNumber(
            "前 17 位应为数字，末位为数字或 X / 17 digits then a digit or X",
            field="id_number",
            reason="characters",
        )
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber(
            "校验码不符 / the check character does not match", field="id_number",
            reason="check-digit",
        )
    division = value[:6]
    if division[:2] not in PROVINCES:
        raise InvalidIdNumber(
            f"地址码 {division} 不是有效的行政区划代码 / {division} is not a division code",
            field="id_number",
            reason="division",
        )
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        birth = None
    if birth is None or not EARLIEST_BIRTH <= birth <= today:
        raise InvalidIdNumber(
            # not echoed: the birth date is the part every mask hides (150404********1234)
            "出生日期无效 / the birth date is not valid",
            field="id_number",
            reason="birth-date",
        )
    return IdNumber(value, division, birth)
