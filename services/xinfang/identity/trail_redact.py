"""Free text bound for the operator trail, with the numbers that identify a person masked.

The trail is read by the 审计管理员 and published on the trail topic (decision 027); a reason
stated for viewing personal data (decision 030) is free text, and a person may well write the
very number they looked up into it ("核实 150404198003122035 的身份"). Identity numbers and phone
numbers are sensitive personal information (个人信息保护法 Art. 28): they are masked as in every
view (DOMAIN.md §10: 150404********1234, 139****5678) before the entry is signed, so the trail
never holds one in clear. Any other run of seven or more digits (a landline, a bank account)
keeps only its last four.
"""

from __future__ import annotations

import re

from ..domain.personal.masking import mask_id_number, mask_phone

# Digits (any script's: full-width ones too), possibly spaced or hyphenated as people write
# numbers ("139 1234 5678", "0476-8123456"), ending in a digit or an identity number's X.
_NUMBER = re.compile(r"\d(?:[ \-\u3000]?\d){6,}(?:[ \-\u3000]?[Xx])?")
_SEPARATORS = re.compile(r"[ \-\u3000]")
# Written with hyphens in these shapes, a run is a case number or a date, not a person's number.
_KEEP = re.compile(r"\d{6}-\d{4}-\d{6}|\d{4}-\d{1,2}-\d{1,2}")


def _masked(match: re.Match[str]) -> str:
    if _KEEP.fullmatch(match.group(0)):
        return match.group(0)
    digits = _SEPARATORS.sub("", match.group(0))
    if len(digits) == 18:
        return mask_id_number(digits)
    if len(digits) == 11:
        return mask_phone(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def redact(text: str) -> str:
    """`text` with identity numbers (150404********2035), 11-digit numbers (139****5678) and
    other runs of 7 or more digits (****5678) masked; case numbers (150400-2026-000001), dates
    (2026-01-05) and everything else as written."""
    return _NUMBER.sub(_masked, text)
