"""Cases for the documents' tests (issue 16 item 3): in-process nodes (the fake bus, real
services and stores) taken through every act a document rests on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xinfang.documents import DocumentKind, Paper, compose
from xinfang.domain.events import Event
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .lifecycle import register

PROVINCE, CITY, COUNTY = "150000", "150400", "150404"
HANDLER = "150404.zj"  # 松山区住房和城乡建设局
REVIEWER = "150400.zj"  # 赤峰市住房和城乡建设局
RE_REVIEWER = "150000.zj"  # 内蒙古自治区住房和城乡建设局
OFFICE = "150400.xfj"  # 赤峰市信访局
HOSTILE = "<script>alert('x')</script>&"  # user text that must stay text
PERSON: dict[str, Any] = {
    "name": "张三丰",
    "address": "内蒙古自治区赤峰市松山区振兴大街12号",
    "contact": "13912345678",
}


def world(tmp: Path) -> FakeBus:
    return FakeBus(load_topology(), [PROVINCE, CITY, COUNTY], tmp)


def full_case(bus: FakeBus) -> str:
    """交办 → 督办 → 受理 → 延期 → 处理意见 → 复查 → 复核: every act but 转送 and 不予受理."""
    case_id = register(
        bus, petitioner=PERSON, request=f"请求足额发放征地补偿款{HOSTILE}", title="征地补偿"
    )
    bus.run(
        CITY,
        case_id,
        "assign",
        {"actor": OFFICE, "to_body": HANDLER, "report_within_days": 20, "note": "重点督办"},
    )
    bus.run(
        CITY,
        case_id,
        "supervise",
        {
            "actor": OFFICE,
            "to_body": HANDLER,
            "level": "SUPERVISION",
            "reasons": "请抓紧决定是否受理",
        },
    )
    bus.run(COUNTY, case_id, "accept", {"actor": HANDLER})
    bus.run(
        COUNTY,
        case_id,
        "extend",
        {"actor": HANDLER, "days": 20, "approved_by": "王局长", "reasons": "需实地测量"},
    )
    bus.run(
        COUNTY,
        case_id,
        "opinion",
        {
            "actor": HANDLER,
            "outcome": "NOT_SUPPORTED",
            "opinion": "经核查，补偿已按标准发放",
            "legal_basis": "《内蒙古自治区征地补偿安置办法》第十条",
        },
    )
    bus.run(CITY, case_id, "review-request", {"actor": REVIEWER, "reasons": "不服"})
    bus.run(
        CITY,
        case_id,
        "review-decide",
        {"actor": REVIEWER, "result": "UPHOLD", "opinion": "原处理意见认定事实清楚"},
    )
    bus.run(PROVINCE, case_id, "re-review-request", {"actor": RE_REVIEWER, "reasons": "不服"})
    bus.run(
        PROVINCE,
        case_id,
        "re-review-decide",
        {"actor": RE_REVIEWER, "result": "UPHOLD", "opinion": "复查意见并无不当"},
    )
    return case_id  # fmt: skip


def refused_case(bus: FakeBus) -> str:
    """转送 → 不予受理."""
    case_id = register(bus, petitioner=PERSON, title="另一事项", request="请求补办手续")
    bus.run(CITY, case_id, "transfer", {"actor": OFFICE, "to_body": HANDLER})
    bus.run(COUNTY, case_id, "reject", {"actor": HANDLER, "reasons": "已通过诉讼程序处理"})
    return case_id


def events(bus: FakeBus, division: str, case_id: str) -> list[Event]:
    return [event for _, event in bus.nodes[division].history(case_id)]


def paper(
    bus: FakeBus, division: str, case_id: str, kind: DocumentKind, reader: str | None = None
) -> Paper:
    node = bus.nodes[division]
    ctx = node.context()
    return compose(
        kind, case_id, events(bus, division, case_id), ctx.topology, ctx.rules,
        ctx.reviewers(), reader,
    )  # fmt: skip
