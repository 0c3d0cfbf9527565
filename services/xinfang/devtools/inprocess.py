"""An in-process message bus that moves outbox rows between node services.

It stands in for Kafka in unit tests of the application layer and computes the
fault-free reference of `make chaos`; integration tests use the real broker. Its nodes are
wired by xinfang.bootstrap like a running node's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..bootstrap import service_for
from ..chain.keys import Keyring, NodeKey
from ..codec.wire import EventCodec
from ..domain.clock import ManualClock
from ..domain.topology import Topology
from ..node.checkpoints import ChainKeeper
from ..privacy.case_sealer import CaseSealer
from ..privacy.envelope import RecipientKey
from ..store.records import Headers
from ..store.unit_of_work import NodeStore
from ..topics import TopicNames


class InProcessBus:
    def __init__(
        self,
        topology: Topology,
        divisions: list[str],
        tmp: Path,
        database_url: Callable[[str], str] | None = None,  # division -> URL; default SQLite
        rules_dir: Path | None = None,  # default deploy/rules
        sealed: bool = True,  # personal fields sealed with case keys, wrapped (decision 028)
    ) -> None:
        self.topics = TopicNames("t.")
        self.clock = ManualClock()
        codec = EventCodec()
        url = database_url or (lambda d: f"sqlite:///{tmp / f'{d}.db'}")
        # every node signs; each publishes its key to the others (decision 021)
        self.keys = {d: NodeKey.generate() for d in divisions}
        self.keyring = Keyring({d: k.public_raw for d, k in self.keys.items()})
        self.enc_keys = {d: RecipientKey.generate() for d in divisions}
        stores = {d: NodeStore(url(d)) for d in divisions}

        def sealer(d: str) -> CaseSealer | None:
            if not sealed:
                return None
            public = {e: k.public_raw for e, k in self.enc_keys.items()}
            # the store's own key ring, as bootstrap.sealer_for: a rotation moves the case keys
            return CaseSealer(d, stores[d].columns, self.enc_keys[d], public.get, self.clock)

        self.nodes = {
            d: service_for(
                d,
                topology,
                stores[d],
                codec=codec,
                topics=self.topics,
                clock=self.clock,
                rules_dir=rules_dir,
                chain=ChainKeeper(d, topology, signer=self.keys[d], keyring=self.keyring),
                sealer=sealer(d),
            )
            for d in divisions
        }
        self.published: dict[str, list[bytes]] = {}
        self.delivered: dict[str, list[tuple[bytes, Headers]]] = {}  # values with headers

    def settle(self, max_rounds: int = 50) -> None:
        """Deliver outbox rows until every outbox is empty."""
        for _ in range(max_rounds):
            moved = False
            for node in self.nodes.values():
                rows = node.store.outbox.pending()
                for row in rows:
                    self.published.setdefault(row.topic, []).append(row.value)
                    self.delivered.setdefault(row.topic, []).append((row.value, row.headers))
                    for division, target in self.nodes.items():
                        if row.topic == self.topics.inbox(division):
                            target.receive(row.value, row.headers)
                node.store.outbox.mark_sent([r.id for r in rows])
                moved = moved or bool(rows)
            if not moved:
                return
        raise AssertionError("bus did not settle")

    def close(self) -> None:
        for node in self.nodes.values():
            node.store.close()

    def sweep(self) -> int:
        """Run every node's deadline watcher once, then deliver what it recorded."""
        recorded = sum(node.sweep_deadlines() for node in self.nodes.values())
        self.settle()
        return recorded

    def run(self, division: str, case_id: str, command: str, body: dict[str, object]) -> list[str]:
        """Execute an API command at a node (as its HTTP handler would) and deliver the result."""
        from ..commands import BY_NAME
        from ..commands.limits import TimeBounds

        spec = BY_NAME[command]
        node = self.nodes[division]
        bounds = TimeBounds.for_node(node.context().now, node.calendar)
        events = node.execute(case_id, spec.decide, spec.parse(body, bounds))
        self.settle()
        return [e.type for e in events]
