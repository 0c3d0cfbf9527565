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
        "id_number": "150404198003122035",
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


def _until(
    client: NodeClient, case_id: str, check: Callable[[dict[str, Any]], bool], what: str
) -> None:
    def probe() -> bool:
        try:
            return check(client.get(f"/api/cases/{case_id}"))
        except ApiError as err:
            if err.status == 404:
                return False
            raise

    wait_for(probe, what)


def run_review_chain(city: NodeClient, county: NodeClient, province: NodeClient) -> str:
    """处理意见（不予支持）→ 复查 at 赤峰市住建局 → 复核 at 内蒙古自治区住建厅 → 终结."""
    body = {
        **PETITION,
        "title": "房屋征收补偿标准争议",
        "request": "请求提高房屋征收补偿标准",
        "petitioner": {"name": "赵某某", "address": "赤峰市松山区某街道", "contact": "13600000000"},
    }
    case_id = str(city.post("/api/cases", {"actor": CITY_OFFICE, **body})["case_id"])
    city.post(f"/api/cases/{case_id}/transfer", {"actor": CITY_OFFICE, "to_body": HANDLING_BODY})
    _until(county, case_id, lambda c: c["status"] == "TRANSFERRED", "松山区收到转送")
    county.post(f"/api/cases/{case_id}/accept", {"actor": HANDLING_BODY})
    county.post(
        f"/api/cases/{case_id}/opinion",
        {
            "actor": HANDLING_BODY,
            "outcome": "NOT_SUPPORTED",
            "opinion": "补偿已按公布的标准执行",
            "legal_basis": "《国有土地上房屋征收与补偿条例》",
        },
    )
    _until(city, case_id, lambda c: c["status"] == "OPINION_ISSUED", "赤峰市看到处理意见")
    city.post(
        f"/api/cases/{case_id}/review-request", {"actor": "150400.zj", "reasons": "评估价格偏低"}
    )
    city.post(
        f"/api/cases/{case_id}/review-decide",
        {"actor": "150400.zj", "result": "UPHOLD", "opinion": "原处理意见认定事实清楚，予以维持"},
    )
    _until(province, case_id, lambda c: c["status"] == "REVIEW_DECIDED", "自治区看到复查意见")
    province.post(
        f"/api/cases/{case_id}/re-review-request", {"actor": "150000.zj", "reasons": "仍不服"}
    )
    province.post(
        f"/api/cases/{case_id}/re-review-decide",
        {"actor": "150000.zj", "result": "UPHOLD", "opinion": "复查意见正确，予以维持；本事项终结"},
    )
    for client in (city, county):
        _until(client, case_id, lambda c: c["final"], "各级看到终结")
    return case_id


def run_supervision_chain(
    city: NodeClient, county: NodeClient, province: NodeClient, advance: Callable[[int], None]
) -> str:
    """交办（20 日内报结）→ 期限届满 → 赤峰市信访局督办 → 松山区书面反馈 → 处理意见 → 办结报告."""
    body = {
        **PETITION,
        "title": "农民工工资拖欠",
        "request": "请求督促企业支付拖欠工资",
        "petitioner": {"name": "钱某某", "address": "赤峰市松山区某镇", "contact": "13500000000"},
    }
    case_id = str(city.post("/api/cases", {"actor": CITY_OFFICE, **body})["case_id"])
    city.post(
        f"/api/cases/{case_id}/assign",
        {
            "actor": CITY_OFFICE,
            "to_body": "150404.rs",
            "report_within_days": 20,
            "note": "重要事项，请按期报结",
        },
    )
    _until(county, case_id, lambda c: c["status"] == "ASSIGNED", "松山区收到交办")
    county.post(f"/api/cases/{case_id}/accept", {"actor": "150404.rs"})
    advance(23)  # the 20-day report deadline passes without a report
    _until(county, case_id, lambda c: bool(c["supervisions"]), "松山区收到督办")
    supervision = county.get(f"/api/cases/{case_id}")["supervisions"][0]
    county.post(
        f"/api/cases/{case_id}/answer-supervision",
        {
            "actor": "150404.rs",
            "supervision_id": supervision["supervision_id"],
            "answer": "已约谈企业负责人，限期支付",
            "adopted": True,
        },
    )
    county.post(
        f"/api/cases/{case_id}/opinion",
        {"actor": "150404.rs", "outcome": "SUPPORTED", "opinion": "企业已支付拖欠工资"},
    )
    county.post(
        f"/api/cases/{case_id}/complete", {"actor": "150404.rs", "summary": "工资已足额支付"}
    )
    _until(province, case_id, lambda c: c["completion_reported"], "自治区看到办结报告")
    return case_id
