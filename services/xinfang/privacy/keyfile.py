"""The node's data-protection keys: never in the database (issue 15 item 3).

From a key file (JSON, mode 0600, `XINFANG_DATA_KEYS_FILE`) or the environment
(`XINFANG_DATA_KEYS` holding the same JSON), shaped:

    {"suite": "aes-256-gcm",            # or "sm4-gcm"
     "current": "k2",                   # the key new data is encrypted with
     "keys": {"k1": "<base64 key>", "k2": "<base64 key>"},   # old keys stay until re-encrypted
     "index_key": "<base64, 32 bytes>"} # HMAC key of the blind indexes (matching R11/R12)

Rotation: add a key, make it `current`, restart; the background re-encryption moves every
field to it; then the old key may be removed (`xinfang data-keys rotate` does the first step).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.errors import ConfigurationError
from .suites import Suite, suite

ENV_KEYS = "XINFANG_DATA_KEYS"
ENV_KEYS_FILE = "XINFANG_DATA_KEYS_FILE"


class DataKeysInvalid(ConfigurationError):
    """The data-protection key file or variable cannot be used."""

    code = "XF-DATA-KEYS"
    zh = "个人信息加密密钥配置有误"
    en = "The personal-data encryption keys are not usable"


@dataclass(frozen=True)
class DataKeys:
    """The suite, the keys by id, the current key id and the blind-index key."""

    suite: Suite
    keys: Mapping[str, bytes]
    current: str
    index_key: bytes

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]

    @classmethod
    def generate(cls, suite_name: str = "aes-256-gcm", key_id: str = "k1") -> DataKeys:
        chosen = suite(suite_name)
        return cls(chosen, {key_id: secrets.token_bytes(chosen.key_bytes)}, key_id,
                   secrets.token_bytes(32))

    def rotated(self, key_id: str) -> DataKeys:
        """A new current key `key_id`; the old ones kept for reading."""
        if key_id in self.keys:
            raise DataKeysInvalid(f"密钥编号已存在 / key id {key_id} exists")
        keys = {**self.keys, key_id: secrets.token_bytes(self.suite.key_bytes)}
        return DataKeys(self.suite, keys, key_id, self.index_key)

    def to_json(self) -> str:
        b64 = base64.b64encode
        return json.dumps(
            {
                "suite": self.suite.name,
                "current": self.current,
                "keys": {k: b64(v).decode() for k, v in self.keys.items()},
                "index_key": b64(self.index_key).decode(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, where: str) -> DataKeys:
        try:
            raw: Any = json.loads(text)
            chosen = suite(str(raw.get("suite", "aes-256-gcm")))
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in raw["keys"].items()}
            current = str(raw["current"])
            index_key = base64.b64decode(raw["index_key"], validate=True)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataKeysInvalid(f"{where}: {exc}") from exc
        if current not in keys:
            raise DataKeysInvalid(f"{where}: current key {current!r} not in keys")
        wrong = [k for k, v in keys.items() if len(v) != chosen.key_bytes]
        if wrong:
            raise DataKeysInvalid(
                f"{where}: keys {wrong} are not {chosen.key_bytes} bytes for {chosen.name}"
            )
        if len(index_key) < 32:
            raise DataKeysInvalid(f"{where}: index_key must be at least 32 bytes")
        return cls(chosen, keys, current, index_key)


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


def load_data_keys(env: Mapping[str, str], default_file: Path | None = None) -> DataKeys:
    """From `XINFANG_DATA_KEYS`, else `XINFANG_DATA_KEYS_FILE`, else `default_file` (created
    with fresh keys if missing: the embedded default, like the node's signing key)."""
    if env.get(ENV_KEYS):
        return DataKeys.from_json(env[ENV_KEYS], ENV_KEYS)
    named = env.get(ENV_KEYS_FILE)
    path = Path(named) if named else default_file
    if path is None:
        raise DataKeysInvalid(f"set {ENV_KEYS_FILE} or {ENV_KEYS}")
    if not path.exists():
        if named:
            raise DataKeysInvalid(f"{path}: no such file")
        keys = DataKeys.generate()
        write_key_file(keys, path)
        return keys
    if path.stat().st_mode & 0o077:
        raise DataKeysInvalid(f"{path}: readable by others; chmod 600 it")
    return DataKeys.from_json(path.read_text(), str(path))
