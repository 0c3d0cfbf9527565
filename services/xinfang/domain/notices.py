"""Who is owed a written notice (书面告知): R2 (diversion) and R3 (acceptance decisions).

Art. 22 and Art. 32 of the 信访工作条例 require written notice to the petitioner; none is owed
when the petitioner is anonymous or their name or address is unknown (DOMAIN.md §9 R2/R3).
The deciders use it to decide whether to record a notice; the auditor uses it to decide
whether a timely acceptance also needed a timely notice (及时受理率, DOMAIN.md §7).
"""

from __future__ import annotations

from .events import CaseFile


def notice_owed(file: CaseFile) -> bool:
    """True when the petitioner of `file` is owed a written notice: named, with an address,
    not anonymous."""
    p = file.petitioner
    return not p.anonymous and bool(p.name) and bool(p.address)
