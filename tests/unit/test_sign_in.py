"""Issue 14 items 1b, 2, 4: built-in accounts with TOTP, lock-out, idle timeout, CSRF, Host,
sign-in rate limits and the person on events — over HTTP through NodeApi.dispatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest

from xinfang.api.asgi_call import call_asgi
from xinfang.api.auth import Auth, AuthSettings
from xinfang.api.handlers import NodeApi
from xinfang.devtools.staff import PASSWORD, signed_in
from xinfang.identity import totp
from xinfang.identity.accounts import AccountPolicy
from xinfang.identity.errors import AccountInvalid
from xinfang.identity.principal import Role
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .lifecycle import PETITION

CITY, COUNTY = "150400", "150404"
OFFICE = "150400.xfj"


@pytest.fixture
def bus(tmp_path: Path) -> FakeBus:
    bus = FakeBus(load_topology(), [CITY, COUNTY], tmp_path)
    bus.clock.now = datetime(2026, 2, 14, 2, 0, tzinfo=UTC)
    return bus


def api_of(bus: FakeBus, **settings: Any) -> NodeApi:
    node = bus.nodes[CITY]
    policy = AccountPolicy(
        max_failures=3, lockout=timedelta(minutes=15), idle=timedelta(minutes=30)
    )
    auth = Auth(node.account_book(policy), AuthSettings(policy=policy, **settings))
    return NodeApi(node, auth=auth)


def account(api: NodeApi, person: str = "li.registrar", roles: frozenset[Role] | None = None,
            body: str = OFFICE) -> str:  # fmt: skip
    """A new account of `person`, enrolled; its TOTP secret."""
    book = api.auth.accounts
    book.create(person, "李登记", body, roles or frozenset({Role.REGISTRAR}), PASSWORD)
    secret, uri = book.enrol_totp(person)
    assert uri.startswith("otpauth://totp/") and secret in uri
    return secret


def sign_in(api: NodeApi, person: str, code: str, password: str = PASSWORD,
            headers: dict[str, str] | None = None) -> tuple[int, Any, SimpleCookie]:  # fmt: skip
    """POST /api/session; (status, answer, cookies set)."""
    cookies: SimpleCookie = SimpleCookie()
    import json

    raw = json.dumps({"person": person, "password": password, "totp": code}).encode()
    status, answer, sent = _call(api, "POST", "/api/session", raw, headers or {})
    for value in sent:
        cookies.load(value)
    return status, answer, cookies


def _call(
    api: NodeApi, method: str, path: str, raw: bytes, headers: dict[str, str]
) -> tuple[int, Any, list[str]]:
    """A request that also returns the Set-Cookie headers of the answer."""
    seen: list[str] = []
    app = api.app

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                seen.extend(
                    v.decode() for k, v in message.get("headers", []) if k.lower() == b"set-cookie"
                )
            await send(message)

        await app(scope, receive, keep)

    status, answer = call_asgi(spy, method, path, raw, None, headers)
    return status, answer, seen


def code(bus: FakeBus, secret: str, later: int = 0) -> str:
    return totp.code_at(secret, bus.clock() + timedelta(seconds=30 * later))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_needs_password_and_totp_and_sets_a_strict_http_only_cookie(
    bus: FakeBus,
) -> None:
    api = api_of(bus)
    secret = account(api)
    status, answer, _ = sign_in(api, "li.registrar", code(bus, secret, 10))  # a wrong code
    assert (status, answer["code"]) == (401, "XF-AUTH-REQUIRED")
    status, answer, _ = sign_in(api, "li.registrar", code(bus, secret), password="Wrong-pass-1")
    assert (status, answer["code"]) == (401, "XF-AUTH-REQUIRED")
    status, answer, cookies = sign_in(api, "li.registrar", code(bus, secret))
    assert status == 200, answer
    assert (answer["person"], answer["body"], answer["roles"]) == (
        "li.registrar", OFFICE, ["registrar"])  # fmt: skip
    session = cookies["xf_session"]
    assert session.value == answer["token"]
    assert session["httponly"] and session["samesite"] == "strict" and not session["secure"]
    assert cookies["xf_csrf"].value == answer["csrf_token"] and not cookies["xf_csrf"]["httponly"]
    # the same code is not taken twice (replay)
    assert sign_in(api, "li.registrar", code(bus, secret))[0] == 401
    status, me = api.dispatch("GET", "/api/me", None, headers=bearer(answer["token"]))
    assert (status, me["person"], me["body"], me["roles"]) == (
        200, "li.registrar", OFFICE, ["registrar"])  # fmt: skip
    # over TLS (a proxy says so) the cookie is Secure
    *_, cookies = sign_in(api, "li.registrar", code(bus, secret, 1),
                          headers={"X-Forwarded-Proto": "https"})  # fmt: skip
    assert cookies["xf_session"]["secure"]


def test_no_totp_no_sign_in_and_sessions_are_stored_hashed(bus: FakeBus) -> None:
    api = api_of(bus)
    api.auth.accounts.create("wang", "王", OFFICE, frozenset({Role.REGISTRAR}), PASSWORD)
    status, answer, _ = sign_in(api, "wang", "123456")
    assert (status, answer["code"]) == (401, "XF-TOTP-NOT-ENROLLED")
    secret, _ = api.auth.accounts.enrol_totp("wang")
    status, answer, _ = sign_in(api, "wang", code(bus, secret))
    assert status == 200
    from sqlalchemy import select

    from xinfang.store.account_tables import account_sessions

    with api.auth.accounts.engine.connect() as conn:
        stored = [r.token_hash for r in conn.execute(select(account_sessions))]
    assert answer["token"] not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_lock_out_after_repeated_failures_then_unlocks_after_the_period(bus: FakeBus) -> None:
    api = api_of(bus)
    secret = account(api)
    for _ in range(3):  # max_failures = 3
        status, answer, _ = sign_in(api, "li.registrar", code(bus, secret), password="Bad-pass-1")
        assert (status, answer["code"]) == (401, "XF-AUTH-REQUIRED")
    status, answer, _ = sign_in(api, "li.registrar", code(bus, secret))  # right, but locked
    assert (status, answer["code"]) == (401, "XF-ACCOUNT-LOCKED")
    bus.clock.advance(minutes=16)
    assert sign_in(api, "li.registrar", code(bus, secret))[0] == 200


def test_administrator_lock_ends_sessions_and_unlock_restores(bus: FakeBus) -> None:
    api = api_of(bus)
    secret = account(api)
    token = sign_in(api, "li.registrar", code(bus, secret))[1]["token"]
    api.auth.accounts.lock("li.registrar")
    assert api.dispatch("GET", "/api/me", None, headers=bearer(token))[0] == 401
    assert sign_in(api, "li.registrar", code(bus, secret, 1))[1]["code"] == "XF-ACCOUNT-LOCKED"
    api.auth.accounts.unlock("li.registrar")
    assert api.dispatch("GET", "/api/me", None, headers=bearer(token))[0] == 200


def test_idle_timeout_and_absolute_lifetime(bus: FakeBus) -> None:
    api = api_of(bus)
    secret = account(api)
    token = sign_in(api, "li.registrar", code(bus, secret))[1]["token"]
    for _ in range(3):  # used every 29 minutes: stays alive
        bus.clock.advance(minutes=29)
        assert api.dispatch("GET", "/api/me", None, headers=bearer(token))[0] == 200
    bus.clock.advance(minutes=31)  # idle longer than 30 minutes
    status, answer = api.dispatch("GET", "/api/me", None, headers=bearer(token))
    assert (status, answer["code"]) == (401, "XF-AUTH-REQUIRED")
    token = sign_in(api, "li.registrar", code(bus, secret))[1]["token"]
    start = bus.clock()
    for _ in range(40):  # used every 29 minutes: ends at the 12-hour lifetime
        bus.clock.advance(minutes=29)
        if api.dispatch("GET", "/api/me", None, headers=bearer(token))[0] == 401:
            break
    assert timedelta(hours=12) <= bus.clock() - start < timedelta(hours=12, minutes=29)


def test_sign_out_ends_the_session(bus: FakeBus) -> None:
    api = api_of(bus)
    secret = account(api)
    token = sign_in(api, "li.registrar", code(bus, secret))[1]["token"]
    assert api.dispatch("DELETE", "/api/session", None, headers=bearer(token)) == (
        200, {"signed_out": True})  # fmt: skip
    assert api.dispatch("GET", "/api/me", None, headers=bearer(token))[0] == 401


def test_cookie_borne_writes_need_the_csrf_token_own_origin_and_json(bus: FakeBus) -> None:
    import json

    api = api_of(bus)
    secret = account(api)
    answer = sign_in(api, "li.registrar", code(bus, secret))[1]
    cookie = f"xf_session={answer['token']}; xf_csrf={answer['csrf_token']}"
    own = {"Cookie": cookie, "Origin": "http://testserver"}
    sent = iter(range(100))

    def post(headers: dict[str, str]) -> tuple[int, str]:
        body = {**PETITION, "petitioner": {"name": f"信访人{next(sent)}"}}  # distinct matters
        raw = json.dumps(body, ensure_ascii=False).encode()
        status, payload, _ = _call(api, "POST", "/api/cases", raw, headers)
        return status, payload.get("code", "")

    assert post(own) == (403, "XF-CSRF")  # no X-CSRF-Token
    assert post({**own, "X-CSRF-Token": "0" * 64}) == (403, "XF-CSRF")  # wrong one
    token = {"X-CSRF-Token": answer["csrf_token"]}
    assert post({**own, **token, "Origin": "https://evil.example"}) == (403, "XF-CSRF")
    assert post({"Cookie": cookie, **token}) == (403, "XF-CSRF")  # neither Origin nor Referer
    assert post({**own, **token, "Content-Type": "text/plain"}) == (403, "XF-CSRF")
    assert bus.nodes[CITY].list_cases() == []  # nothing of the refused requests took effect
    assert post({**own, **token})[0] == 201
    # a Referer of the own origin does as well as an Origin
    referer = {"Cookie": cookie, **token, "Referer": "http://testserver/ui/cases"}
    assert post(referer)[0] == 201
    # a bearer token is not cookie-borne: no CSRF token needed
    assert api.dispatch("GET", "/api/cases", None, headers=bearer(answer["token"]))[0] == 200
    status, _ = api.dispatch(
        "POST", "/api/cases", {**PETITION, "title": "另一事项"}, headers=bearer(answer["token"])
    )
    assert status == 201


def test_allowed_origins_and_hosts_are_configurable(bus: FakeBus) -> None:
    import json

    api = api_of(bus, allowed_hosts=frozenset({"xf.example.cn"}),
                 allowed_origins=frozenset({"https://xf.example.cn"}))  # fmt: skip
    secret = account(api)
    status, answer, _ = sign_in(api, "li.registrar", code(bus, secret))  # Host: testserver
    assert (status, answer["code"]) == (400, "XF-HOST-NOT-ALLOWED")
    host = {"Host": "xf.example.cn"}
    answer = sign_in(api, "li.registrar", code(bus, secret), headers=host)[1]
    cookie = {
        **host,
        "Cookie": f"xf_session={answer['token']}",
        "X-CSRF-Token": answer["csrf_token"],
    }
    raw = json.dumps(PETITION, ensure_ascii=False).encode()
    status, refused, _ = _call(api, "POST", "/api/cases", raw,
                               {**cookie, "Origin": "http://xf.example.cn"})  # fmt: skip
    assert (status, refused["code"]) == (403, "XF-CSRF")
    status, _, _ = _call(
        api, "POST", "/api/cases", raw, {**cookie, "Origin": "https://xf.example.cn"}
    )
    assert status == 201


def test_sign_in_is_rate_limited_per_address_and_per_account(bus: FakeBus) -> None:
    api = api_of(bus, per_address=5, per_account=2)
    secret = account(api)
    account(api, "zhao", body=OFFICE)
    for _ in range(2):
        assert sign_in(api, "li.registrar", "000001", password="Bad-pass-1")[0] == 401
    status, answer, _ = sign_in(api, "li.registrar", code(bus, secret))  # per account
    assert (status, answer["code"]) == (429, "XF-SIGN-IN-THROTTLED")
    assert int(answer["context"]["retry_after"]) > 0
    assert sign_in(api, "zhao", "000001", password="Bad-pass-1")[0] == 401
    assert sign_in(api, "zhao", "000001", password="Bad-pass-1")[0] == 401
    status, answer, _ = sign_in(api, "nobody", "000001")  # per address: the 6th attempt
    assert (status, answer["code"]) == (429, "XF-SIGN-IN-THROTTLED")


def test_separation_of_duties_and_bodies_of_accounts(bus: FakeBus) -> None:
    book = api_of(bus).auth.accounts
    with pytest.raises(AccountInvalid):  # 三员分立: administrator roles alone
        book.create("a1", "甲", OFFICE, frozenset({Role.SYSTEM_ADMIN, Role.REGISTRAR}), PASSWORD)
    with pytest.raises(AccountInvalid):
        book.create("a2", "乙", OFFICE, frozenset({Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN}), PASSWORD)
    with pytest.raises(AccountInvalid):  # a body of another division
        book.create("a3", "丙", "150404.zj", frozenset({Role.HANDLER}), PASSWORD)
    with pytest.raises(AccountInvalid):  # a registrar belongs to the petition office
        book.create("a4", "丁", "150400.zj", frozenset({Role.REGISTRAR}), PASSWORD)
    with pytest.raises(AccountInvalid):  # a weak password
        book.create("a5", "戊", OFFICE, frozenset({Role.REGISTRAR}), "short")
    book.create("a6", "己", OFFICE, frozenset({Role.SECURITY_ADMIN}), PASSWORD)
    with pytest.raises(AccountInvalid):
        book.grant("a6", frozenset({Role.SECURITY_ADMIN, Role.SUPERVISOR}))
    assert [a.person for a in book.list()] == ["a6"]


def test_the_actor_is_the_signed_in_persons_body_and_the_person_is_on_the_events(
    bus: FakeBus,
) -> None:
    api = signed_in(bus.nodes[CITY])
    status, registered = api.dispatch("POST", "/api/cases", PETITION)
    assert status == 201
    case_id = registered["case_id"]
    # naming another body as actor is refused, and changes nothing
    status, refused = api.dispatch(
        "POST", f"/api/cases/{case_id}/transfer", {"to_body": "150404.zj"}, as_body="150400.zj"
    )
    assert (status, refused["code"]) == (403, "XF-FORBIDDEN")  # a department: no registrar
    headers = api.staff.headers(OFFICE, Role.REGISTRAR)
    status, refused = api.api.dispatch(
        "POST", f"/api/cases/{case_id}/transfer",
        {"actor": "150400.zj", "to_body": "150404.zj"}, headers=headers,
    )  # fmt: skip
    assert (status, refused["code"]) == (403, "XF-FORBIDDEN")
    status, moved = api.api.dispatch(
        "POST", f"/api/cases/{case_id}/transfer", {"to_body": "150404.zj"}, headers=headers
    )
    assert status == 200 and moved["case"]["holder"] == "150404.zj"
    timeline = api.dispatch("GET", f"/api/cases/{case_id}/timeline", None)[1]["timeline"]
    assert [(e["type"], e["actor"], e["person"]) for e in timeline][:2] == [
        ("PetitionRegistered", OFFICE, "registrar.150400.xfj"),
        ("CaseTransferred", OFFICE, "registrar.150400.xfj"),
    ]
    events = [e for _, e in bus.nodes[CITY].history(case_id)]
    assert events[1].header.person == "registrar.150400.xfj"
    bus.settle()  # the person travels with the event to the receiving node
    county = [e for _, e in bus.nodes[COUNTY].history(case_id)]
    assert county[-1].header.person == "registrar.150400.xfj"
