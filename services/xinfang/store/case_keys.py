"""The `case_keys` table within a unit of work (issue 15 item 4, decision 028): each case's
data key as the node's at-rest cipher sealed it; erasure (crypto-shredding) nulls the key and
keeps when. The clear keys a transaction added or erased are kept here until it commits
(`pending`, `erased`), for the node's cache (privacy/case_sealer.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from .sql import utc
from .tables import case_keys, cases


@dataclass(frozen=True)
class CaseKeyRow:
    case_id: str
    sealed_key: str | None  # None once erased
    created_at: datetime
    erased_at: datetime | None


@dataclass
class SqlCaseKeys:
    conn: Connection
    pending: dict[str, bytes] = field(default_factory=dict)  # clear keys added in this unit
    erased: set[str] = field(default_factory=set)  # cases whose key this unit erased

    def get(self, case_id: str) -> CaseKeyRow | None:
        row = self.conn.execute(
            select(case_keys).where(case_keys.c.case_id == case_id)
        ).first()
        if row is None:
            return None
        erased = utc(row.erased_at) if row.erased_at is not None else None
        return CaseKeyRow(row.case_id, row.sealed_key, utc(row.created_at), erased)

    def put(self, case_id: str, sealed_key: str, clear: bytes, at: datetime) -> None:
        self.conn.execute(
            insert(case_keys).values(
                case_id=case_id, sealed_key=sealed_key, created_at=at, erased_at=None
            )
        )
        self.pending[case_id] = clear

    def erase(self, case_id: str, at: datetime) -> None:
        """Delete the key material (crypto-shredding); the row keeps `erased_at`."""
        self.conn.execute(
            update(case_keys)
            .where(case_keys.c.case_id == case_id)
            .values(sealed_key=None, erased_at=at)
        )
        self.pending.pop(case_id, None)
        self.erased.add(case_id)

    def closed_unerased(self) -> list[str]:
        """Ids of the closed cases whose key is still held, in order (retention candidates)."""
        stmt = (
            select(case_keys.c.case_id)
            .join(cases, cases.c.case_id == case_keys.c.case_id)
            .where(case_keys.c.erased_at.is_(None), cases.c.status == "CLOSED")
            .order_by(case_keys.c.case_id)
        )
        return [str(r) for r in self.conn.execute(stmt).scalars()]
