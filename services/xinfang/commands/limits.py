"""Every bound the HTTP API puts on client input, in one place (issue 10 items 2, 3, 10).

Why these numbers:

* **Record size.** Each accepted request becomes Kafka records that the outbox relay must be
  able to publish. aiokafka refuses a record over ``max_request_size`` (1 MiB by default,
  ``PRODUCER_MAX_REQUEST_BYTES``). The largest record a request can cause is a transfer or
  assignment (``CaseTransferred``/``CaseAssigned``): the whole case file plus the note, copied
  unchanged to the receiving inbox and up the report chain (上报), and into a dead letter with
  about 1 KiB of extra headers. With the field lengths below, counted in characters of up to
  4 bytes of UTF-8, that record stays under ``RECORD_BUDGET_BYTES`` (the producer limit less
  ``RECORD_HEADROOM_BYTES`` for headers, batch framing and dead-letter headers);
  tests/unit/test_input_limits.py encodes the largest event of every type to prove it.
* **Body size.** ``MAX_BODY_BYTES`` (1 MiB) is refused with 413 before the body is parsed; it is
  above the largest body whose fields are within their lengths (even written with ``\\u``
  escapes), so a valid request is never refused for its size.
* **JSON depth.** ``MAX_JSON_DEPTH``: the deepest valid body is 3 levels (body → notice or
  petitioner → value); Python's parser recurses, so a deeply nested body is refused (400).
* **Integers.** Avro ``int`` is 32-bit signed; every count and day figure is bounded to a
  plausible range well inside it (``INT_BOUNDS``).
* **Times** a client gives (receipt, service, request): not before 1 January of the earliest
  holiday-calendar year the node holds (deadlines cannot be computed before it), and not after
  the node's clock plus ``FUTURE_TOLERANCE``. Finer checks against the case history and the
  clock are the deciders' (DOMAIN.md §11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.calendar import BEIJING, HolidayCalendar

PRODUCER_MAX_REQUEST_BYTES = 1_048_576  # aiokafka's max_request_size, which the relay keeps
RECORD_HEADROOM_BYTES = 64 * 1024
RECORD_BUDGET_BYTES = PRODUCER_MAX_REQUEST_BYTES - RECORD_HEADROOM_BYTES
UTF8_MAX_BYTES_PER_CHAR = 4

MAX_BODY_BYTES = 1_048_576
MAX_JSON_DEPTH = 8
MAX_IDEMPOTENCY_KEY_CHARS = 200
IDEMPOTENCY_KEY_PATTERN = "^[!-~]{1,200}$"  # visible ASCII: what every HTTP stack passes unchanged

# Maximum length in characters (Python str length: code points) of each text field.
ID_CHARS = 64  # body ids (150404.zj), division codes, case ids, supervision ids
NAME_CHARS = 100
SHORT_TEXT_CHARS = 500
TITLE_CHARS = 200
REQUEST_CHARS = 10_000
LONG_TEXT_CHARS = 50_000
REASON_CHARS = 200
MIN_REASON_CHARS = 4

FIELD_CHARS: dict[str, int] = {
    # identifiers
    "actor": ID_CHARS,
    "to_body": ID_CHARS,
    "accused_body": ID_CHARS,
    "place": ID_CHARS,
    "repeat_of": ID_CHARS,
    "supervision_id": ID_CHARS,
    "obligation": ID_CHARS,
    # 公民身份号码: 18 characters; up to ID_CHARS so a wrong length is refused with its reason
    "id_number": ID_CHARS,
    # short texts
    "title": TITLE_CHARS,
    "backdate_reason": SHORT_TEXT_CHARS,
    "name": NAME_CHARS,
    "contact": NAME_CHARS,
    "approved_by": NAME_CHARS,
    "address": SHORT_TEXT_CHARS,
    "accused": SHORT_TEXT_CHARS,
    "reason": REASON_CHARS,  # why a person views personal data in full (decision 030)
    # long texts
    "request": REQUEST_CHARS,
    "facts": LONG_TEXT_CHARS,
    "reasons": LONG_TEXT_CHARS,
    "note": LONG_TEXT_CHARS,
    "guidance": LONG_TEXT_CHARS,
    "opinion": LONG_TEXT_CHARS,
    "legal_basis": LONG_TEXT_CHARS,
    "summary": LONG_TEXT_CHARS,
    "answer": LONG_TEXT_CHARS,
    "comment": LONG_TEXT_CHARS,
}

AVRO_INT_MAX = 2**31 - 1
# Inclusive (minimum, maximum) of every integer field: plausible, and inside Avro int.
INT_BOUNDS: dict[str, tuple[int, int]] = {
    "collective_size": (1, 1_000_000),
    "representatives": (0, 1_000_000),
    "report_within_days": (1, 365),
    "days": (1, 365),
    "rehandle_within_days": (1, 365),
}

FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class TimeBounds:
    """The plausible range of a time a client gives, inclusive, as aware datetimes."""

    earliest: datetime
    latest: datetime

    @classmethod
    def for_node(cls, now: datetime, calendar: HolidayCalendar | None) -> TimeBounds:
        """From 1 January (Beijing) of the node's earliest calendar year — or of the current
        year without a calendar — to `now` plus FUTURE_TOLERANCE."""
        first = min(calendar.years) if calendar is not None and calendar.years else None
        year = first if first is not None else now.astimezone(BEIJING).year
        return cls(datetime(year, 1, 1, tzinfo=BEIJING), now + FUTURE_TOLERANCE)


def max_chars(field: str) -> int:
    """The length limit of a text field; unknown names get the long-text limit."""
    return FIELD_CHARS.get(field, LONG_TEXT_CHARS)
