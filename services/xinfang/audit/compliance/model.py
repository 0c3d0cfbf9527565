"""What the compliance audit works on and produces: located events, obligation records,
findings and the report of one case (shapes shared by the checks, the metrics and the report
formats; the whole run's report is in auditor.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from ...domain.case import Case
from ...domain.deadlines import Obligation
from ...domain.events import CaseFile, Event

ONE_SECOND = timedelta(seconds=1)  # tolerance of every "later than" comparison


@dataclass(frozen=True)
class Located:
    """A case event and where the auditor read it."""

    event: Event
    node: str
    seq: int
    topic: str
    partition: int
    offset: int


DueStatus = Literal["on_time", "late", "overdue", "pending"]  # how an obligation stands


@dataclass
class ObligationRecord:
    case_id: str
    obligation: Obligation
    rule_id: str
    body: str
    opened_at: datetime
    due: datetime
    discharged_at: datetime | None = None
    discharged_by: str | None = None
    discharged_event: Located | None = None
    status: DueStatus = "pending"

    @property
    def division(self) -> str:
        return self.body.split(".", 1)[0]

    def days_late(self, now: datetime) -> float:
        end = self.discharged_at or now
        return max(0.0, (end - self.due).total_seconds() / 86400)

    @property
    def zh(self) -> str:
        return self.obligation.zh


@dataclass(frozen=True)
class ComplianceFinding:
    rule_id: str
    code: str
    case_id: str
    division: str
    zh: str
    en: str
    node: str | None = None
    seq: int | None = None
    topic: str | None = None
    offset: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "code": self.code,
            "case_id": self.case_id,
            "division": self.division,
            "message_zh": self.zh,
            "message_en": self.en,
            "node": self.node,
            "seq": self.seq,
            "topic": self.topic,
            "offset": self.offset,
        }


def finding(
    rule: str, code: str, case_id: str, division: str, zh: str, en: str,
    at: Located | None = None,
) -> ComplianceFinding:
    """A finding about `case_id`, located at the log record `at` when there is one."""
    return ComplianceFinding(
        rule, code, case_id, division, zh, en,
        at.node if at else None, at.seq if at else None,
        at.topic if at else None, at.offset if at else None,
    )  # fmt: skip


@dataclass
class CaseReport:
    case_id: str
    timeline: list[Located]
    case: Case | None
    obligations: list[ObligationRecord] = field(default_factory=list)
    error: str | None = None
    simplified: bool = False

    @property
    def file(self) -> CaseFile | None:
        if self.case is not None:
            return self.case.file
        for item in self.timeline:
            file = getattr(item.event, "file", None)
            if isinstance(file, CaseFile):
                return file
        return None

    @property
    def overdue(self) -> list[ObligationRecord]:
        return [o for o in self.obligations if o.status in ("late", "overdue")]
