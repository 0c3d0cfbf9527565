"""Refusals of the document routes: stable codes, Chinese and English (api/errors.py maps a
DomainError to 409 and an InvalidInput to 422)."""

from __future__ import annotations

from ..domain.errors import DomainError, InvalidInput


class DocumentNotAvailable(DomainError):
    """The case has not (yet) the act the document rests on, e.g. no 受理 for a 受理告知书."""

    code = "XF-DOCUMENT-NOT-AVAILABLE"
    zh = "该事项尚无此文书所依据的行为，不能出具"
    en = "The case has no act this document rests on yet"


class DocumentKindUnknown(InvalidInput):
    code = "XF-DOCUMENT-KIND-UNKNOWN"
    zh = "没有该种文书"
    en = "No such kind of document"


class DocumentFormatUnknown(InvalidInput):
    code = "XF-DOCUMENT-FORMAT-UNKNOWN"
    zh = "文书格式须为 html 或 pdf"
    en = "The document format must be html or pdf"
