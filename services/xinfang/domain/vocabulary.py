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
    EXTENSION = "EXTENSION"  # 延期告知书
    DIVERSION = "DIVERSION"  # 导入其他法定程序告知书
    REVIEW_OPINION = "REVIEW_OPINION"  # 复查意见书
    RE_REVIEW_OPINION = "RE_REVIEW_OPINION"  # 复核意见书


class ServiceMethod(StrEnum):
    IN_PERSON = "IN_PERSON"  # 直接送达
    POST = "POST"  # 邮寄送达
    ELECTRONIC = "ELECTRONIC"  # 电子送达


class Receipt(StrEnum):
    SIGNED = "SIGNED"  # 签收
    REFUSED = "REFUSED"  # 拒收


class DiversionRoute(StrEnum):
    """诉访分离 (Arts. 22 ¶2, 28 ¶2, 31(一)–(五))."""

    POLITICAL_LEGAL = "POLITICAL_LEGAL"  # 同级政法机关（涉法涉诉）
    DISCIPLINE = "DISCIPLINE"  # 纪检监察机关（检举控告）
    LITIGATION = "LITIGATION"  # 诉讼（法院）
    PROCURATORATE = "PROCURATORATE"  # 检察
    POLICE = "POLICE"  # 公安
    ARBITRATION = "ARBITRATION"  # 仲裁
    ADMIN_RECONSIDERATION = "ADMIN_RECONSIDERATION"  # 行政复议
    OTHER_STATUTORY = "OTHER_STATUTORY"  # 其他法定程序


class ReviewResult(StrEnum):
    """复查、复核结论 (山东 Arts. 45–46)."""

    UPHOLD = "UPHOLD"  # 维持
    REVOKE = "REVOKE"  # 撤销（原办理机关重新办理）
    VARY = "VARY"  # 变更


class CloseReason(StrEnum):
    """终结 (Arts. 33, 35–36)."""

    RE_REVIEW_SERVED = "RE_REVIEW_SERVED"  # 复核意见送达，终结
    WINDOW_LAPSED = "WINDOW_LAPSED"  # 请求复查、复核期限届满未请求
    MEDIATION_FULFILLED = "MEDIATION_FULFILLED"  # 调解、和解协议履行完毕
    PETITIONER_DECEASED = "PETITIONER_DECEASED"  # 信访人死亡或终止且无承继人
    DIVERTED = "DIVERTED"  # 已导入其他法定程序
    NOT_ACCEPTED = "NOT_ACCEPTED"  # 不予受理
    PROPOSAL_ANSWERED = "PROPOSAL_ANSWERED"  # 建议意见已答复


class SupervisionLevel(StrEnum):
    """督办阶梯 (Art. 39; practice: 提醒 → 督办 → 挂牌督办)."""

    REMINDER = "REMINDER"  # 提醒
    SUPERVISION = "SUPERVISION"  # 督办
    LISTED = "LISTED"  # 挂牌督办


class Rating(StrEnum):
    """满意度评价 (Art. 21)."""

    SATISFIED = "SATISFIED"  # 满意
    BASICALLY_SATISFIED = "BASICALLY_SATISFIED"  # 基本满意
    DISSATISFIED = "DISSATISFIED"  # 不满意


class CaseStatus(StrEnum):
    REGISTERED = "REGISTERED"  # 已登记，待转送、交办
    TRANSFERRED = "TRANSFERRED"  # 已转送，待受理
    ASSIGNED = "ASSIGNED"  # 已交办，待受理
    OBJECTED = "OBJECTED"  # 接收机关提出异议，待转送机关审核
    ACCEPTED = "ACCEPTED"  # 已受理，办理中
    OPINION_ISSUED = "OPINION_ISSUED"  # 已出具处理意见
    REVIEW_REQUESTED = "REVIEW_REQUESTED"  # 已请求复查
    REVIEW_DECIDED = "REVIEW_DECIDED"  # 已出具复查意见
    RE_REVIEW_REQUESTED = "RE_REVIEW_REQUESTED"  # 已请求复核
    DIVERTED = "DIVERTED"  # 已移交政法、纪检监察机关依法处理
    CLOSED = "CLOSED"  # 已终结


ZH: dict[str, str] = {
    "ONLINE": "信息网络",
    "LETTER": "书信",
    "PHONE": "电话",
    "FAX": "传真",
    "VISIT": "走访",
    "PROPOSAL": "建议意见",
    "ACCUSATION": "检举控告",
    "APPEAL": "申诉求决",
    "SUPPORTED": "予以支持",
    "EXPLAINED": "作出解释说明",
    "NOT_SUPPORTED": "不予支持",
    "MEDIATED": "调解和解",
    "ACCEPTANCE": "受理告知书",
    "NON_ACCEPTANCE": "不予受理告知书",
    "HANDLING_OPINION": "信访处理意见书",
    "OTHER": "其他书面文书",
    "EXTENSION": "延期告知书",
    "DIVERSION": "导入其他法定程序告知书",
    "REVIEW_OPINION": "复查意见书",
    "RE_REVIEW_OPINION": "复核意见书",
    "IN_PERSON": "直接送达",
    "POST": "邮寄送达",
    "ELECTRONIC": "电子送达",
    "SIGNED": "签收",
    "REFUSED": "拒收",
    "POLITICAL_LEGAL": "政法机关",
    "DISCIPLINE": "纪检监察机关",
    "LITIGATION": "诉讼程序",
    "PROCURATORATE": "检察机关",
    "POLICE": "公安机关",
    "ARBITRATION": "仲裁",
    "ADMIN_RECONSIDERATION": "行政复议",
    "OTHER_STATUTORY": "其他法定程序",
    "UPHOLD": "维持",
    "REVOKE": "撤销",
    "VARY": "变更",
    "RE_REVIEW_SERVED": "复核意见已送达",
    "WINDOW_LAPSED": "期限届满未请求复查、复核",
    "MEDIATION_FULFILLED": "调解协议已履行",
    "PETITIONER_DECEASED": "信访人死亡或终止",
    "DIVERTED": "已导入其他法定程序",
    "NOT_ACCEPTED": "不予受理",
    "PROPOSAL_ANSWERED": "建议已答复",
    "REMINDER": "提醒",
    "SUPERVISION": "督办",
    "LISTED": "挂牌督办",
    "SATISFIED": "满意",
    "BASICALLY_SATISFIED": "基本满意",
    "DISSATISFIED": "不满意",
    "REGISTERED": "已登记",
    "TRANSFERRED": "已转送，待受理",
    "ASSIGNED": "已交办，待受理",
    "OBJECTED": "已提出异议，待审核",
    "ACCEPTED": "已受理，办理中",
    "OPINION_ISSUED": "已出具处理意见",
    "REVIEW_REQUESTED": "复查中",
    "REVIEW_DECIDED": "已出具复查意见",
    "RE_REVIEW_REQUESTED": "复核中",
    "CLOSED": "已终结",
}


# Names of symbols that two vocabularies share with different meanings: looked up by member.
_OWN: dict[tuple[type[StrEnum], str], str] = {
    (CaseStatus, "DIVERTED"): "已移交政法、纪检监察机关依法处理",  # CloseReason.DIVERTED differs
}
VOCABULARIES: tuple[type[StrEnum], ...] = (
    Channel, Category, Outcome, NoticeKind, ServiceMethod, Receipt, DiversionRoute,
    ReviewResult, CloseReason, SupervisionLevel, Rating, CaseStatus,
)  # fmt: skip


def zh(member: StrEnum) -> str:
    """Chinese name of a vocabulary member. Takes the member, not its symbol: CaseStatus and
    CloseReason both have DIVERTED, which reads differently in each."""
    return _OWN.get((type(member), member.value)) or ZH[member.value]


def _check_names() -> None:
    """Every member has a name, and a symbol shared by two vocabularies has its own."""
    owners: dict[str, list[type[StrEnum]]] = {}
    for vocabulary in VOCABULARIES:
        for member in vocabulary:
            zh(member)  # KeyError names a member without a name
            owners.setdefault(member.value, []).append(vocabulary)
    for symbol, shared in owners.items():
        if len(shared) > 1 and sum((v, symbol) not in _OWN for v in shared) > 1:
            raise AssertionError(f"{symbol} means different things in {shared}: name each")


_check_names()
