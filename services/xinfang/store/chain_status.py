"""What a node's database says of its chains, cheaply (indexed reads, no payload decoding):
for the console's 审计 page (decision 034; api/audit_status_routes.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from .sql import utc
from .tables import chain_parked, chain_sources, log_events, parked

CHECKPOINT = "ChainCheckpointed"  # domain/events.py ChainCheckpointed.TYPE


def chain_status(engine: Engine) -> dict[str, Any]:
    """{"log": {head_seq, head_hash, checkpoint: {seq, head_seq, at} | None,
    since_checkpoint}, "sources": [{source, last_seq, last_hash, checkpoint_seq, refused,
    parked, updated_at}], "parked_events": n} — times ISO 8601 UTC; `head_seq` 0 and
    `head_hash` "" for an empty log; `since_checkpoint`: records after the last checkpoint."""
    with engine.connect() as conn:
        head = conn.execute(
            select(log_events.c.seq, log_events.c.hash).order_by(log_events.c.seq.desc()).limit(1)
        ).first()
        last = conn.execute(
            select(log_events.c.seq, log_events.c.occurred_at)
            .where(log_events.c.type == CHECKPOINT)
            .order_by(log_events.c.seq.desc())
            .limit(1)
        ).first()
        waiting: dict[str, int] = {
            str(r[0]): int(r[1])
            for r in conn.execute(
                select(chain_parked.c.source, func.count()).group_by(chain_parked.c.source)
            )
        }
        sources = conn.execute(select(chain_sources).order_by(chain_sources.c.source)).all()
        parked_events = int(conn.execute(select(func.count()).select_from(parked)).scalar_one())
    head_seq = int(head.seq) if head is not None else 0
    checkpoint: dict[str, Any] | None = None
    if last is not None:
        checkpoint = {
            "seq": int(last.seq),
            "head_seq": int(last.seq) - 1,
            "at": utc(last.occurred_at).isoformat(),
        }
    return {
        "log": {
            "head_seq": head_seq,
            "head_hash": str(head.hash) if head is not None else "",
            "checkpoint": checkpoint,
            "since_checkpoint": head_seq - (int(last.seq) if last is not None else 0),
        },
        "sources": [
            {
                "source": str(s.source),
                "last_seq": int(s.last_seq),
                "last_hash": str(s.last_hash),
                "checkpoint_seq": int(s.checkpoint_seq) if s.checkpoint_seq is not None else None,
                "refused": s.refused_before_seq is not None,
                "parked": int(waiting.get(s.source, 0)),
                "updated_at": utc(s.updated_at).isoformat(),
            }
            for s in sources
        ],
        "parked_events": parked_events,
    }
