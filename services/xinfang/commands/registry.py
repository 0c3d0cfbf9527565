"""The command registry: every case command a node accepts, by name — its input parser, its
decider, its labels, the rule it follows and its documented fields.

The HTTP API (api/handlers.py, api/openapi.py), the CLI (`xinfang case do`) and the in-process
bus (devtools/inprocess.py) read it from here. `CaseCommand` is generic in the command type,
so mypy checks that a parser returns the command its decider takes; the registry holds
`CaseCommand[Any]` built from such checked entries. The parser slot takes any
`(JSON body, plausible times) → command` function (today commands/inputs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..domain import deciders as d
from ..domain.case import Case
from ..domain.context import Context
from ..domain.events import Event
from . import inputs
from .limits import TimeBounds

C = TypeVar("C")
Json = Any  # a decoded JSON request body (validated by the parser)
Parser = Callable[[Json, TimeBounds], C]
Decider = Callable[[Context, Case, C], list[Event]]

# (type, description) per request field; "!" before the type marks a required field; type
# "body-id" is the acting body, filled in from the signed-in person.
Fields = dict[str, tuple[str, str]]

# The acting body is the signed-in person's (api/auth.py, decision 025); the parsers read
# `actor`, which the API fills in from the principal. A client may still name it (scripts,
# the demo): documented as optional, since an unknown field is refused (issue 15), and refused
# (403) when it names another body.
ACTOR: Fields = {
    "actor": ("body-id", "办理机关（可省略，须为登录人员所属机关）/ acting body (optional)")
}
NOTICE: Fields = {
    "notice": (
        "object",
        "送达 {method, receipt, served_at, backdate_reason}（served_at 早于当前时间超过允许范围时须"
        "说明补录理由）；false 表示暂不送达 / service of the notice; a served_at well in the "
        "past needs backdate_reason",
    )
}


@dataclass(frozen=True)
class CaseCommand(Generic[C]):
    """One case command: `parse` yields the C that `decide` takes (checked by mypy)."""

    name: str
    parse: Parser[C]  # (JSON body, plausible times) → command; raises InvalidInput (422)
    decide: Decider[C]  # pure: (context, case, command) → events; raises DomainError
    zh: str
    en: str
    rule: str
    fields: Fields


# Unannotated, so each entry is inferred on its own (a parser/decider mismatch fails mypy);
# an annotation of CaseCommand[Any] here would infer C = Any and check nothing.
_ENTRIES = (
    CaseCommand(
        "transfer",
        inputs.transfer,
        d.decide_transfer,
        "转送",
        "transfer",
        "R1, R17",
        {
            **ACTOR,
            "to_body": ("!string", "接收机关 / receiving body"),
            "note": ("string", "说明 / note"),
        },
    ),
    CaseCommand(
        "assign",
        inputs.assign,
        d.decide_assign,
        "交办",
        "assign with a report deadline",
        "R1, R6, R17",
        {
            **ACTOR,
            "to_body": ("!string", "接收机关 / receiving body"),
            "report_within_days": ("integer", "办结报告期限（日）/ days to report"),
            "note": ("string", "说明"),
        },
    ),
    CaseCommand(
        "divert",
        inputs.divert,
        d.decide_divert,
        "诉访分离",
        "divert to another procedure",
        "Art. 22, R17",
        {
            **ACTOR,
            "route": ("!string", "POLITICAL_LEGAL | DISCIPLINE | LITIGATION | …"),
            "guidance": ("!string", "告知信访人的途径 / guidance"),
            "to_body": ("string", "接办机关 / organ"),
        },
    ),
    CaseCommand(
        "object",
        inputs.object_transfer,
        d.decide_object,
        "提出异议",
        "object to a transfer",
        "R4",
        {**ACTOR, "reasons": ("!string", "理由 / reasons")},
    ),
    CaseCommand(
        "return",
        inputs.return_transfer,
        d.decide_return,
        "同意退回",
        "agree to an objection",
        "R4",
        {**ACTOR, "note": ("string", "说明 / note")},
    ),
    CaseCommand(
        "accept",
        inputs.accept,
        d.decide_accept,
        "受理",
        "accept",
        "R3, R5, R18",
        {**ACTOR, **NOTICE, "simplified": ("boolean", "简易办理 / simplified handling (R18)")},
    ),
    CaseCommand(
        "reject",
        inputs.reject,
        d.decide_reject,
        "不予受理",
        "decline",
        "R3",
        {**ACTOR, "reasons": ("!string", "理由 / reasons"), **NOTICE},
    ),
    CaseCommand(
        "extend",
        inputs.extend,
        d.decide_extend,
        "延长办理期限",
        "extend handling",
        "R5",
        {
            **ACTOR,
            "days": ("!integer", "延长天数（合计不超过 30）/ days"),
            "approved_by": ("!string", "批准人 / approving head"),
            "reasons": ("!string", "理由"),
            **NOTICE,
        },
    ),
    CaseCommand(
        "opinion",
        inputs.opinion,
        d.decide_opinion,
        "出具处理意见",
        "issue the handling opinion",
        "R5",
        {
            **ACTOR,
            "outcome": ("!string", "SUPPORTED | EXPLAINED | NOT_SUPPORTED | MEDIATED"),
            "opinion": ("!string", "处理意见 / opinion"),
            "legal_basis": ("string", "法律依据"),
            **NOTICE,
        },
    ),
    CaseCommand(
        "serve",
        inputs.serve,
        d.decide_serve,
        "记录送达（仅出具文书的机关）",
        "record service of a document (only by the body that issued it)",
        "R7, R9",
        {**ACTOR, "kind": ("!string", "文书种类 / NoticeKind"), **NOTICE},
    ),
    CaseCommand(
        "complete",
        inputs.completion,
        d.decide_completion,
        "办结报告",
        "completion report",
        "R6",
        {**ACTOR, "summary": ("!string", "办理结果 / result")},
    ),
    CaseCommand(
        "review-request",
        inputs.request_review,
        d.decide_request_review,
        "受理复查请求",
        "receive a review request",
        "R7",
        {
            **ACTOR,
            "reasons": ("!string", "请求理由"),
            "requested_at": ("string", "请求时间 ISO 8601"),
            "backdate_reason": ("string", "补录理由（requested_at 早于当前时间较多时必填）"),
        },
    ),
    CaseCommand(
        "review-decide",
        inputs.decide_review,
        d.decide_review,
        "出具复查意见",
        "decide the review",
        "R8",
        {
            **ACTOR,
            "result": ("!string", "UPHOLD | REVOKE | VARY"),
            "opinion": ("!string", "复查意见"),
            "rehandle_within_days": ("integer", "撤销后重新办理期限（日）"),
            **NOTICE,
        },
    ),
    CaseCommand(
        "re-review-request",
        inputs.request_review,
        d.decide_request_re_review,
        "受理复核请求",
        "receive a re-review request",
        "R9, R11",
        {
            **ACTOR,
            "reasons": ("!string", "请求理由"),
            "requested_at": ("string", "请求时间 ISO 8601"),
            "backdate_reason": ("string", "补录理由（requested_at 早于当前时间较多时必填）"),
        },
    ),
    CaseCommand(
        "re-review-decide",
        inputs.decide_review,
        d.decide_re_review,
        "出具复核意见（终结）",
        "decide the re-review (final)",
        "R10, R11",
        {
            **ACTOR,
            "result": ("!string", "UPHOLD | REVOKE | VARY"),
            "opinion": ("!string", "复核意见"),
            **NOTICE,
        },
    ),
    CaseCommand(
        "close",
        inputs.close,
        d.decide_close,
        "终结",
        "close",
        "Arts. 33–36",
        {
            **ACTOR,
            "reason": ("!string", "MEDIATION_FULFILLED | PETITIONER_DECEASED | …"),
            "note": ("string", "说明"),
        },
    ),
    CaseCommand(
        "supervise",
        inputs.supervise,
        d.decide_supervise,
        "督办",
        "supervise",
        "R16",
        {
            **ACTOR,
            "to_body": ("!string", "被督办单位"),
            "reasons": ("!string", "督办事由"),
            "obligation": (
                "string",
                "所督办的义务 / obligation, default HANDLING",
            ),
            "level": ("string", "REMINDER | SUPERVISION | LISTED"),
        },
    ),
    CaseCommand(
        "answer-supervision",
        inputs.answer,
        d.decide_answer,
        "督办反馈",
        "answer a supervision",
        "R16",
        {
            **ACTOR,
            "supervision_id": ("!string", "督办编号"),
            "answer": ("!string", "反馈内容"),
            "adopted": ("boolean", "是否采纳建议"),
        },
    ),
    CaseCommand(
        "evaluate",
        inputs.evaluate,
        d.decide_evaluate,
        "满意度评价",
        "record the evaluation",
        "Art. 21",
        {
            **ACTOR,
            "handling_rating": ("!string", "SATISFIED | BASICALLY_SATISFIED | DISSATISFIED"),
            "office_rating": ("!string", "SATISFIED | BASICALLY_SATISFIED | DISSATISFIED"),
            "comment": ("string", "评价意见"),
        },
    ),
)

COMMANDS: tuple[CaseCommand[Any], ...] = _ENTRIES
BY_NAME: dict[str, CaseCommand[Any]] = {command.name: command for command in COMMANDS}
