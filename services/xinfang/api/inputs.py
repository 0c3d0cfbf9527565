"""Parse JSON request bodies into domain commands. Bad input raises InvalidInput (HTTP 422)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

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
    ObjectTransfer,
    RejectCase,
    ReportCompletion,
    RequestReview,
    ReturnTransfer,
    ServeNotice,
    Service,
    Supervise,
    TransferCase,
)
from ..domain.errors import InvalidInput
from ..domain.events import CaseFile, Petitioner
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

E = TypeVar("E", bound=StrEnum)


def _obj(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{what} 须为 JSON 对象 / must be a JSON object")
    return raw


def _text(data: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"缺少字段 / missing field: {key}", field=key)
        return default
    if not isinstance(value, str):
        raise InvalidInput(f"字段须为字符串 / must be a string: {key}", field=key)
    return value


def _opt_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"字段须为字符串 / must be a string: {key}", field=key)
    return value or None


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"字段须为布尔值 / must be true or false: {key}", field=key)
    return value


def _int(data: dict[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"字段须为整数 / must be an integer: {key}", field=key)
    return value


def _enum(enum: type[E], data: dict[str, Any], key: str, default: E | None = None) -> E:
    value = data.get(key)
    if value is None and default is not None:
        return default
    try:
        return enum(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidInput(
            f"{key} 取值无效 / invalid value {value!r}; allowed: {allowed}", field=key
        ) from None


def _time(data: dict[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{key} 须为 ISO 8601 时间 / must be an ISO 8601 time", field=key)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{key} 须为 ISO 8601 时间 / must be an ISO 8601 time", field=key
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def case_file(raw: Any, now: datetime) -> CaseFile:
    data = _obj(raw, "请求体 / body")
    person = _obj(data.get("petitioner", {}), "petitioner")
    return CaseFile(
        title=_text(data, "title"),
        channel=_enum(Channel, data, "channel"),
        category=_enum(Category, data, "category"),
        petitioner=Petitioner(
            name=_opt_text(person, "name"),
            address=_opt_text(person, "address"),
            contact=_opt_text(person, "contact"),
            anonymous=_bool(person, "anonymous"),
        ),
        request=_text(data, "request"),
        facts=_text(data, "facts", required=False),
        reasons=_text(data, "reasons", required=False),
        place=_text(data, "place"),
        received_at=_time(data, "received_at") or now,
        accused=_opt_text(data, "accused"),
        accused_body=_opt_text(data, "accused_body"),
        collective_size=_int(data, "collective_size", 1),
        representatives=_int(data, "representatives", 0),
        urgent=_bool(data, "urgent"),
        litigation_related=_bool(data, "litigation_related"),
        repeat_of=_opt_text(data, "repeat_of"),
    )


def _service(raw: Any) -> Service | None:
    if raw is None:
        return Service()
    if raw is False:
        return None
    data = _obj(raw, "notice")
    return Service(
        method=_enum(ServiceMethod, data, "method", ServiceMethod.ELECTRONIC),
        receipt=_enum(Receipt, data, "receipt", Receipt.SIGNED),
        served_at=_time(data, "served_at"),
        backdate_reason=_opt_text(data, "backdate_reason"),
    )


def backdate_reason(raw: Any) -> str | None:
    """Why a registration's received_at lies well in the past (DOMAIN.md §11), if stated."""
    return _opt_text(_obj(raw, "请求体 / body"), "backdate_reason")


def actor(raw: Any) -> str:
    return _text(_obj(raw, "请求体 / body"), "actor")


def transfer(raw: Any) -> TransferCase:
    data = _obj(raw, "请求体 / body")
    return TransferCase(
        actor=_text(data, "actor"),
        to_body=_text(data, "to_body"),
        note=_text(data, "note", required=False),
    )


def accept(raw: Any) -> AcceptCase:
    data = _obj(raw, "请求体 / body")
    return AcceptCase(
        actor=_text(data, "actor"),
        notice=_service(data.get("notice")),
        simplified=_bool(data, "simplified"),
    )


def opinion(raw: Any) -> IssueOpinion:
    data = _obj(raw, "请求体 / body")
    return IssueOpinion(
        actor=_text(data, "actor"),
        outcome=_enum(Outcome, data, "outcome"),
        opinion=_text(data, "opinion"),
        legal_basis=_text(data, "legal_basis", required=False),
        notice=_service(data.get("notice")),
    )


def _body(raw: Any) -> dict[str, Any]:
    return _obj(raw, "请求体 / body")


def assign(raw: Any) -> AssignCase:
    data = _body(raw)
    return AssignCase(
        actor=_text(data, "actor"),
        to_body=_text(data, "to_body"),
        report_within_days=_int(data, "report_within_days", 30),
        note=_text(data, "note", required=False),
    )


def divert(raw: Any) -> DivertCase:
    data = _body(raw)
    return DivertCase(
        actor=_text(data, "actor"),
        route=_enum(DiversionRoute, data, "route"),
        guidance=_text(data, "guidance"),
        to_body=_opt_text(data, "to_body"),
    )


def object_transfer(raw: Any) -> ObjectTransfer:
    data = _body(raw)
    return ObjectTransfer(actor=_text(data, "actor"), reasons=_text(data, "reasons"))


def return_transfer(raw: Any) -> ReturnTransfer:
    data = _body(raw)
    return ReturnTransfer(actor=_text(data, "actor"), note=_text(data, "note", required=False))


def reject(raw: Any) -> RejectCase:
    data = _body(raw)
    return RejectCase(
        actor=_text(data, "actor"),
        reasons=_text(data, "reasons"),
        notice=_service(data.get("notice")),
    )


def extend(raw: Any) -> ExtendHandling:
    data = _body(raw)
    return ExtendHandling(
        actor=_text(data, "actor"),
        days=_int(data, "days", 0),
        approved_by=_text(data, "approved_by"),
        reasons=_text(data, "reasons"),
        notice=_service(data.get("notice")),
    )


def serve(raw: Any) -> ServeNotice:
    data = _body(raw)
    service = _service(data.get("notice")) or Service()
    return ServeNotice(
        actor=_text(data, "actor"), kind=_enum(NoticeKind, data, "kind"), service=service
    )


def completion(raw: Any) -> ReportCompletion:
    data = _body(raw)
    return ReportCompletion(actor=_text(data, "actor"), summary=_text(data, "summary"))


def request_review(raw: Any) -> RequestReview:
    data = _body(raw)
    return RequestReview(
        actor=_text(data, "actor"),
        reasons=_text(data, "reasons"),
        requested_at=_time(data, "requested_at"),
        backdate_reason=_opt_text(data, "backdate_reason"),
    )


def decide_review(raw: Any) -> DecideReview:
    data = _body(raw)
    return DecideReview(
        actor=_text(data, "actor"),
        result=_enum(ReviewResult, data, "result"),
        opinion=_text(data, "opinion"),
        rehandle_within_days=_int(data, "rehandle_within_days", 30),
        notice=_service(data.get("notice")),
    )


def close(raw: Any) -> CloseCase:
    data = _body(raw)
    return CloseCase(
        actor=_text(data, "actor"),
        reason=_enum(CloseReason, data, "reason"),
        note=_text(data, "note", required=False),
    )


def supervise(raw: Any) -> Supervise:
    data = _body(raw)
    level = data.get("level")
    return Supervise(
        actor=_text(data, "actor"),
        to_body=_text(data, "to_body"),
        obligation=_text(data, "obligation", required=False, default="HANDLING"),
        reasons=_text(data, "reasons"),
        level=_enum(SupervisionLevel, data, "level") if level is not None else None,
    )


def answer(raw: Any) -> AnswerSupervision:
    data = _body(raw)
    return AnswerSupervision(
        actor=_text(data, "actor"),
        supervision_id=_text(data, "supervision_id"),
        answer=_text(data, "answer"),
        adopted=_bool(data, "adopted"),
    )


def evaluate(raw: Any) -> Evaluate:
    data = _body(raw)
    return Evaluate(
        actor=_text(data, "actor"),
        handling_rating=_enum(Rating, data, "handling_rating"),
        office_rating=_enum(Rating, data, "office_rating"),
        comment=_text(data, "comment", required=False),
    )
