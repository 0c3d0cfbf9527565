"""Kafka client security: one place that turns flags or environment variables into the
keyword arguments of every Kafka client (aiokafka, faust, confluent-kafka).

Settings (flags win over the environment; docs/decisions/018-kafka-acls.md):

- ``XINFANG_KAFKA_SECURITY_PROTOCOL``: ``SASL_SSL`` (TLS + SASL/SCRAM-SHA-512) or ``PLAINTEXT``.
  Default: ``SASL_SSL`` when credentials are given, else ``PLAINTEXT``.
- ``XINFANG_KAFKA_CA_FILE``: PEM file of the CA that signed the broker's certificate (TLS);
  without it the system's trust store is used.
- ``XINFANG_KAFKA_CREDENTIALS``: path of this principal's credentials file — one per node,
  auditor, integrator or admin (``username=…`` and ``password=…`` lines, Java properties style;
  ``sasl.username``/``sasl.password`` and a JSON object with the same keys are read too; a
  ``ca_file`` line names the CA when ``XINFANG_KAFKA_CA_FILE`` is not set).
- ``XINFANG_KAFKA_USERNAME`` / ``XINFANG_KAFKA_PASSWORD``: the same without a file.
- ``XINFANG_KAFKA_SASL_MECHANISM``: default ``SCRAM-SHA-512``.

A bad setting raises :class:`KafkaSecurityError` naming the key (zh/en).
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .domain.errors import ConfigurationError

PROTOCOLS = ("SASL_SSL", "PLAINTEXT")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


class KafkaSecurityError(ConfigurationError, ValueError):
    """A Kafka security setting is missing or invalid (the message names the setting)."""

    code = "XF-KAFKA-SECURITY"
    zh = "Kafka 安全配置有误"
    en = "A Kafka security setting is invalid"


@dataclass(frozen=True)
class KafkaSecurity:
    """How a client authenticates to the broker; ``PLAINTEXT`` means no TLS, no SASL."""

    protocol: str = "PLAINTEXT"
    ca_file: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    mechanism: str = "SCRAM-SHA-512"

    @property
    def secured(self) -> bool:
        return self.protocol != "PLAINTEXT"

    @property
    def principal(self) -> str | None:
        """``User:<name>`` as the broker's authoriser sees it, or None without SASL."""
        return f"User:{self.username}" if self.secured and self.username else None

    def with_credentials(self, path: Path) -> KafkaSecurity:
        """The same TLS settings with another principal's credentials file (e.g. admin's)."""
        creds = read_credentials(path)
        return KafkaSecurity(
            protocol="SASL_SSL",
            ca_file=self.ca_file or _path(creds.get("ca_file")),
            username=creds["username"],
            password=creds["password"],
            mechanism=self.mechanism,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts ``ca_file`` (or the system store) and checks the
        broker's host name."""
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        if not self.secured:
            return {"security_protocol": "PLAINTEXT"}
        return {
            "security_protocol": "SASL_SSL",
            "ssl_context": self.ssl_context(),
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def confluent(self) -> dict[str, str]:
        """Configuration entries for confluent-kafka (librdkafka) clients."""
        if not self.secured:
            return {"security.protocol": "PLAINTEXT"}
        conf = {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": self.mechanism,
            "sasl.username": self.username or "",
            "sasl.password": self.password or "",
            "ssl.endpoint.identification.algorithm": "https",
        }
        if self.ca_file:
            conf["ssl.ca.location"] = str(self.ca_file)
        return conf

    def faust(self) -> dict[str, Any]:
        """Keyword arguments for ``faust.App`` (``broker_credentials``), empty for PLAINTEXT."""
        if not self.secured:
            return {}
        import faust  # the node's dependency; audit and examples never import faust

        return {
            "broker_credentials": faust.SASLCredentials(
                username=self.username,
                password=self.password,
                ssl_context=self.ssl_context(),
                mechanism=self.mechanism,
            )
        }

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **flags: str | Path | None
    ) -> KafkaSecurity:
        """Read the settings; ``flags`` (``protocol``, ``ca_file``, ``credentials``,
        ``username``, ``password``, ``mechanism``) win over ``XINFANG_KAFKA_*``."""
        env = os.environ if env is None else env

        def get(flag: str, key: str) -> str | None:
            value = flags.get(flag)
            if value not in (None, ""):
                return str(value)
            return env.get(key) or None

        creds: dict[str, str] = {}
        creds_path = get("credentials", "XINFANG_KAFKA_CREDENTIALS")
        if creds_path:
            creds = read_credentials(Path(creds_path))
        username = get("username", "XINFANG_KAFKA_USERNAME") or creds.get("username")
        password = get("password", "XINFANG_KAFKA_PASSWORD") or creds.get("password")
        protocol = (get("protocol", "XINFANG_KAFKA_SECURITY_PROTOCOL") or "").upper()
        if not protocol:
            protocol = "SASL_SSL" if username else "PLAINTEXT"
        if protocol not in PROTOCOLS:
            raise KafkaSecurityError(
                f"XINFANG_KAFKA_SECURITY_PROTOCOL 须为 SASL_SSL 或 PLAINTEXT / "
                f"must be SASL_SSL or PLAINTEXT: {protocol!r}"
            )
        mechanism = (get("mechanism", "XINFANG_KAFKA_SASL_MECHANISM") or MECHANISMS[0]).upper()
        if mechanism not in MECHANISMS:
            raise KafkaSecurityError(
                f"XINFANG_KAFKA_SASL_MECHANISM 不支持 / unsupported: {mechanism!r}"
            )
        ca_file = _path(get("ca_file", "XINFANG_KAFKA_CA_FILE") or creds.get("ca_file"))
        if protocol == "SASL_SSL":
            if not username or not password:
                raise KafkaSecurityError(
                    "SASL_SSL 需要凭据 / needs credentials: XINFANG_KAFKA_CREDENTIALS "
                    "(or XINFANG_KAFKA_USERNAME and XINFANG_KAFKA_PASSWORD)"
                )
            if ca_file is not None and not ca_file.is_file():
                raise KafkaSecurityError(
                    f"XINFANG_KAFKA_CA_FILE 不存在 / does not exist: {str(ca_file)!r}"
                )
        return cls(protocol, ca_file, username, password, mechanism)


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None


_ALIASES = {
    "username": "username", "user": "username", "sasl.username": "username",
    "password": "password", "sasl.password": "password",
    "ca_file": "ca_file", "ssl.ca.location": "ca_file", "ca": "ca_file",
}  # fmt: skip


def read_credentials(path: Path) -> dict[str, str]:
    """``{"username", "password"[, "ca_file"]}`` from a principal's credentials file.

    The file is ``key=value`` lines (``#`` comments) or one JSON object; a relative
    ``ca_file`` is taken from the file's folder. Raises KafkaSecurityError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KafkaSecurityError(
            f"XINFANG_KAFKA_CREDENTIALS 无法读取 / cannot be read: {str(path)!r} ({exc.strerror})"
        ) from None
    raw: dict[str, Any]
    if text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except ValueError:
            raw = {}
    else:
        raw = {}
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                raw[key.strip()] = value.strip()
    out = {_ALIASES[k]: str(v) for k, v in raw.items() if k in _ALIASES}
    if not out.get("username") or not out.get("password"):
        raise KafkaSecurityError(
            f"凭据文件须含 username 与 password / credentials file must hold username and "
            f"password: {str(path)!r}"
        )
    if "ca_file" in out and not Path(out["ca_file"]).is_absolute():
        out["ca_file"] = str(path.parent / out["ca_file"])
    return out


def client_security() -> KafkaSecurity:
    """The settings of this process, from the environment (every client calls this)."""
    return KafkaSecurity.from_env()


def aiokafka_security() -> dict[str, Any]:
    """Shorthand: ``**aiokafka_security()`` in every aiokafka client's constructor."""
    return client_security().aiokafka()


def confluent_security() -> dict[str, str]:
    """Shorthand: merged into every confluent-kafka client's configuration."""
    return client_security().confluent()
