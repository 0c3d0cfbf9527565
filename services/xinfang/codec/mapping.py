"""Domain dataclasses <-> plain Avro datums, driven by the dataclasses' type hints."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from ..domain.events import EVENT_TYPES, Event


def to_datum(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_datum(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return from_datum(hint, value)
        if issubclass(hint, Enum):
            return hint(value)
        if hint is datetime and isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def from_datum(cls: type[Any], datum: dict[str, Any]) -> Any:
    hints = _hints(cls)
    kwargs = {
        f.name: _convert(hints[f.name], datum[f.name])
        for f in dataclasses.fields(cls)
        if f.name in datum
    }
    return cls(**kwargs)


def event_from_datum(type_name: str, datum: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[type_name]
    event = from_datum(cls, datum)
    assert isinstance(event, Event)
    return event
