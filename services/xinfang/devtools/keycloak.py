"""A real Keycloak for the tests and the demo: deploy/keycloak/keycloak.sh in a state folder of
its own, with the realm generated from the topology and its test users (decision 026).

    kc = start_keycloak(tmp_path / "keycloak", test_password="…")
    tokens = kc.password_grant("150404.handler")   # a test client's password grant
    kc.stop()
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ..domain.errors import ConfigurationError
from ..identity.keycloak_realm import REALM, TEST_CLIENT
from ..resources import checkout_dir
from .broker import free_port


class KeycloakFailed(ConfigurationError):
    """deploy/keycloak/keycloak.sh could not start Keycloak (its output names the log)."""

    code = "XF-KEYCLOAK"
    zh = "无法启动 Keycloak"
    en = "Keycloak could not be started"


def script() -> Path:
    """deploy/keycloak/keycloak.sh of the source checkout (ResourceMissing from a wheel)."""
    advice = ("请用 XINFANG_OIDC_ISSUER 指向运行中的 OIDC 提供方",
              "point XINFANG_OIDC_ISSUER at a running OIDC provider")  # fmt: skip
    return checkout_dir("deploy/keycloak", advice) / "keycloak.sh"


@dataclass
class Keycloak:
    """A running Keycloak of keycloak.sh: `issuer` of the xinfang realm, the test users'
    password, the bootstrap administrator, and how long the start took (seconds)."""

    base_url: str
    state_dir: Path
    port: int
    test_password: str
    admin_user: str
    admin_password: str
    started_in_s: float

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def password_grant(
        self, username: str, client_id: str = TEST_CLIENT, realm: str = REALM
    ) -> dict[str, Any]:
        """Tokens for a test user via a test client's password grant (never the public
        client's); `realm="master"` with the bootstrap administrator gives another issuer."""
        password = self.admin_password if realm == "master" else self.test_password
        response = httpx.post(
            f"{self.base_url}/realms/{realm}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": password,
                "scope": "openid",
            },
            timeout=30,
        )
        response.raise_for_status()
        return dict(response.json())

    def admin_token(self) -> str:
        """An access token of the master realm's bootstrap administrator (admin REST API)."""
        return str(
            self.password_grant(self.admin_user, "admin-cli", realm="master")["access_token"]
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run(self.state_dir, self.port, self.test_password, *args)

    def stop(self) -> None:
        result = self.run("stop")
        if result.returncode != 0:
            raise KeycloakFailed(result.stdout + result.stderr)


def _env(state_dir: Path, port: int, test_password: str) -> dict[str, str]:
    return {
        **os.environ,
        "XINFANG_KEYCLOAK_STATE": str(state_dir),
        "XINFANG_KEYCLOAK_PORT": str(port),
        "XINFANG_KEYCLOAK_TEST_PASSWORD": test_password,
        "XINFANG_KEYCLOAK_PYTHON": sys.executable,
    }


def _run(
    state_dir: Path, port: int, test_password: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script()), *args],
        env=_env(state_dir, port, test_password),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def start_keycloak(
    state_dir: Path, *, port: int | None = None, test_password: str | None = None
) -> Keycloak:
    """Start Keycloak with keycloak.sh in `state_dir` (its own database and logs) on `port`
    (default: a free one), the realm with test users, and wait until the realm answers.
    Raises KeycloakFailed with the script's output (which names the log) if it does not."""
    port = port or free_port()
    password = test_password or secrets.token_urlsafe(12)
    t0 = time.monotonic()
    result = _run(state_dir, port, password, "start")
    elapsed = time.monotonic() - t0
    if result.returncode != 0:
        raise KeycloakFailed(result.stdout + result.stderr)
    admin: dict[str, str] = {}
    for line in (state_dir / "admin.env").read_text().splitlines():
        key, _, value = line.partition("=")
        admin[key] = shlex.split(value)[0] if value else ""
    return Keycloak(
        base_url=f"http://127.0.0.1:{port}",
        state_dir=state_dir,
        port=port,
        test_password=password,
        admin_user=admin["ADMIN_USER"],
        admin_password=admin["ADMIN_PASSWORD"],
        started_in_s=elapsed,
    )
