"""Domain errors with stable codes and bilingual messages (Chinese first).

A refusal is part of the contract: API clients and the CLI show `code` and the
message; the code never changes once released, the wording may.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command refused by the rules. `code` is stable; messages are for people."""

    code: str = "XF-DOMAIN"
    zh: str = "操作不符合信访工作规则"
    en: str = "The operation violates the petition rules"
    http_status: int = 409

    def __init__(self, detail: str = "", **context: Any) -> None:
        self.detail = detail
        self.context = context
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        base = self.zh if lang == "zh" else self.en
        return (
            f"{base}：{self.detail}"
            if self.detail and lang == "zh"
            else (f"{base}: {self.detail}" if self.detail else base)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_zh": self.message("zh"),
            "message_en": self.message("en"),
            "context": {k: str(v) for k, v in self.context.items()},
        }


class InvalidInput(DomainError):
    code = "XF-INVALID-INPUT"
    zh = "输入不完整或格式错误"
    en = "Input is incomplete or malformed"
    http_status = 422


class CaseNotFound(DomainError):
    code = "XF-CASE-NOT-FOUND"
    zh = "本节点没有该信访事项"
    en = "This node has no such case"
    http_status = 404


class CaseAlreadyExists(DomainError):
    code = "XF-CASE-EXISTS"
    zh = "信访事项编号已存在"
    en = "A case with this number already exists"


class UnknownDivision(DomainError):
    code = "XF-UNKNOWN-DIVISION"
    zh = "拓扑中没有该行政区划"
    en = "The division is not in the topology"
    http_status = 422


class UnknownBody(DomainError):
    code = "XF-UNKNOWN-BODY"
    zh = "拓扑中没有该机关、单位"
    en = "The body is not in the topology"
    http_status = 422


class NotHolder(DomainError):
    code = "XF-NOT-HOLDER"
    zh = "该机关当前不承办此事项"
    en = "This body does not currently hold the case"
    http_status = 403


class NotThisNode(DomainError):
    code = "XF-NOT-THIS-NODE"
    zh = "该机关不属于本节点所在行政区划"
    en = "The body does not belong to this node's division"
    http_status = 403


class IllegalTransition(DomainError):
    code = "XF-ILLEGAL-TRANSITION"
    zh = "事项当前状态不允许此操作"
    en = "The case's current status does not allow this operation"


class RoutingNotAllowed(DomainError):
    code = "XF-ROUTING-NOT-ALLOWED"
    zh = "只能转送、交办给本级或下级机关"
    en = "Transfers and assignments go only to bodies at the same level or below"


class NotPetitionOffice(DomainError):
    code = "XF-NOT-PETITION-OFFICE"
    zh = "只有信访部门可以登记和转送、交办信访事项"
    en = "Only a petition office may register and route petitions"
    http_status = 403


class DependencyMissing(DomainError):
    """An inbound event refers to something this node has not seen yet.

    Not a refusal: the adapter parks the event and applies it once the
    dependency arrives (events are never dropped).
    """

    code = "XF-DEPENDENCY-MISSING"
    zh = "事件所依赖的先前事件尚未到达"
    en = "An event this one depends on has not arrived yet"
