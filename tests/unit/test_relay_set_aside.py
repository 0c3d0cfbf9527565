"""The relay sets aside what the broker will never accept and keeps publishing (issue 10 item 10).

Classification of publish errors, and the relay over a real node store with a stand-in producer
(the real broker is in tests/integration/test_relay_set_aside.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiokafka import errors

from xinfang.audit.verify import Auditor, AuditResult
from xinfang.codec.wire import EventCodec
from xinfang.domain import commands as c
from xinfang.domain import deciders as d
from xinfang.domain.topology import Topology
from xinfang.node.inbox import InboxConsumer
from xinfang.node.publish_errors import never_succeeds
from xinfang.node.relay import OutboxRelay
from xinfang.store.unit_of_work import NodeStore
from xinfang.topics import RESENT_HEADER

from .audit_world import COUNTY, World
from .fakes import FakeBus
from .lifecycle import register


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (errors.MessageSizeTooLargeError("client-side: over max_request_size"), "record-too-large"),
        (errors.MessageSizeTooLargeError(), "record-too-large"),  # the broker's error 10
        (errors.RecordTooLargeError(), "record-too-large"),
        (errors.RecordListTooLargeError(), "record-too-large"),
        (errors.TopicAuthorizationFailedError("xinfang.150400.log"), "topic-not-authorised"),
        (errors.ClusterAuthorizationFailedError(), "cluster-not-authorised"),
        (errors.InvalidTopicError(), "invalid-topic"),
        (errors.CorruptRecordException(), "invalid-record"),
        # transient: an outage, retried as before
        (errors.KafkaConnectionError(), None),
        (errors.NotEnoughReplicasError(), None),
        (errors.NotEnoughReplicasAfterAppendError(), None),
        (errors.LeaderNotAvailableError(), None),
        (errors.NotLeaderForPartitionError(), None),
        (errors.RequestTimedOutError(), None),
        (errors.KafkaTimeoutError(), None),
        (errors.OutOfOrderSequenceNumber(), None),  # after a refused batch: reset and retry
        (ConnectionRefusedError(), None),
        (TimeoutError(), None),
    ],
)
def test_errors_that_never_succeed_are_told_from_outages(
    error: BaseException, reason: str | None
) -> None:
    assert never_succeeds(error) == reason


def test_an_unknown_topic_is_permanent_only_once_it_stays_unknown() -> None:
    unknown = errors.UnknownTopicOrPartitionError()
    assert never_succeeds(unknown, unknown_for_s=0.0, grace_s=120) is None
    assert never_succeeds(unknown, unknown_for_s=119.9, grace_s=120) is None
    assert never_succeeds(unknown, unknown_for_s=120.0, grace_s=120) == "unknown-topic"


class FakeProducer:
    """Accepts records up to `limit` bytes; refuses larger ones as the producer does (in send,
    before anything is sent); `outage` makes every acknowledgement fail as a lost broker."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.outage = False
        self.topics: dict[str, list[bytes]] = {}

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        if len(value) > self.limit:
            raise errors.MessageSizeTooLargeError(f"{len(value)} > {self.limit}")
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self.outage:
            future.set_exception(errors.KafkaConnectionError("broker gone"))
        else:
            self.topics.setdefault(topic, []).append(value)
            future.set_result(None)
        return future

    async def stop(self) -> None:
        pass


class Relay(OutboxRelay):
    fake: FakeProducer

    async def _ensure_producer(self) -> Any:
        return self.fake


def _relay(tmp_path: Path, limit: int) -> tuple[Relay, NodeStore]:
    store = NodeStore(f"sqlite:///{tmp_path / 'node.sqlite3'}")
    relay = Relay(store, "unused:9092", "test")
    relay.fake = FakeProducer(limit)
    return relay, store


def _enqueue(store: NodeStore, *records: tuple[str, str, bytes]) -> None:
    with store.transaction() as tx:
        for topic, key, value in records:
            tx.log.enqueue(topic, key, value, [("ce_type", b"xinfang.events.PetitionRegistered")])


async def _drain(relay: OutboxRelay) -> None:
    for _ in range(10):
        if await relay.publish_pending() == 0:
            return
    raise AssertionError("relay did not drain")


def test_an_oversize_record_is_set_aside_later_records_flow_and_a_resend_publishes_it(
    tmp_path: Path,
) -> None:
    relay, store = _relay(tmp_path, limit=100)
    big = b"B" * 500
    _enqueue(store, ("log", "case-1", b"a"), ("log", "case-2", big), ("log", "case-3", b"c"))
    _enqueue(store, ("log", "case-2", b"later event of case-2"))
    asyncio.run(_drain(relay))

    # the later records went out, in order; the oversize one is set aside with its reason
    assert relay.fake.topics["log"] == [b"a", b"c", b"later event of case-2"]
    [row] = store.outbox.set_aside_rows()
    assert (row.key, row.size, row.reason) == ("case-2", 500, "record-too-large")
    assert row.event_type == "xinfang.events.PetitionRegistered"
    health = relay.health()
    assert health["status"] == "degraded"
    assert health["relay"]["set_aside"] == 1  # type: ignore[index]
    assert health["relay"]["set_aside_reasons"] == {"record-too-large": 1}  # type: ignore[index]
    assert "record-too-large" in health["relay"]["alarms"][0]  # type: ignore[index]
    assert store.stats()["outbox_pending"] == 0 and store.stats()["outbox_set_aside"] == 1

    # a restart does not retry it (it is stored as set aside), nor jam the rest
    again = Relay(store, "unused:9092", "test")
    again.fake = relay.fake
    _enqueue(store, ("log", "case-4", b"d"))
    asyncio.run(_drain(again))
    assert relay.fake.topics["log"][-1] == b"d"
    assert again.health()["status"] == "degraded"

    # the cause fixed (a larger limit), the operator re-sends it: published, health ok
    relay.fake.limit = 1000
    assert store.outbox.resend([row.id]).requeued == [row.id]
    asyncio.run(_drain(again))
    assert relay.fake.topics["log"][-1] == big
    assert store.outbox.set_aside_rows() == []
    assert again.health()["status"] == "ok"


def test_an_outage_is_retried_and_never_sets_anything_aside(tmp_path: Path) -> None:
    relay, store = _relay(tmp_path, limit=100)
    relay.fake.outage = True
    _enqueue(store, ("log", "case-1", b"a"))
    with pytest.raises(errors.KafkaConnectionError):
        asyncio.run(relay.publish_pending())
    assert store.outbox.set_aside_rows() == []
    assert store.stats()["outbox_pending"] == 1
    relay.fake.outage = False
    asyncio.run(_drain(relay))
    assert relay.fake.topics["log"] == [b"a"]


def test_a_relay_whose_oldest_row_waits_too_long_is_reported_stuck(tmp_path: Path) -> None:
    relay, store = _relay(tmp_path, limit=100)
    relay.stuck_after_s = 0.0
    _enqueue(store, ("log", "case-1", b"a"))
    health = relay.health()
    assert health["status"] == "degraded"
    assert health["relay"]["stuck"] is True  # type: ignore[index]
    asyncio.run(_drain(relay))
    assert relay.health()["status"] == "ok"


def _dead_letter_reasons(bus: Any, division: str) -> list[str]:
    topic = bus.topics.deadletter(division)
    return [
        dict(r.headers)["xinfang_dlq_reason"].decode()
        for r in bus.nodes[division].store.outbox.pending(10_000)
        if r.topic == topic
    ]


def test_a_resent_record_is_applied_by_its_receiver_after_later_ones_of_its_source(
    topology: Topology, tmp_path: Path
) -> None:
    """The receiving neighbour parks the later events of the case meanwhile, then applies the
    re-sent one and them; its chain check (decision 006) does not refuse it as replayed."""
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    try:
        city, county = bus.nodes["150400"], bus.nodes["150404"]
        case_id = register(bus)
        bus.run("150400", case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
        county.execute(case_id, d.decide_accept, c.AcceptCase("150404.zj"))
        [copy] = [
            r
            for r in county.store.outbox.pending()
            if r.topic == bus.topics.inbox("150400")
            and dict(r.headers)["ce_type"] == b"xinfang.events.CaseAccepted"
        ]
        county.store.outbox.set_aside(copy.id, "record-too-large")  # as the relay would
        bus.run(
            "150404",
            case_id,
            "opinion",
            {"actor": "150404.zj", "outcome": "SUPPORTED", "opinion": "经核查属实"},
        )
        assert city.case(case_id).status.value == "TRANSFERRED"  # the opinion waits (parked)
        assert city.store.stats()["chain_parked"] > 0  # on the county's chain (decision 022)

        assert county.store.outbox.resend().requeued == [copy.id]
        bus.settle()
        assert city.case(case_id).status.value == "OPINION_ISSUED"
        assert city.store.stats()["parked"] == city.store.stats()["chain_parked"] == 0
        assert _dead_letter_reasons(bus, "150400") == []

        # a replay of a sequence number already received stays refused, re-send mark or not
        replay = [(k, v) for k, v in copy.headers] + [(RESENT_HEADER, b"1")]
        forged = EventCodec().decode(copy.value).event
        again = EventCodec().encode(
            replace(forged, header=replace(forged.header, event_id="replayed"))
        )
        assert city.receive(again, replay).value == "dead_lettered"
        # refused before its chain is looked at: the county never signed it (decision 021)
        assert _dead_letter_reasons(bus, "150400") == ["bad-signature"]
    finally:
        bus.close()


def test_audit_verify_warns_of_a_resent_record_but_still_refuses_one_merely_out_of_order(
    topology: Topology, tmp_path: Path
) -> None:
    """A log record set aside and re-sent lands after later ones: a warning, not a violation;
    the same position without the re-send mark stays a violation (seq-out-of-order)."""
    world = World(topology, tmp_path)
    world.handled_case()
    records = world.records(COUNTY)
    assert len(records) >= 3
    moved = [records[0], *records[2:], records[1]]  # seq 2 re-sent after the rest
    marked = [*moved[:-1], replace(moved[-1], headers=(*moved[-1].headers, (RESENT_HEADER, b"1")))]

    def verify(log: list[Any]) -> AuditResult:
        auditor = Auditor(world.topology, world.keyring)
        auditor.feed_log(COUNTY, log)
        return auditor.finish()

    late = verify(marked)
    assert late.violations == [], [f.line() for f in late.violations]
    assert [(f.code, f.seq) for f in late.warnings if f.code == "seq-resent-late"] == [
        ("seq-resent-late", 2)
    ]
    plain = verify(moved)
    assert [(f.code, f.seq) for f in plain.violations] == [("seq-out-of-order", 2)]


def test_an_inbox_consumer_that_keeps_failing_is_reported_degraded() -> None:
    """The same kind on the consuming side: a topic the node may not read is retried like an
    outage, but /health says so once it has failed for longer than the stuck threshold."""

    class Refused(InboxConsumer):
        attempts = 0

        async def _start(self) -> Any:
            Refused.attempts += 1
            raise errors.TopicAuthorizationFailedError("xinfang.150400.inbox")

    inbox = Refused(None, "unused:9092", "xinfang.150400.inbox", "g", "c")  # type: ignore[arg-type]
    assert inbox.health(stuck_after_s=0.0)["status"] == "ok"

    async def until_failed_twice() -> None:
        task = asyncio.create_task(inbox.run())
        try:
            while Refused.attempts < 2:
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(asyncio.wait_for(until_failed_twice(), 10))
    health = inbox.health(stuck_after_s=0.0)
    assert health["status"] == "degraded"
    assert "TopicAuthorizationFailedError" in health["inbox_consumer"]["last_error"]  # type: ignore[index]
    assert inbox.health(stuck_after_s=3600)["status"] == "ok"  # not yet long enough


def test_outbox_cli_lists_and_resends_set_aside_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xinfang.cli import main

    monkeypatch.setenv("XINFANG_LANG", "zh")
    store = NodeStore(f"sqlite:///{tmp_path / 'node-150400.sqlite3'}")
    _enqueue(store, ("t.log", "150400-2026-000001", b"x" * 2000))
    [row] = store.outbox.pending()
    store.outbox.set_aside(row.id, "record-too-large")
    base = ["outbox", "--division", "150400", "--data-dir", str(tmp_path)]
    assert main([*base, "set-aside"]) == 0
    out = capsys.readouterr().out
    assert "1 条被搁置的记录 / 1 set-aside records" in out
    assert f"#{row.id}" in out and "record-too-large" in out and "150400-2026-000001" in out
    assert main([*base, "resend", "--id", str(row.id), "--id", "99"]) == 1  # 99: not set aside
    err = capsys.readouterr().err
    assert "这些编号不是被搁置的记录" in err and "[99]" in err
    assert store.outbox.set_aside_rows() == []
    assert [r.id for r in store.outbox.pending()] == [row.id]
    missing = ["outbox", "--division", "150400", "--data-dir", str(tmp_path / "typo")]
    assert main([*missing, "set-aside"]) == 2
    assert "没有节点数据库" in capsys.readouterr().err
    store.close()


class BatchingBroker(FakeProducer):
    """Acknowledges per batch, as the broker does: every record sent in one event-loop tick is
    one batch, refused as a whole (MESSAGE_TOO_LARGE) when one of its records is over
    `broker_limit`."""

    def __init__(self, broker_limit: int) -> None:
        super().__init__(limit=10**9)
        self.broker_limit = broker_limit
        self.batch: list[tuple[str, bytes, asyncio.Future[object]]] = []

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if not self.batch:
            asyncio.get_running_loop().call_soon(self._flush)
        self.batch.append((topic, value, future))
        return future

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        refused = any(len(value) > self.broker_limit for _, value, _ in batch)
        for topic, value, future in batch:
            if refused:
                future.set_exception(errors.MessageSizeTooLargeError())
            else:
                self.topics.setdefault(topic, []).append(value)
                future.set_result(None)


def test_records_that_only_shared_a_refused_batch_go_out_the_oversize_one_is_set_aside(
    tmp_path: Path,
) -> None:
    relay, store = _relay(tmp_path, limit=0)
    relay.fake = BatchingBroker(broker_limit=100)
    _enqueue(store, ("log", "case-1", b"a"), ("log", "case-2", b"B" * 500), ("log", "case-3", b"c"))
    asyncio.run(_drain(relay))
    assert relay.fake.topics["log"] == [b"a", b"c"]
    set_aside = store.outbox.set_aside_rows()
    assert [(r.key, r.reason) for r in set_aside] == [("case-2", "record-too-large")]
