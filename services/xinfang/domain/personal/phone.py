"""Phone numbers of petitioners (DOMAIN.md §10): mainland mobile numbers are 11 digits
beginning with 1 (second digit 3–9); landlines are an area code beginning with 0 (3–4 digits)
and a 7–8 digit number. Separators (space, hyphen) and a leading +86 / 0086 are accepted and
removed; what is stored is the digits (a landline keeps one hyphen after its area code)."""

from __future__ import annotations

import re

from ..errors import InvalidInput

_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes: 010, 02x (3 digits) or 0 + three digits; then 7–8 digits.
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))(\d{7,8})")


class InvalidPhone(InvalidInput):
    """Not a mainland mobile or landline number."""

    code = "XF-PHONE-INVALID"
    zh = "电话号码无效"
    en = "Not a valid phone number"


def normalise_phone(raw: str) -> str:
    """`raw` as stored: "13912345678" or "0476-8123456". Raises InvalidPhone."""
    digits = re.sub(r"[\s\-()]", "", raw.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _MOBILE.fullmatch(digits):
        return digits
    landline = _LANDLINE.fullmatch(digits)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    raise InvalidPhone(
        "应为 11 位手机号（1 开头）或带区号的固定电话 / an 11-digit mobile number beginning "
        "with 1, or a landline with its area code",
        field="phone",
    )
