"""`GET /api/audit/status`: 审计 — what this node can answer cheaply of its chains (decision
034): its log head and last signed checkpoint, each direct source's chain position (last seq,
checkpoint, a refused record, records parked on a gap), the gap alarms of /health, the events
parked for causal order, records set aside, and the operator trail's head.

The node does not run or record `xinfang audit verify` (the auditor reads the logs on its own
machine and trusts only published keys, decision 024): `verify` says so, and the page shows
the node's own checks instead. Roles: auditors and audit administrators.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .models import Error

COUNTS = ("log_events", "case_events", "inbox", "parked", "chain_parked", "outbox_set_aside")
NOT_RECORDED = {
    "recorded": False,
    "message_zh": "节点不执行也不记录 audit verify；请在审计机上运行 xinfang audit verify",
    "message_en": "the node neither runs nor records audit verify; run xinfang audit verify "
    "on the auditor's machine",
}


class Checkpoint(BaseModel):
    seq: int
    head_seq: int
    at: str


class LogHead(BaseModel):
    head_seq: int
    head_hash: str
    checkpoint: Checkpoint | None
    since_checkpoint: int


class ChainSource(BaseModel):
    """A direct source's chain as this node holds it (decision 022)."""

    source: str
    last_seq: int
    last_hash: str
    checkpoint_seq: int | None
    refused: bool
    parked: int
    updated_at: str


class AuditStatus(BaseModel):
    """This node's chains (module doc); `verify.recorded` is false: see `verify.message_*`."""

    node: str
    name: str
    key_id: str | None
    status: str
    log: LogHead
    sources: list[ChainSource]
    parked_events: int
    chain: dict[str, Any]
    counts: dict[str, int]
    trail: dict[str, int]
    verify: dict[str, Any]


def audit_status(service: Any) -> dict[str, Any]:
    """The answer (shape in the module doc; times ISO 8601 UTC)."""
    division = service.topology.division(service.division)
    health = service.chain_health()
    trail = service.trail
    trail_seq = trail.head()[0] if trail is not None else 0
    stats = service.stats()
    return {
        "node": division.code,
        "name": division.name,
        "key_id": service.key_id,
        "status": health["status"],
        **service.audit_status(),
        "chain": health["chain"],
        "counts": {k: stats.get(k, 0) for k in COUNTS},
        "trail": {"head_seq": trail_seq, "pending": stats.get("trail_pending", 0)},
        "verify": NOT_RECORDED,
    }


def add_audit_status_route(app: FastAPI) -> None:
    """Add `GET /api/audit/status` (route name `audit_status`) to the node's app."""

    @app.get(
        "/api/audit/status",
        name="audit_status",
        operation_id="getAuditStatus",
        tags=["audit"],
        summary="本节点链与检查点状态 / this node's chains and checkpoints",
        responses={
            200: {"model": AuditStatus, "description": "状态 / status"},
            401: {"model": Error, "description": "未登录 / not signed in (XF-AUTH-REQUIRED)"},
            403: {"model": Error, "description": "非审计人员 / not an auditor (XF-FORBIDDEN)"},
        },
    )
    async def status(request: Request) -> JSONResponse:
        return JSONResponse(audit_status(request.app.state.api.service))
