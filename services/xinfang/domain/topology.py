"""Administrative divisions and their bodies: data, not code.

Every node runs the same code; which division it is, its bodies, parent and
children all come from a topology (deploy/topology/*.yaml). Division codes are
the 6-digit GB/T 2260 codes and double as node ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import TopologyInvalid, UnknownBody, UnknownDivision


class Level(StrEnum):
    PROVINCE = "province"  # 省级
    CITY = "city"  # 市级
    COUNTY = "county"  # 县级

    @property
    def zh(self) -> str:
        return {"province": "省级", "city": "市级", "county": "县级"}[self.value]


class BodyKind(StrEnum):
    PETITION_OFFICE = "petition_office"  # 信访部门
    GOVERNMENT = "government"  # 人民政府
    DEPARTMENT = "department"  # 政府工作部门
    POLITICAL_LEGAL = "political_legal"  # 政法委
    DISCIPLINE = "discipline"  # 纪委监委


@dataclass(frozen=True)
class Body:
    """An organ inside a division (机关、单位). `id` is "<division>.<suffix>"."""

    id: str
    division: str
    kind: BodyKind
    name: str  # full Chinese name, e.g. 松山区住房和城乡建设局
    line: str  # 系统: bodies of the same line at different levels review each other


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: Level
    parent: str | None
    bodies: tuple[Body, ...] = field(default=())

    def petition_office(self) -> Body:
        for body in self.bodies:
            if body.kind is BodyKind.PETITION_OFFICE:
                return body
        raise UnknownBody(f"{self.name} 未配置信访部门", division=self.code)


@dataclass(frozen=True)
class BodyTemplate:
    suffix: str
    kind: BodyKind
    name: str
    line: str


class Topology:
    """The tree of divisions with their bodies. Immutable after construction."""

    def __init__(self, name: str, divisions: Iterable[Division]) -> None:
        self.name = name
        self._divisions: dict[str, Division] = {}
        self._bodies: dict[str, Body] = {}
        for division in divisions:
            if division.code in self._divisions:
                raise TopologyInvalid(f"重复的行政区划代码 {division.code}", division=division.code)
            self._divisions[division.code] = division
            for body in division.bodies:
                self._bodies[body.id] = body
        for division in self._divisions.values():
            if division.parent is not None and division.parent not in self._divisions:
                raise TopologyInvalid(
                    f"{division.code} 的上级 {division.parent} 不在拓扑中", division=division.code
                )

    # -- lookup -------------------------------------------------------------
    def division(self, code: str) -> Division:
        try:
            return self._divisions[code]
        except KeyError:
            raise UnknownDivision(code, division=code) from None

    def body(self, body_id: str) -> Body:
        try:
            return self._bodies[body_id]
        except KeyError:
            raise UnknownBody(body_id, body=body_id) from None

    def has_division(self, code: str) -> bool:
        return code in self._divisions

    def has_body(self, body_id: str) -> bool:
        return body_id in self._bodies

    @property
    def divisions(self) -> tuple[Division, ...]:
        return tuple(self._divisions.values())

    # -- tree ---------------------------------------------------------------
    def parent(self, code: str) -> str | None:
        return self.division(code).parent

    def children(self, code: str) -> tuple[str, ...]:
        return tuple(d.code for d in self._divisions.values() if d.parent == code)

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Parent, grandparent, … up to the root."""
        chain: list[str] = []
        current = self.parent(code)
        while current is not None:
            chain.append(current)
            current = self.parent(current)
        return tuple(chain)

    def is_within(self, code: str, ancestor: str) -> bool:
        """True if `code` is `ancestor` itself or lies below it (属地)."""
        return code == ancestor or ancestor in self.ancestors(code)

    def neighbours(self, code: str) -> tuple[str, ...]:
        parent = self.parent(code)
        return ((parent,) if parent else ()) + self.children(code)

    # -- construction from plain data (YAML/JSON) -----------------------------
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Topology:
        try:
            templates = [
                BodyTemplate(
                    suffix=str(t["suffix"]),
                    kind=BodyKind(t["kind"]),
                    name=str(t["name"]),
                    line=str(t.get("line", t["suffix"])),
                )
                for t in data.get("body_templates", [])
            ]
            divisions = []
            for raw in data["divisions"]:
                code = str(raw["code"])
                name = str(raw["name"])
                own = raw.get("bodies")
                chosen = (
                    [
                        BodyTemplate(
                            suffix=str(t["suffix"]),
                            kind=BodyKind(t["kind"]),
                            name=str(t["name"]),
                            line=str(t.get("line", t["suffix"])),
                        )
                        for t in own
                    ]
                    if own is not None
                    else templates
                )
                bodies = tuple(
                    Body(
                        id=f"{code}.{t.suffix}",
                        division=code,
                        kind=t.kind,
                        name=f"{name}{t.name}",
                        line=t.line,
                    )
                    for t in chosen
                )
                parent = raw.get("parent")
                divisions.append(
                    Division(
                        code=code,
                        name=name,
                        level=Level(raw["level"]),
                        parent=str(parent) if parent is not None else None,
                        bodies=bodies,
                    )
                )
        except (KeyError, ValueError, TypeError) as exc:
            raise TopologyInvalid(f"拓扑文件格式错误: {exc!r}") from exc
        return cls(str(data.get("name", "topology")), divisions)
