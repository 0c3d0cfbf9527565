"""R17: accusation material never goes to (or is supervised over) the accused unit or its
division; an accusation whose accused unit is not named goes only to a discipline organ of
the routing office's level or above (DOMAIN.md §11). Shared by the deciders, the inbound
routing checks and the auditor."""

from __future__ import annotations

from .case import Case
from .context import Context
from .events import CaseFile
from .lifecycle_errors import AccusedUnitExcluded, AccusedUnitUnknown
from .topology import Body, BodyKind
from .vocabulary import Category


def accused_division(file: CaseFile) -> str | None:
    """R17: the division of the accused unit, for accusations against a body we know."""
    if file.category is Category.ACCUSATION and file.accused_body:
        return file.accused_body.split(".", 1)[0]
    return None


def is_accused(file: CaseFile, body: Body) -> bool:
    """R17: `body` is the accused unit of an accusation or a body of its division."""
    accused = accused_division(file)
    return accused is not None and (body.id == file.accused_body or body.division == accused)


def unnamed_accusation(file: CaseFile) -> bool:
    return file.category is Category.ACCUSATION and not file.accused_body


def not_to_accused(ctx: Context, case: Case, target: Body) -> None:
    """R17 for routing: never to the accused unit or its division; an accusation whose
    accused unit is not named goes only to a discipline organ of this level or above
    (it may be about any body below, DOMAIN.md §11)."""
    if is_accused(case.file, target):
        raise AccusedUnitExcluded(
            f"{target.name} 为被检举控告单位或其所在地", to_body=target.id, case=case.case_id
        )
    if unnamed_accusation(case.file) and not (
        target.kind is BodyKind.DISCIPLINE and ctx.topology.is_within(ctx.division, target.division)
    ):
        raise AccusedUnitUnknown(f"{target.name} 不是本级或上级纪检监察机关", to_body=target.id)


def may_supervise_over(file: CaseFile, body: Body) -> bool:
    """R17 for 督办 (DOMAIN.md §11): a supervision over an accusation is never addressed to
    the accused unit or its division; when the accused unit is not named, only to a
    discipline organ or a petition office (the only bodies such an accusation reaches)."""
    if is_accused(file, body):
        return False
    return not unnamed_accusation(file) or body.kind in (
        BodyKind.DISCIPLINE,
        BodyKind.PETITION_OFFICE,
    )
