"""`GET /api/cases` as the workbench pages it (decision 034): the visible rows filtered, sorted
by the nearest running deadline in the server and cut to one page, with the total and the
counts per urgency and category of the whole filtered set (before the urgency filter).

A row's deadline is the one its holder runs now, as the console shows it: the routing (R1,
Art. 22), acceptance (R3, Art. 23) or handling (R5, Art. 34) deadline of the case's status
unless it is final, and an unanswered supervision (R16, Art. 40) to the person's body.
"Due soon" is within two days (colour only: the rules decide nothing here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import Field

from ..domain.case import Case
from ..domain.vocabulary import Category
from . import models as m

SOON = timedelta(days=2)
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000
SORTS = ("case_id", "deadline")
URGENCIES = ("overdue", "soon", "ok", "none")
BY_STATUS = {  # status -> (deadline field, rule)
    "REGISTERED": ("route_due", "R1"),
    "OBJECTED": ("route_due", "R1"),
    "TRANSFERRED": ("acceptance_due", "R3"),
    "ASSIGNED": ("acceptance_due", "R3"),
    "ACCEPTED": ("handling_due", "R5"),
}

# the query parameters of GET /api/cases (api/web.py); out of bounds: 422
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数 / page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="跳过条数 / rows skipped")]
Sort = Annotated[
    Literal["case_id", "deadline"], Query(description="deadline：最近期限在前 / nearest first")
]
Mine = Annotated[bool, Query(description="仅待本机关办理 / awaiting my body only")]
CategoryParam = Annotated[Category | None, Query(description="类别 / category")]
UrgencyParam = Annotated[
    Literal["overdue", "soon", "ok", "none"] | None, Query(description="紧急程度 / urgency")
]
Search = Annotated[str | None, Query(max_length=100, description="编号或标题 / id or title")]


@dataclass(frozen=True)
class ListQuery:
    """The query of one page: `limit` 1–1000, `offset` 0–1,000,000, `sort` case_id|deadline,
    `mine` (awaiting an act of the person's body), `category`, `urgency`, `q` (id or title)."""

    limit: int = MAX_LIMIT
    offset: int = 0
    sort: str = "case_id"
    mine: bool = False
    category: str | None = None
    urgency: str | None = None
    q: str | None = None


class ListedCase(m.CaseRow):
    """A row of the list: the case's columns and the deadline the person's body runs."""

    title: str
    category: str
    holder: str
    due: str | None = Field(description="最近期限 / nearest deadline (ISO 8601)")
    rule: str | None = Field(description="期限所依规则 / its rule: R1, R3, R5, R16")
    awaiting: bool = Field(description="待本机关办理 / awaiting an act of my body")
    urgency: str = Field(description="overdue | soon (两日内 / within 2 days) | ok | none")


class ListCounts(m.Answer):
    urgency: dict[str, int] = Field(description="按紧急程度 / per urgency (before that filter)")
    category: dict[str, int] = Field(description="按类别 / per category")


class CasePage(m.Answer):
    """One page; `total` counts every row the filters keep."""

    cases: list[ListedCase]
    total: int
    limit: int
    offset: int
    counts: ListCounts


def next_deadline(case: Case, body: str | None) -> tuple[datetime | None, str | None, bool]:
    """(due, rule, awaiting): the nearest deadline `body` runs on the case now and whether
    the case awaits an act of `body` (it holds it, not final, or owes a supervision answer)."""
    found: list[tuple[datetime, str]] = []
    holds = not case.final and not case.closed and case.holder == body
    step = BY_STATUS.get(case.status.value)
    if holds and step is not None:
        due = getattr(case, step[0])
        if due is not None:
            found.append((due, step[1]))
    owed = [s for s in case.supervisions if not s.answered and s.to_body == body]
    found += [(s.answer_due, "R16") for s in owed]
    if not found:
        return None, None, holds or bool(owed)
    due, rule = min(found)
    return due, rule, True


def urgency(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "none"
    if due < now:
        return "overdue"
    return "soon" if due < now + SOON else "ok"


def page(rows: list[dict[str, Any]], query: ListQuery, now: datetime) -> dict[str, Any]:
    """`rows` (each with `due`, `rule`, `awaiting` set by `next_deadline`, times aware)
    filtered, counted, sorted and cut to the page; times as ISO 8601 strings."""
    needle = (query.q or "").strip().lower()
    scoped = [
        r for r in rows
        if (not query.mine or r["awaiting"])
        and (query.category is None or r["category"] == query.category)
        and (not needle or needle in r["case_id"].lower() or needle in str(r["title"]).lower())
    ]  # fmt: skip
    for r in scoped:
        r["urgency"] = urgency(r["due"], now)
    counts = {u: sum(r["urgency"] == u for r in scoped) for u in URGENCIES}
    categories: dict[str, int] = {}
    for r in scoped:
        categories[r["category"]] = categories.get(r["category"], 0) + 1
    chosen = [r for r in scoped if query.urgency is None or r["urgency"] == query.urgency]
    if query.sort == "deadline":  # nearest first; no deadline last; then by id
        chosen.sort(key=lambda r: (r["due"] is None, r["due"] or now, r["case_id"]))
    window = chosen[query.offset : query.offset + query.limit]
    for r in window:
        for key in ("updated_at", "next_check_at", "due"):
            r[key] = r[key].isoformat() if r[key] is not None else None
    return {
        "cases": window,
        "total": len(chosen),
        "limit": query.limit,
        "offset": query.offset,
        "counts": {"urgency": counts, "category": categories},
    }
