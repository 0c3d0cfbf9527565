"""The node's OpenAPI 3.1 document, generated from the route and command tables.

Request bodies carry every field's type, enumeration, format and bound (commands/limits.py), so
clients and the schemathesis fuzz test (tests/integration/test_api_fuzz.py) see what the
parsers accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from ..commands import COMMANDS
from ..commands.limits import (
    IDEMPOTENCY_KEY_PATTERN,
    INT_BOUNDS,
    MAX_BODY_BYTES,
    MAX_IDEMPOTENCY_KEY_CHARS,
    max_chars,
)
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
from ..store.idempotency import RETENTION

ENUMS: dict[str, type[StrEnum]] = {
    "channel": Channel,
    "category": Category,
    "outcome": Outcome,
    "kind": NoticeKind,
    "method": ServiceMethod,
    "receipt": Receipt,
    "route": DiversionRoute,
    "result": ReviewResult,
    "reason": CloseReason,
    "level": SupervisionLevel,
    "obligation": Obligation,
    "handling_rating": Rating,
    "office_rating": Rating,
}
TIMES = frozenset({"received_at", "served_at", "requested_at"})
TIME_NOTE = "ISO 8601；不带时区即北京时间 / ISO 8601, without an offset Beijing time"
# Body ids of the serving division, offered as examples for these fields.
BODY_FIELDS = frozenset({"actor", "to_body", "accused_body"})

ERROR = {
    "type": "object",
    "description": "拒绝 / refusal: stable code, Chinese and English messages",
    "properties": {
        "code": {"type": "string", "example": "XF-R12-IN-PROGRESS"},
        "message_zh": {"type": "string"},
        "message_en": {"type": "string"},
        "context": {"type": "object"},
    },
    "required": ["code", "message_zh", "message_en"],
}


def _property(
    name: str, kind: str, doc: str, bodies: Sequence[str], required: bool = False
) -> dict[str, Any]:
    """The JSON Schema of one request field, with the bound its parser enforces."""
    if name == "notice":
        return {"anyOf": [_object(NOTICE_FIELDS, bodies), {"const": False}], "description": doc}
    if name in ENUMS:
        return {"type": "string", "enum": [m.value for m in ENUMS[name]], "description": doc}
    if name in TIMES:
        return {"type": "string", "format": "date-time", "description": f"{doc}；{TIME_NOTE}"}
    if kind == "string":
        schema: dict[str, Any] = {"type": "string", "maxLength": max_chars(name)}
        if required:  # the deciders refuse a blank required text
            schema.update(minLength=1, pattern=r"\S")
        if name in BODY_FIELDS and bodies:
            schema["enum"] = list(bodies)
        return {**schema, "description": doc}
    if kind == "integer":
        low, high = INT_BOUNDS[name]
        return {"type": "integer", "minimum": low, "maximum": high, "description": doc}
    if kind == "object":
        return {"type": "object", "description": doc}
    return {"type": kind, "description": doc}


def _object(fields: dict[str, tuple[str, str]], bodies: Sequence[str] = ()) -> dict[str, Any]:
    properties = {
        name: _property(name, kind.lstrip("!"), doc, bodies) for name, (kind, doc) in fields.items()
    }
    required = [name for name, (kind, _) in fields.items() if kind.startswith("!")]
    return {"type": "object", "properties": properties, "required": required}


NOTICE_FIELDS = {
    "method": ("string", "送达方式 / method of service"),
    "receipt": ("string", "回执 / receipt"),
    "served_at": ("string", "送达时间 / time of service"),
}
PETITIONER_FIELDS = {
    "name": ("string", "姓名（匿名时可空）/ name"),
    "address": ("string", "地址 / address"),
    "contact": ("string", "联系方式 / contact"),
    "anonymous": ("boolean", "匿名 / anonymous"),
}
REGISTER_FIELDS = {
    "actor": ("string", "登记机关（默认本级信访部门）/ registering body"),
    "title": ("!string", "事项标题 / title"),
    "channel": ("!string", "信访渠道 / channel"),
    "category": ("!string", "事项类别 / category"),
    "request": ("!string", "诉求 / request"),
    "facts": ("string", "事实 / facts"),
    "reasons": ("string", "理由 / reasons"),
    "place": ("!string", "问题属地（行政区划代码）/ division code"),
    "received_at": ("string", "收到时间（默认现在）/ time of receipt"),
    "backdate_reason": (
        "string",
        "补录理由（received_at 早于当前时间较多时必填）/ why received_at lies well in the past",
    ),
    "accused": ("string", "被反映人/单位 / accused"),
    "accused_body": ("string", "被反映单位编号 / accused body id"),
    "collective_size": ("integer", "人数 / number of petitioners"),
    "representatives": ("integer", "代表人数 / representatives (R14)"),
    "urgent": ("boolean", "紧急 / urgent"),
    "litigation_related": ("boolean", "涉法涉诉 / litigation related"),
    "repeat_of": ("string", "重复事项编号 / case repeated"),
}


def register_schema(bodies: Sequence[str] = (), places: Sequence[str] = ()) -> dict[str, Any]:
    schema = _object(REGISTER_FIELDS, bodies)
    if places:
        schema["properties"]["place"]["enum"] = list(places)
    schema["properties"]["petitioner"] = {**_object(PETITIONER_FIELDS), "description": "信访人"}
    return schema


def _responses(ok: str) -> dict[str, Any]:
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "200": {"description": ok},
        "400": {"description": "不是合法的 JSON / invalid JSON", **err},
        "403": {"description": "无权执行 / not allowed for this body", **err},
        "404": {"description": "没有该事项 / no such case", **err},
        "409": {"description": "违反规则 / refused by a rule", **err},
        "413": {"description": f"请求体超过 {MAX_BODY_BYTES} 字节 / body too large", **err},
        "422": {"description": "输入错误、字段过长、超出范围 / bad input", **err},
    }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "幂等键：同一键与同一请求返回首次的应答（含状态码），同一键用于不同请求返回 422 "
        "XF-IDEMPOTENCY-KEY-REUSED；保存于节点数据库，保留 "
        f"{RETENTION.days} 日 / the same key and request return the first answer with its "
        "status; the key with another request is refused (422); kept in the node's database "
        f"for {RETENTION.days} days"
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_IDEMPOTENCY_KEY_CHARS,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
}


def openapi_document(
    division: str, bodies: Sequence[str] = (), places: Sequence[str] = ()
) -> dict[str, Any]:
    """The document; `bodies` (ids of bodies here and below) are the documented values of body
    fields, `places` (this division and its children) those of `place`: the parsers take any
    string, the deciders refuse what is not in the topology (422 XF-UNKNOWN-…)."""
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "summary": "节点状态 / node status",
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/api/cases": {
            "get": {
                "summary": "本节点已知的事项 / cases known here",
                "responses": _responses("列表"),
            },
            "post": {
                "summary": "登记 / register a petition (R1, R11–R15)",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": register_schema(bodies, places)}},
                },
                "responses": {
                    **_responses("已登记"),
                    "201": {"description": "已登记 / registered"},
                },
            },
        },
        "/api/cases/{case_id}": {
            "get": {
                "summary": "事项状态 / case state",
                "parameters": [case_id],
                "responses": _responses("事项"),
            }
        },
        "/api/cases/{case_id}/timeline": {
            "get": {
                "summary": "本节点所见时间线 / timeline as stored here",
                "parameters": [case_id],
                "responses": _responses("时间线"),
            }
        },
        "/admin/sweep": {
            "post": {
                "summary": "立即检查期限 / run the deadline watcher now",
                "parameters": [IDEMPOTENCY_KEY],
                "responses": _responses("ok"),
            }
        },
        "/admin/checkpoint": {
            "post": {
                "summary": "立即签署日志检查点 / sign a checkpoint of the log head now",
                "parameters": [IDEMPOTENCY_KEY],
                "responses": _responses("ok"),
            }
        },
    }
    for command in COMMANDS:
        paths[f"/api/cases/{{case_id}}/{command.name}"] = {
            "post": {
                "summary": f"{command.zh} / {command.en} ({command.rule})",
                "parameters": [case_id, IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _object(command.fields, bodies)}},
                },
                "responses": _responses("已记录 / recorded"),
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"xinfang 节点 {division} API",
            "version": "0.1.0",
            "description": "信访事项跨层级流转系统节点接口；拒绝时返回稳定的错误码 (XF-…)。",
        },
        "paths": paths,
        "components": {"schemas": {"Error": ERROR}},
    }
