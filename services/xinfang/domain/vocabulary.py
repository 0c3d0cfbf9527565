"""Closed vocabularies of the Regulations, with their Chinese names.

The enum values are the Avro enum symbols (schemas/), so renaming one is a
breaking change of the public contract.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """信访渠道 (Art. 17)."""

    ONLINE = "ONLINE"  # 信息网络
    LETTER = "LETTER"  # 书信
    PHONE = "PHONE"  # 电话
    FAX = "FAX"  # 传真
    VISIT = "VISIT"  # 走访


class Category(StrEnum):
    """信访事项类别 (Arts. 29–31)."""

    PROPOSAL = "PROPOSAL"  # 建议意见
    ACCUSATION = "ACCUSATION"  # 检举控告
    APPEAL = "APPEAL"  # 申诉求决


class Outcome(StrEnum):
    """处理意见 (Arts. 32–33)."""

    SUPPORTED = "SUPPORTED"  # 予以支持
    EXPLAINED = "EXPLAINED"  # 作出解释说明
    NOT_SUPPORTED = "NOT_SUPPORTED"  # 不予支持
    MEDIATED = "MEDIATED"  # 调解协议、和解协议


class NoticeKind(StrEnum):
    """书面文书 that are served on the petitioner."""

    ACCEPTANCE = "ACCEPTANCE"  # 受理告知书
    NON_ACCEPTANCE = "NON_ACCEPTANCE"  # 不予受理告知书
    HANDLING_OPINION = "HANDLING_OPINION"  # 信访处理意见书
    OTHER = "OTHER"  # 其他书面文书


class ServiceMethod(StrEnum):
    IN_PERSON = "IN_PERSON"  # 直接送达
    POST = "POST"  # 邮寄送达
    ELECTRONIC = "ELECTRONIC"  # 电子送达


class Receipt(StrEnum):
    SIGNED = "SIGNED"  # 签收
    REFUSED = "REFUSED"  # 拒收


class CaseStatus(StrEnum):
    REGISTERED = "REGISTERED"  # 已登记
    TRANSFERRED = "TRANSFERRED"  # 已转送，待受理
    ACCEPTED = "ACCEPTED"  # 已受理，办理中
    OPINION_ISSUED = "OPINION_ISSUED"  # 已出具处理意见


ZH: dict[str, str] = {
    # channels
    "ONLINE": "信息网络",
    "LETTER": "书信",
    "PHONE": "电话",
    "FAX": "传真",
    "VISIT": "走访",
    # categories
    "PROPOSAL": "建议意见",
    "ACCUSATION": "检举控告",
    "APPEAL": "申诉求决",
    # outcomes
    "SUPPORTED": "予以支持",
    "EXPLAINED": "作出解释说明",
    "NOT_SUPPORTED": "不予支持",
    "MEDIATED": "调解和解",
    # notices
    "ACCEPTANCE": "受理告知书",
    "NON_ACCEPTANCE": "不予受理告知书",
    "HANDLING_OPINION": "信访处理意见书",
    "OTHER": "其他书面文书",
    "IN_PERSON": "直接送达",
    "POST": "邮寄送达",
    "ELECTRONIC": "电子送达",
    "SIGNED": "签收",
    "REFUSED": "拒收",
    # statuses
    "REGISTERED": "已登记",
    "TRANSFERRED": "已转送，待受理",
    "ACCEPTED": "已受理，办理中",
    "OPINION_ISSUED": "已出具处理意见",
}


def zh(symbol: str) -> str:
    """Chinese name of a vocabulary symbol (falls back to the symbol itself)."""
    return ZH.get(symbol, symbol)
