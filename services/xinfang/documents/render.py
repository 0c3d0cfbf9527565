"""A document as A4 HTML (Jinja2 templates, every value escaped) and as PDF (WeasyPrint, the
Noto CJK fonts of Debian's fonts-noto-cjk embedded as subsets). Nothing is fetched: the
fonts are the machine's, found by their family names through fontconfig; any URL a template
might name is refused (decision 033)."""

from __future__ import annotations

import threading
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .compose import Paper, cn_date
from .kinds import DocumentKind

_ENV = Environment(
    loader=PackageLoader("xinfang.documents", "templates"),
    autoescape=select_autoescape(["html"], default=True),  # user text is text, never markup
    undefined=StrictUndefined,  # a template naming an element a Paper lacks fails loudly
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["cn_date"] = cn_date
_PDF_LOCK = threading.Lock()  # one PDF at a time: bounded memory and CPU on a busy node

TEMPLATES: dict[DocumentKind, str] = {kind: f"{kind.value}.html" for kind in DocumentKind}


def render_html(paper: Paper) -> str:
    """The document as a complete HTML page (A4 @page CSS inline)."""
    template = _ENV.get_template(TEMPLATES[paper.kind])
    return template.render(p=paper, x=paper.extra, css=_ENV.get_template("document.css").render())


def _no_fetch(url: str, *_: Any, **__: Any) -> dict[str, Any]:
    raise ValueError(f"documents fetch nothing: {url[:80]}")


def render_pdf(html: str) -> bytes:
    """The HTML printed to PDF (A4) by WeasyPrint; fonts embedded. Imported on first use:
    WeasyPrint loads Pango, which a node that never prints need not load."""
    import weasyprint

    with _PDF_LOCK:
        document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
        pdf: bytes = document.write_pdf()
    return pdf
