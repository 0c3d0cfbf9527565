"""What the node publishes, in SQL: its own hash-chained log and the outbox (with set-aside
rows, decision 012)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from ..domain.events import Event
from ..topics import RESENT_HEADER
from .records import Headers, OutboxRow, RelayBacklog, Resent, SetAsideRow
from .sql import headers_from_json, headers_to_json, now, upsert, utc
from .tables import chain_pointers, log_events, outbox

_LOG_HEAD = select(log_events.c.seq, log_events.c.hash).order_by(log_events.c.seq.desc()).limit(1)
_INSERT_LOG = insert(log_events)
_INSERT_OUTBOX = insert(outbox)
_PENDING_OUTBOX = (
    select(outbox)
    .where(outbox.c.sent_at.is_(None), outbox.c.set_aside_at.is_(None))
    .order_by(outbox.c.id)
    .limit(bindparam("b_limit"))
)
_MARK_SENT = update(outbox).where(outbox.c.id == bindparam("b_id"))
_POINTER = select(chain_pointers.c.last_seq).where(
    chain_pointers.c.destination == bindparam("b_destination")
)


class SqlNodeLog:
    """`protocols.NodeLog` on one connection. Log entries are written at once (the next
    decision reads the head); outbox rows are kept until `flush()` (one executemany)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._outbox: list[dict[str, Any]] = []
        self._pointers: dict[str, int] = {}
        self._pointers_changed: set[str] = set()

    def flush(self) -> None:
        if self._outbox:
            self.conn.execute(_INSERT_OUTBOX, self._outbox)
            self._outbox = []
        if self._pointers_changed:
            rows = [
                {"destination": d, "last_seq": self._pointers[d]}
                for d in sorted(self._pointers_changed)
            ]
            self.conn.execute(upsert(self.conn.dialect.name, chain_pointers), rows)
            self._pointers_changed.clear()

    def last_sent_to(self, destination: str) -> int:
        if destination not in self._pointers:
            row = self.conn.execute(_POINTER, {"b_destination": destination}).first()
            self._pointers[destination] = int(row.last_seq) if row else 0
        return self._pointers[destination]

    def sent_to(self, destination: str, seq: int) -> None:
        self._pointers[destination] = seq
        self._pointers_changed.add(destination)

    def head(self) -> tuple[int, str]:
        row = self.conn.execute(_LOG_HEAD).first()
        return (int(row.seq), str(row.hash)) if row else (0, "")

    def append(self, event: Event, payload: bytes, digest: str) -> None:
        self.conn.execute(
            _INSERT_LOG,
            {
                "seq": event.header.seq,
                "event_id": event.header.event_id,
                "case_id": event.case_id,
                "type": event.type,
                "occurred_at": utc(event.header.occurred_at),
                "payload": payload,
                "hash": digest,
            },
        )

    def entry_type(self, seq: int) -> str | None:
        row = self.conn.execute(select(log_events.c.type).where(log_events.c.seq == seq)).first()
        return str(row.type) if row else None

    def enqueue(
        self, topic: str, key: str, value: bytes, headers: Headers, set_aside: str | None = None
    ) -> None:
        at = now()
        self._outbox.append(
            {
                "topic": topic,
                "key": key,
                "value": value,
                "headers": headers_to_json(headers),
                "created_at": at,
                # written held (node/key_wait.py): every row names both, for one executemany
                "set_aside_at": at if set_aside else None,
                "set_aside_reason": set_aside,
            }
        )


class SqlOutbox:
    """`protocols.Outbox`: the relay's and operators' side, each call its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pending(self, limit: int = 500) -> list[OutboxRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(_PENDING_OUTBOX, {"b_limit": limit})
            return [
                OutboxRow(
                    int(r.id),
                    str(r.topic),
                    str(r.key),
                    bytes(r.value),
                    headers_from_json(r.headers),
                )
                for r in rows
            ]

    def mark_sent(self, ids: list[int]) -> None:
        if not ids:
            return
        sent_at = now()
        with self.engine.begin() as conn:
            conn.execute(_MARK_SENT, [{"b_id": i, "sent_at": sent_at} for i in ids])

    def set_aside(self, row_id: int, reason: str) -> None:
        """Take one unsent row out of the relay's queue, with the reason (it stays stored)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.sent_at.is_(None))
                .values(set_aside_at=now(), set_aside_reason=reason)
            )

    def set_aside_rows(self) -> list[SetAsideRow]:
        """Rows set aside and not re-sent, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.set_aside_at.is_not(None), outbox.c.sent_at.is_(None))
                .order_by(outbox.c.id)
            )
            found = []
            for r in rows:
                headers = dict(headers_from_json(r.headers))
                found.append(
                    SetAsideRow(
                        int(r.id),
                        str(r.topic),
                        str(r.key),
                        len(r.value),
                        headers.get("ce_type", b"").decode("utf-8", "replace"),
                        str(r.set_aside_reason or ""),
                        utc(r.set_aside_at),
                    )
                )
            return found

    def resend(
        self,
        ids: Iterable[int] | None = None,
        latest_per_key: Callable[[str], bool] = lambda _topic: False,
    ) -> Resent:
        """Put set-aside rows (all when `ids` is None) back in the relay's queue, where their
        low ids place them first, marked with RESENT_HEADER.

        On a topic where only the latest record per key counts (`latest_per_key(topic)`: the
        compacted public status feed), a row with a newer row of the same key is not re-sent —
        it would overwrite the newer value — but closed as superseded."""
        chosen = [r.id for r in self.set_aside_rows()]
        if ids is not None:
            wanted = set(ids)
            chosen = [i for i in chosen if i in wanted]
        if not chosen:
            return Resent([], [])
        newer = outbox.alias("newer")
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(outbox.c.id, outbox.c.topic, outbox.c.headers, newer.c.id.label("newer"))
                .outerjoin(
                    newer,
                    (newer.c.topic == outbox.c.topic)
                    & (newer.c.key == outbox.c.key)
                    & (newer.c.id > outbox.c.id),
                )
                .where(outbox.c.id.in_(chosen))
            )
            requeue: dict[int, dict[str, Any]] = {}
            superseded: set[int] = set()
            for row in rows:
                if row.newer is not None and latest_per_key(str(row.topic)):
                    superseded.add(int(row.id))
                    continue
                headers = headers_from_json(row.headers)
                if all(k != RESENT_HEADER for k, _ in headers):
                    headers.append((RESENT_HEADER, b"1"))
                requeue[int(row.id)] = {"b_id": row.id, "headers": headers_to_json(headers)}
            requeue = {i: v for i, v in requeue.items() if i not in superseded}
            if requeue:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == bindparam("b_id"), outbox.c.sent_at.is_(None))
                    .values(set_aside_at=None, set_aside_reason=None),
                    list(requeue.values()),
                )
            if superseded:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(superseded))
                    .values(sent_at=now(), set_aside_reason="superseded")
                )
        return Resent(sorted(requeue), sorted(superseded))

    def held_by_topic(self, reason: str) -> dict[str, int]:
        """Rows set aside with `reason` and not sent, counted per topic."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.topic, func.count())
                .where(outbox.c.set_aside_reason == reason, outbox.c.sent_at.is_(None))
                .group_by(outbox.c.topic)
            )
            return {str(topic): int(n) for topic, n in rows}

    def held_rows(self, reason: str, topic: str, limit: int) -> list[OutboxRow]:
        """The oldest `limit` rows for `topic` set aside with `reason` and not sent."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(
                    outbox.c.set_aside_reason == reason,
                    outbox.c.topic == topic,
                    outbox.c.sent_at.is_(None),
                    outbox.c.set_aside_at.is_not(None),
                )
                .order_by(outbox.c.id)
                .limit(limit)
            )
            return [
                OutboxRow(int(r.id), str(r.topic), str(r.key), bytes(r.value),
                          headers_from_json(r.headers))
                for r in rows
            ]  # fmt: skip

    def requeue(self, rows: Sequence[tuple[int, Headers]]) -> None:
        """Give unsent rows these headers and put them (back) in the relay's queue, in one
        transaction (node/key_wait.py: held copies, now wrapped)."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == bindparam("b_id"), outbox.c.sent_at.is_(None))
                .values(set_aside_at=None, set_aside_reason=None),
                [{"b_id": i, "headers": headers_to_json(h)} for i, h in rows],
            )

    def backlog(self) -> RelayBacklog:
        with self.engine.connect() as conn:
            waiting = conn.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.sent_at.is_(None), outbox.c.set_aside_at.is_(None)
                )
            ).one()
            reasons = conn.execute(
                select(outbox.c.set_aside_reason, func.count())
                .where(outbox.c.set_aside_at.is_not(None), outbox.c.sent_at.is_(None))
                .group_by(outbox.c.set_aside_reason)
            )
            return RelayBacklog(
                int(waiting[0]),
                utc(waiting[1]) if waiting[1] is not None else None,
                {str(reason): int(n) for reason, n in reasons},
            )
