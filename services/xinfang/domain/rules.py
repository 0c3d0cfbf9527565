"""The time limits of the rule table (DOMAIN.md §9) as data.

`RuleSet.national()` holds the national defaults of the 2022 《信访工作条例》;
a province's tightened limits are overrides in deploy/rules/provinces/<code>.yaml,
merged onto the national defaults by xinfang.rules_file.load_ruleset. Nothing
here reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, get_args

from .errors import InvalidInput
from .rule_errors import RulesInvalid

Unit = Literal["calendar", "working"]
UNITS: tuple[str, ...] = get_args(Unit)

REGULATIONS = "《信访工作条例》"
REGULATIONS_2005 = "《信访条例》(2005)"
SIMPLIFIED_MEASURES = "《信访事项简易办理办法（试行）》(国家信访局，2016)"


@dataclass(frozen=True)
class Limit:
    """One time limit: `amount` days of `unit`, from the rule `rule_id`, on `basis`.

    unit "calendar" counts 日 (calendar days), "working" counts 工作日.
    """

    amount: int
    unit: Unit
    rule_id: str
    basis: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise RulesInvalid(f"{self.rule_id} 期限天数必须是非负整数: {self.amount!r}")
        if self.unit not in UNITS:
            raise RulesInvalid(f"{self.rule_id} 期限单位必须是 calendar 或 working: {self.unit!r}")
        if not self.rule_id:
            raise RulesInvalid("期限缺少规则编号 rule_id")

    @property
    def zh(self) -> str:
        """E.g. "15日" or "5个工作日"."""
        return f"{self.amount}日" if self.unit == "calendar" else f"{self.amount}个工作日"


def _n(amount: int, rule_id: str, basis: str) -> Limit:
    return Limit(amount, "calendar", rule_id, basis)


def _w(amount: int, rule_id: str, basis: str) -> Limit:
    return Limit(amount, "working", rule_id, basis)


# The rule id each limit field belongs to; loaders check overrides against it.
# The name of a limit (a RuleSet field): mypy checks every name a caller spells.
LimitName = Literal[
    "route",
    "direct_notice",
    "acceptance_notice",
    "objection",
    "handling",
    "handling_extension_max",
    "review_request_window",
    "review_decision",
    "re_review_request_window",
    "re_review_decision",
    "supervision_answer",
    "simplified_accept",
    "simplified_opinion",
    "simplified_relay",
    "review_take_up",
]

LIMIT_RULES: dict[str, str] = {
    "route": "R1",
    "direct_notice": "R2",
    "acceptance_notice": "R3",
    "objection": "R4",
    "handling": "R5",
    "handling_extension_max": "R5",
    "review_request_window": "R7",
    "review_decision": "R8",
    "re_review_request_window": "R9",
    "re_review_decision": "R10",
    "supervision_answer": "R16",
    "simplified_accept": "R18",
    "simplified_opinion": "R18",
    "simplified_relay": "R18",
    "review_take_up": "R19",
}
if set(LIMIT_RULES) != set(get_args(LimitName)):  # one name per limit, in both
    raise AssertionError(f"LimitName and LIMIT_RULES differ: {set(LIMIT_RULES)}")


@dataclass(frozen=True)
class RuleSet:
    """Every time limit of the rule table for one jurisdiction ("CN" or a province code).

    R6 (交办 result report) has no default: the assigning office sets it per
    case. R19 (decide whether to take up a 复查/复核 request) exists only where a
    province sets it, so it is None nationally. R10's 30 days exclude hearing
    time (`re_review_excludes_hearing`); the caller adds the hearing days.
    """

    jurisdiction: str
    name: str
    route: Limit  # R1 信访部门登记并转送、交办
    direct_notice: Limit  # R2 直接提出的信访事项：书面告知
    acceptance_notice: Limit  # R3 转送、交办事项：是否受理并书面告知
    objection: Limit  # R4 不属于职权范围：提出异议
    handling: Limit  # R5 办理期限
    handling_extension_max: Limit  # R5 最长延长期限
    review_request_window: Limit  # R7 请求复查期限
    review_decision: Limit  # R8 复查期限
    re_review_request_window: Limit  # R9 请求复核期限
    re_review_decision: Limit  # R10 复核期限（听证时间不计算在内）
    supervision_answer: Limit  # R16 被督办单位书面反馈
    simplified_accept: Limit  # R18 简易办理：决定受理
    simplified_opinion: Limit  # R18 简易办理：出具处理意见
    simplified_relay: Limit  # R18 简易办理：每一层级转送、交办
    review_take_up: Limit | None = None  # R19 决定是否受理复查、复核请求（山东）
    re_review_excludes_hearing: bool = True  # R10
    representatives_max: int = 5  # R14
    representatives_small_group_size: int | None = None  # R14 浙江: 10 人以下
    representatives_small_group_max: int | None = None  # R14 浙江: 最多 3 人
    representatives_basis: str = f"{REGULATIONS}第二十条第三款"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            rule_id = LIMIT_RULES.get(f.name)
            if isinstance(value, Limit) and rule_id is not None and value.rule_id != rule_id:
                raise RulesInvalid(f"{f.name} 应属于规则 {rule_id}，而不是 {value.rule_id}")
        if self.representatives_max < 1:
            raise RulesInvalid(f"代表人数上限必须为正: {self.representatives_max}")
        small = (self.representatives_small_group_size, self.representatives_small_group_max)
        if (small[0] is None) != (small[1] is None):
            raise RulesInvalid(
                "representatives_small_group_size 与 representatives_small_group_max 须同时设置"
            )
        if small[0] is not None and small[1] is not None and (small[0] < 1 or small[1] < 1):
            raise RulesInvalid(f"小规模集体访的人数与代表上限必须为正: {small}")

    @classmethod
    def national(cls) -> RuleSet:
        """The defaults of the 2022 《信访工作条例》 (DOMAIN.md §9)."""
        r = REGULATIONS
        return cls(
            jurisdiction="CN",
            name="全国",
            route=_n(15, "R1", f"{r}第二十二条第一款"),
            direct_notice=_n(15, "R2", f"{r}第二十三条第二款"),
            acceptance_notice=_n(15, "R3", f"{r}第二十三条第三款、第四十四条第三项"),
            objection=_w(5, "R4", f"{r}第二十三条第三款"),
            handling=_n(60, "R5", f"{r}第三十四条"),
            handling_extension_max=_n(30, "R5", f"{r}第三十四条"),
            review_request_window=_n(30, "R7", f"{r}第三十五条"),
            review_decision=_n(30, "R8", f"{r}第三十五条"),
            re_review_request_window=_n(30, "R9", f"{r}第三十六条第一款"),
            re_review_decision=_n(30, "R10", f"{r}第三十六条第一款、第二款"),
            supervision_answer=_n(
                30, "R16", f"{r}第四十条（未规定期限，沿用{REGULATIONS_2005}第三十六条第二款）"
            ),
            simplified_accept=_w(3, "R18", SIMPLIFIED_MEASURES),
            simplified_opinion=_w(10, "R18", SIMPLIFIED_MEASURES),
            simplified_relay=_w(1, "R18", SIMPLIFIED_MEASURES),
            review_take_up=None,
            re_review_excludes_hearing=True,
            representatives_max=5,
            representatives_small_group_size=None,
            representatives_small_group_max=None,
            representatives_basis=f"{r}第二十条第三款",
        )

    def max_representatives(self, people: int) -> int:
        """R14: the most representatives `people` visitors raising one matter may elect.

        National: 5. 浙江: 3 when 10 people or fewer, otherwise 5. This is the
        statutory cap; it is not reduced to `people` for tiny groups.
        """
        if people < 1:
            raise InvalidInput(f"人数必须为正: {people}")
        size = self.representatives_small_group_size
        small_max = self.representatives_small_group_max
        if size is not None and small_max is not None and people <= size:
            return small_max
        return self.representatives_max

    def limits(self) -> dict[str, Limit]:
        """Every limit that is set, by field name."""
        return {
            name: value for name in LIMIT_RULES if isinstance(value := getattr(self, name), Limit)
        }
