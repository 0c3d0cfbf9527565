"""Phone numbers of petitioners (DOMAIN.md §10): mainland mobile numbers are 11 digits
beginning with 1 (second digit 3–9); landlines are an area code beginning with 0 (3–4 digits)
and a 7–8 digit number. What people type around the digits is accepted and removed (DOMAIN.md
§11): full-width digits (NFKC), invisible characters, separators (space, hyphen, dot, slash,
parentheses) and a leading +86 / 0086 / 86. What is stored is the digits (a landline keeps one
hyphen after its area code)."""

from __future__ import annotations

import re
import unicodedata

from ..errors import InvalidInput

_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes: 010, 02x (3 digits) or 0 + three digits; then 7–8 digits.
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))(\d{7,8})")
# What a phone number is written with: digits, +, separators. A contact made only of these
# (with at least one digit) is a phone number and must be a valid one.
_PHONE_LIKE = re.compile(r"[0-9+\-()./\s]*[0-9][0-9+\-()./\s]*")
_SEPARATORS = re.compile(r"[\s\-()./]")
_INVISIBLE = ("Cf", "Mn", "Me")  # zero-width spaces and joiners, BOM, soft hyphen


class InvalidPhone(InvalidInput):
    """Not a mainland mobile or landline number."""

    code = "XF-PHONE-INVALID"
    zh = "电话号码无效"
    en = "Not a valid phone number"


def _visible(raw: str) -> str:
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in folded if unicodedata.category(ch) not in _INVISIBLE)


def looks_like_phone(raw: str) -> bool:
    """True if `raw` is written only with digits, + and separators (full-width and invisible
    characters aside): meant as a phone number, so it must be a valid one."""
    return _PHONE_LIKE.fullmatch(_visible(raw).strip()) is not None


def normalise_phone(raw: str, field: str = "phone") -> str:
    """`raw` as stored: "13912345678" or "0476-8123456". Raises InvalidPhone naming `field`."""
    digits = _SEPARATORS.sub("", _visible(raw))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return digits
    landline = _LANDLINE.fullmatch(digits)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    raise InvalidPhone(
        "应为 11 位手机号（1 开头）或带区号的固定电话 / an 11-digit mobile number beginning "
        "with 1, or a landline with its area code",
        field=field,
    )
