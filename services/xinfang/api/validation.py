"""A body the models refuse → the refusal the API has always given (XF-… codes, field named).

The first error pydantic reports (fields in declaration order) decides: a text over its length
is XF-FIELD-TOO-LONG (context: field, max_chars), an integer outside its range
XF-VALUE-OUT-OF-RANGE (field, minimum, maximum), a field no model declares XF-UNKNOWN-FIELD
(field: its path, e.g. petitioner.id_numbr), anything else XF-INVALID-INPUT (field).
Never a 5xx: every pydantic error type maps to one of these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..commands.input_errors import FieldTooLong, UnknownField, ValueOutOfRange
from ..commands.limits import INT_BOUNDS
from ..domain.errors import InvalidInput

BODY = "请求体 / body"


def _field(loc: Sequence[Any]) -> str | None:
    """The innermost field name of a pydantic location such as ("body", "notice", "served_at");
    union members ("Notice", "literal[False]") and list indexes are not fields."""
    parts = loc[1:] if loc[:1] == ("body",) else loc  # FastAPI puts the body first
    names = [
        part
        for part in parts
        if isinstance(part, str)
        and part[:1].islower()
        and not part.startswith(("literal[", "function-"))
    ]
    return names[-1] if names else None


def unknown_field(loc: Sequence[Any]) -> UnknownField:
    """The refusal of a field no model declares, at `loc` (e.g. ("body", "petitioner", "x"))."""
    *within, name = loc[1:] if loc[:1] == ("body",) else loc
    parts = [  # without the union members' tags pydantic puts in (Notice, literal[False])
        str(p)
        for p in within
        if not (isinstance(p, str) and (p[:1].isupper() or p.startswith(("literal[", "function-"))))
    ] + [str(name)]  # the key as the client sent it, whatever its case or script
    path = ".".join(parts)[:200] or "?"
    return UnknownField(
        f"{path}：本接口未定义该字段，请检查拼写或删除 / {path}: not a field of this request; "
        "check its spelling or leave it out",
        field=path,
    )


def refusal(errors: Sequence[Mapping[str, Any]]) -> InvalidInput:
    """The refusal for pydantic's `errors` of one request body (at least one)."""
    error = errors[0]
    kind, field, value = error["type"], _field(error["loc"]), error.get("input")
    if kind == "extra_forbidden":  # any key a client sends, named as sent (e.g. 姓名)
        return unknown_field(error["loc"])
    ctx = error.get("ctx") or {}
    if field is None:
        return InvalidInput(f"{BODY} 须为 JSON 对象 / must be a JSON object")
    if kind == "string_too_long":
        limit, got = int(ctx["max_length"]), len(value) if isinstance(value, str) else 0
        return FieldTooLong(
            f"{field} 最多 {limit} 字，实际 {got} 字 / at most {limit} characters, got {got}",
            field=field,
            max_chars=limit,
        )
    if kind in ("greater_than_equal", "less_than_equal") and field in INT_BOUNDS:
        low, high = INT_BOUNDS[field]
        return ValueOutOfRange(
            f"{field} 须在 {low}–{high} 之间 / must be between {low} and {high}",
            field=field,
            minimum=low,
            maximum=high,
        )
    if kind == "missing" or value is None:
        return InvalidInput(f"缺少字段 / missing field: {field}", field=field)
    if kind == "xf_nul":
        return InvalidInput(f"{field} 含有 NUL 字符 / contains a NUL character", field=field)
    if kind == "string_unicode":
        return InvalidInput(
            f"{field} 含有无效的 Unicode 代理字符 / contains a lone surrogate", field=field
        )
    if kind == "xf_time":
        return InvalidInput(f"{field} 须为 ISO 8601 时间 / must be an ISO 8601 time", field=field)
    if kind == "enum" and "expected" in ctx:
        return InvalidInput(  # the value is not echoed: a client may put anything there
            f"{field} 取值无效，可选 / invalid value; allowed: {ctx['expected']}", field=field
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return InvalidInput(f"{field} 须为 JSON 对象 / must be a JSON object", field=field)
    return InvalidInput(f"{field} 取值无效 / invalid value: {error.get('msg', kind)}", field=field)
