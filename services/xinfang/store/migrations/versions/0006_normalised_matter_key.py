"""Cases: recompute the matter key (R11/R12) with the normalisation of DOMAIN.md §11.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Keys stored before this revision hashed the name, contact and request as typed, so the same
matter with a trailing 。, a zero-width space or no contact did not find its earlier case.
Each named case's key is recomputed from the file of its first stored event (the
registration, transfer or assignment that brought the case to this node), with
SHA-256 of `xinfang.domain.matter.matter_parts` (re-keyed under the node's index key at
start-up since issue 15); a payload the codec cannot read keeps its key.
Anonymous cases (key null) stay null. Downgrading leaves the new keys: the old code reads
them as keys like any other.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    from xinfang.codec.wire import DecodeError, EventCodec
    from xinfang.domain.events import CaseFile
    from xinfang.domain.matter import matter_parts

    def matter_key(file: CaseFile) -> str | None:  # the unkeyed key of its time; re-keyed at
        parts = matter_parts(file)  # start-up under the node's index key (issue 15 item 3)
        if parts is None:
            return None
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]

    conn = op.get_bind()
    cases = sa.table("cases", sa.column("case_id", sa.String), sa.column("matter_key", sa.String))
    events = sa.table(
        "case_events",
        sa.column("id", sa.Integer),
        sa.column("case_id", sa.String),
        sa.column("payload", sa.LargeBinary),
    )
    keyed = [
        str(r.case_id)
        for r in conn.execute(sa.select(cases.c.case_id).where(cases.c.matter_key.is_not(None)))
    ]
    if not keyed:
        return  # a new or anonymous-only database: no codec needed
    codec = EventCodec()
    for case_id in keyed:
        first = conn.execute(
            sa.select(events.c.payload)
            .where(events.c.case_id == case_id)
            .order_by(events.c.id)
            .limit(1)
        ).scalar()
        if first is None:
            continue
        try:
            file = getattr(codec.decode(bytes(first)).event, "file", None)
        except DecodeError:  # a payload this code cannot read: keep the key it had
            continue
        if isinstance(file, CaseFile):
            conn.execute(
                cases.update()
                .where(cases.c.case_id == case_id)
                .values(matter_key=matter_key(file))
            )


def downgrade() -> None:
    pass  # the recomputed keys are valid keys for the old code too
