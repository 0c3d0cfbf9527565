"""Times clients give (receipt, service, request, CLI options): one reading everywhere.

DOMAIN.md §11: a time without an offset is Beijing time (Asia/Shanghai, UTC+8), as everyone
in the product reads it — never UTC. A date alone is 00:00 Beijing time that day.
"""

from __future__ import annotations

from datetime import datetime

from .calendar import BEIJING


def parse_client_time(text: str) -> datetime:
    """ISO 8601 text → a tz-aware datetime; no offset means Beijing time.

    Raises ValueError for text that is not ISO 8601 (the caller words the refusal: 422 in the
    API, a usage error in the CLI).
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=BEIJING)
    return moment
