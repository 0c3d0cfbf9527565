"""Checks every decider shares: the acting body is this node's, a petition office, the
holder; the case is in an allowed status; a text is given; a notice is served (whether one
is owed: domain/notices.py, shared with the auditor)."""

from __future__ import annotations

from datetime import datetime

from ..case import Case
from ..commands import NoticeService
from ..context import Context
from ..errors import IllegalTransition, InvalidInput, NotHolder, NotPetitionOffice, NotThisNode
from ..events import NoticeServed
from ..topology import Body, BodyKind
from ..vocabulary import CaseStatus, NoticeKind


def own_body(ctx: Context, actor: str) -> Body:
    body = ctx.topology.body(actor)
    if body.division != ctx.division:
        raise NotThisNode(f"{body.name} 不属于 {ctx.division}", body=actor)
    return body


def office(ctx: Context, actor: str) -> Body:
    body = own_body(ctx, actor)
    if body.kind is not BodyKind.PETITION_OFFICE:
        raise NotPetitionOffice(body=actor)
    return body


def holder(ctx: Context, case: Case, actor: str) -> Body:
    body = own_body(ctx, actor)
    if case.holder != actor:
        raise NotHolder(f"当前承办单位为 {case.holder}", case=case.case_id, body=actor)
    return body


def require(case: Case, *allowed: CaseStatus) -> None:
    if case.status not in allowed:
        raise IllegalTransition(
            f"事项状态为 {case.status.value}", case=case.case_id, status=case.status.value
        )


def text(value: str, what: str) -> str:
    if not value.strip():
        raise InvalidInput(f"{what}不能为空 / {what} is required")
    return value


def served(
    ctx: Context,
    case: Case,
    actor: str,
    kind: NoticeKind,
    s: NoticeService,
    issued_at: datetime | None = None,
) -> NoticeServed:
    """送达 of a document issued at `issued_at` (default: in this same decision, now)."""
    served_at, reason = ctx.act_time(
        s.served_at or ctx.now, "送达时间 served_at", after=issued_at or ctx.now,
        after_what="文书出具时间 / the document's issue", reason=s.backdate_reason,
    )  # fmt: skip
    return NoticeServed(
        header=ctx.header(case.case_id, actor),
        kind=kind,
        served_at=served_at,
        method=s.method,
        receipt=s.receipt,
        backdate_reason=reason,
    )
