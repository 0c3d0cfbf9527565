"""The node's data-protection keys: never in the database (issue 15 item 3).

From a key file (JSON, mode 0600, `XINFANG_DATA_KEYS_FILE`) or the environment
(`XINFANG_DATA_KEYS` holding the same JSON), shaped:

    {"suite": "aes-256-gcm",            # or "sm4-gcm"
     "current": "k2",                   # the key new data is encrypted with
     "keys": {"k1": "<base64 key>", "k2": "<base64 key>"},   # old keys stay until re-encrypted
     "suites": {"k2": "sm4-gcm"},       # optional: a key's own suite when not `suite`
     "index_key": "<base64, 32 bytes>"} # HMAC key of the blind indexes (matching R11/R12)

Rotation (`xinfang data-keys rotate`, ops/datakeys.py): add a key and make it `current` (its
suite may differ: moving to SM4-GCM is a rotation); the re-encryption sweep (privacy/sweep.py)
moves every registered field to it; old keys stay readable until `retire` finds nothing
still under them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..domain.errors import ConfigurationError
from .suites import Suite, suite

ENV_KEYS = "XINFANG_DATA_KEYS"
ENV_KEYS_FILE = "XINFANG_DATA_KEYS_FILE"
ENV_CIPHER = "XINFANG_DATA_CIPHER"  # suite of a key file created on first start


class DataKeysInvalid(ConfigurationError):
    """The data-protection key file or variable cannot be used."""

    code = "XF-DATA-KEYS"
    zh = "个人信息加密密钥配置有误"
    en = "The personal-data encryption keys are not usable"


@dataclass(frozen=True)
class DataKeys:
    """The default suite, the keys by id, the current key id, the blind-index key and the
    suites of keys that do not use the default one. `suite` is the current key's suite."""

    suite: Suite
    keys: Mapping[str, bytes]
    current: str
    index_key: bytes
    suites: Mapping[str, Suite] = field(default_factory=dict)

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]

    def suite_of(self, key_id: str) -> Suite:
        """The suite key `key_id` is used with."""
        return self.suites.get(key_id, self.suite)

    @classmethod
    def generate(cls, suite_name: str = "aes-256-gcm", key_id: str = "k1") -> DataKeys:
        chosen = suite(suite_name)
        return cls(chosen, {key_id: secrets.token_bytes(chosen.key_bytes)}, key_id,
                   secrets.token_bytes(32))

    def rotated(self, key_id: str, suite_name: str | None = None) -> DataKeys:
        """A new current key `key_id` (of `suite_name`, default the current key's suite); the
        old ones kept for reading. The new key's suite becomes the default `suite`."""
        if key_id in self.keys:
            raise DataKeysInvalid(f"密钥编号已存在 / key id {key_id} exists")
        if not key_id or not key_id.replace("-", "").replace("_", "").isalnum():
            raise DataKeysInvalid(f"密钥编号只能含字母数字 / key id {key_id!r}: letters, digits")
        try:
            chosen = suite(suite_name) if suite_name else self.suite
        except ValueError as exc:
            raise DataKeysInvalid(str(exc)) from exc
        keys = {**self.keys, key_id: secrets.token_bytes(chosen.key_bytes)}
        suites = {k: self.suite_of(k) for k in self.keys}
        return DataKeys(chosen, keys, key_id, self.index_key, _non_default(suites, chosen))

    def without(self, key_id: str) -> DataKeys:
        """The ring without key `key_id` (not the current one)."""
        if key_id == self.current:
            raise DataKeysInvalid(f"不能停用当前密钥 / {key_id} is the current key")
        if key_id not in self.keys:
            raise DataKeysInvalid(f"没有密钥 / no key {key_id}")
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        suites = {k: self.suite_of(k) for k in keys}
        return DataKeys(self.suite, keys, self.current, self.index_key,
                        _non_default(suites, self.suite))  # fmt: skip

    def next_key_id(self) -> str:
        """k<n+1> after the highest k<n> in the ring."""
        numbers = [int(k[1:]) for k in self.keys if k[:1] == "k" and k[1:].isdigit()]
        return f"k{max(numbers, default=0) + 1}"

    def to_json(self) -> str:
        b64 = base64.b64encode
        doc: dict[str, Any] = {
            "suite": self.suite.name,
            "current": self.current,
            "keys": {k: b64(v).decode() for k, v in self.keys.items()},
            "index_key": b64(self.index_key).decode(),
        }
        if self.suites:
            doc["suites"] = {k: v.name for k, v in self.suites.items()}
        return json.dumps(doc, indent=2)

    @classmethod
    def from_json(cls, text: str, where: str) -> DataKeys:
        try:
            raw: Any = json.loads(text)
            chosen = suite(str(raw.get("suite", "aes-256-gcm")))
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in raw["keys"].items()}
            current = str(raw["current"])
            index_key = base64.b64decode(raw["index_key"], validate=True)
            own = {str(k): suite(str(v)) for k, v in dict(raw.get("suites") or {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataKeysInvalid(f"{where}: {exc}") from exc
        if current not in keys:
            raise DataKeysInvalid(f"{where}: current key {current!r} not in keys")
        wrong = [k for k, v in keys.items() if len(v) != own.get(k, chosen).key_bytes]
        if wrong:
            raise DataKeysInvalid(f"{where}: keys {wrong} do not have their suite's length")
        if len(index_key) < 32:
            raise DataKeysInvalid(f"{where}: index_key must be at least 32 bytes")
        return cls(chosen, keys, current, index_key, _non_default(own, chosen))


def _non_default(suites: Mapping[str, Suite], default: Suite) -> dict[str, Suite]:
    return {k: v for k, v in suites.items() if v != default}


def write_key_file(keys: DataKeys, path: Path) -> None:
    """Owner-only (0600), written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, keys.to_json().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_data_keys(
    env: Mapping[str, str], default_file: Path | None = None, *, may_create: bool = True
) -> DataKeys:
    """From `XINFANG_DATA_KEYS`, else `XINFANG_DATA_KEYS_FILE`, else `default_file` (created
    with fresh keys of `XINFANG_DATA_CIPHER`'s suite if missing and `may_create`: the embedded
    default, like the node's signing key). DataKeysInvalid names what is wrong."""
    if env.get(ENV_KEYS):
        return DataKeys.from_json(env[ENV_KEYS], ENV_KEYS)
    path = key_file_path(env, default_file)
    if not path.exists():
        if env.get(ENV_KEYS_FILE):
            raise DataKeysInvalid(f"{path}: 文件不存在 / no such file")
        if not may_create:
            raise DataKeysInvalid(
                f"{path}: 密钥文件不存在，而数据库已含加密字段；请恢复该文件 / the key file is "
                "missing but the database holds encrypted fields: restore it"
            )
        try:
            keys = DataKeys.generate(env.get(ENV_CIPHER) or "aes-256-gcm")
        except ValueError as exc:
            raise DataKeysInvalid(f"{ENV_CIPHER}: {exc}") from exc
        write_key_file(keys, path)
        return keys
    return read_key_file(path)


def key_file_path(env: Mapping[str, str], default_file: Path | None) -> Path:
    """`XINFANG_DATA_KEYS_FILE`, else `default_file`."""
    named = env.get(ENV_KEYS_FILE)
    path = Path(named) if named else default_file
    if path is None:
        raise DataKeysInvalid(f"set {ENV_KEYS_FILE} or {ENV_KEYS}")
    return path


def read_key_file(path: Path) -> DataKeys:
    """The keys of an existing 0600 key file."""
    if path.stat().st_mode & 0o077:
        raise DataKeysInvalid(f"{path}: readable by others; chmod 600 it")
    return DataKeys.from_json(path.read_text(), str(path))


class DataKeyRing:
    """The node's keys, re-read when their file changes (`xinfang data-keys rotate` run beside
    a running node): the node then seals with the new current key and opens fields the sweep
    moved to it. Keys from the environment never change while the process runs."""

    def __init__(self, keys: DataKeys, path: Path | None = None) -> None:
        self._keys = keys
        self.path = path
        self._seen = self._stamp()

    def _stamp(self) -> tuple[int, int, int] | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def current(self) -> DataKeys:
        """The keys now (one stat of the key file per call)."""
        stamp = self._stamp()
        if stamp is not None and stamp != self._seen and self.path is not None:
            self._keys = read_key_file(self.path)
            self._seen = stamp
        return self._keys
