"""An inbox copy for a recipient whose encryption key is not known is held, not sent unreadable,
and goes out wrapped once the key is published (decision 038).

The decision itself, then real services and stores on the in-process bus with the relay over a
stand-in producer (the real broker and node processes: tests/integration/test_key_wait.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from xinfang.domain.topology import Topology
from xinfang.node.case_sealer import MISSING, WRAP_HEADER, CaseKey
from xinfang.node.key_wait import KEY_MISSING, WAIT_HEADER, KeyWait, must_hold, needs_wrap
from xinfang.node.relay import OutboxRelay
from xinfang.node.service import NodeService
from xinfang.store.records import Headers

from .fakes import FakeBus
from .lifecycle import register

CITY, COUNTY, PROVINCE = "150400", "150404", "150000"


@pytest.mark.parametrize(
    ("key", "needed"), [(b"k" * 32, True), (None, False), (MISSING, False)]
)  # fmt: skip
def test_a_copy_needs_a_wrap_only_when_its_case_has_a_key(key: CaseKey, needed: bool) -> None:
    assert needs_wrap(key) is needed


@pytest.mark.parametrize(
    ("needs", "known", "earlier", "held"),
    [
        (True, False, False, True),  # would go out unreadable
        (True, True, False, False),
        (False, False, False, False),  # nothing to wrap (no key, or erased)
        (False, True, True, True),  # behind a held copy to the same division: order
        (True, True, True, True),
        (False, False, True, True),
    ],
)
def test_a_copy_is_held_when_it_would_be_unreadable_or_an_earlier_one_waits(
    needs: bool, known: bool, earlier: bool, held: bool
) -> None:
    assert must_hold(needs, known, earlier) is held


class Capture:
    """A stand-in producer: acknowledges every record and keeps it (topic, value, headers)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, Headers]] = []

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> Any:
        self.sent.append((topic, value, list(headers)))
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def stop(self) -> None:
        pass


class Relay(OutboxRelay):
    fake: Capture

    async def _ensure_producer(self) -> Any:
        return self.fake


class World:
    """Three nodes; the city's sealer sees the published keys in `known` (the county's is
    left out until `publish_county`), its copies go through a KeyWait and its relay."""

    def __init__(self, topology: Topology, tmp_path: Path) -> None:
        self.bus = FakeBus(topology, [PROVINCE, CITY, COUNTY], tmp_path)
        self.city: NodeService = self.bus.nodes[CITY]
        self.county: NodeService = self.bus.nodes[COUNTY]
        self.known = {d: k.public_raw for d, k in self.bus.enc_keys.items() if d != COUNTY}
        sealer = self.city.sealer
        assert sealer is not None
        sealer.published = self.known.get
        self.key_wait = self.new_key_wait()
        self.city.key_wait = self.key_wait
        self.relay = Relay(self.city.store, "unused:9092", "test", key_wait=self.key_wait)
        self.relay.fake = Capture()
        self.delivered: list[tuple[str, bytes, Headers, str]] = []  # with the outcome

    def new_key_wait(self) -> KeyWait:
        assert self.city.sealer is not None
        store = self.city.store
        return KeyWait(
            self.city.sealer, store.outbox, store.transaction, self.bus.topics, list(self.bus.nodes)
        )

    def publish_county(self) -> None:
        self.known[COUNTY] = self.bus.enc_keys[COUNTY].public_raw

    def transfer(self, name: str = "李四") -> str:
        petitioner = {"name": name, "address": "松山区某村", "contact": "13700000000"}
        case_id = register(self.bus, petitioner=petitioner)
        self.bus.run(CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
        return case_id

    def relay_city(self) -> None:
        """Run the city's relay until idle; deliver what it sent to the nodes' inboxes."""
        before = len(self.relay.fake.sent)
        for _ in range(10):
            if asyncio.run(self.relay.publish_pending()) == 0:
                break
        for topic, value, headers in self.relay.fake.sent[before:]:
            for division, node in self.bus.nodes.items():
                if topic == self.bus.topics.inbox(division):
                    outcome = node.receive(value, headers).value
                    self.delivered.append((topic, value, headers, outcome))
        self.bus.settle()

    def to_county(self) -> list[tuple[bytes, Headers, str]]:
        topic = self.bus.topics.inbox(COUNTY)
        return [(v, h, o) for t, v, h, o in self.delivered if t == topic]

    def dead_letters(self, division: str) -> list[str]:
        topic = self.bus.topics.deadletter(division)
        node = self.bus.nodes[division]
        return [
            dict(r.headers)["xinfang_dlq_reason"].decode()
            for r in node.store.outbox.pending(10_000)
            if r.topic == topic
        ]


def test_copies_wait_for_the_recipients_key_then_go_out_wrapped_in_order_and_apply_once(
    topology: Topology, tmp_path: Path
) -> None:
    w = World(topology, tmp_path)
    try:
        first, second = w.transfer(), w.transfer("王五")
        w.relay_city()

        # nothing went to the county unreadable; the province's copies flowed
        assert w.to_county() == []
        assert w.dead_letters(COUNTY) == []
        held = w.city.store.outbox.held_rows(KEY_MISSING, w.bus.topics.inbox(COUNTY), 100)
        assert [r.key for r in held] == [first, second]  # the transfers
        assert all(dict(r.headers)[WAIT_HEADER] == COUNTY.encode() for r in held)
        assert all(k != WRAP_HEADER for r in held for k, _ in r.headers)
        assert w.bus.nodes[PROVINCE].case(second).file.petitioner.name == "王五"
        health = w.relay.health()
        assert health["status"] == "degraded"
        relay: dict[str, Any] = health["relay"]  # type: ignore[assignment]
        assert relay["set_aside_reasons"] == {KEY_MISSING: 2}
        assert relay["waiting_for_keys"] == {COUNTY: 2}
        [alarm] = relay["alarms"]
        assert alarm.startswith(f"2 条发往 {COUNTY} 的记录等待其加密公钥")
        assert f"records to {COUNTY} wait for its encryption key" in alarm
        assert w.new_key_wait().waiting() == {COUNTY}  # a restarted node knows what waits

        # the key published: released by the relay itself, wrapped, in their original order
        w.publish_county()
        w.relay_city()
        arrived = w.to_county()
        assert [o for _, _, o in arrived] == ["applied"] * 2
        sent_ids = [dict(h)["ce_id"] for _, h, _ in arrived]
        assert sent_ids == [dict(r.headers)["ce_id"] for r in held]
        assert all(any(k == WRAP_HEADER for k, _ in h) for _, h, _ in arrived)
        assert all(k != WAIT_HEADER for _, h, _ in arrived for k, _ in h)
        for case_id, name in ((first, "李四"), (second, "王五")):
            opened = w.county.case(case_id).file.petitioner
            assert (opened.name, opened.contact) == (name, "13700000000")
        assert w.dead_letters(COUNTY) == []
        assert w.relay.health()["status"] == "ok"
        assert w.city.store.outbox.set_aside_rows() == []

        # a crash after publishing, before marking sent, publishes again (with the same or a
        # new wrap): the county's inbox knows the event id and applies nothing twice
        events = len(w.county.history(first))
        value, headers, _ = arrived[0]
        assert w.county.receive(value, headers).value == "duplicate"
        assert w.city.sealer is not None
        with w.city.store.transaction() as tx:
            fresh = w.city.sealer.wrap_for(tx, first, COUNTY)
        rewrapped = [*[(k, v) for k, v in headers if k != WRAP_HEADER], *fresh]
        assert rewrapped != headers
        assert w.county.receive(value, rewrapped).value == "duplicate"
        assert len(w.county.history(first)) == events
    finally:
        w.bus.close()


def test_an_operator_resend_of_a_held_copy_waits_again_and_is_wrapped_once_the_key_is_known(
    topology: Topology, tmp_path: Path
) -> None:
    w = World(topology, tmp_path)
    try:
        case_id = w.transfer()
        w.relay_city()
        held = [r.id for r in w.city.store.outbox.set_aside_rows()]
        assert len(held) == 1

        # `xinfang outbox resend --all` before the key is there: held again, not sent
        assert w.city.store.outbox.resend().requeued == held
        w.relay_city()
        assert w.to_county() == []
        assert [(r.id, r.reason) for r in w.city.store.outbox.set_aside_rows()] == [
            (i, KEY_MISSING) for i in held
        ]

        # the key published, the operator re-sends them: wrapped as they go out
        w.publish_county()
        assert w.city.store.outbox.resend().requeued == held
        w.relay_city()
        assert [o for _, _, o in w.to_county()] == ["applied"]
        assert w.county.case(case_id).file.petitioner.name == "李四"
        assert w.dead_letters(COUNTY) == []
        assert w.relay.health()["status"] == "ok"
    finally:
        w.bus.close()
