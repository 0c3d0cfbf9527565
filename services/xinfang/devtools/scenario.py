"""The vertical slice, driven through the nodes' HTTP APIs (demo and integration tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..client import ApiError, NodeClient

CITY, COUNTY, PROVINCE = "150400", "150404", "150000"
CITY_OFFICE = "150400.xfj"  # 赤峰市信访局
HANDLING_BODY = "150404.zj"  # 松山区住房和城乡建设局

PETITION: dict[str, Any] = {
    "title": "松山区某小区冬季供暖长期不达标",
    "channel": "ONLINE",
    "category": "APPEAL",
    "petitioner": {
        "name": "王某某",
        "address": "赤峰市松山区某小区 3 号楼",
        "contact": "13900000000",
    },
    "request": "请求督促供热企业整改，保障室温达标",
    "facts": "2026 年 11 月以来室内温度长期低于 16℃，多次向物业和供热企业反映未果",
    "reasons": "供热企业未履行供热合同约定的室温标准",
    "place": COUNTY,
    "accused": "某供热有限公司",
}


def wait_for(
    probe: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.2
) -> Any:
    """Poll until probe() returns a truthy value (bounded wait)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except ApiError as err:
            last_error = err
        time.sleep(interval)
    raise TimeoutError(f"等待超时 / timed out waiting for {what} (last error: {last_error})")


def case_status(client: NodeClient, case_id: str) -> str | None:
    try:
        return str(client.get(f"/api/cases/{case_id}")["status"])
    except ApiError as err:
        if err.status == 404:
            return None
        raise


def _status_is(client: NodeClient, case_id: str, status: str) -> Callable[[], bool]:
    return lambda: case_status(client, case_id) == status


def run_slice(
    city: NodeClient, county: NodeClient, province: NodeClient, timeout: float = 60.0
) -> str:
    """登记 → 转送 → 受理 (+送达) → 处理意见; returns the case id once 150000 has the outcome."""
    case_id = str(city.post("/api/cases", {"actor": CITY_OFFICE, **PETITION})["case_id"])
    city.post(
        f"/api/cases/{case_id}/transfer",
        {"actor": CITY_OFFICE, "to_body": HANDLING_BODY, "note": "请依法处理并按期答复"},
    )
    wait_for(lambda: case_status(county, case_id) == "TRANSFERRED", "松山区收到转送", timeout)
    county.post(
        f"/api/cases/{case_id}/accept",
        {"actor": HANDLING_BODY, "notice": {"method": "ELECTRONIC", "receipt": "SIGNED"}},
    )
    county.post(
        f"/api/cases/{case_id}/opinion",
        {
            "actor": HANDLING_BODY,
            "outcome": "SUPPORTED",
            "opinion": "经调查情况属实，责令供热企业 7 日内整改，室温达标后回访",
            "legal_basis": "《内蒙古自治区城镇供热条例》",
            "notice": {"method": "POST", "receipt": "SIGNED"},
        },
    )
    for node, name in ((city, "赤峰市"), (province, "内蒙古自治区")):
        wait_for(_status_is(node, case_id, "OPINION_ISSUED"), f"{name}看到处理意见", timeout)
    # the last NoticeServed follows the opinion; wait until every level has the full history
    wait_for(
        lambda: len(province.get(f"/api/cases/{case_id}/timeline")["timeline"]) >= 6,
        "省级收到完整时间线",
        timeout,
    )
    return case_id
