"""The node's log and outbox (protocols.NodeLog, Outbox): what the node publishes, on every
backend.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import exc

from xinfang.store.protocols import NodeLog, Outbox
from xinfang.store.records import Headers, Resent
from xinfang.store.unit_of_work import NodeStore
from xinfang.topics import RESENT_HEADER

from .store_world import ALL_BYTES, digest, event


def test_the_sql_role_implements_its_protocol(store: NodeStore) -> None:
    with store.transaction() as tx:
        assert isinstance(tx.log, NodeLog) and isinstance(store.outbox, Outbox)


def test_log_head_follows_append_log(store: NodeStore) -> None:
    with store.transaction() as tx:
        assert tx.log.head() == (0, "")
    prev = ""
    for seq in range(1, 4):
        with store.transaction() as tx:
            assert tx.log.head() == (seq - 1, prev)
            ev = event(seq=seq)
            data = f"payload-{seq}".encode() + ALL_BYTES
            prev = digest(data + prev.encode())
            tx.log.append(ev, data, prev)
            assert tx.log.head() == (seq, prev)  # visible inside its own transaction
    with store.transaction() as tx:
        assert tx.log.head() == (3, prev)
    assert store.stats()["log_events"] == 3


def test_several_events_in_one_transaction_get_consecutive_positions(store: NodeStore) -> None:
    with store.transaction() as tx:
        seq, prev = tx.log.head()
        for _ in range(5):
            seq += 1
            prev = digest(prev.encode() + str(seq).encode())
            tx.log.append(event(seq=seq), b"x", prev)
    with store.transaction() as tx:
        assert tx.log.head() == (5, prev)


def test_log_position_cannot_be_taken_twice(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.log.append(event(seq=1), b"a", "h1")
    with pytest.raises(exc.IntegrityError), store.transaction() as tx:
        tx.log.append(event(seq=1), b"b", "h1'")
    with store.transaction() as tx:
        assert tx.log.head() == (1, "h1")


def test_outbox_is_pending_in_enqueue_order_until_marked_sent(store: NodeStore) -> None:
    with store.transaction() as tx:
        for i in range(3):
            tx.log.enqueue(f"topic-{i % 2}", f"k{i}", f"v{i}".encode(), [("i", str(i).encode())])
    with store.transaction() as tx:
        tx.log.enqueue("topic-0", "k3", b"v3", [])
    pending = store.outbox.pending()
    assert [(r.topic, r.key, r.value) for r in pending] == [
        ("topic-0", "k0", b"v0"),
        ("topic-1", "k1", b"v1"),
        ("topic-0", "k2", b"v2"),
        ("topic-0", "k3", b"v3"),
    ]
    assert [r.headers for r in pending] == [[("i", b"0")], [("i", b"1")], [("i", b"2")], []]
    ids = [r.id for r in pending]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [r.id for r in store.outbox.pending(limit=2)] == ids[:2]
    store.outbox.mark_sent(ids[:2])
    store.outbox.mark_sent([])
    assert [r.id for r in store.outbox.pending()] == ids[2:]
    assert store.stats()["outbox_pending"] == 2
    store.outbox.mark_sent(ids)  # marking again is harmless
    assert store.outbox.pending() == []


def test_headers_keep_arbitrary_bytes(store: NodeStore) -> None:
    headers: Headers = [
        ("all", ALL_BYTES),
        ("empty", b""),
        ("not-utf8", b"\xff\xfe\x00\xc3\x28\x80"),
        ("中文", "事项".encode("gb18030")),
        ("all", b"same key twice"),
    ]
    with store.transaction() as tx:
        tx.log.enqueue("t", "k", b"\x00value\xff", headers)
        tx.inbox.park("e-1", "case-1", b"\x00parked\xff", headers)
    [row] = store.outbox.pending()
    assert (row.value, row.headers) == (b"\x00value\xff", headers)
    with store.transaction() as tx:
        assert tx.inbox.parked_for("case-1") == [("e-1", b"\x00parked\xff", headers)]


def test_a_set_aside_outbox_row_leaves_the_queue_until_it_is_resent(store: NodeStore) -> None:
    """Issue 10 item 10: what the relay sets aside is stored with its reason (migration 0005)."""
    with store.transaction() as tx:
        for key, value in (("c-1", b"a"), ("c-2", b"too large"), ("c-3", b"c")):
            tx.log.enqueue("t.log", key, value, [("ce_type", b"xinfang.events.CaseAccepted")])
    first, refused, last = store.outbox.pending()
    store.outbox.set_aside(refused.id, "record-too-large")
    store.outbox.mark_sent([first.id])
    assert store.outbox.pending() == [last]
    backlog = store.outbox.backlog()
    assert (backlog.pending, backlog.set_aside) == (1, {"record-too-large": 1})
    assert backlog.oldest_pending_at is not None and backlog.oldest_pending_at.tzinfo is not None
    [row] = store.outbox.set_aside_rows()
    assert (row.id, row.key, row.size, row.reason) == (refused.id, "c-2", 9, "record-too-large")
    assert row.event_type == "xinfang.events.CaseAccepted" and row.set_aside_at.tzinfo is not None
    assert (store.stats()["outbox_pending"], store.stats()["outbox_set_aside"]) == (1, 1)
    assert store.outbox.resend([first.id, 999]) == Resent([], [])  # neither is set aside
    assert store.outbox.resend([refused.id]) == Resent([refused.id], [])
    # back first in the queue, by its id, marked as re-sent for its receivers (decision 012)
    resent = replace(refused, headers=[*refused.headers, (RESENT_HEADER, b"1")])
    assert store.outbox.pending() == [resent, last]
    assert store.outbox.set_aside_rows() == [] and store.outbox.backlog().set_aside == {}


def test_a_set_aside_status_record_superseded_by_a_newer_one_is_not_resent(
    store: NodeStore,
) -> None:
    """On the compacted public status feed a late old record would overwrite the newer status of
    its case: it is closed as superseded instead (decision 012)."""
    with store.transaction() as tx:
        for topic, key in (
            ("t.public.status", "c-1"),
            ("t.log", "c-1"),
            ("t.public.status", "c-1"),
        ):
            tx.log.enqueue(topic, key, b"v", [])
        tx.log.enqueue("t.log", "c-2", b"w", [])
    old_status, log_row, new_status, other = store.outbox.pending()
    store.outbox.set_aside(old_status.id, "topic-not-authorised")
    store.outbox.set_aside(log_row.id, "topic-not-authorised")
    store.outbox.mark_sent([new_status.id, other.id])
    done = store.outbox.resend(None, lambda topic: topic == "t.public.status")
    assert done == Resent([log_row.id], [old_status.id])
    assert [r.id for r in store.outbox.pending()] == [log_row.id]
    assert store.outbox.set_aside_rows() == [] and store.outbox.backlog().set_aside == {}
