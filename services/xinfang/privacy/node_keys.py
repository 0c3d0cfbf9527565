"""Each node's X25519 key for receiving wrapped case keys, published beside its signing key
(issue 15 item 4, decision 028).

The private key is kept like the signing key: raw 32 bytes in `<data dir>/node-<division>.x25519`
(mode 0600, created on first start). The public key is published in the keys folder (the trust
anchor, decision 021) as `<division>.x25519.json`:

    {"format": "xinfang-enckey/1", "division": "150400", "suite": "x25519",
     "key_id": "<16 hex>", "public_key": "<base64 raw 32 bytes>",
     "signed_by": "<signing key id>", "signature": "<base64 Ed25519 over the canonical body>"}

signed by the division's published signing key, so a sender wraps only for a key the
division itself vouches for.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..chain.keys import KeyFileError, Keyring, NodeKey, verify_signature
from .envelope import RecipientKey, encryption_key_id

log = logging.getLogger(__name__)
FORMAT = "xinfang-enckey/1"
SUFFIX = ".x25519.json"


def load_or_create_recipient_key(path: Path) -> tuple[RecipientKey, bool]:
    """The X25519 private key in `path` (0600), or a new one written there; (key, created)."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise KeyFileError(f"私钥文件权限过宽 / key file readable by others: {path}")
        raw = path.read_bytes()
        if len(raw) != 32:
            raise KeyFileError(f"不是 X25519 私钥 / not an X25519 private key: {path}")
        return RecipientKey.from_private_raw(raw), False
    key = RecipientKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.private_raw())
    finally:
        os.close(fd)
    return key, True


def _body(division: str, public_raw: bytes, signed_by: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "division": division,
        "suite": "x25519",
        "key_id": encryption_key_id(public_raw),
        "public_key": base64.b64encode(public_raw).decode(),
        "signed_by": signed_by,
    }


def _message(body: dict[str, Any]) -> bytes:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return FORMAT.encode() + b"\n" + canonical.encode()


def published_path(folder: Path, division: str) -> Path:
    return folder / f"{division}{SUFFIX}"


def publish(division: str, key: RecipientKey, signer: NodeKey, folder: Path) -> Path:
    """Write `<folder>/<division>.x25519.json` (0644), signed with `signer`."""
    body = _body(division, key.public_raw, signer.key_id)
    text = json.dumps({**body, "signature": base64.b64encode(signer.sign(_message(body))).decode()})
    path = published_path(folder, division)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def read_published(path: Path, ring: Keyring) -> bytes | None:
    """The raw X25519 public key published in `path` if its division's published signing key
    signed it; None (logged) otherwise."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        body = {k: raw[k] for k in ("format", "division", "suite", "key_id", "public_key",
                                    "signed_by")}  # fmt: skip
        public = base64.b64decode(body["public_key"], validate=True)
        signature = base64.b64decode(raw["signature"], validate=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("加密公钥无法读取 / cannot read encryption key %s: %s", path, exc)
        return None
    key_set = ring.key_set(str(body["division"]))
    signing = key_set.key(str(body["signed_by"])) if key_set is not None else None
    if (
        body["format"] != FORMAT
        or body["key_id"] != encryption_key_id(public)
        or signing is None
        or not verify_signature(signing.public_raw, signature, _message(body))
    ):
        log.error("加密公钥未经该节点签名 / encryption key %s is not signed by its node", path)
        return None
    return public


class PublishedEncryptionKeys:
    """The divisions' published X25519 keys in a keys folder, re-read when a file changes."""

    def __init__(self, folder: Path, ring: Callable[[], Keyring]) -> None:
        self.folder = folder
        self.ring = ring
        self._seen: dict[str, tuple[int, bytes | None]] = {}

    def public(self, division: str) -> bytes | None:
        """`division`'s raw X25519 public key, or None if not (validly) published."""
        path = published_path(self.folder, division)
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        held = self._seen.get(division)
        if held is not None and held[0] == mtime:
            return held[1]
        public = read_published(path, self.ring())
        self._seen[division] = (mtime, public)
        return public
