"""The kinds of document, each with its URL name, titles, the act it rests on and the word of
its document number (文号)."""

from __future__ import annotations

from enum import StrEnum

from .errors import DocumentKindUnknown


class DocumentKind(StrEnum):
    """Value: the URL name (`/api/cases/{id}/documents/{kind}`)."""

    ACCEPTANCE = "acceptance"  # 受理告知书 (Art. 23)
    NON_ACCEPTANCE = "non-acceptance"  # 不予受理告知书 (Arts. 23, 44(3))
    TRANSFER = "transfer"  # 信访事项转送函 (Art. 22)
    ASSIGNMENT = "assignment"  # 信访事项交办函 (Art. 22)
    HANDLING_OPINION = "handling-opinion"  # 信访处理意见书 (Arts. 32–33)
    EXTENSION = "extension"  # 延期告知书 (Art. 34)
    REVIEW_OPINION = "review-opinion"  # 复查意见书 (Art. 35)
    RE_REVIEW_OPINION = "re-review-opinion"  # 复核意见书 (Art. 36)
    SUPERVISION = "supervision"  # 督办函 (Art. 40)

    @property
    def zh(self) -> str:
        return _TITLES[self][0]

    @property
    def en(self) -> str:
        return _TITLES[self][1]

    @property
    def word(self) -> str:
        """The word of the 文号 (e.g. 受 in 松山区受〔2026〕第12号)."""
        return _TITLES[self][2]

    @classmethod
    def parse(cls, name: str) -> DocumentKind:
        """The kind named `name`; DocumentKindUnknown (422) otherwise."""
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise DocumentKindUnknown(f"{name[:40]!r}（{known}）", kind=name[:40]) from None


_TITLES: dict[DocumentKind, tuple[str, str, str]] = {
    DocumentKind.ACCEPTANCE: ("受理告知书", "Notice of acceptance", "受"),
    DocumentKind.NON_ACCEPTANCE: ("不予受理告知书", "Notice of non-acceptance", "不受"),
    DocumentKind.TRANSFER: ("信访事项转送函", "Letter of transfer", "转"),
    DocumentKind.ASSIGNMENT: ("信访事项交办函", "Letter of assignment", "交"),
    DocumentKind.HANDLING_OPINION: ("信访处理意见书", "Handling opinion", "处"),
    DocumentKind.EXTENSION: ("延期告知书", "Notice of extension", "延"),
    DocumentKind.REVIEW_OPINION: ("复查意见书", "Review opinion", "复查"),
    DocumentKind.RE_REVIEW_OPINION: ("复核意见书", "Re-review opinion", "复核"),
    DocumentKind.SUPERVISION: ("督办函", "Letter of supervision", "督"),
}
