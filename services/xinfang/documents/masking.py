"""Masks for the petitioner's data on a document read by someone other than its issuer
(DOMAIN.md §10: 张*, 139****5678; an address keeps its division part)."""

from __future__ import annotations

_UNITS = "省市盟州区县旗"  # the last character of a division's name (自治区 ends in 区)
_HEAD = 24  # a division part is never longer than this


def masked_name(name: str) -> str:
    """张三 → 张*; a one-character name → *."""
    return name[:1] + "*" * max(len(name) - 1, 1) if len(name) > 1 else "*"


def masked_contact(contact: str) -> str:
    """13912345678 → 139****5678; anything shorter than 7 characters → ****."""
    digits = contact.strip()
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


def masked_address(address: str) -> str:
    """内蒙古自治区赤峰市松山区某街道1号 → 内蒙古自治区赤峰市松山区****."""
    cut = max(address[:_HEAD].rfind(unit) for unit in _UNITS)
    return address[: cut + 1] + "****"
