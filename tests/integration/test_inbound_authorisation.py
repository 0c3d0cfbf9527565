"""Issue 12 item 3 over the real broker, with three node processes: 松山区 (150404) sends
赤峰市 (150400) a CaseClosed on a case held by the city's reviewer — the issue's forged close.
The city refuses it as `unauthorised-act` (dead letter naming actor, act, case and the rule),
never applies it nor passes it on to 内蒙古自治区 (150000), and the county's next genuine record
still applies at both.

The record is one the county's node itself could sign: the county's own service records it
(with the county's key and store, stopped meanwhile) through a decider that skips the rules, so
it carries the county's next `seq`, the right `prev_hash` and `causation_id`, and its relay
publishes it like any other. Once records are signed (issue 12 item 1), it is signed by the
county's genuine key — the "genuine key used for an act its body may not do" of item 5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from xinfang.bootstrap import node_parts
from xinfang.client import NodeClient
from xinfang.devtools.broker import Broker
from xinfang.devtools.scenario import PETITION, case_status, run_slice, wait_for
from xinfang.domain.case import Case
from xinfang.domain.context import Context
from xinfang.domain.events import CaseClosed, Event
from xinfang.domain.vocabulary import CloseReason
from xinfang.ops.deadletters import list_sync
from xinfang.settings import NodeSettings
from xinfang.topics import TopicNames

from .conftest import NodeFactory

pytestmark = pytest.mark.integration
PROVINCE, CITY, COUNTY = "150000", "150400", "150404"


def status_is(client: NodeClient, case_id: str, status: str) -> Callable[[], bool]:
    return lambda: case_status(client, case_id) == status


def closed_by_the_county(ctx: Context, case: Case, _: object) -> list[Event]:
    """A decider that skips the rules: the county's 住建局 ends a case it no longer holds."""
    header = ctx.header(case.case_id, "150404.zj")
    return [CaseClosed(header=header, reason=CloseReason.PETITIONER_DECEASED, note="伪造")]


def test_county_close_of_a_case_held_by_its_city_is_refused_everywhere_over_the_broker(
    kafka: Broker, start_node: NodeFactory, topic_prefix: str
) -> None:
    nodes = {d: start_node(d) for d in (PROVINCE, CITY, COUNTY)}
    for node in nodes.values():
        node.wait_ready()
    api = {d: n.client for d, n in nodes.items()}
    case_id = run_slice(api[CITY], api[COUNTY], api[PROVINCE])
    api[CITY].post(
        f"/api/cases/{case_id}/review-request", {"actor": "150400.zj", "reasons": "不服处理意见"}
    )
    for division in (COUNTY, PROVINCE):
        wait_for(status_is(api[division], case_id, "REVIEW_REQUESTED"), f"{division} 收到复查请求")

    county = nodes[COUNTY]
    county.stop()  # its own service records the forged act in its own log and outbox
    settings = NodeSettings(
        division=COUNTY,
        bootstrap_servers=kafka.bootstrap_servers,
        topic_prefix=topic_prefix,
        data_dir=county.data_dir,
    )
    parts = node_parts(settings)
    try:
        [forged] = parts.service.execute(case_id, closed_by_the_county, None)
    finally:
        parts.service.store.close()
    assert forged.header.source == COUNTY
    county.start()
    county.wait_ready()

    # the county's next genuine record: a petition it registers, reported upward
    petition = {
        **PETITION,
        "actor": "150404.xfj",
        "petitioner": {"name": "王五", "address": "松山区另一小区", "contact": "13900000000"},
    }
    genuine = api[COUNTY].post("/api/cases", petition)["case_id"]
    for division in (CITY, PROVINCE):  # in order behind the forged record, at both levels
        wait_for(status_is(api[division], genuine, "REGISTERED"), f"{division} 收到下一条记录")

    def refused() -> list[Any]:
        letters = list_sync(kafka.bootstrap_servers, TopicNames(topic_prefix), CITY)
        return [x for x in letters if x.reason == "unauthorised-act"]

    [letter] = wait_for(refused, "赤峰市死信 unauthorised-act")
    assert f"150404.zj CaseClosed {case_id}: [XF-NOT-HOLDER]" in letter.detail
    assert "当前承办单位为 150400.zj" in letter.detail
    assert "does not currently hold" in letter.detail
    assert dict(letter.original_headers)["ce_id"].decode() == forged.header.event_id
    for division in (CITY, PROVINCE):  # never applied at the city nor passed to the province
        assert case_status(api[division], case_id) == "REVIEW_REQUESTED"
        timeline = api[division].get(f"/api/cases/{case_id}/timeline")["timeline"]
        assert "CaseClosed" not in [e["type"] for e in timeline]
    assert case_status(api[COUNTY], case_id) == "CLOSED"  # only in the forger's own store
    assert list_sync(kafka.bootstrap_servers, TopicNames(topic_prefix), PROVINCE) == []
