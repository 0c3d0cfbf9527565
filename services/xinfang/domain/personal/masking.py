"""Masks for lists and views (DOMAIN.md §10): 张*, 139****5678, 150404********1234.

The full value is shown only to roles that need it, each full view logged with its reason
(identity/); these are what everyone else sees. Masks keep enough to tell records apart on a
screen and never enough to identify a person."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    """13912345678 → 139****5678; a landline keeps its area code and last 4 digits."""
    digits = phone.strip()
    if "-" in digits:
        area, number = digits.split("-", 1)
        return f"{area}-{'*' * max(0, len(number) - 4)}{number[-4:]}"
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """150404199001011234 → 150404********1234 (division code and last 4 kept)."""
    value = id_number.strip()
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


# The last character of a division's name (GB/T 2260 names), not where it ends a common word
# that names a place inside one (小区 社区 园区 校区 景区 片区 超市): those would show an estate.
_DIVISION_END = re.compile(r"(?<![小社园校景片超])[省市区县旗盟州](?!场)")


def mask_address(address: str, keep: int = 6) -> str:
    """内蒙古自治区赤峰市松山区某街道1号 → 内蒙古自治区****, 赤峰市松山区某街道 → 赤峰市松山区****:
    at most the first `keep` characters, cut after the last division name ending among them
    (省 市 区 县 旗 盟 州), then a fixed mask, so the length says nothing; an address without
    one (a short or free-form one) is all mask, so no street or village is ever shown."""
    address = address.strip()
    if not address:
        return ""
    ends = [m.end() for m in _DIVISION_END.finditer(address[:keep])]
    cut = ends[-1] if ends else 0
    if cut >= len(address):  # the whole address is a division name: keep nothing after all
        cut = 0
    return address[:cut] + "****"


def mask_contact(contact: str) -> str:
    """A phone number as `mask_phone`; an e-mail address keeps its first letter and domain
    (z***@example.com); anything else its first character and a fixed mask."""
    value = contact.strip()
    if not value:
        return ""
    if any(ch.isdigit() for ch in value) and all(ch.isdigit() or ch == "-" for ch in value):
        return mask_phone(value)  # stored normalised: digits, a landline's one hyphen
    local, at, domain = value.partition("@")
    if at and local:
        return f"{local[0]}***@{domain}"
    return value[0] + "****"


def _masked(value: str | None, mask: Callable[[str], str]) -> str | None:
    return None if value is None else mask(value)


def mask_petitioner(
    name: str | None,
    address: str | None,
    contact: str | None,
    id_number: str | None,
    anonymous: bool,
) -> dict[str, Any]:
    """The petitioner as lists and views show it: every personal field masked, None kept
    (the shape of CaseView.petitioner, api/models.py)."""
    return {
        "name": _masked(name, mask_name),
        "address": _masked(address, mask_address),
        "contact": _masked(contact, mask_contact),
        "id_number": _masked(id_number, mask_id_number),
        "anonymous": anonymous,
    }
