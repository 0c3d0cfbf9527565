"""Refusals of the case lifecycle, each tied to the rule (R1–R19) it enforces."""

from __future__ import annotations

from .errors import DomainError


class AccusedUnitExcluded(DomainError):
    code = "XF-R17-ACCUSED-EXCLUDED"
    zh = "检举控告材料不得转给被检举控告的单位或其所在地 (R17)"
    en = "Accusation material must never go to the accused unit or its division (R17)"


class AccusedUnitUnknown(DomainError):
    """R17 when the registrar could not name the accused unit (DOMAIN.md §11): the accusation
    goes only to a discipline organ (纪检监察) of the routing office's level or above, and only
    such an organ or a petition office is supervised over it."""

    code = "XF-R17-ACCUSED-UNKNOWN"
    zh = "未载明被检举控告单位的检举控告事项，只能转交本级或上级纪检监察机关 (R17)"
    en = (
        "An accusation whose accused unit is not named goes only to a discipline organ "
        "(纪检监察) at the routing office's level or above (R17)"
    )


class NotIssuer(DomainError):
    """送达 is recorded only by the body that issued the document (DOMAIN.md §11)."""

    code = "XF-NOT-ISSUER"
    zh = "文书送达只能由出具该文书的机关记录"
    en = "Only the body that issued a document records its service"


class DuplicateInProgress(DomainError):
    code = "XF-R12-IN-PROGRESS"
    zh = "同一信访事项正在办理中，上级机关不予受理 (R12)"
    en = "The same matter is already in progress; a superior does not accept it again (R12)"


class FinalAfterReReview(DomainError):
    code = "XF-R11-FINAL"
    zh = "复核后以同一事实和理由提出的，不再受理 (R11)"
    en = "After re-review the same facts and reasons are not accepted again (R11)"


class VisitSkipsLevels(DomainError):
    code = "XF-R13-VISIT-SKIPS-LEVEL"
    zh = "走访应向有权处理的本级或上一级机关提出，越级走访不予受理 (R13)"
    en = "Visits go to the competent level or the one above; skipping further is refused (R13)"


class TooManyRepresentatives(DomainError):
    code = "XF-R14-REPRESENTATIVES"
    zh = "多人走访同一事项，推选代表超过上限 (R14)"
    en = "Too many representatives for a collective visit (R14)"


class ObjectionTooLate(DomainError):
    code = "XF-R4-OBJECTION-LATE"
    zh = "异议须在收到之日起 5 个工作日内提出 (R4)"
    en = "An objection must be made within 5 working days of receipt (R4)"


class WindowClosed(DomainError):
    code = "XF-WINDOW-CLOSED"
    zh = "请求期限已届满 (R7/R9)"
    en = "The request window has closed (R7/R9)"


class WrongReviewer(DomainError):
    code = "XF-WRONG-REVIEWER"
    zh = "复查、复核应由上一级机关受理"
    en = "Review and re-review go to the body one level above"


class SameOpinionAfterRevocation(DomainError):
    code = "XF-SAME-OPINION-AFTER-REVOCATION"
    zh = "原处理意见被撤销后，不得作出与原意见相同的处理意见"
    en = "After revocation the body may not issue the same opinion again"


class AlreadyDone(DomainError):
    code = "XF-ALREADY-DONE"
    zh = "该事项已完成此步骤"
    en = "This step was already taken for the case"


class NotSimpleCase(DomainError):
    code = "XF-R18-NOT-SIMPLE"
    zh = "简易办理只适用于初次信访、事实清楚的简单事项，且须在收到之日起 3 个工作日内受理 (R18)"
    en = "Simplified handling is for first-time simple items accepted within 3 working days (R18)"
