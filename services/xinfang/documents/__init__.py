"""The statutory documents (文书) of a case: 受理告知书, 不予受理告知书, 信访事项转送函,
信访事项交办函, 信访处理意见书, 延期告知书, 复查意见书, 复核意见书 and 督办函 (《信访工作条例》
Arts. 22–23, 32–36, 40; DOMAIN.md §§3–6; decision 033).

`compose` reads a case's events (the node's own store) and gives the elements of one document
(`Paper`); `render_html` lays them out on A4 for printing and sealing, `render_pdf` prints
that HTML with WeasyPrint, the Noto CJK fonts embedded. Producing a document records nothing:
serving it (送达) stays the separate act.
"""

from .compose import Paper, available, compose
from .errors import DocumentFormatUnknown, DocumentKindUnknown, DocumentNotAvailable
from .kinds import DocumentKind
from .render import render_html, render_pdf

__all__ = [
    "DocumentFormatUnknown",
    "DocumentKind",
    "DocumentKindUnknown",
    "DocumentNotAvailable",
    "Paper",
    "available",
    "compose",
    "render_html",
    "render_pdf",
]
