"""What every report format shares: labels (Chinese first), Beijing local time, percentages,
division and body names, HTML escaping."""

from __future__ import annotations

import html
import re
from datetime import datetime

from ...domain.calendar import BEIJING
from ...domain.events import CaseFile, Event
from ...domain.topology import Topology
from ...domain.vocabulary import SupervisionLevel
from ...domain.vocabulary import zh as vocab_zh
from ...presentation import summary_zh
from ...privacy.sealing import MARK, SEALED, is_sealed
from ..compliance import DueStatus

LEVELS = {"province": 0, "city": 1, "county": 2}


LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级"}


STATUS_ZH: dict[DueStatus, str] = {
    "on_time": "按期",
    "late": "逾期履行",
    "overdue": "超期未履行",
    "pending": "未到期",
}


SUPERVISION_ZH = {level.value: vocab_zh(level) for level in SupervisionLevel}  # ladder order


def local(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def name_of(topology: Topology, code: str) -> str:
    if topology.has_division(code):
        return topology.division(code).name
    if topology.has_body(code):
        return topology.body(code).name
    return code


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


_SEALED_TEXT = re.compile(re.escape(MARK) + r"[A-Za-z0-9_-]+")


def title_of(file: CaseFile | None) -> str:
    """A case's title as an auditor may see it: the sealed text of a title (decision 028: the
    auditor holds no case key) shows as 〔已加密 / sealed〕, not as ciphertext."""
    if file is None:
        return ""
    return SEALED if is_sealed(file.title) else file.title


def summary_of(event: Event, topology: Topology) -> str:
    """presentation.summary_zh of `event`, each sealed field in it shown as 〔已加密 / sealed〕."""
    return _SEALED_TEXT.sub(SEALED, summary_zh(event, topology))
