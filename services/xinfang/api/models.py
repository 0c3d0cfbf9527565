"""The HTTP API's request and response bodies, declared once (pydantic v2): the web layer
validates with them and the OpenAPI 3.1 document (docs/openapi.json) is generated from them.

Bounds come from commands/limits.py (the one place for lengths and integer ranges); refusals keep
the codes the API has always answered with (api/validation.py maps them). The models check
form only — types, enumerations, lengths, ranges, times readable as ISO 8601 — and leave every
rule of the domain (a blank title, an unknown body, a time before the case's last act) to the
deciders. A time without an offset is Beijing time (domain/client_time.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from ..commands.limits import INT_BOUNDS, MIN_REASON_CHARS, REASON_CHARS, max_chars
from ..domain.client_time import parse_client_time
from ..domain.deadlines import Obligation
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

TIME_NOTE = "ISO 8601；不带时区即北京时间 / ISO 8601, without an offset Beijing time"
BLANK = {"minLength": 1, "pattern": r"\S"}  # documented; the deciders refuse a blank text


def _storable(value: str) -> str:
    """No NUL (PostgreSQL refuses it in text); lone surrogates fail before, as string_unicode."""
    if "\x00" in value:
        raise PydanticCustomError("xf_nul", "contains a NUL character")
    return value


def _readable_time(value: str) -> str:
    """An ISO 8601 time (the node's plausible range is checked with its clock, later)."""
    if len(value) > 64:
        raise PydanticCustomError("xf_time", "must be an ISO 8601 time")
    try:
        parse_client_time(value)
    except (ValueError, OverflowError):
        raise PydanticCustomError("xf_time", "must be an ISO 8601 time") from None
    return value


def _no_text_or_bool(value: Any) -> Any:
    """JSON integers only (3.0 counts, JSON Schema says so); not "3", not true."""
    if isinstance(value, str | bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


Text = Annotated[str, AfterValidator(_storable)]
Time = Annotated[
    str,
    AfterValidator(_readable_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Int = Annotated[int, BeforeValidator(_no_text_or_bool)]


def text(name: str, doc: str, *, required: bool = False, example: str | None = None) -> Any:
    """A text field bounded by its limit in commands/limits.py."""
    extra: dict[str, Any] = dict(BLANK) if required else {}
    return Field(
        ... if required else None,
        max_length=max_chars(name),
        description=doc,
        examples=[example] if example is not None else None,
        json_schema_extra=extra or None,
    )


def integer(name: str, doc: str, default: int | None = None) -> Any:
    low, high = INT_BOUNDS[name]
    return Field(... if default is None else default, ge=low, le=high, description=doc)


def time(doc: str, example: str = "2026-02-13T17:00:00+08:00") -> Any:
    return Field(None, description=f"{doc}；{TIME_NOTE}", examples=[example])


class Body(BaseModel):
    """A request body: a JSON object; a field it does not name is refused (422
    XF-UNKNOWN-FIELD naming it), never dropped silently (issue 15)."""

    model_config = ConfigDict(extra="forbid")


ACTOR_DOC = (
    "办理机关（可省略：即登录人员所属机关；写明其他机关则拒绝 403）/ acting body: optional, "
    "the signed-in person's body; another body is refused (403)"
)


class SignInRequest(Body):
    """登录：人员标识、口令与动态口令 / sign in with person id, password and TOTP code
    (built-in accounts; decision 025). Answers with a session: an HttpOnly cookie and the same
    token as a bearer token for the CLI and scripts."""

    person: str = Field(min_length=1, max_length=64, description="人员标识 / person id")
    password: str = Field(min_length=1, max_length=256, description="口令 / password")
    totp: str = Field(
        min_length=6, max_length=6, description="动态口令（6 位）/ TOTP code", examples=["123456"]
    )


class Notice(Body):
    """送达：方式、回执、时间 / service of the notice (R7, R9)."""

    method: ServiceMethod | None = Field(None, description="送达方式 / method, default ELECTRONIC")
    receipt: Receipt | None = Field(None, description="回执 / receipt, default SIGNED")
    served_at: Time | None = time("送达时间（默认现在）/ time of service")
    backdate_reason: Text | None = text(
        "backdate_reason", "补录理由（served_at 早于当前时间较多时必填）/ why served_at is late"
    )


NoticeField = Annotated[
    Notice | Literal[False] | None,
    Field(
        description="送达（省略即现在以电子方式送达并签收）；false 表示暂不送达 / service of the "
        "notice (omitted: served now, electronically, signed); false: not served yet",
    ),
]


class Petitioner(Body):
    """信访人 / the petitioner."""

    name: Text | None = text("name", "姓名（匿名时可空）/ name", example="李四")
    address: Text | None = text("address", "地址 / address")
    contact: Text | None = text(
        "contact",
        "联系方式：写成电话号码时须为有效的手机号或带区号的固定电话，按规范形式保存；不得填写"
        "公民身份号码 / contact: written as a phone number it must be a valid mobile or "
        "landline number, stored normalised; never an identity number",
        example="13700000000",
    )
    anonymous: StrictBool = Field(False, description="匿名 / anonymous")
    id_number: Text | None = text(
        "id_number",
        "公民身份号码（GB 11643：18 位，校验码、行政区划代码与出生日期须有效；末位 x 按 X 保存）"
        " / citizen identity number (GB 11643: 18 characters, valid check character, division "
        "code and birth date; stored with an upper-case X)",
        example="11010519491231002X",
    )


class RegisterRequest(Body):
    """登记信访事项 / register a petition (R1, R11–R15)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "征地补偿款未足额发放",
                    "channel": "ONLINE",
                    "category": "APPEAL",
                    "petitioner": {"name": "李四", "contact": "13700000000"},
                    "request": "请求足额发放征地补偿款",
                    "place": "150404",
                }
            ]
        }
    )

    actor: Text | None = text("actor", ACTOR_DOC)
    title: Text = text("title", "事项标题 / title", required=True, example="征地补偿款未足额发放")
    channel: Channel = Field(description="信访渠道 / channel")
    category: Category = Field(description="事项类别 / category")
    petitioner: Petitioner = Field(
        default_factory=lambda: Petitioner.model_validate({}), description="信访人"
    )
    request: Text = text("request", "诉求 / request", required=True)
    facts: Text | None = text("facts", "事实 / facts")
    reasons: Text | None = text("reasons", "理由 / reasons")
    place: Text = text("place", "问题属地（行政区划代码）/ division code", required=True)
    received_at: Time | None = time("收到时间（默认现在）/ time of receipt")
    backdate_reason: Text | None = text(
        "backdate_reason", "补录理由（received_at 早于当前时间较多时必填）/ why received_at is late"
    )
    accused: Text | None = text("accused", "被反映人/单位 / accused")
    accused_body: Text | None = text("accused_body", "被反映单位编号 / accused body id")
    collective_size: Int = integer("collective_size", "人数 / number of petitioners", 1)
    representatives: Int = integer("representatives", "代表人数 / representatives (R14)", 0)
    urgent: StrictBool = Field(False, description="紧急 / urgent")
    litigation_related: StrictBool = Field(False, description="涉法涉诉 / litigation related")
    repeat_of: Text | None = text("repeat_of", "重复事项编号 / case repeated")


class Act(Body):
    """A case command; the acting body is the signed-in person's (decision 025), never a
    request field: an `actor` naming another body is refused (403 XF-FORBIDDEN)."""

    actor: Text | None = text("actor", ACTOR_DOC)


class TransferRequest(Act):
    """转送 / transfer (R1, R17)."""

    to_body: Text = text("to_body", "接收机关 / receiving body", required=True)
    note: Text | None = text("note", "说明 / note")


class AssignRequest(Act):
    """交办 / assign with a report deadline (R1, R6, R17)."""

    to_body: Text = text("to_body", "接收机关 / receiving body", required=True)
    report_within_days: Int = integer(
        "report_within_days", "办结报告期限（日）/ days to report", 30
    )
    note: Text | None = text("note", "说明 / note")


class DivertRequest(Act):
    """诉访分离 / divert to another procedure (Art. 22, R17)."""

    route: DiversionRoute = Field(description="途径 / route")
    guidance: Text = text("guidance", "告知信访人的途径 / guidance", required=True)
    to_body: Text | None = text("to_body", "接办机关 / organ")


class ObjectRequest(Act):
    """提出异议 / object to a transfer (R4)."""

    reasons: Text = text("reasons", "理由 / reasons", required=True)


class ReturnRequest(Act):
    """同意退回 / agree to an objection (R4)."""

    note: Text | None = text("note", "说明 / note")


class AcceptRequest(Act):
    """受理 / accept (R3, R5, R18)."""

    notice: NoticeField = None
    simplified: StrictBool = Field(False, description="简易办理 / simplified handling (R18)")


class RejectRequest(Act):
    """不予受理 / decline (R3)."""

    reasons: Text = text("reasons", "理由 / reasons", required=True)
    notice: NoticeField = None


class ExtendRequest(Act):
    """延长办理期限 / extend handling (R5)."""

    days: Int = integer("days", "延长天数（合计不超过 30）/ days (30 in all at most)")
    approved_by: Text = text("approved_by", "批准人 / approving head", required=True)
    reasons: Text = text("reasons", "理由 / reasons", required=True)
    notice: NoticeField = None


class OpinionRequest(Act):
    """出具处理意见 / issue the handling opinion (R5)."""

    outcome: Outcome = Field(description="处理结果 / outcome")
    opinion: Text = text("opinion", "处理意见 / opinion", required=True)
    legal_basis: Text | None = text("legal_basis", "法律依据 / legal basis")
    notice: NoticeField = None


class ServeRequest(Act):
    """记录送达（仅出具文书的机关）/ record service of a document (R7, R9)."""

    kind: NoticeKind = Field(description="文书种类 / kind of document")
    notice: NoticeField = None


class CompletionRequest(Act):
    """办结报告 / completion report (R6)."""

    summary: Text = text("summary", "办理结果 / result", required=True)


class ReviewRequest(Act):
    """受理复查或复核请求 / receive a review or re-review request (R7, R9, R11)."""

    reasons: Text = text("reasons", "请求理由 / reasons", required=True)
    requested_at: Time | None = time("请求时间（默认现在）/ time of the request")
    backdate_reason: Text | None = text(
        "backdate_reason", "补录理由（requested_at 早于当前时间较多时必填）/ why it is late"
    )


class ReReviewDecision(Act):
    """出具复核意见（终结）/ decide the re-review, final (R10, R11)."""

    result: ReviewResult = Field(description="复核结论 / result")
    opinion: Text = text("opinion", "意见 / opinion", required=True)
    notice: NoticeField = None


class ReviewDecision(ReReviewDecision):
    """出具复查意见 / decide the review (R8)."""

    rehandle_within_days: Int = integer(
        "rehandle_within_days", "撤销后重新办理期限（日）/ days to handle again", 30
    )


class CloseRequest(Act):
    """终结 / close (Arts. 33–36)."""

    reason: CloseReason = Field(description="终结理由 / reason")
    note: Text | None = text("note", "说明 / note")


class SuperviseRequest(Act):
    """督办 / supervise (R16)."""

    to_body: Text = text("to_body", "被督办单位 / supervised body", required=True)
    reasons: Text = text("reasons", "督办事由 / reasons", required=True)
    obligation: Obligation | None = Field(
        None, description="所督办的义务（默认 HANDLING）/ obligation"
    )
    level: SupervisionLevel | None = Field(None, description="督办层级 / level")


class AnswerRequest(Act):
    """督办反馈 / answer a supervision (R16)."""

    supervision_id: Text = text("supervision_id", "督办编号 / supervision id", required=True)
    answer: Text = text("answer", "反馈内容 / answer", required=True)
    adopted: StrictBool = Field(False, description="是否采纳建议 / suggestions adopted")


class EvaluateRequest(Act):
    """满意度评价 / record the evaluation (Art. 21)."""

    handling_rating: Rating = Field(description="对办理机关 / of the handling body")
    office_rating: Rating = Field(description="对信访部门 / of the petition office")
    comment: Text | None = text("comment", "评价意见 / comment")


class RevealRequest(Body):
    """查看完整个人信息，须说明理由；每次查看记入操作审计记录 / view the petitioner's personal
    data in full, giving a reason; each view is recorded in the operator trail (decision 030).
    A missing, blank or short reason is refused with 422 XF-REASON-REQUIRED."""

    # Required with 4–200 characters, as documented; checked by the route (personal_routes.py)
    # so that a missing or short reason is answered with its own code, XF-REASON-REQUIRED.
    model_config = ConfigDict(json_schema_extra={"required": ["reason"]})

    reason: str | None = Field(
        None,
        description=f"理由（{MIN_REASON_CHARS}–{REASON_CHARS} 字）/ why "
        f"({MIN_REASON_CHARS}–{REASON_CHARS} characters)",
        examples=["核实信访人身份以便电话回访"],
        json_schema_extra={"minLength": MIN_REASON_CHARS, "maxLength": REASON_CHARS},
    )


class CheckpointRequest(Body):
    """签署检查点 / sign a checkpoint."""

    force: StrictBool = Field(False, description="日志头已是检查点时仍签署 / sign even so")


# The body model of every case command, by the command's name in the registry.
COMMAND_BODIES: dict[str, type[Act]] = {
    "transfer": TransferRequest,
    "assign": AssignRequest,
    "divert": DivertRequest,
    "object": ObjectRequest,
    "return": ReturnRequest,
    "accept": AcceptRequest,
    "reject": RejectRequest,
    "extend": ExtendRequest,
    "opinion": OpinionRequest,
    "serve": ServeRequest,
    "complete": CompletionRequest,
    "review-request": ReviewRequest,
    "review-decide": ReviewDecision,
    "re-review-request": ReviewRequest,
    "re-review-decide": ReReviewDecision,
    "close": CloseRequest,
    "supervise": SuperviseRequest,
    "answer-supervision": AnswerRequest,
    "evaluate": EvaluateRequest,
}


# -- responses --------------------------------------------------------------------------------
class Answer(BaseModel):
    """A response body; nodes may add fields (clients ignore what they do not know)."""

    model_config = ConfigDict(extra="allow")


class Error(Answer):
    """拒绝：稳定的错误码，中英文说明 / a refusal: stable code, Chinese and English messages."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "code": "XF-FIELD-TOO-LONG",
                    "message_zh": "字段过长：title 最多 200 字，实际 201 字",
                    "message_en": "A field is too long: at most 200 characters, got 201",
                    "context": {"field": "title", "max_chars": 200},
                }
            ]
        },
    )

    code: str = Field(description="错误码 / error code (XF-…)", examples=["XF-R12-IN-PROGRESS"])
    message_zh: str
    message_en: str
    context: dict[str, Any] = Field(
        default_factory=dict, description="细节，如 field / details, e.g. the field refused"
    )


class Health(Answer):
    """节点状态 / node status."""

    status: Literal["ok", "degraded"]
    division: str
    name: str
    level: str
    calendar: dict[str, Any]


class Me(Answer):
    """登录人员 / the signed-in person."""

    person: str
    name: str
    division: str
    body: str = Field(description="所属机关 / body id", examples=["150404.zj"])
    roles: list[str] = Field(description="角色 / roles (DOMAIN.md §10)")
    method: Literal["account", "oidc"]


class SignedIn(Me):
    """已登录 / signed in: `token` for `Authorization: Bearer`, `csrf_token` for the
    X-CSRF-Token header of cookie-borne writes."""

    token: str
    csrf_token: str
    expires_at: str = Field(json_schema_extra={"format": "date-time"})


class SignedOut(Answer):
    signed_out: bool


class Registered(Answer):
    case_id: str = Field(examples=["150400-2026-000001"])
    query_code: str = Field(description="查询码 / the petitioner's lookup code")


class PetitionerShown(Answer):
    """信访人：列表与详情中为掩码（张*、139****5678、150404********1234，地址保留行政区划部分），
    未填写的为 null / the petitioner: masked in lists and views, null where not given."""

    name: str | None = Field(examples=["张*"])
    address: str | None = Field(examples=["赤峰市松山区****"])
    contact: str | None = Field(examples=["139****5678"])
    id_number: str | None = Field(examples=["150404********1234"])
    anonymous: bool


MASKED_DOC = (
    "信访人信息已掩码；完整信息须经 POST /api/cases/{case_id}/personal-data 说明理由查看 / "
    "personal data masked; in full only through POST /api/cases/{case_id}/personal-data"
)


class CaseView(Answer):
    """事项状态 / the case as this node knows it (times in UTC, ISO 8601)."""

    petitioner: PetitionerShown
    personal_masked: Literal[True] = Field(description=MASKED_DOC)

    case_id: str
    query_code: str
    title: str
    category: Category
    status: str
    status_zh: str
    holder: str
    place: str
    received_at: str = Field(json_schema_extra={"format": "date-time"})
    route_due: str | None
    acceptance_due: str | None
    handling_due: str | None
    version: int
    final: bool


class CaseRow(Answer):
    case_id: str
    petitioner: PetitionerShown
    personal_masked: Literal[True] = Field(description=MASKED_DOC)
    status: str
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    next_check_at: str | None


class CaseList(Answer):
    cases: list[CaseRow]


class Revealed(Answer):
    """完整个人信息（已记入操作审计记录）/ the petitioner in full (recorded in the trail)."""

    case_id: str
    petitioner: PetitionerShown = Field(description="完整信息 / in full, not masked")
    reason: str
    viewed_at: str = Field(json_schema_extra={"format": "date-time"})


class TimelineEntry(Answer):
    event_id: str
    type: str
    label_zh: str
    label_en: str
    occurred_at: str = Field(json_schema_extra={"format": "date-time"})
    division: str
    actor: str
    person: str = Field("", description="作出决定的登录人员（空：节点自身）/ who decided")
    seq: int
    summary_zh: str


class Timeline(Answer):
    case_id: str
    node: str
    timeline: list[TimelineEntry]


class EventRef(Answer):
    event_id: str
    type: str


class Recorded(Answer):
    """已记录：事项新状态与产生的事件 / recorded: the case now and the events it caused."""

    case: CaseView
    events: list[EventRef]


class Swept(Answer):
    recorded: int = Field(description="记录的逾期事件数 / deadline events recorded")


class Checkpointed(Answer):
    checkpointed: bool
    key_id: str | None = Field(
        description="签名密钥；未配置时为 null / signing key, null without one"
    )
    event_id: str | None = None
    seq: int | None = None
    head_seq: int | None = None
    head_hash: str | None = None
