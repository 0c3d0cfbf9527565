"""The same matter (同一信访事项) raised again: R11 (after 复核) and R12 (in progress).

Art. 36 ¶3 and Art. 19 ¶3 speak of the same facts and reasons and the same item, not of the
same bytes. Per DOMAIN.md §11 matching survives trivial variation: Unicode compatibility
forms (NFKC: full-width digits and letters), case, whitespace, punctuation and symbols,
zero-width and other invisible characters, separators and the +86 prefix of phone numbers;
and a missing contact does not make a new matter.

`matter_parts` is what identifies a matter here; the node stores and indexes a keyed hash of
it (cases.matter_key: HMAC-SHA256 under the node's index key, privacy/columns.py, issue 15
item 3), never the parts or an unkeyed hash that a dictionary of names would open. The parts
leave the contact out, so that a petition without a contact finds the earlier one;
`same_matter` then tells apart two petitioners of the same name whose contacts are both known
and differ.
"""

from __future__ import annotations

import re
import unicodedata

from .events import CaseFile

# What never tells two matters apart: everything but letters and numbers (str.isalnum) —
# punctuation, symbols, spaces, control and format characters (zero-width space U+200B,
# joiners, BOM, soft hyphen) and combining marks left after NFKC (variation selectors).
# One regular expression, so a long request is normalised in C, not character by character.
_IGNORED = re.compile(r"[\W_]+")
_INVISIBLE = ("C", "Mn", "Me")
_PHONE = re.compile(r"[0-9+\-()./\s]*")


def normalise(text: str | None) -> str:
    """`text` reduced to what identifies it: NFKC, case-folded, without punctuation,
    symbols, whitespace or invisible characters. "" for None."""
    if not text:
        return ""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text).casefold())


def normalise_contact(contact: str | None) -> str:
    """A contact reduced for matching: a phone number (digits and separators only) becomes
    its digits without the country code 86 of a mainland mobile; anything else (e-mail, an
    address) is `normalise`d. "" when missing."""
    if not contact:
        return ""
    visible = "".join(
        ch
        for ch in unicodedata.normalize("NFKC", contact)
        if not unicodedata.category(ch).startswith(_INVISIBLE)
    )
    if visible.strip() and _PHONE.fullmatch(visible):
        digits = "".join(ch for ch in visible if ch.isdigit())
        for prefix in ("0086", "86"):
            rest = digits.removeprefix(prefix)
            if rest != digits and len(rest) == 11 and rest.startswith("1"):
                return rest
        return digits
    return normalise(visible)


def matter_parts(file: CaseFile) -> tuple[str, str, str] | None:
    """What identifies a named petitioner's matter: the normalised name, the place (division
    code) and the normalised request.

    None for anonymous petitions (there is nobody to match) and when the name or the
    request is empty once normalised.
    """
    p = file.petitioner
    name, request = normalise(p.name), normalise(file.request)
    if p.anonymous or not name or not request:
        return None
    return (name, file.place.strip(), request)


def same_matter(earlier: CaseFile, later: CaseFile) -> bool:
    """True if `later` raises the matter of `earlier` again: the same parts, and contacts
    that do not differ (a missing contact on either side matches any)."""
    parts = matter_parts(later)
    if parts is None or parts != matter_parts(earlier):
        return False
    a = normalise_contact(earlier.petitioner.contact)
    b = normalise_contact(later.petitioner.contact)
    return not a or not b or a == b
