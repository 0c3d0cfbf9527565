"""Ed25519 node keys: generation, key files and the public keys published with a topology.

A node's private key is a PEM (PKCS#8) file, by default `<data dir>/node-<division>.key`,
created on the node's first start unless a key file is given. Public keys are published as PEM
(SubjectPublicKeyInfo) files `<division>.pub` in a keys folder beside the topology
(`deploy/topology/keys/` for the demo topology, written by `xinfang keys generate`); they are
the auditors' trust anchors. A key is named by its key id: the first 16 hex digits of the
SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..domain.errors import ConfigurationError

if TYPE_CHECKING:
    from .keysets import KeySet

_DIVISION_FILE = re.compile(r"^(\d{6})\.pub$")


class KeyFileError(ConfigurationError, ValueError):
    """A key file that cannot be read as an Ed25519 key."""

    code = "XF-KEY-FILE"
    zh = "密钥文件无法读取"
    en = "A key file cannot be read"


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def _public_key(public_raw: bytes) -> Ed25519PublicKey:
    # loading a key costs about as much as a verification: receivers check every record
    return Ed25519PublicKey.from_public_bytes(public_raw)


def verify_signature(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `message` by `public_raw`."""
    if len(public_raw) != 32 or len(signature) != 64:
        return False
    try:
        _public_key(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class NodeKey:
    """A node's signing key."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def private_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> bytes:
        return public_pem(self.public_raw)


def public_pem(public_raw: bytes) -> bytes:
    return Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_private_key(key: NodeKey, path: Path) -> None:
    """Owner-only (0600) PEM file."""
    _write_atomically(path, key.private_pem(), 0o600)


def load_private_key(path: Path) -> NodeKey:
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"无法读取私钥 / cannot read private key {path}: {exc}") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyFileError(f"不是 Ed25519 私钥 / not an Ed25519 private key: {path}")
    return NodeKey(loaded)


def load_or_create_private_key(path: Path) -> tuple[NodeKey, bool]:
    """The key in `path`, or a new one written there; (key, created)."""
    if path.exists():
        return load_private_key(path), False
    key = NodeKey.generate()
    write_private_key(key, path)
    return key, True


def ensure_published(division: str, private_path: Path, keys_dir: Path) -> NodeKey:
    """As an operator with `xinfang keys generate` would, for development and test runs: the
    node's private key (created if missing) and, unless `keys_dir` already publishes a key set
    of `division`, its public key as `<division>.pub` there. Returns the private key."""
    key, _ = load_or_create_private_key(private_path)
    published = [keys_dir / f"{division}{ext}" for ext in (".pub", ".keys.json")]
    if not any(p.exists() for p in published):
        write_public_key(key.public_raw, published[0])
    return key


def write_public_key(public_raw: bytes, path: Path) -> None:
    _write_atomically(path, public_pem(public_raw), 0o644)


def read_public_key(path: Path) -> bytes:
    try:
        loaded = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"无法读取公钥 / cannot read public key {path}: {exc}") from exc
    if not isinstance(loaded, Ed25519PublicKey):
        raise KeyFileError(f"不是 Ed25519 公钥 / not an Ed25519 public key: {path}")
    return loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def published_keys_dir(topology_path: Path | None) -> Path:
    """Where the public keys of a topology are published: `keys/` beside the topology file."""
    if topology_path is None:
        from ..topology_file import default_topology_path

        topology_path = default_topology_path()
    return Path(topology_path).resolve().parent / "keys"


_SET_FILE = re.compile(r"^(\d{6})\.keys\.json$")


@dataclass(frozen=True)
class Keyring:
    """The published public keys: the trust anchors of receivers and auditors.

    `keys`: division -> its current raw 32-byte key (what checkpoint checks compare with);
    `sets`: division -> its published key set (chain/keysets.py), which record signatures are
    checked against with `lookup`. A division given only in `keys` has that one key, unbounded.
    """

    keys: dict[str, bytes]
    folder: Path | None = None
    sets: dict[str, KeySet] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Keyring:
        return cls({})

    @classmethod
    def of(cls, sets: Iterable[KeySet], folder: Path | None = None) -> Keyring:
        by_division = {s.division: s for s in sets}
        current = {d: k.public_raw for d, s in by_division.items() if (k := s.current())}
        return cls(current, folder, by_division)

    @classmethod
    def from_dir(cls, folder: Path | None) -> Keyring:
        """Every `<division>.keys.json` (a key set) and `<division>.pub` (one key, for a
        division without a set) in `folder`; empty if the folder does not exist."""
        from .keysets import read_key_set, single_key_set

        if folder is None or not folder.is_dir():
            return cls({}, folder)
        sets: dict[str, KeySet] = {}
        for path in sorted(folder.iterdir()):
            match = _SET_FILE.match(path.name)
            if match:
                sets[match.group(1)] = read_key_set(path)
        for path in sorted(folder.iterdir()):
            match = _DIVISION_FILE.match(path.name)
            if match and match.group(1) not in sets:
                sets[match.group(1)] = replace(
                    single_key_set(match.group(1), read_public_key(path)), version=0
                )
        return cls.of(sets.values(), folder)

    def get(self, division: str) -> bytes | None:
        return self.keys.get(division)

    def key_set(self, division: str) -> KeySet | None:
        found = self.sets.get(division)
        if found is None and division in self.keys:
            from .keysets import single_key_set

            found = replace(single_key_set(division, self.keys[division]), version=0)
        return found

    def lookup(self, division: str, kid: str, moment: datetime) -> bytes | None:
        """The raw key `kid` of `division` if published and valid at `moment`, else None."""
        found = self.key_set(division)
        return found.valid(kid, moment) if found is not None else None

    def __contains__(self, division: object) -> bool:
        return division in self.keys


class KeyBook:
    """Which key each node's signed records must carry: its published key, else (trust on first
    use) the key of its first signed record."""

    def __init__(self, published: Keyring) -> None:
        self.published = published
        self.pinned: dict[str, bytes] = {}

    def expected(self, node: str) -> bytes | None:
        return self.published.get(node) or self.pinned.get(node)

    def pin(self, node: str, key: bytes) -> None:
        if node not in self.published and node not in self.pinned:
            self.pinned[node] = key

