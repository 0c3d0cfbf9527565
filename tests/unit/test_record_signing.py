"""The per-record signature format (chain/record_signing.py, decision 021): rebuilt from bytes,
and every alteration a forger could make is refused."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from xinfang.chain.keys import NodeKey
from xinfang.chain.record_signing import (
    SIG_HEADER,
    record_signature_problem,
    sign_record,
)

VALUE = b"\xc3\x01" + b"\x00" * 8 + "张三 的诉求".encode()
HEADERS = [
    ("ce_id", b"e-1"),
    ("ce_source", b"150404"),
    ("ce_type", b"org.xinfang.HandlingOpinionIssued"),
    ("ce_subject", b"150400-2026-000001"),
    ("content-type", b"application/avro"),
]


def _keys(key: NodeKey, source: str = "150404"):  # type: ignore[no-untyped-def]
    return lambda division, kid: key.public_raw if (division, kid) == (source, key.key_id) else None


def test_a_signed_record_verifies_and_the_message_is_rebuilt_with_the_standard_library() -> None:
    key = NodeKey.generate()
    signed = sign_record(key, VALUE, HEADERS)
    assert record_signature_problem(VALUE, signed, "150404", _keys(key)) is None
    # What docs/integrators.md tells subscribers to do, with hashlib/struct/base64 only.
    field = dict(signed)[SIG_HEADER].decode()
    version, suite, kid, covered, sig = field.split(".")
    assert (version, suite, kid) == ("1", "ed25519", key.key_id)
    message = b"xinfang-record/1\n"
    for name in covered.split("+"):
        raw = dict(signed)[name]
        message += struct.pack(">H", len(name)) + name.encode() + struct.pack(">I", len(raw)) + raw
    message += b"\x00\x00" + hashlib.sha256(VALUE).digest()
    Ed25519PublicKey.from_public_bytes(key.public_raw).verify(
        base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)), message
    )


@pytest.mark.parametrize(
    "alter",
    [
        lambda v, h: (v + b"x", h),  # altered payload
        lambda v, h: (v, [(k, b"150401" if k == "ce_source" else x) for k, x in h]),
        lambda v, h: (v, [(k, b"other" if k == "ce_subject" else x) for k, x in h]),
        lambda v, h: (v, [*h, ("ce_id", b"e-2")]),  # a covered header twice
        lambda v, h: (v, [(k, x) for k, x in h if k != "ce_type"]),  # one removed
        lambda v, h: (v, [(k, x) for k, x in h if k != SIG_HEADER]),  # unsigned
    ],
)
def test_every_alteration_is_refused(alter) -> None:  # type: ignore[no-untyped-def]
    key = NodeKey.generate()
    value, headers = alter(VALUE, sign_record(key, VALUE, HEADERS))
    problem = record_signature_problem(value, headers, "150404", _keys(key))
    assert problem is not None and problem.code in {"bad-signature", "unsigned"}


def test_a_key_the_source_did_not_publish_is_refused() -> None:
    genuine, forger = NodeKey.generate(), NodeKey.generate()
    signed = sign_record(forger, VALUE, HEADERS)
    problem = record_signature_problem(VALUE, signed, "150404", _keys(genuine))
    assert problem is not None and problem.code == "bad-signature"
    # the forger's key published for another division does not help either
    problem = record_signature_problem(VALUE, signed, "150404", _keys(forger, "150401"))
    assert problem is not None and problem.code == "bad-signature"


def test_a_signature_must_cover_the_identifying_headers() -> None:
    key = NodeKey.generate()
    signed = sign_record(key, VALUE, HEADERS, covered=("ce_id",))
    problem = record_signature_problem(VALUE, signed, "150404", _keys(key))
    assert problem is not None and "ce_source" in problem.en
