"""Avro single-object encoding (Avro 1.11 spec, "Single object encoding"): the one framing of
every record on the node topics and the public status feed.

A framed record is `C3 01`, the writer schema's 8-byte CRC-64-AVRO fingerprint (little-endian,
as `codec.schemas` computes it) and the Avro binary body; a subscriber finds the writer schema
by the fingerprint, with no registry server.
"""

from __future__ import annotations

import io
from typing import Any

from fastavro import schemaless_writer

MAGIC = b"\xc3\x01"
FINGERPRINT_SIZE = 8
BODY_OFFSET = len(MAGIC) + FINGERPRINT_SIZE  # 10


def frame(fingerprint: bytes, parsed_schema: Any, datum: dict[str, Any]) -> bytes:
    """`datum` written with `parsed_schema` (fastavro's parsed form) behind the framing."""
    buf = io.BytesIO()
    buf.write(MAGIC)
    buf.write(fingerprint)
    schemaless_writer(buf, parsed_schema, datum)
    return buf.getvalue()


def fingerprint_of(data: bytes) -> bytes | None:
    """The writer schema's fingerprint of a framed record; None if `data` is not framed."""
    if len(data) < BODY_OFFSET or data[: len(MAGIC)] != MAGIC:
        return None
    return data[len(MAGIC) : BODY_OFFSET]
