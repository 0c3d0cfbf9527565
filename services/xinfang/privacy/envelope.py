"""A case's data key wrapped for one recipient node (issue 15 item 4).

Personal fields on the topics are encrypted with the case's data key (`fields.FieldCipher`
format under a per-case key); the key reaches exactly the divisions the routing rules entitle
(never the accused unit, R17) wrapped for each one's published X25519 public key:

    wrap = "xw1.<recipient division>.<recipient key id>.<base64url(ephemeral public (32) +
            nonce (12) + AES-256-GCM(KEK, data key) + tag (16))>"
    KEK  = HKDF-SHA256(X25519(ephemeral private, recipient public),
                       salt = ephemeral public + recipient public,
                       info = b"xinfang-wrap/1|" + context)

`context` binds the wrap to its case (e.g. b"150400-2026-000001|<data key id>"), so a wrap
cannot be moved to another case. A fresh ephemeral key per wrap: nothing links two wraps.
This is ECIES in the shape of HPKE base mode (RFC 9180) with X25519/HKDF-SHA256/AES-256-GCM;
an SM2-encryption suite can sit beside it (DOMAIN.md §10).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .suites import DecryptionFailed

PREFIX = "xw1"
_RAW = serialization.Encoding.Raw


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(_RAW, serialization.PublicFormat.Raw)


def encryption_key_id(public_raw: bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw 32-byte X25519 public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class RecipientKey:
    """A node's X25519 key pair for receiving wrapped data keys."""

    private: X25519PrivateKey

    @classmethod
    def generate(cls) -> RecipientKey:
        return cls(X25519PrivateKey.generate())

    @property
    def public_raw(self) -> bytes:
        return _raw_public(self.private.public_key())

    @property
    def key_id(self) -> str:
        return encryption_key_id(self.public_raw)

    def private_raw(self) -> bytes:
        return self.private.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    @classmethod
    def from_private_raw(cls, raw: bytes) -> RecipientKey:
        return cls(X25519PrivateKey.from_private_bytes(raw))


def _kek(shared: bytes, ephemeral: bytes, recipient: bytes, context: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral + recipient,
        info=b"xinfang-wrap/1|" + context,
    ).derive(shared)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def wrap_key(
    data_key: bytes, division: str, recipient_public: bytes, context: bytes
) -> str:
    """`data_key` wrapped for `division`'s X25519 public key (raw 32 bytes)."""
    ephemeral = X25519PrivateKey.generate()
    eph_raw = _raw_public(ephemeral.public_key())
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    kek = _kek(shared, eph_raw, recipient_public, context)
    nonce = hashlib.sha256(eph_raw + context).digest()[:12]  # one KEK per wrap: unique
    sealed = AESGCM(kek).encrypt(nonce, data_key, context)
    kid = encryption_key_id(recipient_public)
    return f"{PREFIX}.{division}.{kid}.{_b64(eph_raw + sealed)}"


@dataclass(frozen=True, slots=True)
class Wrap:
    division: str
    key_id: str
    body: bytes


def parse_wrap(text: str) -> Wrap:
    """The parts of a wrap; DecryptionFailed if it is not one."""
    try:
        prefix, division, kid, body = text.split(".")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise DecryptionFailed(f"not a key wrap: {exc}") from exc
    if prefix != PREFIX or len(raw) < 32 + 16:
        raise DecryptionFailed("not a key wrap")
    return Wrap(division, kid, raw)


def unwrap_key(wrap: str, key: RecipientKey, context: bytes) -> bytes:
    """The data key in `wrap`, opened with `key`; DecryptionFailed if it is not for this key,
    altered, or bound to another context."""
    parsed = parse_wrap(wrap)
    if parsed.key_id != key.key_id:
        raise DecryptionFailed("the wrap is for another key")
    eph_raw, sealed = parsed.body[:32], parsed.body[32:]
    shared = key.private.exchange(X25519PublicKey.from_public_bytes(eph_raw))
    kek = _kek(shared, eph_raw, key.public_raw, context)
    nonce = hashlib.sha256(eph_raw + context).digest()[:12]
    try:
        return AESGCM(kek).decrypt(nonce, sealed, context)
    except InvalidTag as exc:
        raise DecryptionFailed("the wrap does not open (altered or another case)") from exc
