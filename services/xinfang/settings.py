"""Typed node settings, read once from the environment (prefix XINFANG_) and CLI flags.

Flags win over the environment. A missing required key fails loudly and names the key.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .domain.errors import ConfigurationError


class SettingsError(ConfigurationError, ValueError):
    """A node setting is missing or malformed, or its key does not match the published one."""

    code = "XF-SETTINGS"
    zh = "节点配置有误"
    en = "A node setting is invalid"


RULES_DIR_ENV = "XINFANG_RULES_DIR"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(spec: str) -> tuple[Network, ...]:
    """XINFANG_TRUSTED_PROXIES: addresses or CIDR networks, comma-separated — the reverse
    proxies whose X-Forwarded-For the operator trail believes (decision 027)."""
    try:
        return tuple(
            ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()
        )
    except ValueError as exc:
        raise SettingsError(
            f"XINFANG_TRUSTED_PROXIES 须为逗号分隔的地址或网段 / must be addresses or networks: "
            f"{exc}"
        ) from None


def rules_dir_setting(env: Mapping[str, str] | None = None) -> Path | None:
    """$XINFANG_RULES_DIR (a folder laid out like deploy/rules, e.g. mounted with an official
    holiday file the image does not have yet), or None for the shipped rules. NodeSettings reads
    it for a node; the CLI's node-less commands (calendar status, audit) read it here."""
    env = os.environ if env is None else env
    configured = env.get(RULES_DIR_ENV)
    return Path(configured) if configured else None


@dataclass(frozen=True)
class NodeSettings:
    division: str
    bootstrap_servers: str = "127.0.0.1:9092"
    topology_path: Path | None = None
    topic_prefix: str = ""
    db_url: str = ""
    data_dir: Path = Path("var")
    http_host: str = "127.0.0.1"
    http_port: int = 6066
    sweep_interval_s: float = 60.0  # how often the deadline watcher looks
    clock_file: Path | None = None  # tests and drills only: see node/clock_file.py
    key_file: Path | None = None  # Ed25519 private key (PEM); default <data_dir>/node-<d>.key
    public_keys_dir: Path | None = None  # published keys; default keys/ beside the topology
    checkpoint_interval_s: float = 300.0  # signed checkpoint of the log head (0: on demand only)
    # schemas/ to read and write with (current schemas + history/); None: the installed ones.
    # Explicit, for a node that runs another release's schemas (upgrades, the version tests).
    schema_dir: Path | None = None
    # deploy/rules-like folder (holidays/, provinces/); None: the shipped rules (rules_file)
    rules_dir: Path | None = None
    # client-given times of acts (DOMAIN.md §11, domain/acts.py): how far in the future they
    # may lie (clock skew), and how far in the past before a back-dating reason is required
    future_tolerance_s: float = 300.0
    backdate_tolerance_s: float = 3600.0
    # /health reports the relay stuck when its oldest unsent record is older than this
    relay_stuck_after_s: float = 300.0
    # /health alarms when a direct source's chain gap stays open longer than this (decision 022)
    chain_gap_alarm_s: float = 300.0
    # personal data kept this many days after a case ended, then its key erased (decision 028)
    retention_days: float = 1826.0
    # a topic still unknown after this long is one that stays unknown: its records are set aside
    relay_unknown_topic_s: float = 120.0
    # the producer's largest record (bytes); larger ones are set aside as record-too-large
    relay_max_record_bytes: int = 1048576
    # fault-injection drills only (make chaos, node/faults.py): crash probability per batch
    fault_crash_before_publish: float = 0.0
    fault_crash_before_mark: float = 0.0
    # XINFANG_KAFKA_CREATE_TOPICS: create missing topics at start (1) or only check them (0).
    # Default: create on a PLAINTEXT broker (development), check on a secured one, where only
    # admin may create (`xinfang kafka provision`, decision 018).
    create_topics: bool | None = None
    # an external OpenID Connect provider (decision 026): bearer JWTs of `oidc_issuer` for
    # `oidc_audience` sign people in; "" = the node's own accounts only
    oidc_issuer: str = ""
    oidc_audience: str = "xinfang-api"
    oidc_client_id: str = "xinfang"  # the public client `xinfang login` uses
    # XINFANG_TRUSTED_PROXIES: proxies whose X-Forwarded-For the operator trail believes
    trusted_proxies: tuple[Network, ...] = ()
    # XINFANG_PUBLISH_KEY=1 (development and compose only): a node whose division has no key
    # published writes its own public key into the keys folder at start (decision 021)
    publish_key: bool = False

    @property
    def creates_topics(self) -> bool:
        if self.create_topics is not None:
            return self.create_topics
        from .kafka_security import client_security

        return not client_security().secured

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / f"node-{self.division}.key"

    @property
    def data_keys_path(self) -> Path:
        """The data-key file when XINFANG_DATA_KEYS(_FILE) is not set (privacy/keyfile.py)."""
        return self.data_dir / f"node-{self.division}.datakeys.json"

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{self.data_dir / f'node-{self.division}.sqlite3'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: object) -> NodeSettings:
        env = os.environ if env is None else env

        def get(flag: str, *keys: str) -> str | None:
            value = flags.get(flag)
            if value not in (None, ""):
                return str(value)
            for key in keys:
                if env.get(key):
                    return env[key]
            return None

        division = get("division", "XINFANG_DIVISION")
        if division is None:
            raise SettingsError("缺少配置 / missing setting: XINFANG_DIVISION (or --division)")
        port_text = get("http_port", "XINFANG_HTTP_PORT") or "6066"
        if not port_text.isdigit():
            raise SettingsError(f"XINFANG_HTTP_PORT 须为整数 / must be an integer: {port_text!r}")
        topology = get("topology_path", "XINFANG_TOPOLOGY")

        def seconds(flag: str, key: str, default: str) -> float:
            text = get(flag, key) or default
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if value < 0:
                raise SettingsError(f"{key} 须为秒数 / must be seconds: {text!r}") from None
            return value

        sweep = seconds("sweep_interval_s", "XINFANG_SWEEP_INTERVAL", "60")
        clock_file = get("clock_file", "XINFANG_CLOCK_FILE")
        key_file = get("key_file", "XINFANG_KEY_FILE")
        public_keys = get("public_keys_dir", "XINFANG_PUBLIC_KEYS")
        checkpoint_interval = seconds("checkpoint_interval_s", "XINFANG_CHECKPOINT_INTERVAL", "300")
        schema_dir = get("schema_dir", "XINFANG_SCHEMA_DIR")
        if schema_dir and not (Path(schema_dir) / "events").is_dir():
            raise SettingsError(
                f"XINFANG_SCHEMA_DIR 须含 events/ / must hold events/: {schema_dir!r}"
            )
        rules_dir = get("rules_dir", RULES_DIR_ENV)
        future_tolerance = seconds("future_tolerance_s", "XINFANG_FUTURE_TOLERANCE", "300")
        backdate_tolerance = seconds("backdate_tolerance_s", "XINFANG_BACKDATE_TOLERANCE", "3600")
        stuck_after = seconds("relay_stuck_after_s", "XINFANG_RELAY_STUCK_AFTER", "300")
        gap_alarm = seconds("chain_gap_alarm_s", "XINFANG_CHAIN_GAP_ALARM_S", "300")
        retention = seconds("retention_days", "XINFANG_RETENTION_DAYS", "1826")  # days
        unknown_topic = seconds("relay_unknown_topic_s", "XINFANG_RELAY_UNKNOWN_TOPIC_AFTER", "120")
        max_record_text = get("relay_max_record_bytes", "XINFANG_MAX_RECORD_BYTES") or "1048576"
        if not max_record_text.isdigit() or int(max_record_text) == 0:
            raise SettingsError(
                f"XINFANG_MAX_RECORD_BYTES 须为正整数 / must be a positive integer: "
                f"{max_record_text!r}"
            )
        def probability(flag: str, key: str) -> float:
            text = get(flag, key) or "0"
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not 0.0 <= value <= 1.0:
                raise SettingsError(f"{key} 须为 0 到 1 的概率 / must be a probability: {text!r}")
            return value

        crash_publish = probability(
            "fault_crash_before_publish", "XINFANG_FAULT_CRASH_BEFORE_PUBLISH"
        )
        crash_mark = probability("fault_crash_before_mark", "XINFANG_FAULT_CRASH_BEFORE_MARK")
        create_text = (get("create_topics", "XINFANG_KAFKA_CREATE_TOPICS") or "").lower()
        publish_key = (get("publish_key", "XINFANG_PUBLISH_KEY") or "").lower() in ("1", "true")
        if create_text not in ("", "0", "1", "true", "false"):
            raise SettingsError(
                f"XINFANG_KAFKA_CREATE_TOPICS 须为 0 或 1 / must be 0 or 1: {create_text!r}"
            )
        oidc_issuer = (get("oidc_issuer", "XINFANG_OIDC_ISSUER") or "").rstrip("/")
        if oidc_issuer and not _trusted_issuer_url(oidc_issuer):
            raise SettingsError(
                "XINFANG_OIDC_ISSUER 须为 https URL（http 仅限本机）/ must be an https URL "
                f"(http only on the loopback address): {oidc_issuer!r}"
            )
        return cls(
            division=division,
            bootstrap_servers=get("bootstrap_servers", "KAFKA_BOOTSTRAP_SERVERS")
            or "127.0.0.1:9092",
            topology_path=Path(topology) if topology else None,
            topic_prefix=get("topic_prefix", "XINFANG_TOPIC_PREFIX") or "",
            db_url=get("db_url", "XINFANG_DB_URL") or "",
            data_dir=Path(get("data_dir", "XINFANG_DATA_DIR") or "var"),
            http_host=get("http_host", "XINFANG_HTTP_HOST") or "127.0.0.1",
            http_port=int(port_text),
            sweep_interval_s=sweep,
            clock_file=Path(clock_file) if clock_file else None,
            key_file=Path(key_file) if key_file else None,
            public_keys_dir=Path(public_keys) if public_keys else None,
            checkpoint_interval_s=checkpoint_interval,
            schema_dir=Path(schema_dir) if schema_dir else None,
            rules_dir=Path(rules_dir) if rules_dir else None,
            future_tolerance_s=future_tolerance,
            backdate_tolerance_s=backdate_tolerance,
            relay_stuck_after_s=stuck_after,
            chain_gap_alarm_s=gap_alarm,
            retention_days=retention,
            relay_unknown_topic_s=unknown_topic,
            relay_max_record_bytes=int(max_record_text),
            fault_crash_before_publish=crash_publish,
            fault_crash_before_mark=crash_mark,
            create_topics=None if not create_text else create_text in ("1", "true"),
            oidc_issuer=oidc_issuer,
            oidc_audience=get("oidc_audience", "XINFANG_OIDC_AUDIENCE") or "xinfang-api",
            oidc_client_id=get("oidc_client_id", "XINFANG_OIDC_CLIENT_ID") or "xinfang",
            trusted_proxies=parse_proxies(get("trusted_proxies", "XINFANG_TRUSTED_PROXIES") or ""),
            publish_key=publish_key,
        )


def _trusted_issuer_url(url: str) -> bool:
    """https, or http on the loopback address (a development Keycloak): tokens and keys
    fetched over plain HTTP from elsewhere could be swapped on the way."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
