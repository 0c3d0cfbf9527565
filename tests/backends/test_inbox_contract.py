"""The inbox (protocols.Inbox): inbox entries, parked events and neighbours' chain heads — what
the node consumed — on every backend.
"""

from __future__ import annotations

import pytest
from sqlalchemy import exc

from xinfang.store.protocols import Inbox
from xinfang.store.records import ChainSource
from xinfang.store.unit_of_work import NodeStore


def test_the_sql_role_implements_its_protocol(store: NodeStore) -> None:
    with store.transaction() as tx:
        assert isinstance(tx.inbox, Inbox)


def test_inbox_entry_and_mark_received(store: NodeStore) -> None:
    with store.transaction() as tx:
        assert tx.inbox.entry("e-1") is None
        tx.inbox.mark_received("e-1", "hash-1", "150400", "parked")
        assert tx.inbox.entry("e-1") == ("hash-1", "parked")
    with store.transaction() as tx:
        tx.inbox.mark_received("e-1", "hash-other", "150400", "applied")  # status moves; hash stays
        tx.inbox.mark_received("e-2", "hash-2", "150000", "applied")
    with store.transaction() as tx:
        assert tx.inbox.entry("e-1") == ("hash-1", "applied")
        assert tx.inbox.entry("e-2") == ("hash-2", "applied")
    assert store.stats()["inbox"] == 2


def test_park_parked_for_unpark(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.inbox.park("e-b", "case-1", b"first", [("n", b"1")])
        tx.inbox.park("e-c", "case-2", b"other case", [])
    with store.transaction() as tx:
        tx.inbox.park("e-a", "case-1", b"second", [("n", b"2")])
    with store.transaction() as tx:
        assert tx.inbox.parked_for("case-1") == [
            ("e-b", b"first", [("n", b"1")]),
            ("e-a", b"second", [("n", b"2")]),
        ]
        assert tx.inbox.parked_for("case-3") == []
        tx.inbox.unpark("e-b")
        tx.inbox.unpark("e-unknown")
    with store.transaction() as tx:
        assert [e for e, _, _ in tx.inbox.parked_for("case-1")] == ["e-a"]
    assert store.stats()["parked"] == 2
    with pytest.raises(exc.IntegrityError), store.transaction() as tx:
        tx.inbox.park("e-a", "case-1", b"again", [])


def test_prefetched_inbox_entries_answer_like_single_lookups(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.inbox.mark_received("e-1", "hash-1", "150404", "applied")
    with store.transaction() as tx:
        tx.inbox.prefetch(["e-1", "e-2", "e-1"])
        assert tx.inbox.entry("e-1") == ("hash-1", "applied")
        assert tx.inbox.entry("e-2") is None
        assert tx.inbox.entry("e-3") is None  # not prefetched: looked up on its own
        tx.inbox.mark_received("e-2", "hash-2", "150400", "applied")
        assert tx.inbox.entry("e-2") == ("hash-2", "applied")
    assert store.stats()["inbox"] == 2


def test_has_parked_counts_earlier_parks_and_this_transactions_own(store: NodeStore) -> None:
    with store.transaction() as tx:
        tx.inbox.park("e-1", "case-1", b"waiting", [])
    with store.transaction() as tx:
        assert tx.inbox.has_parked("case-1")
        assert not tx.inbox.has_parked("case-2")
        tx.inbox.park("e-2", "case-2", b"waiting too", [])
        assert tx.inbox.has_parked("case-2")


def test_chain_sources_keep_every_field_and_move_on(store: NodeStore) -> None:
    first = ChainSource("150404", 3, "ab" * 32, "cd" * 32, 2)
    with store.transaction() as tx:
        assert tx.inbox.chain_source("150404") is None
        tx.inbox.save_chain_source(first)
        tx.inbox.save_chain_source(ChainSource("150000", 9, "ef" * 32))
    later = ChainSource("150404", 4, "12" * 32, "cd" * 32, 2)
    with store.transaction() as tx:
        assert tx.inbox.chain_source("150404") == first
        assert tx.inbox.chain_source("150000") == ChainSource("150000", 9, "ef" * 32, None, None)
        tx.inbox.save_chain_source(later)
    with store.transaction() as tx:
        assert tx.inbox.chain_source("150404") == later
        assert tx.inbox.chain_source("150403") is None
