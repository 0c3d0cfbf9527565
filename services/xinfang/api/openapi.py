"""The node's OpenAPI 3.1 document, generated from the models of api/models.py and the routes
of api/web.py; checked in as docs/openapi.json (tests/unit/test_openapi.py fails when it is
stale). Regenerate: ``python -m xinfang.api.openapi --out docs/openapi.json``.

A node serves it at ``GET /openapi.json`` with its own bodies and places as the values of body
and place fields (`for_node`), so clients and the schemathesis fuzz test
(tests/integration/test_api_fuzz.py) send ids the node knows.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import re
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..domain.deadlines import Obligation
from ..domain.vocabulary import (
    Category,
    Channel,
    CloseReason,
    DiversionRoute,
    NoticeKind,
    Outcome,
    Rating,
    Receipt,
    ReviewResult,
    ServiceMethod,
    SupervisionLevel,
)

# The enumeration of each enumerated request field (as the models declare them).
ENUMS: dict[str, type[StrEnum]] = {
    "channel": Channel,
    "category": Category,
    "outcome": Outcome,
    "kind": NoticeKind,
    "method": ServiceMethod,
    "receipt": Receipt,
    "route": DiversionRoute,
    "result": ReviewResult,
    "reason": CloseReason,
    "level": SupervisionLevel,
    "obligation": Obligation,
    "handling_rating": Rating,
    "office_rating": Rating,
}
TIMES = frozenset({"received_at", "served_at", "requested_at"})
# Body ids of the serving division, offered as the values of these fields.
BODY_FIELDS = frozenset({"actor", "to_body", "accused_body"})


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document every node shares (docs/openapi.json); built once (do not modify it:
    `for_node` copies)."""
    from .web import build_app  # the web layer's routes; it imports this package

    document: dict[str, Any] = _whole_bounds(build_app().openapi())
    # FastAPI documents a 422 of its own for routes with parameters; ours never answer it
    # (a path parameter is any text), and refusals are the Error model.
    for item in document["paths"].values():
        for operation in item.values():
            answer = operation["responses"].get("422", {})
            if "HTTPValidationError" in json.dumps(answer):
                del operation["responses"]["422"]
    for name in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(name, None)
    return document


def _whole_bounds(node: Any) -> Any:
    """FastAPI writes integer bounds as floats (1.0): written back as the integers they are."""
    if isinstance(node, dict):
        return {
            k: int(v)
            if k in ("minimum", "maximum") and isinstance(v, float) and v.is_integer()
            else _whole_bounds(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_whole_bounds(v) for v in node]
    return node


def for_node(
    document: dict[str, Any], division: str, bodies: Sequence[str], places: Sequence[str]
) -> dict[str, Any]:
    """`document` as node `division` serves it: `bodies` (ids of bodies here and below) are
    the values of body fields, `places` (this division and its children) those of `place`.
    The models take any text; the deciders refuse what is not in the topology (422)."""
    doc = copy.deepcopy(document)
    doc["info"]["title"] = f"xinfang 节点 {division} API / node API"
    schemas = doc["components"]["schemas"]
    for schema in (schemas[name] for name in _request_schemas(doc)):
        for name, prop in schema.get("properties", {}).items():
            values = bodies if name in BODY_FIELDS else places if name == "place" else ()
            if values:
                for branch in prop.get("anyOf", [prop]):
                    if branch.get("type") == "string":
                        branch["enum"] = list(values)
    return doc


def _request_schemas(document: dict[str, Any]) -> set[str]:
    """Names of the component schemas request bodies use, directly or nested (not answers:
    a timeline names bodies of other divisions too)."""
    bodies = [
        op["requestBody"] for item in document["paths"].values() for op in item.values()
        if "requestBody" in op
    ]  # fmt: skip
    found: set[str] = set()
    pending = re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(bodies))
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            schema = json.dumps(document["components"]["schemas"][name])
            pending.extend(re.findall(r'"#/components/schemas/([^"]+)"', schema))
    return found


def render() -> str:
    return json.dumps(openapi_document(), ensure_ascii=False, indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="生成 OpenAPI 文档 / write the OpenAPI document")
    parser.add_argument("--out", type=Path, help="输出文件（默认标准输出）/ output file")
    args = parser.parse_args(argv)
    if args.out is None:
        print(render(), end="")
    else:
        args.out.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
