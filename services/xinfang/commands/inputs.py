"""Parse JSON request bodies into domain commands. Bad input raises InvalidInput (HTTP 422).

Every field is bounded here (commands/limits.py): text by length and content (no NUL, no lone
surrogate: neither can be stored or encoded), integers by a plausible range inside Avro int,
times by the node's plausible range; a time without an offset is Beijing time
(domain/client_time.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from ..domain.calendar import BEIJING
from ..domain.client_time import parse_client_time
from ..domain.commands import (
    AcceptCase,
    AnswerSupervision,
    AssignCase,
    CloseCase,
    DecideReview,
    DivertCase,
    Evaluate,
    ExtendHandling,
    IssueOpinion,
    NoticeService,
    ObjectTransfer,
    RejectCase,
    ReportCompletion,
    RequestReview,
    ReturnTransfer,
    ServeNotice,
    Supervise,
    TransferCase,
)
from ..domain.deadlines import Obligation
from ..domain.errors import InvalidInput
from ..domain.events import CaseFile, Petitioner
from ..domain.personal.petitioner import checked_contact, checked_id_number
from ..domain.vocabulary import (
    Category,
    Channel,
    CloseReason,
    DiversionRoute,
    NoticeKind,
    Outcome,
    Rating,
    Receipt,
    ReviewResult,
    ServiceMethod,
    SupervisionLevel,
)
from .input_errors import FieldTooLong, TimeOutOfRange, ValueOutOfRange
from .limits import INT_BOUNDS, TimeBounds, max_chars

E = TypeVar("E", bound=StrEnum)


def _obj(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{what} 须为 JSON 对象 / must be a JSON object")
    return raw


def _checked(value: str, key: str) -> str:
    limit = max_chars(key)
    if len(value) > limit:
        raise FieldTooLong(
            f"{key} 最多 {limit} 字，实际 {len(value)} 字 / at most {limit} characters, "
            f"got {len(value)}",
            field=key,
            max_chars=limit,
        )
    if "\x00" in value:
        raise InvalidInput(f"{key} 含有 NUL 字符 / contains a NUL character", field=key)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{key} 含有无效的 Unicode 代理字符 / contains a lone surrogate", field=key
        ) from None
    return value


def _text(data: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"缺少字段 / missing field: {key}", field=key)
        return default
    if not isinstance(value, str):
        raise InvalidInput(f"字段须为字符串 / must be a string: {key}", field=key)
    return _checked(value, key)


def _opt_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"字段须为字符串 / must be a string: {key}", field=key)
    return _checked(value, key) or None


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"字段须为布尔值 / must be true or false: {key}", field=key)
    return value


def _within(key: str, value: int) -> bool:
    low, high = INT_BOUNDS[key]
    return low <= value <= high


def _int(data: dict[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if value is None or (key not in data and not _within(key, default)):
        raise InvalidInput(f"缺少字段 / missing field: {key}", field=key)
    if isinstance(value, float) and value.is_integer():  # JSON Schema: 3.0 is an integer
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"字段须为整数 / must be an integer: {key}", field=key)
    low, high = INT_BOUNDS[key]
    if not low <= value <= high:
        raise ValueOutOfRange(
            f"{key} 须在 {low}–{high} 之间 / must be between {low} and {high}",
            field=key,
            minimum=low,
            maximum=high,
        )
    return value


def _enum(enum: type[E], data: dict[str, Any], key: str, default: E | None = None) -> E:
    value = data.get(key)
    if value is None and default is not None:
        return default
    try:
        return enum(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidInput(  # the value is not echoed: a client may put anything there
            f"{key} 取值无效，可选 / invalid value; allowed: {allowed}", field=key
        ) from None


# Without a node (devtools, tests calling the parsers directly): only what the wire holds.
WIDEST_TIMES = TimeBounds(
    datetime.fromisoformat("1990-01-01T00:00:00+08:00"),
    datetime.fromisoformat("2100-01-01T00:00:00+08:00"),
)


def _time(data: dict[str, Any], key: str, bounds: TimeBounds) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput(f"{key} 须为 ISO 8601 时间 / must be an ISO 8601 time", field=key)
    try:
        moment = parse_client_time(value)
    except ValueError:
        raise InvalidInput(
            f"{key} 须为 ISO 8601 时间 / must be an ISO 8601 time", field=key
        ) from None
    try:
        inside = bounds.earliest <= moment <= bounds.latest
    except OverflowError:  # an offset that pushes the instant past year 1 or 9999
        inside = False
    if not inside:
        raise TimeOutOfRange(
            f"{key} 须在 {bounds.earliest.isoformat()} 与 {bounds.latest.isoformat()} 之间 / "
            f"must lie between {bounds.earliest.isoformat()} and {bounds.latest.isoformat()}",
            field=key,
            earliest=bounds.earliest.isoformat(),
            latest=bounds.latest.isoformat(),
        )
    # As the wire keeps it (Avro timestamp-millis, UTC): a decision made with finer time would
    # differ from its own round trip.
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


def petitioner(raw: Any, now: datetime) -> Petitioner:
    """The petitioner of a registration: `id_number` checked as GB 11643 (InvalidIdNumber
    with its reason) and normalised; a `contact` written as a phone number a valid one
    (InvalidPhone), stored normalised; an identity number in `contact` refused
    (IdNumberInContact). Birth dates may not lie after `now`'s Beijing date."""
    person = _obj(raw, "petitioner")
    return Petitioner(
        name=_opt_text(person, "name"),
        address=_opt_text(person, "address"),
        contact=checked_contact(_opt_text(person, "contact")),
        anonymous=_bool(person, "anonymous"),
        id_number=checked_id_number(
            _opt_text(person, "id_number"), now.astimezone(BEIJING).date()
        ),
    )


def case_file(raw: Any, now: datetime, bounds: TimeBounds = WIDEST_TIMES) -> CaseFile:
    """The case file of a registration; `received_at` defaults to `now`."""
    data = _obj(raw, "请求体 / body")
    return CaseFile(
        title=_text(data, "title"),
        channel=_enum(Channel, data, "channel"),
        category=_enum(Category, data, "category"),
        petitioner=petitioner(data.get("petitioner", {}), now),
        request=_text(data, "request"),
        facts=_text(data, "facts", required=False),
        reasons=_text(data, "reasons", required=False),
        place=_text(data, "place"),
        received_at=_time(data, "received_at", bounds) or now,
        accused=_opt_text(data, "accused"),
        accused_body=_opt_text(data, "accused_body"),
        collective_size=_int(data, "collective_size", 1),
        representatives=_int(data, "representatives", 0),
        urgent=_bool(data, "urgent"),
        litigation_related=_bool(data, "litigation_related"),
        repeat_of=_opt_text(data, "repeat_of"),
    )


def _service(raw: Any, bounds: TimeBounds) -> NoticeService | None:
    if raw is None:
        return NoticeService()
    if raw is False:
        return None
    data = _obj(raw, "notice")
    return NoticeService(
        method=_enum(ServiceMethod, data, "method", ServiceMethod.ELECTRONIC),
        receipt=_enum(Receipt, data, "receipt", Receipt.SIGNED),
        served_at=_time(data, "served_at", bounds),
        backdate_reason=_opt_text(data, "backdate_reason"),
    )


def backdate_reason(raw: Any) -> str | None:
    """Why a registration's received_at lies well in the past (DOMAIN.md §11), if stated."""
    return _opt_text(_obj(raw, "请求体 / body"), "backdate_reason")


def actor(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> str:
    return _text(_obj(raw, "请求体 / body"), "actor")


def transfer(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> TransferCase:
    data = _obj(raw, "请求体 / body")
    return TransferCase(
        actor=_text(data, "actor"),
        to_body=_text(data, "to_body"),
        note=_text(data, "note", required=False),
    )


def accept(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> AcceptCase:
    data = _obj(raw, "请求体 / body")
    return AcceptCase(
        actor=_text(data, "actor"),
        notice=_service(data.get("notice"), bounds),
        simplified=_bool(data, "simplified"),
    )


def opinion(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> IssueOpinion:
    data = _obj(raw, "请求体 / body")
    return IssueOpinion(
        actor=_text(data, "actor"),
        outcome=_enum(Outcome, data, "outcome"),
        opinion=_text(data, "opinion"),
        legal_basis=_text(data, "legal_basis", required=False),
        notice=_service(data.get("notice"), bounds),
    )


def _body(raw: Any) -> dict[str, Any]:
    return _obj(raw, "请求体 / body")


def assign(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> AssignCase:
    data = _body(raw)
    return AssignCase(
        actor=_text(data, "actor"),
        to_body=_text(data, "to_body"),
        report_within_days=_int(data, "report_within_days", 30),
        note=_text(data, "note", required=False),
    )


def divert(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> DivertCase:
    data = _body(raw)
    return DivertCase(
        actor=_text(data, "actor"),
        route=_enum(DiversionRoute, data, "route"),
        guidance=_text(data, "guidance"),
        to_body=_opt_text(data, "to_body"),
    )


def object_transfer(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> ObjectTransfer:
    data = _body(raw)
    return ObjectTransfer(actor=_text(data, "actor"), reasons=_text(data, "reasons"))


def return_transfer(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> ReturnTransfer:
    data = _body(raw)
    return ReturnTransfer(actor=_text(data, "actor"), note=_text(data, "note", required=False))


def reject(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> RejectCase:
    data = _body(raw)
    return RejectCase(
        actor=_text(data, "actor"),
        reasons=_text(data, "reasons"),
        notice=_service(data.get("notice"), bounds),
    )


def extend(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> ExtendHandling:
    data = _body(raw)
    return ExtendHandling(
        actor=_text(data, "actor"),
        days=_int(data, "days", 0),
        approved_by=_text(data, "approved_by"),
        reasons=_text(data, "reasons"),
        notice=_service(data.get("notice"), bounds),
    )


def serve(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> ServeNotice:
    data = _body(raw)
    service = _service(data.get("notice"), bounds) or NoticeService()
    return ServeNotice(
        actor=_text(data, "actor"), kind=_enum(NoticeKind, data, "kind"), service=service
    )


def completion(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> ReportCompletion:
    data = _body(raw)
    return ReportCompletion(actor=_text(data, "actor"), summary=_text(data, "summary"))


def request_review(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> RequestReview:
    data = _body(raw)
    return RequestReview(
        actor=_text(data, "actor"),
        reasons=_text(data, "reasons"),
        requested_at=_time(data, "requested_at", bounds),
        backdate_reason=_opt_text(data, "backdate_reason"),
    )


def decide_review(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> DecideReview:
    data = _body(raw)
    return DecideReview(
        actor=_text(data, "actor"),
        result=_enum(ReviewResult, data, "result"),
        opinion=_text(data, "opinion"),
        rehandle_within_days=_int(data, "rehandle_within_days", 30),
        notice=_service(data.get("notice"), bounds),
    )


def close(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> CloseCase:
    data = _body(raw)
    return CloseCase(
        actor=_text(data, "actor"),
        reason=_enum(CloseReason, data, "reason"),
        note=_text(data, "note", required=False),
    )


def supervise(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> Supervise:
    data = _body(raw)
    level = data.get("level")
    return Supervise(
        actor=_text(data, "actor"),
        to_body=_text(data, "to_body"),
        obligation=_enum(Obligation, data, "obligation", default=Obligation.HANDLING),
        reasons=_text(data, "reasons"),
        level=_enum(SupervisionLevel, data, "level") if level is not None else None,
    )


def answer(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> AnswerSupervision:
    data = _body(raw)
    return AnswerSupervision(
        actor=_text(data, "actor"),
        supervision_id=_text(data, "supervision_id"),
        answer=_text(data, "answer"),
        adopted=_bool(data, "adopted"),
    )


def evaluate(raw: Any, bounds: TimeBounds = WIDEST_TIMES) -> Evaluate:
    data = _body(raw)
    return Evaluate(
        actor=_text(data, "actor"),
        handling_rating=_enum(Rating, data, "handling_rating"),
        office_rating=_enum(Rating, data, "office_rating"),
        comment=_text(data, "comment", required=False),
    )
