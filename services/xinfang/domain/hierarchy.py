"""上一级: which body reviews (复查) or re-reviews (复核) a decision (Arts. 35–36).

The Regulations send a 复查 request to "原办理机关、单位的上一级机关、单位" and a
复核 request to the body one level above the reviewer. DOMAIN.md §1 reads that,
for this topology, as:

* a department (政府工作部门) is reviewed by the department of the same `line`
  in the parent division, or by the government (人民政府) of its own division —
  which of the two is tried first is the `prefer` option ("same_line" or
  "government"); the other is the fallback;
* a government is reviewed by the government of the parent division;
* petition offices (信访部门) are treated like departments; the political-legal
  committee and the discipline commission are reviewed only within their own
  line (a 人民政府 does not review the Party organs);
* nothing above: NoHigherLevel (XF-NO-HIGHER-LEVEL).

Explicit overrides (body id → reviewer body id) come from data and win over
the rules above.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, cast, get_args

from .errors import InvalidInput
from .rule_errors import NoHigherLevel
from .topology import Body, BodyKind, Topology

Prefer = Literal["same_line", "government"]
PREFER_OPTIONS: tuple[str, ...] = get_args(Prefer)

# Kinds whose review may fall back to (or prefer) the government of their own division.
GOVERNMENT_REVIEWS: frozenset[BodyKind] = frozenset({BodyKind.DEPARTMENT, BodyKind.PETITION_OFFICE})


class ReviewHierarchy:
    """The 上一级 mapping for 复查/复核 over a topology. Immutable after construction."""

    def __init__(
        self,
        topology: Topology,
        prefer: Prefer = "same_line",
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        if prefer not in PREFER_OPTIONS:
            raise InvalidInput(
                f"prefer 只能是 {' 或 '.join(PREFER_OPTIONS)}: {prefer!r}", prefer=prefer
            )
        self.topology = topology
        self.prefer: Prefer = prefer
        checked: dict[str, str] = {}
        for body_id, reviewer_id in (overrides or {}).items():
            topology.body(body_id)  # UnknownBody if not in the topology
            topology.body(reviewer_id)
            if body_id == reviewer_id:
                raise InvalidInput(f"{body_id} 不能复查自己的决定", body=body_id)
            checked[body_id] = reviewer_id
        self.overrides: Mapping[str, str] = checked

    def reviewer(self, body_id: str) -> Body:
        """The body one level above `body_id` that reviews its decisions."""
        body = self.topology.body(body_id)
        override = self.overrides.get(body_id)
        if override is not None:
            return self.topology.body(override)
        same_line = self._same_line_above(body)
        government = self._own_government(body)
        if body.kind in GOVERNMENT_REVIEWS:
            candidates = (
                [same_line, government] if self.prefer == "same_line" else [government, same_line]
            )
        else:
            candidates = [same_line]
        for candidate in candidates:
            if candidate is not None:
                return candidate
        division = self.topology.division(body.division)
        raise NoHigherLevel(f"{body.name}（{division.level.zh}）", body=body_id)

    def review_chain(self, handling_body_id: str) -> tuple[Body, Body]:
        """(复查 body, 复核 body) for a decision of `handling_body_id`."""
        review = self.reviewer(handling_body_id)
        return review, self.reviewer(review.id)

    # -- construction from plain data (YAML/JSON) -----------------------------
    @classmethod
    def from_mapping(cls, topology: Topology, data: Mapping[str, object] | None) -> ReviewHierarchy:
        """Build from {"prefer": "same_line" | "government", "overrides": {body: reviewer}}."""
        data = data or {}
        unknown = sorted(set(data) - {"prefer", "overrides"})
        if unknown:
            raise InvalidInput(f"复查层级配置中有未知的键: {', '.join(unknown)}")
        prefer = data.get("prefer", "same_line")
        if not isinstance(prefer, str) or prefer not in PREFER_OPTIONS:
            raise InvalidInput(f"prefer 只能是 {' 或 '.join(PREFER_OPTIONS)}: {prefer!r}")
        overrides = data.get("overrides") or {}
        if not isinstance(overrides, Mapping):
            raise InvalidInput("overrides 必须是 机关id → 复查机关id 的映射")
        pairs = {str(k): str(v) for k, v in overrides.items()}
        return cls(topology, cast(Prefer, prefer), pairs)

    # -- helpers ------------------------------------------------------------------
    def _same_line_above(self, body: Body) -> Body | None:
        """The body of the same line (for a government: the government) one division up."""
        parent = self.topology.parent(body.division)
        if parent is None:
            return None
        for candidate in self.topology.division(parent).bodies:
            if body.kind is BodyKind.GOVERNMENT:
                if candidate.kind is BodyKind.GOVERNMENT:
                    return candidate
            elif candidate.line == body.line:
                return candidate
        return None

    def _own_government(self, body: Body) -> Body | None:
        for candidate in self.topology.division(body.division).bodies:
            if candidate.kind is BodyKind.GOVERNMENT and candidate.id != body.id:
                return candidate
        return None
