"""What an auditor reads: Kafka records of node logs and inboxes, from the broker or from files."""

from __future__ import annotations

import re
from dataclasses import dataclass

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One Kafka record, byte for byte, with where it was read."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: Headers = ()


_TOPIC = re.compile(
    r"^(?P<prefix>.*)xinfang\.(?P<division>\d{6})\.(?P<kind>log|inbox|deadletter)$"
)


def parse_topic(topic: str) -> tuple[str, str, str] | None:
    """(prefix, division, "log" | "inbox" | "deadletter") of a node topic name, or None."""
    match = _TOPIC.match(topic)
    if match is None:
        return None
    return match.group("prefix"), match.group("division"), match.group("kind")
