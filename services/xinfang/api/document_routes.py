"""The statutory documents of a case (issue 16 item 3; decision 033):

- `GET /api/cases/{case_id}/documents`: the kinds the case has the act for now;
- `GET /api/cases/{case_id}/documents/{kind}?format=html|pdf`: one document, as A4 HTML
  (inline) or PDF (a download).

Who may print (identity/policy.py ROUTES "documents", "document"): registrars, handlers,
approvers and supervisors, each only for a case they may read (need-to-know: a case not
visible is 404 XF-CASE-NOT-FOUND, as if unknown); the petitioner's personal data is in full
only for the staff of the issuing body (documents/compose.py). A kind the case has no act
for is 409 XF-DOCUMENT-NOT-AVAILABLE; an unknown kind 422 XF-DOCUMENT-KIND-UNKNOWN; a format
other than html/pdf 422 XF-DOCUMENT-FORMAT-UNKNOWN. Producing a document records nothing in
the case (no event); the operator trail records the request like every request. Serving it
(送达) stays the separate act `POST …/serve`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ..documents import (
    DocumentFormatUnknown,
    DocumentKind,
    Paper,
    available,
    compose,
    render_html,
    render_pdf,
)
from ..domain.errors import CaseNotFound
from ..domain.events import Event
from ..identity.errors import AuthenticationFailed
from ..identity.policy import case_bodies, may_read
from ..identity.principal import Principal
from .gate import INTERNAL

if TYPE_CHECKING:
    from .handlers import NodeApi

FORMATS = ("html", "pdf")
# The HTML carries petitioners' text: it may run no script and load nothing (styles inline).
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
PRIVATE = "no-store"  # personal data: not kept by browsers or proxies

log = logging.getLogger(__name__)
CaseId = Annotated[str, Path(description="事项编号 / case id", examples=["150400-2026-000001"])]


class DocumentEntry(BaseModel):
    """One document the case has the act for now."""

    kind: str
    title_zh: str
    title_en: str
    number: str
    issued_on: str
    issuer: str
    html: str
    pdf: str


class DocumentList(BaseModel):
    case_id: str
    documents: list[DocumentEntry]


def _api(request: Request) -> NodeApi:
    api: NodeApi = request.app.state.api
    return api


def _who(request: Request) -> Principal | None:
    who: Principal | None = request.scope.get("state", {}).get("principal")
    return who


def _events(api: NodeApi, who: Principal | None, case_id: str) -> list[Event]:
    """The case's events if `who` may read the case (need-to-know); else CaseNotFound."""
    if who is None:
        raise AuthenticationFailed()
    service = api.service
    case = service.case(case_id)
    events = [event for _, event in service.history(case_id)]
    bodies = case_bodies(case, (event.header.actor for event in events))
    if not may_read(who, case, bodies, api.office):
        raise CaseNotFound(case_id, case=case_id)
    return events


def _paper(api: NodeApi, who: Principal | None, case_id: str, kind: DocumentKind) -> Paper:
    events = _events(api, who, case_id)
    ctx = api.service.context()
    reader = who.body if who is not None else None
    return compose(kind, case_id, events, ctx.topology, ctx.rules, ctx.reviewers(), reader)


def _path(case_id: str, kind: DocumentKind) -> str:
    return f"/api/cases/{quote(case_id, safe='')}/documents/{kind.value}"


def _disposition(how: str, paper: Paper, extension: str) -> str:
    """inline/attachment with an ASCII name and the Chinese one (RFC 6266, RFC 5987)."""
    ascii_name = f"{paper.case_id}-{paper.kind.value}.{extension}"
    chinese = f"{paper.kind.zh}-{paper.case_id}.{extension}"
    return f"{how}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese)}"


def add_document_routes(app: FastAPI, errors: dict[int | str, dict[str, Any]]) -> None:
    """Add the document routes to the node's app (`errors`: the read routes' refusals)."""

    @app.get(
        "/api/cases/{case_id}/documents",
        name="documents",
        operation_id="listDocuments",
        # out of docs/openapi.json until the lead regenerates it at the merge (its test counts
        # the documented operations); the models document the answer
        include_in_schema=False,
        tags=["documents"],
        summary="可出具的文书 / the documents the case has the act for",
        responses={200: {"model": DocumentList, "description": "文书 / documents"}, **errors},
    )
    async def list_documents(request: Request, case_id: CaseId) -> JSONResponse:
        api = _api(request)

        def handler(p: dict[str, str], _b: Any, who: Principal | None) -> tuple[int, Any]:
            events = _events(api, who, p["case_id"])
            ctx = api.service.context()
            entries = []
            for kind in available(events):
                paper = compose(kind, p["case_id"], events, ctx.topology, ctx.rules,
                                ctx.reviewers())  # fmt: skip
                path = _path(p["case_id"], kind)
                entries.append({
                    "kind": kind.value, "title_zh": kind.zh, "title_en": kind.en,
                    "number": paper.number, "issued_on": paper.issued_on.isoformat(),
                    "issuer": paper.issuer, "html": f"{path}?format=html",
                    "pdf": f"{path}?format=pdf",
                })  # fmt: skip
            return 200, {"case_id": p["case_id"], "documents": entries}

        status, payload = api.call(handler, {"case_id": case_id}, None, _who(request))
        return JSONResponse(payload, status_code=status)

    @app.get(
        "/api/cases/{case_id}/documents/{kind}",
        name="document",
        operation_id="getDocument",
        include_in_schema=False,
        tags=["documents"],
        summary="文书（A4 HTML 或 PDF）/ one document, A4 HTML or PDF",
        responses={
            200: {
                "content": {"text/html": {}, "application/pdf": {}},
                "description": "文书 / the document",
            },
            409: {"description": "尚无此文书所依据的行为 / no act (XF-DOCUMENT-NOT-AVAILABLE)"},
            422: {"description": "文书种类或格式错误 / unknown kind or format"},
            **errors,
        },
    )
    async def document(
        request: Request,
        case_id: CaseId,
        kind: str,
        format: Annotated[str, Query(description="html | pdf")] = "html",
    ) -> Response:
        api = _api(request)

        def handler(p: dict[str, str], _b: Any, who: Principal | None) -> tuple[int, Any]:
            paper = _paper(api, who, p["case_id"], DocumentKind.parse(kind))
            if format not in FORMATS:
                raise DocumentFormatUnknown(format[:20], format=format[:20])
            return 200, (paper, render_html(paper))

        status, answer = api.call(handler, {"case_id": case_id}, None, _who(request))
        if status != 200:
            return JSONResponse(answer, status_code=status)
        paper, html = answer
        if format == "html":
            return Response(
                html,
                media_type="text/html; charset=utf-8",
                headers={
                    "Content-Disposition": _disposition("inline", paper, "html"),
                    "Content-Security-Policy": HTML_POLICY,
                    "Cache-Control": PRIVATE,
                },
            )
        try:
            pdf = await run_in_threadpool(render_pdf, html)  # not on the node's event loop
        except Exception:  # a bug or a broken install (Pango, fonts), not the client's doing
            log.exception("PDF of %s %s", case_id, paper.kind.value)
            return JSONResponse(INTERNAL, status_code=500)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": _disposition("attachment", paper, "pdf"),
                "Cache-Control": PRIVATE,
            },
        )
