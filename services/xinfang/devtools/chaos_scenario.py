"""The chaos run's scenario: cases driven through three levels by an `Executor` — the nodes'
HTTP APIs (the run with faults) or the in-process bus (the reference) — each step retried
until its effect is visible, so a crash or a broker restart in between does no harm.

登记 → 转送 → 受理 → 处理意见, every 4th case reviewed at the city (复查), every 5th supervised
(督办 → 反馈).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..client import ApiError, NodeClient
from ..commands.inputs import case_file
from ..domain.errors import DomainError
from ..presentation import case_view
from .inprocess import InProcessBus
from .processes import NodeProcess
from .staff import StaffClient

PROVINCE, CITY = "150000", "150400"
COUNTIES = ("150404", "150402")
DIVISIONS = (PROVINCE, CITY, *COUNTIES)
View = dict[str, Any]


class Executor(Protocol):
    def register(self, body: dict[str, Any]) -> str: ...
    def view(self, division: str, case_id: str) -> View | None: ...
    def run(self, division: str, case_id: str, command: str, body: dict[str, Any]) -> None: ...


class StepFailed(RuntimeError):
    pass


ABORT = threading.Event()  # set when the run cannot go on (e.g. a node that cannot start)


def petition(i: int) -> dict[str, Any]:
    county = COUNTIES[i % len(COUNTIES)]
    return {
        "actor": "150400.xfj",
        "title": f"混沌测试事项 {i:05d}",
        "channel": "ONLINE",
        "category": "APPEAL",
        "petitioner": {"name": f"测试人{i:05d}", "address": "赤峰市", "contact": f"1390000{i:04d}"},
        "request": f"请求处理第 {i} 号事项",
        "facts": "事实",
        "reasons": "理由",
        "place": county,
    }


def step(
    ex: Executor,
    division: str,
    case_id: str,
    command: str,
    body: dict[str, Any],
    done: Callable[[View], bool],
    timeout: float,
) -> None:
    """Run a command until its effect is visible at `division`: safe to retry after a crash."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline and not ABORT.is_set():
        try:
            view = ex.view(division, case_id)
            if view is not None and done(view):
                return
            if view is not None:
                ex.run(division, case_id, command, body)
                continue
        except (ApiError, DomainError, OSError) as err:
            last = err  # node down, broker away, or not yet propagated: look again shortly
        time.sleep(0.2)
    raise StepFailed(f"{command} at {division} for {case_id} did not take effect: {last}")


def wait_view(
    ex: Executor, division: str, case_id: str, check: Callable[[View], bool], timeout: float
) -> View:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ABORT.is_set():
        try:
            view = ex.view(division, case_id)
            if view is not None and check(view):
                return view
        except (ApiError, OSError):
            pass
        time.sleep(0.2)
    raise StepFailed(f"{division} never saw the expected state of {case_id}")


def drive_case(ex: Executor, i: int, timeout: float = 300.0) -> str:
    """One case's lifecycle: 登记 → 转送 → 受理 → 处理意见 (→ 复查) (→ 督办 → 反馈)."""
    county = COUNTIES[i % len(COUNTIES)]
    body = county + ".zj"
    case_id = ex.register(petition(i))
    step(
        ex,
        CITY,
        case_id,
        "transfer",
        {"actor": "150400.xfj", "to_body": body},
        lambda v: v["status"] != "REGISTERED",
        timeout,
    )
    wait_view(ex, county, case_id, lambda v: True, timeout)
    step(
        ex,
        county,
        case_id,
        "accept",
        {"actor": body},
        lambda v: v["status"] not in ("TRANSFERRED",),
        timeout,
    )
    outcome = ("SUPPORTED", "EXPLAINED", "NOT_SUPPORTED")[i % 3]
    step(
        ex,
        county,
        case_id,
        "opinion",
        {"actor": body, "outcome": outcome, "opinion": "处理意见"},
        lambda v: v["handling_body"] is not None,
        timeout,
    )
    if i % 4 == 0:
        wait_view(ex, CITY, case_id, lambda v: v["status"] == "OPINION_ISSUED", timeout)
        step(
            ex,
            CITY,
            case_id,
            "review-request",
            {"actor": "150400.zj", "reasons": "不服"},
            lambda v: v["reviewer"] is not None,
            timeout,
        )
        step(
            ex,
            CITY,
            case_id,
            "review-decide",
            {"actor": "150400.zj", "result": "UPHOLD", "opinion": "维持"},
            lambda v: v["review_result"] is not None,
            timeout,
        )
    if i % 5 == 0:
        wait_view(ex, CITY, case_id, lambda v: v["handling_body"] is not None, timeout)
        step(
            ex,
            CITY,
            case_id,
            "supervise",
            {"actor": "150400.xfj", "to_body": body, "reasons": "请报告办理情况"},
            lambda v: bool(v["supervisions"]),
            timeout,
        )
        seen = wait_view(ex, county, case_id, lambda v: bool(v["supervisions"]), timeout)
        sid = seen["supervisions"][0]["supervision_id"]
        step(
            ex,
            county,
            case_id,
            "answer-supervision",
            {"actor": body, "supervision_id": sid, "answer": "已办理", "adopted": True},
            lambda v: all(s["answered"] for s in v["supervisions"]),
            timeout,
        )
    return case_id


class HttpExecutor:
    def __init__(self, nodes: dict[str, NodeProcess]) -> None:
        self.nodes = nodes

    def client(self, division: str) -> NodeClient:
        node = self.nodes[division]
        return StaffClient(node.url, node.staff, timeout=10)  # signed in (devtools/staff.py)

    def register(self, body: dict[str, Any]) -> str:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                return str(self.client(CITY).post("/api/cases", body)["case_id"])
            except ApiError as err:
                if err.code == "XF-R12-IN-PROGRESS":  # it was registered before the crash
                    return str(err.payload["context"]["case"])
                if err.status < 500:
                    raise
            except OSError:
                pass
            time.sleep(0.3)
        raise StepFailed("registration never succeeded")

    def view(self, division: str, case_id: str) -> View | None:
        try:
            return dict(self.client(division).get(f"/api/cases/{case_id}"))
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    def run(self, division: str, case_id: str, command: str, body: dict[str, Any]) -> None:
        self.client(division).post(f"/api/cases/{case_id}/{command}", body)


class InProcessExecutor:
    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus

    def register(self, body: dict[str, Any]) -> str:
        node = self.bus.nodes[CITY]
        done = node.register(str(body["actor"]), case_file(body, node.context().now))
        self.bus.settle()
        return done.case_id

    def view(self, division: str, case_id: str) -> View | None:
        node = self.bus.nodes[division]
        try:
            return case_view(node.case(case_id), node.topology)
        except DomainError:
            return None

    def run(self, division: str, case_id: str, command: str, body: dict[str, Any]) -> None:
        self.bus.run(division, case_id, command, body)
