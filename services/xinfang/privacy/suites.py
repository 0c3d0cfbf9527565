"""The selectable symmetric suites (DOMAIN.md §10: keep the crypto suite selectable).

- `aes-256-gcm`: AES with a 256-bit key in GCM mode (NIST SP 800-38D), 96-bit nonce, 128-bit tag.
- `sm4-gcm`: SM4 (GB/T 32907-2016) in GCM mode, 128-bit key, 96-bit nonce, 128-bit tag — the
  商用密码 option for systems assessed under GB/T 39786-2021 (密评).

Both via `cryptography`; each suite names its key length so a key file cannot be used with the
wrong one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..domain.errors import WireError

SuiteName = Literal["aes-256-gcm", "sm4-gcm"]
SUITES: tuple[SuiteName, ...] = ("aes-256-gcm", "sm4-gcm")
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionFailed(WireError, ValueError):
    """Ciphertext altered, or the wrong key or associated data (at rest or from the wire)."""

    code = "XF-DECRYPTION-FAILED"
    zh = "密文无法解密（被篡改或密钥不符）"
    en = "Ciphertext cannot be decrypted (altered, or not this key)"


@dataclass(frozen=True, slots=True)
class Suite:
    name: SuiteName
    key_bytes: int

    def seal(self, key: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """nonce (12) + ciphertext + tag (16); a fresh random nonce each call."""
        nonce = os.urandom(NONCE_BYTES)
        if self.name == "aes-256-gcm":
            return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext) + enc.finalize()
        return nonce + body + enc.tag

    def open(self, key: bytes, sealed: bytes, aad: bytes) -> bytes:
        """The plaintext of `seal`'s output; DecryptionFailed if anything does not match."""
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("ciphertext too short")
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            if self.name == "aes-256-gcm":
                return AESGCM(key).decrypt(nonce, body, aad)
            dec = Cipher(
                algorithms.SM4(key), modes.GCM(nonce, body[-TAG_BYTES:])
            ).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(body[:-TAG_BYTES]) + dec.finalize()
        except (InvalidTag, ValueError) as exc:
            raise DecryptionFailed(str(exc) or "authentication failed") from exc


def suite(name: str) -> Suite:
    """The suite called `name`; ValueError for an unknown one."""
    if name == "aes-256-gcm":
        return Suite("aes-256-gcm", 32)
    if name == "sm4-gcm":
        return Suite("sm4-gcm", 16)
    raise ValueError(f"unknown suite {name!r}; one of {', '.join(SUITES)}")
