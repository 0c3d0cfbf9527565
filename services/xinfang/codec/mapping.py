"""Domain dataclasses <-> plain Avro datums, driven by the dataclasses' type hints."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
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


Converter = Callable[[Any], Any]
_READERS: dict[type, Converter] = {}


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _converter(hint: Any) -> Converter | None:
    """How a non-null datum becomes the hinted value; None when it is used as it is."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _converter(inner[0]) if len(inner) == 1 else None
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _reader(hint)
        if issubclass(hint, Enum):
            return hint
        if hint is datetime:
            return _aware
    return None


def _reader(cls: type[Any]) -> Converter:
    """A datum -> instance function for one dataclass, built once from its type hints:
    walking the hints for every record cost more than the Avro decoding (docs/benchmarks.md)."""
    reader = _READERS.get(cls)
    if reader is not None:
        return reader
    fields: list[tuple[str, Converter | None]] = []

    def read(datum: dict[str, Any]) -> Any:
        kwargs = {}
        for name, convert in fields:
            if name in datum:
                value = datum[name]
                kwargs[name] = value if convert is None or value is None else convert(value)
        return cls(**kwargs)

    _READERS[cls] = read  # before the fields: a dataclass may refer to itself
    hints = typing.get_type_hints(cls)
    fields.extend((f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls))
    return read


def from_datum(cls: type[Any], datum: dict[str, Any]) -> Any:
    return _reader(cls)(datum)


def event_from_datum(type_name: str, datum: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[type_name]
    event = from_datum(cls, datum)
    assert isinstance(event, Event)
    return event
