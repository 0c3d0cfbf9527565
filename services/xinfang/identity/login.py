"""`xinfang login`: OAuth 2.0 sign-in for the CLI, tokens kept in a file only its owner reads.

- Device authorization grant (RFC 8628): the CLI shows a code and a URL; the person signs in
  there (on any device, with the provider's second factor); the CLI polls the token endpoint,
  honouring `interval` and `slow_down` (§3.5).
- With --browser: authorization code + PKCE S256 (RFC 7636) with a loopback redirect on a free
  port (RFC 8252 §7.3); `state` is checked.
- The token file (default ~/.config/xinfang/token.json, XINFANG_TOKEN_FILE) is written with
  mode 0600 through a temporary file; `access_token()` refreshes it with the refresh token when
  the access token has expired, and `logout()` revokes (RFC 7009, best effort) and deletes it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
import urllib.parse
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx

from ..domain.errors import AccessError

TOKEN_FILE_ENV = "XINFANG_TOKEN_FILE"
EARLY_S = 30  # refresh this long before the access token expires
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

Say = Callable[[str, str], None]


class LoginFailed(AccessError):
    """Sign-in with the provider did not complete: refused, expired device code, a browser
    callback with the wrong state, or an unreachable provider. Names the reason."""

    code = "XF-LOGIN-FAILED"
    zh = "登录未完成"
    en = "Sign-in did not complete"


class LoginExpired(AccessError):
    """The stored sign-in has expired and cannot be refreshed: run `xinfang login` again."""

    code = "XF-LOGIN-EXPIRED"
    zh = "登录已过期，请重新执行 xinfang login"
    en = "The sign-in has expired; run `xinfang login` again"


def token_path(given: str | os.PathLike[str] | None = None) -> Path:
    """The token file: `given`, else $XINFANG_TOKEN_FILE, else
    $XDG_CONFIG_HOME/xinfang/token.json (~/.config/xinfang/token.json)."""
    if given:
        return Path(given)
    if os.environ.get(TOKEN_FILE_ENV):
        return Path(os.environ[TOKEN_FILE_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "xinfang" / "token.json"


def save_tokens(path: Path, data: dict[str, Any]) -> None:
    """Write `data` to `path` readable by its owner only (0600; folder 0700), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also when the umask or an old file said otherwise
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def load_tokens(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as err:
        raise LoginExpired(f"令牌文件无法读取 / unreadable token file {path}: {err}") from None
    return data if isinstance(data, dict) else None


def _discover(http: httpx.Client, issuer: str) -> dict[str, Any]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = http.get(url)
        response.raise_for_status()
        doc = response.json()
    except (httpx.HTTPError, ValueError) as err:
        raise LoginFailed(f"{url}: {err}", url=url) from None
    if not isinstance(doc, dict) or doc.get("issuer") != issuer:
        raise LoginFailed(f"{url}: 签发者不符 / issuer mismatch", url=url)
    return doc


def _post(http: httpx.Client, url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        response = http.post(url, data=form)
        payload = response.json()
    except (httpx.HTTPError, ValueError) as err:
        raise LoginFailed(f"{url}: {err}", url=url) from None
    return response.status_code, payload if isinstance(payload, dict) else {}


def _record(issuer: str, client_id: str, doc: dict[str, Any], tokens: dict[str, Any],
            now: float) -> dict[str, Any]:  # fmt: skip
    """What the token file keeps: the tokens, when they expire, and where to refresh them."""
    record = {
        "issuer": issuer,
        "client_id": client_id,
        "token_endpoint": doc["token_endpoint"],
        "revocation_endpoint": doc.get("revocation_endpoint"),
        "token_type": tokens.get("token_type", "Bearer"),
        "access_token": tokens["access_token"],
        "expires_at": now + float(tokens.get("expires_in", 60)),
        "refresh_token": tokens.get("refresh_token"),
        "refresh_expires_at": (
            now + float(tokens["refresh_expires_in"])
            if tokens.get("refresh_expires_in")  # Keycloak: 0 for offline tokens (no expiry)
            else None
        ),
    }
    return record


def _pkce() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) of RFC 7636 §4.1–4.2."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def device_login(
    issuer: str,
    client_id: str,
    say: Say,
    *,
    http: httpx.Client,
    scope: str = "openid",
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Run the device authorization grant (RFC 8628) and return the token file's record."""
    doc = _discover(http, issuer)
    endpoint = doc.get("device_authorization_endpoint")
    if not isinstance(endpoint, str):
        raise LoginFailed("提供方不支持设备流程 / the provider has no device authorization "
                          "endpoint; use --browser")  # fmt: skip
    # PKCE on the device flow too: providers that require it for the client (Keycloak with
    # S256 required) refuse the grant without it; others ignore the parameters (RFC 6749 §3.1)
    verifier, challenge = _pkce()
    status, grant = _post(http, endpoint, {"client_id": client_id, "scope": scope,
                                           "code_challenge": challenge,
                                           "code_challenge_method": "S256"})  # fmt: skip
    if status != 200 or "device_code" not in grant:
        raise LoginFailed(f"{endpoint}: HTTP {status} {grant.get('error', '')}", url=endpoint)
    uri = grant.get("verification_uri_complete") or grant.get("verification_uri")
    say(
        f"请在浏览器中打开 {uri} 并确认代码 {grant.get('user_code')}",
        f"open {uri} in a browser and confirm the code {grant.get('user_code')}",
    )
    interval = float(grant.get("interval", 5))
    deadline = now() + float(grant.get("expires_in", 600))
    form = {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"],
            "client_id": client_id, "code_verifier": verifier}  # fmt: skip
    while now() < deadline:
        sleep(interval)
        status, tokens = _post(http, doc["token_endpoint"], form)
        if status == 200 and "access_token" in tokens:
            return _record(issuer, client_id, doc, tokens, now())
        error = tokens.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5  # RFC 8628 §3.5
            continue
        raise LoginFailed(f"{error or status}: {tokens.get('error_description', '')}",
                          reason=str(error))  # fmt: skip
    raise LoginFailed("设备代码已过期 / the device code expired", reason="expired_token")


def browser_login(
    issuer: str,
    client_id: str,
    say: Say,
    *,
    http: httpx.Client,
    scope: str = "openid",
    open_browser: bool = False,
    timeout_s: float = 300.0,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Authorization code + PKCE S256 with a loopback redirect; return the token file's
    record. The person opens the printed URL (or the browser opens it with `open_browser`)."""
    doc = _discover(http, issuer)
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(24)
    result: dict[str, str] = {}
    done = threading.Event()

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            if "code" not in query and "error" not in query:
                self.send_response(404)
                self.end_headers()
                return
            result.update(query)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write("登录完成，可关闭此页 / signed in, you may close this page\n".encode())
            done.set()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Callback)
    redirect = f"http://127.0.0.1:{server.server_address[1]}/callback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = doc["authorization_endpoint"] + "?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect,
            "scope": scope, "state": state, "code_challenge": challenge,
            "code_challenge_method": "S256",
        })  # fmt: skip
        say(f"请在浏览器中打开 / open in a browser: {url}", f"open in a browser: {url}")
        if open_browser:
            webbrowser.open(url)
        if not done.wait(timeout_s):
            raise LoginFailed("等待浏览器回调超时 / no browser callback in time", reason="timeout")
    finally:
        server.shutdown()
        server.server_close()
    if result.get("state") != state:
        raise LoginFailed("回调的 state 不符 / the callback's state does not match",
                          reason="state")  # fmt: skip
    if "code" not in result:
        raise LoginFailed(f"{result.get('error')}: {result.get('error_description', '')}",
                          reason=result.get("error", ""))  # fmt: skip
    status, tokens = _post(http, doc["token_endpoint"], {
        "grant_type": "authorization_code", "code": result["code"], "redirect_uri": redirect,
        "client_id": client_id, "code_verifier": verifier,
    })  # fmt: skip
    if status != 200 or "access_token" not in tokens:
        raise LoginFailed(f"{tokens.get('error', status)}: {tokens.get('error_description', '')}")
    return _record(issuer, client_id, doc, tokens, now())


def login(
    *,
    issuer: str,
    client_id: str,
    say: Say,
    browser: bool = False,
    open_browser: bool = False,
    token_file: str | None = None,
    http: httpx.Client | None = None,
) -> Path:
    """Sign in (device flow, or the browser flow) and write the token file; returns its path."""
    if not issuer:
        raise LoginFailed("请用 --issuer 或 XINFANG_OIDC_ISSUER 指定签发者 / pass the issuer "
                          "with --issuer or XINFANG_OIDC_ISSUER")  # fmt: skip
    with contextlib.ExitStack() as stack:
        client = http or stack.enter_context(httpx.Client(timeout=30))
        if browser:
            record = browser_login(issuer, client_id, say, http=client, open_browser=open_browser)
        else:
            record = device_login(issuer, client_id, say, http=client)
    path = token_path(token_file)
    save_tokens(path, record)
    say(f"已登录，令牌保存在 {path}", f"signed in; token saved in {path}")
    return path


def access_token(
    token_file: str | os.PathLike[str] | None = None,
    *,
    http: httpx.Client | None = None,
    now: Callable[[], float] = time.time,
) -> str | None:
    """The stored access token, refreshed first if it has expired; None when not signed in.
    Raises LoginExpired when neither token is valid any more."""
    path = token_path(token_file)
    record = load_tokens(path)
    if record is None:
        return None
    if float(record.get("expires_at", 0)) - EARLY_S > now():
        return str(record["access_token"])
    refresh = record.get("refresh_token")
    refresh_expires = record.get("refresh_expires_at")
    if not refresh or (refresh_expires is not None and float(refresh_expires) <= now()):
        raise LoginExpired(str(path))
    with contextlib.ExitStack() as stack:
        client = http or stack.enter_context(httpx.Client(timeout=30))
        status, tokens = _post(client, record["token_endpoint"], {
            "grant_type": "refresh_token", "refresh_token": refresh,
            "client_id": record["client_id"],
        })  # fmt: skip
    if status != 200 or "access_token" not in tokens:
        raise LoginExpired(f"{path}: {tokens.get('error', status)}")
    doc = {"token_endpoint": record["token_endpoint"],
           "revocation_endpoint": record.get("revocation_endpoint")}  # fmt: skip
    updated = _record(record["issuer"], record["client_id"], doc, tokens, now())
    if not updated["refresh_token"]:  # the provider kept the old refresh token
        updated["refresh_token"] = refresh
        updated["refresh_expires_at"] = refresh_expires
    save_tokens(path, updated)
    return str(updated["access_token"])


def logout(token_file: str | None = None, *, http: httpx.Client | None = None) -> Path | None:
    """Revoke the refresh token at the provider (RFC 7009; best effort) and delete the token
    file. Returns the path deleted, or None when there was none."""
    path = token_path(token_file)
    record = load_tokens(path)
    if record is None:
        return None
    endpoint = record.get("revocation_endpoint")
    if endpoint and record.get("refresh_token"):
        # best effort: the file goes anyway, and the token then expires at the provider
        with contextlib.suppress(httpx.HTTPError), contextlib.ExitStack() as stack:
            client = http or stack.enter_context(httpx.Client(timeout=10))
            client.post(endpoint, data={
                "token": record["refresh_token"], "token_type_hint": "refresh_token",
                "client_id": record["client_id"],
            })  # fmt: skip
    path.unlink(missing_ok=True)
    return path
