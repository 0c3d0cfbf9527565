"""A petitioner's personal fields as a registration gives them, checked and normalised
(DOMAIN.md §10; 个人信息保护法 Art. 28): an identity number only in its own field, valid per
GB 11643; a contact written as a phone number a valid mainland number, stored normalised."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from ..errors import InvalidInput
from .id_number import check_character, parse_id_number
from .phone import looks_like_phone, normalise_phone

# 17 digits and a check character, not inside a longer run of digits; separators removed first.
_ID_LIKE = re.compile(r"(?<![0-9])([0-9]{17}[0-9X])(?![0-9])")
_SEPARATORS = re.compile(r"[\s\-()./\u200b-\u200d\u2060\ufeff\u00ad]")


class IdNumberInContact(InvalidInput):
    """A citizen identity number written into `contact`: it is sensitive personal information
    (个人信息保护法 Art. 28) and goes in `id_number`, where it is checked, masked and logged."""

    code = "XF-ID-NUMBER-IN-CONTACT"
    zh = "联系方式中含有公民身份号码，请填入 id_number"
    en = "The contact holds a citizen identity number; give it as id_number"


def holds_id_number(text: str) -> bool:
    """True if `text` contains an 18-character identity number whose check character matches
    (ISO 7064 MOD 11-2), however it is spaced or written (full-width, lower-case x)."""
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    return any(check_character(m[:17]) == m[17] for m in _ID_LIKE.findall(compact))


def checked_contact(contact: str | None) -> str | None:
    """`contact` as stored: a phone number normalised (InvalidPhone if it is not a valid one),
    anything else (an e-mail address, a note) unchanged; IdNumberInContact if it holds an
    identity number. None and "" stay None."""
    if not contact:
        return None
    if holds_id_number(contact):
        raise IdNumberInContact(field="contact")
    if looks_like_phone(contact):
        return normalise_phone(contact, field="contact")
    return contact


def checked_id_number(raw: str | None, today: date) -> str | None:
    """An identity number normalised (18 characters, upper-case X), checked as GB 11643 with
    `today` the latest birth date (InvalidIdNumber with its reason). None and "" stay None."""
    if not raw:
        return None
    return parse_id_number(raw, today).value
