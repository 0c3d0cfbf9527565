"""Absence checks over the real broker that can fail.

Reading a topic "for a few seconds" and finding nothing proves nothing: the reader may have
read too little, too early, or the wrong topic. Instead: read the topic to its end offsets
(the one shared reader, `xinfang.kafka_io.read_to_end`, bounded), require a *control*
record — a genuine one the scenario addressed to the same topic, published by the same node
after the point where the unwanted record would have been (one partition, the relay publishes in
order), so the reader provably got that far — and only then assert the unwanted one is absent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from xinfang.kafka_io import read_to_end


def mentions(record: Any, needle: bytes) -> bool:
    """The record is keyed by `needle` (a case id) or carries it in its value."""
    return bool(record.key == needle or needle in bytes(record.value or b""))


def assert_absent(bootstrap: str, topic: str, *, absent: str, control: str) -> list[Any]:
    """Read `topic` to its end; assert a record about `control` is there and none about
    `absent`. Returns the records read."""
    records = list(asyncio.run(read_to_end(bootstrap, [topic])))
    assert any(mentions(r, control.encode()) for r in records), (
        f"对照记录 {control} 未读到 / control record {control} not read from {topic} "
        f"({len(records)} records): the reader did not get far enough to prove an absence"
    )
    leaked = [r.offset for r in records if mentions(r, absent.encode())]
    assert leaked == [], f"{absent} 出现在 / appears on {topic} at offsets {leaked}"
    return records
