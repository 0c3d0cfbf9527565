"""Shared steps for lifecycle tests over in-process nodes (fake bus, real services and stores)."""

from __future__ import annotations

from typing import Any

from xinfang.commands.inputs import case_file

from .fakes import FakeBus

PETITION: dict[str, Any] = {
    "title": "征地补偿款未足额发放",
    "channel": "ONLINE",
    "category": "APPEAL",
    "petitioner": {"name": "李四", "address": "松山区某村", "contact": "13700000000"},
    "request": "请求足额发放征地补偿款",
    "facts": "2025 年征地后补偿款仅发放六成",
    "reasons": "违反征地补偿安置方案",
    "place": "150404",
}


def register(bus: FakeBus, division: str = "150400", **overrides: Any) -> str:
    node = bus.nodes[division]
    body = {**PETITION, **overrides}
    office = node.topology.division(division).petition_office().id
    done = node.register(str(body.pop("actor", office)), case_file(body, node.context().now))
    bus.settle()
    return done.case_id


def handled(bus: FakeBus, body: str = "150404.zj", outcome: str = "NOT_SUPPORTED") -> str:
    """登记 at 赤峰市 → 转送 → 受理 → 处理意见 (served); returns the case id."""
    case_id = register(bus)
    bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": body})
    division = body.split(".")[0]
    bus.run(division, case_id, "accept", {"actor": body})
    bus.run(
        division,
        case_id,
        "opinion",
        {"actor": body, "outcome": outcome, "opinion": "经核查，补偿已按标准发放"},
    )
    return case_id


def types(bus: FakeBus, division: str, case_id: str) -> list[str]:
    return [e.type for _, e in bus.nodes[division].history(case_id)]
