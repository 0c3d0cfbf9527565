"""The one error root of xinfang and its families, with stable codes and bilingual messages.

    XinfangError                       XF-ERROR
    ├── DomainError     refusals by the rules (this module, lifecycle_errors, rule_errors, acts)
    ├── WireError       bytes from Kafka or a node that cannot be read (codec DecodeError, ApiError)
    ├── ConfigurationError  settings, rules and topology files, keys, missing data or tools
    ├── StorageError    a database the node cannot safely use (store SchemaError)
    └── AccessError     who is asking: not signed in (401) or not permitted (403) (identity/)

The root lives in the domain because the domain raises some of it (RulesInvalid, a rules file
the domain validates) and must import nothing outside itself; it does no I/O. A code never
changes once released, the wording may. HTTP statuses are the web layer's (api/errors.py);
the CLI prints any XinfangError in Chinese and English (cli.py).
"""

from __future__ import annotations

from typing import Any


class XinfangError(Exception):
    """Anything xinfang refuses or cannot do. `code` is stable; messages are for people."""

    code: str = "XF-ERROR"
    zh: str = "操作失败"
    en: str = "The operation failed"

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

    def bilingual(self, lang: str = "zh") -> str:
        """One line for people: `[code] 中文：detail / English` (English only for lang "en")."""
        if lang == "en":
            return f"[{self.code}] {self.message('en')}"
        return f"[{self.code}] {self.message('zh')} / {self.en}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_zh": self.message("zh"),
            "message_en": self.message("en"),
            "context": {k: str(v) for k, v in self.context.items()},
        }


class DomainError(XinfangError):
    """A command refused by the rules."""

    code = "XF-DOMAIN"
    zh = "操作不符合信访工作规则"
    en = "The operation violates the petition rules"


class WireError(XinfangError):
    """Bytes from the wire (Kafka records, a node's HTTP answer) that cannot be used."""

    code = "XF-WIRE"
    zh = "收到的数据无法识别"
    en = "Data received cannot be read"


class ConfigurationError(XinfangError):
    """The installation or its settings are wrong or incomplete: fix them and start again."""

    code = "XF-CONFIG"
    zh = "配置有误"
    en = "The configuration is invalid"


class AccessError(XinfangError):
    """The person asking is not signed in, or may not do or see this (DOMAIN.md §10)."""

    code = "XF-ACCESS"
    zh = "访问被拒绝"
    en = "Access refused"


class StorageError(XinfangError):
    """The node's database cannot be used safely."""

    code = "XF-STORAGE"
    zh = "数据库无法安全使用"
    en = "The database cannot be used safely"


class TopologyInvalid(ConfigurationError):
    """The topology file is malformed (duplicate division, unknown parent, bad field)."""

    code = "XF-TOPOLOGY-INVALID"
    zh = "拓扑文件有误"
    en = "The topology file is invalid"


class InvalidInput(DomainError):
    code = "XF-INVALID-INPUT"
    zh = "输入不完整或格式错误"
    en = "Input is incomplete or malformed"


class CaseNotFound(DomainError):
    code = "XF-CASE-NOT-FOUND"
    zh = "本节点没有该信访事项"
    en = "This node has no such case"


class UnknownDivision(DomainError):
    code = "XF-UNKNOWN-DIVISION"
    zh = "拓扑中没有该行政区划"
    en = "The division is not in the topology"


class UnknownBody(DomainError):
    code = "XF-UNKNOWN-BODY"
    zh = "拓扑中没有该机关、单位"
    en = "The body is not in the topology"


class NotHolder(DomainError):
    code = "XF-NOT-HOLDER"
    zh = "该机关当前不承办此事项"
    en = "This body does not currently hold the case"


class NotThisNode(DomainError):
    code = "XF-NOT-THIS-NODE"
    zh = "该机关不属于本节点所在行政区划"
    en = "The body does not belong to this node's division"


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


class DependencyMissing(DomainError):
    """An inbound event refers to something this node has not seen yet.

    Not a refusal: the adapter parks the event and applies it once the
    dependency arrives (events are never dropped).
    """

    code = "XF-DEPENDENCY-MISSING"
    zh = "事件所依赖的先前事件尚未到达"
    en = "An event this one depends on has not arrived yet"


class UnauthorisedAct(DomainError):
    """An inbound event that is not a legal act of its actor on the case as this node knows it
    (issue 12 item 3, decision 023): refused like the same local command would be. Made with
    `of`, whose context names the actor, the act, the case and the code of the rule broken."""

    code = "XF-UNAUTHORISED-ACT"
    zh = "该机关无权对此事项作出此行为"
    en = "The acting body may not do this act on this case"

    @classmethod
    def of(cls, actor: str, act: str, case: str, why: DomainError) -> UnauthorisedAct:
        """`actor`'s `act` on `case`, refused by `why`; the detail carries its zh/en messages."""
        return cls(
            f"{actor} {act} {case}: [{why.code}] {why.message('zh')} / {why.message('en')}",
            actor=actor,
            act=act,
            case=case,
            why=why.code,
        )
