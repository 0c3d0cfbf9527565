"""The elements of each document, from a case's events (DOMAIN.md §§3–6; decision 033).

A document rests on one act: the latest event of its type in the case (a 受理告知书 on the
CaseAccepted, a 复查意见书 on the ReviewDecided …). Without that act there is no document
(DocumentNotAvailable, 409). Every element comes from the events, the topology (names of
bodies and places), the rules (windows and their articles) and the review hierarchy (who
reviews): printing the same document again gives the same text, date and number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ..domain.calendar import local_date
from ..domain.errors import XinfangError
from ..domain.events import (
    CaseAccepted,
    CaseAssigned,
    CaseFile,
    CaseNotAccepted,
    CaseTransferred,
    Event,
    HandlingExtended,
    HandlingOpinionIssued,
    PetitionRegistered,
    ReReviewDecided,
    ReviewDecided,
    SupervisionIssued,
)
from ..domain.hierarchy import ReviewHierarchy
from ..domain.personal.masking import mask_address, mask_contact, mask_name
from ..domain.rules import REGULATIONS, RuleSet
from ..domain.topology import Topology
from ..domain.vocabulary import ReviewResult, zh
from .errors import DocumentNotAvailable
from .kinds import DocumentKind
from .numbering import document_number

# The act each kind rests on (the latest event of that type in the case).
ACTS: dict[DocumentKind, type[Event]] = {
    DocumentKind.ACCEPTANCE: CaseAccepted,
    DocumentKind.NON_ACCEPTANCE: CaseNotAccepted,
    DocumentKind.TRANSFER: CaseTransferred,
    DocumentKind.ASSIGNMENT: CaseAssigned,
    DocumentKind.HANDLING_OPINION: HandlingOpinionIssued,
    DocumentKind.EXTENSION: HandlingExtended,
    DocumentKind.REVIEW_OPINION: ReviewDecided,
    DocumentKind.RE_REVIEW_OPINION: ReReviewDecided,
    DocumentKind.SUPERVISION: SupervisionIssued,
}
# Documents addressed to a body (函), not to the petitioner (告知书、意见书).
TO_BODIES = frozenset({DocumentKind.TRANSFER, DocumentKind.ASSIGNMENT, DocumentKind.SUPERVISION})
FINALITY = f"{REGULATIONS}第三十六条第三款"  # R11: not accepted again after 复核


@dataclass(frozen=True)
class Paper:
    """One document's elements, ready for a template (documents/templates/).

    Dates are Beijing dates; `extra` holds the kind's own elements (e.g. `handling_due`,
    `reasons`, `to_body`), already as text. `personal_masked`: the petitioner's name,
    address and contact are masked (a reader who is not of the issuing body).
    """

    kind: DocumentKind
    case_id: str
    number: str  # 文号
    issuer_id: str
    issuer: str  # the issuing body's name (topology)
    issued_on: date
    addressee: str  # the petitioner's name, or the receiving body's
    to_petitioner: bool
    petitioner_name: str
    petitioner_address: str
    petitioner_contact: str
    personal_masked: bool
    title: str
    channel: str
    category: str
    place: str
    received_on: date
    request: str
    facts: str
    reasons: str
    legal_basis: str  # the articles the document rests on
    rights: str | None  # the right to request 复查/复核: body and window; or finality
    extra: Mapping[str, str] = field(default_factory=dict)


def cn_date(day: date) -> str:
    """2026年11月29日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _day(moment: datetime | None) -> str:
    return cn_date(local_date(moment)) if moment is not None else "—"


def _latest(events: Sequence[Event], kind: DocumentKind) -> Event | None:
    wanted = ACTS[kind]
    return next((e for e in reversed(events) if isinstance(e, wanted)), None)


def available(events: Sequence[Event]) -> list[DocumentKind]:
    """The kinds the case has the act for now, in the order of DocumentKind."""
    return [kind for kind in DocumentKind if _latest(events, kind) is not None]


def _file(events: Sequence[Event]) -> CaseFile:
    for event in events:
        if isinstance(event, PetitionRegistered | CaseTransferred | CaseAssigned):
            return event.file
    raise DocumentNotAvailable("事项尚未登记 / the case is not registered")


class _Names:
    """Names of bodies and places, and who reviews whom, without failing a document on a
    body the topology no longer has (its id is printed instead)."""

    def __init__(self, topology: Topology, reviewers: ReviewHierarchy) -> None:
        self.topology = topology
        self.reviewers = reviewers

    def body(self, body_id: str) -> str:
        try:
            return self.topology.body(body_id).name
        except XinfangError:
            return body_id

    def place(self, code: str) -> str:
        try:
            return self.topology.division(code).name
        except XinfangError:
            return code

    def reviewer(self, body_id: str) -> str | None:
        """The body one level above `body_id` (Arts. 35–36), None at the top."""
        try:
            return self.reviewers.reviewer(body_id).name
        except XinfangError:
            return None


def compose(
    kind: DocumentKind,
    case_id: str,
    events: Sequence[Event],
    topology: Topology,
    rules: RuleSet,
    reviewers: ReviewHierarchy | None = None,
    reader_body: str | None = None,
) -> Paper:
    """The elements of `kind` for the case whose events (in case order) are `events`.

    `reader_body`: the body of the person printing; the petitioner's personal data is in
    full only for the issuing body's staff (it sends the document out), masked for every
    other reader (PIPL Art. 51; DOMAIN.md §10). DocumentNotAvailable (409) when the case has
    no act of the kind."""
    act = _latest(events, kind)
    if act is None:
        raise DocumentNotAvailable(f"{kind.zh} / {kind.en}", case=case_id, kind=kind.value)
    file = _file(events)
    names = _Names(topology, reviewers or ReviewHierarchy(topology))
    issuer_id = _issuer(act)
    extra, legal_basis, rights = _elements(kind, act, events, names, rules)
    petitioner = file.petitioner
    full = reader_body == issuer_id
    name = petitioner.name if petitioner.name and not petitioner.anonymous else None
    shown_name = (name if full else mask_name(name)) if name else "匿名信访人"
    addressee = names.body(extra["to_body_id"]) if kind in TO_BODIES else shown_name
    return Paper(
        kind=kind,
        case_id=case_id,
        number=document_number(kind, act, topology),
        issuer_id=issuer_id,
        issuer=names.body(issuer_id),
        issued_on=local_date(act.header.occurred_at),
        addressee=addressee,
        to_petitioner=kind not in TO_BODIES,
        petitioner_name=shown_name,
        petitioner_address=_shown(petitioner.address, full, mask_address),
        petitioner_contact=_shown(petitioner.contact, full, mask_contact),
        personal_masked=not full,
        title=file.title,
        channel=zh(file.channel),
        category=zh(file.category),
        place=names.place(file.place),
        received_on=local_date(file.received_at),
        request=file.request,
        facts=file.facts,
        reasons=file.reasons,
        legal_basis=legal_basis,
        rights=rights,
        extra={k: v for k, v in extra.items() if k != "to_body_id"},
    )


def _shown(value: str | None, full: bool, mask: Callable[[str], str]) -> str:
    if not value:
        return "—"
    return value if full else mask(value)


def _issuer(act: Event) -> str:
    """The body that issues the document: the act's deciding body."""
    if isinstance(act, ReviewDecided | ReReviewDecided):
        return act.reviewer
    if isinstance(act, CaseAccepted | CaseNotAccepted | HandlingExtended | HandlingOpinionIssued):
        return act.body
    return act.header.actor  # 转送、交办、督办: the petition office that acted


def _review_right(names: _Names, body_id: str, window: str, step: str, basis: str) -> str:
    reviewer = names.reviewer(body_id)
    to = reviewer if reviewer is not None else "上一级机关"
    return (
        f"信访人对{step}不服的，可以自收到书面答复之日起{window}内向{to}请求"
        f"{'复查' if step == '处理意见' else '复核'}（{basis}）。"
    )


def _handling_body(events: Sequence[Event], before: Event) -> str | None:
    """The body of the latest handling opinion before `before` (the opinion reviewed)."""
    seen = False
    for event in reversed(events):
        if event is before:
            seen = True
        elif seen and isinstance(event, HandlingOpinionIssued):
            return event.body
    return None


def _elements(
    kind: DocumentKind, act: Event, events: Sequence[Event], names: _Names, rules: RuleSet
) -> tuple[dict[str, str], str, str | None]:
    """(the kind's own elements, its legal basis, the rights paragraph)."""
    r = rules
    if isinstance(act, CaseAccepted):
        right = _review_right(
            names, act.body, r.review_request_window.zh, "处理意见", r.review_request_window.basis
        )
        return (
            {
                "accepted_on": _day(act.header.occurred_at),
                "handling_limit": r.handling.zh,
                "handling_due": _day(act.handling_due),
                "extension_max": r.handling_extension_max.zh,
            },
            f"{r.acceptance_notice.basis}；{r.handling.basis}",
            right,
        )
    if isinstance(act, CaseNotAccepted):
        return {"decision_reasons": act.reasons}, r.acceptance_notice.basis, None
    if isinstance(act, CaseTransferred | CaseAssigned):
        extra = {
            "to_body_id": act.to_body,
            "to_body": names.body(act.to_body),
            "acceptance_limit": r.acceptance_notice.zh,
            "acceptance_due": _day(act.acceptance_due),
            "objection_limit": r.objection.zh,
            "objection_due": _day(act.objection_due),
            "note": act.note,
        }
        if isinstance(act, CaseAssigned):
            extra["report_due"] = _day(act.report_due)
        return extra, f"{r.route.basis}；{r.acceptance_notice.basis}", None
    if isinstance(act, HandlingOpinionIssued):
        right = _review_right(
            names, act.body, r.review_request_window.zh, "处理意见", r.review_request_window.basis
        )
        basis = f"{REGULATIONS}第三十二条" + (f"；{act.legal_basis}" if act.legal_basis else "")
        return {"outcome": zh(act.outcome), "opinion": act.opinion}, basis, right
    if isinstance(act, HandlingExtended):
        return (
            {
                "days": str(act.days),
                "extension_reasons": act.reasons,
                "handling_due": _day(act.handling_due),
                "approved_by": act.approved_by,
            },
            r.handling_extension_max.basis,
            None,
        )
    if isinstance(act, ReviewDecided):
        handled = _handling_body(events, act)
        extra = {
            "result": zh(act.result),
            "opinion": act.opinion,
            "handling_body": names.body(handled) if handled else "原办理机关",
        }
        if act.result is ReviewResult.REVOKE:
            extra["rehandle_due"] = _day(act.rehandle_due)
            right = (
                f"原办理机关应于{extra['rehandle_due']}前重新办理，另行出具处理意见；"
                "信访人对重新作出的处理意见不服的，可以依法请求复查。"
            )
        else:
            right = _review_right(
                names,
                act.reviewer,
                r.re_review_request_window.zh,
                "复查意见",
                r.re_review_request_window.basis,
            )
        return extra, r.review_decision.basis, right
    if isinstance(act, ReReviewDecided):
        return (
            {"result": zh(act.result), "opinion": act.opinion},
            r.re_review_decision.basis,
            f"本复核意见为最终意见。信访人仍以同一事实和理由提出信访事项的，各级机关不再受理"
            f"（{FINALITY}）。",
        )
    if isinstance(act, SupervisionIssued):
        return (
            {
                "to_body_id": act.to_body,
                "to_body": names.body(act.to_body),
                "level": zh(act.level),
                "obligation": f"{act.obligation.zh}（{act.obligation.rule_id}）",
                "supervision_reasons": act.reasons,
                "answer_limit": r.supervision_answer.zh,
                "answer_due": _day(act.answer_due),
                "supervision_id": act.supervision_id,
            },
            r.supervision_answer.basis,
            None,
        )
    raise AssertionError(f"no elements for {kind}")  # ACTS names one event type per kind
