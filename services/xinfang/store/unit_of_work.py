"""The node database by role, and the unit of work that spans the roles: everything one
decision (or one inbox batch) changes commits in one database transaction
(docs/decisions/015-store-by-role.md; the roles' Protocols are in protocols.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from ..domain.case import Case
from ..privacy.columns import ColumnCipher
from ..privacy.keyfile import DataKeyRing, DataKeys
from ..topics import TRAIL_SUFFIX
from .case_events import SqlCaseEvents, SqlCaseReads
from .case_keys import SqlCaseKeys
from .database import make_engine
from .idempotency import SqlIdempotencyKeys
from .inbox import SqlInbox
from .log_outbox import SqlNodeLog, SqlOutbox
from .protection import default_key_ring
from .records import ChainGap
from .sql import utc
from .tables import case_events, cases, chain_parked, inbox, log_events, outbox, parked
from .trail import SqlOperatorTrail


class SqlUnitOfWork:
    """`protocols.UnitOfWork` on one connection: `cases`, `log` and `inbox` share it.

    Appends that nothing reads back by query in the same unit — case events, case summaries,
    inbox entries, neighbours' chain heads and outbox rows — are kept by their role and
    written with one executemany per table by `flush()`, which the store calls just before
    COMMIT. A batch of inbound records then costs a handful of statements instead of ~8 per
    record (F1). A role's read that queries such a table flushes the whole unit first."""

    def __init__(self, conn: Connection, columns: ColumnCipher) -> None:
        self.conn = conn
        self.folded: dict[str, Case] = {}
        self.cases = SqlCaseEvents(conn, self.flush, columns)
        self.log = SqlNodeLog(conn)
        self.inbox = SqlInbox(conn)
        self.case_keys = SqlCaseKeys(conn)  # per-case data keys (decision 028)

    def flush(self) -> None:
        """Write the pending appends: summaries, case events, inbox, chain heads, outbox."""
        self.cases.flush()
        self.inbox.flush()
        self.log.flush()


class NodeStore:
    """`protocols.Store` over SQLAlchemy (SQLite or PostgreSQL, by URL).

    `keys` seal the protected columns (privacy/registry.py): the node's ring from bootstrap
    (or a function of the engine returning it); without it `protection.default_key_ring`."""

    def __init__(
        self,
        url: str,
        keys: DataKeyRing | DataKeys | Callable[[Engine], DataKeyRing] | None = None,
    ) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        try:
            if keys is None:
                keys = default_key_ring(self.engine)
            elif callable(keys):
                keys = keys(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self.keys = keys if isinstance(keys, DataKeyRing) else DataKeyRing(keys)
        self.columns = ColumnCipher(self.keys)
        self.cases = SqlCaseReads(self.engine, self.columns)
        self.outbox = SqlOutbox(self.engine)
        self.idempotency = SqlIdempotencyKeys(self.engine, self.columns)
        self.trail = SqlOperatorTrail(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        with self.engine.begin() as conn:
            uow = SqlUnitOfWork(conn, self.columns)
            yield uow
            uow.flush()

    def close(self) -> None:
        self.engine.dispose()

    def stats(self) -> dict[str, int]:
        with self.engine.connect() as conn:

            def count(stmt: Any) -> int:
                return int(conn.execute(stmt).scalar_one())

            waiting = outbox.c.sent_at.is_(None) & outbox.c.set_aside_at.is_(None)

            return {
                "cases": count(select(func.count()).select_from(cases)),
                "log_events": count(select(func.count()).select_from(log_events)),
                "case_events": count(select(func.count()).select_from(case_events)),
                "outbox_pending": count(  # waiting for the relay; set-aside rows are not
                    select(func.count())
                    .select_from(outbox)
                    .where(waiting, ~outbox.c.topic.endswith(TRAIL_SUFFIX))
                ),
                "trail_pending": count(  # operator trail entries waiting (decision 027)
                    select(func.count())
                    .select_from(outbox)
                    .where(waiting, outbox.c.topic.endswith(TRAIL_SUFFIX))
                ),
                "outbox_set_aside": count(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.sent_at.is_(None), outbox.c.set_aside_at.is_not(None))
                ),
                "inbox": count(select(func.count()).select_from(inbox)),
                "parked": count(select(func.count()).select_from(parked)),
                "chain_parked": count(select(func.count()).select_from(chain_parked)),
            }

    def chain_gaps(self) -> list[ChainGap]:
        """Per direct source with records parked on a chain gap: what is waited for, since when."""
        stmt = select(
            chain_parked.c.source,
            func.min(chain_parked.c.prev_seq).label("waiting_for"),
            func.count().label("parked"),
            func.min(chain_parked.c.parked_at).label("since"),
        ).group_by(chain_parked.c.source)
        with self.engine.connect() as conn:
            return [
                ChainGap(str(r.source), int(r.waiting_for), int(r.parked), utc(r.since))
                for r in conn.execute(stmt.order_by(chain_parked.c.source))
            ]
