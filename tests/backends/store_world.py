"""What the store contract tests share: probe events, a registered case, fixed times."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from xinfang.domain.case import Case
from xinfang.domain.events import CaseFile, Event, EventHeader, Petitioner
from xinfang.domain.vocabulary import CaseStatus, Category, Channel
from xinfang.store.tables import metadata

T0 = datetime(2026, 1, 5, 1, 0, 0, 123456, tzinfo=UTC)
ALL_BYTES = bytes(range(256))


def case_file() -> CaseFile:
    return CaseFile(
        title="小区供暖不达标",
        channel=Channel.ONLINE,
        category=Category.APPEAL,
        petitioner=Petitioner(name="张三", address="松山区某小区", contact="13800000000"),
        request="请求督促供热公司整改",
        facts="室温长期低于 18 度",
        reasons="违反供热条例",
        place="150404",
        received_at=T0,
    )


@dataclass(frozen=True, kw_only=True)
class Probe(Event):
    """An event as the store sees it: a header, a type name, an opaque payload."""

    TYPE: ClassVar[str] = "StoreProbe"


def event(
    case_id: str = "150400-2026-000001",
    seq: int = 0,
    event_id: str | None = None,
    at: datetime = T0,
) -> Event:
    header = EventHeader(
        event_id=event_id or str(uuid.uuid4()),
        case_id=case_id,
        source="150400",
        actor="150400.xfj",
        occurred_at=at,
        seq=seq,
    )
    return Probe(header=header)


def registered_case(case_id: str) -> Case:
    return Case(
        case_id=case_id,
        query_code="ABCD2345",
        file=case_file(),
        status=CaseStatus.REGISTERED,
        origin="150400",
        holder="150400.xfj",
        registered_at=T0,
        history=("e-1",),
    )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))
