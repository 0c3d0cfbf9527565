"""The node's OpenAPI 3.1 document, generated from the route and command tables."""

from __future__ import annotations

from typing import Any

from .commands_table import COMMANDS

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


def _schema(fields: dict[str, tuple[str, str]]) -> dict[str, Any]:
    properties = {
        name: {"type": kind.lstrip("!"), "description": doc} for name, (kind, doc) in fields.items()
    }
    required = [name for name, (kind, _) in fields.items() if kind.startswith("!")]
    return {"type": "object", "properties": properties, "required": required}


def _responses(ok: str) -> dict[str, Any]:
    err = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "200": {"description": ok},
        "400": {"description": "不是合法的 JSON / invalid JSON", **err},
        "403": {"description": "无权执行 / not allowed for this body", **err},
        "404": {"description": "没有该事项 / no such case", **err},
        "409": {"description": "违反规则 / refused by a rule", **err},
        "422": {"description": "输入错误 / bad input", **err},
    }


def openapi_document(division: str) -> dict[str, Any]:
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
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
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
                "responses": _responses("ok"),
            }
        },
        "/admin/checkpoint": {
            "post": {
                "summary": "立即签署日志检查点 / sign a checkpoint of the log head now",
                "responses": _responses("ok"),
            }
        },
    }
    for command in COMMANDS:
        paths[f"/api/cases/{{case_id}}/{command.name}"] = {
            "post": {
                "summary": f"{command.zh} / {command.en} ({command.rule})",
                "parameters": [case_id],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _schema(command.fields)}},
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
