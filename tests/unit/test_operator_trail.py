"""Issue 14 item 3: the operator audit trail (decision 027), through the node's web layer.

Every request answered by `NodeApi.dispatch` — a command, a read, a refusal, a sign-in attempt —
is one signed, chained entry with the right person, roles, body, action, case and outcome; only
an audit administrator reads the trail over HTTP; `audit verify`'s trail check passes on the
genuine trail and names an altered and a deleted entry. Until issue 14's authentication lands
the principal is set by a small test middleware (`as_person`) or by a test route, as api/auth.py
will (`request.state.principal`, `request.state.sign_in`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from xinfang.api.handlers import NodeApi
from xinfang.api.trail import source_address
from xinfang.audit.records import LogRecord
from xinfang.audit.trail_check import verify_trail
from xinfang.audit.trail_cli import check, table
from xinfang.chain.keys import KeyBook, Keyring
from xinfang.identity.principal import AuthMethod, Principal, Role
from xinfang.identity.trail_record import TrailEntry, decode, signature_valid
from xinfang.kafka_acls import AUDIT_ADMIN, AUDITOR, derive_grants, node_principal
from xinfang.provisioning import provisioned_topics, trail_retention_days
from xinfang.settings import SettingsError, parse_proxies
from xinfang.store.trail import TrailQuery
from xinfang.topics import TopicNames
from xinfang.topology_file import load_topology

from .audit_world import CITY, World
from .lifecycle import PETITION

REGISTRAR = Principal(
    "li.si", "李四", CITY, "150400.xfj", frozenset({Role.REGISTRAR}), AuthMethod.ACCOUNT
)
SYSTEM_ADMINISTRATOR = Principal(
    "zhou.qi", "周七", CITY, "150400.xfj", frozenset({Role.SYSTEM_ADMIN}), AuthMethod.ACCOUNT
)
AUDIT_ADMINISTRATOR = Principal(
    "wang.wu", "王五", CITY, "150400.xfj", frozenset({Role.AUDIT_ADMIN}), AuthMethod.OIDC
)


class Node:
    """A city node with a signing key, its API, and who is signed in (`person`)."""

    def __init__(self, tmp: Path) -> None:
        self.world = World(load_topology(), tmp)
        self.service = self.world.bus.nodes[CITY]
        self.api = NodeApi(self.service)
        self.person: Principal | None = None
        assert self.api.app is not None  # built now: the authenticators below are its own

        node = self

        class AsPerson:  # signs `node.person` in ahead of the node's own authenticators
            def authenticate(
                self, headers: dict[str, str], cookies: dict[str, str]
            ) -> Principal | None:
                return node.person

        self.api.auth.authenticators.insert(0, AsPerson())

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.api.dispatch(method, path, body)

    def entries(self) -> list[TrailEntry]:
        trail = self.service.trail
        assert trail is not None
        return trail.read(TrailQuery(limit=10_000))

    def records(self) -> list[LogRecord]:
        trail = self.service.trail
        assert trail is not None
        raw = trail.store.read(TrailQuery(limit=10_000))
        topic = TopicNames().trail(CITY)
        return [LogRecord(topic, 0, i, 1_767_000_000_000 + i, b"k", v) for i, v in enumerate(raw)]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    made = Node(tmp_path)
    try:
        yield made
    finally:
        made.world.bus.close()


def _acts(entries: list[TrailEntry]) -> list[tuple[Any, ...]]:
    return [
        (e.person, e.roles, e.body, e.method, e.action, e.case_id, e.status, e.code, e.sign_in)
        for e in entries
    ]


def test_every_act_is_one_signed_chained_entry_with_its_person_action_case_and_outcome(
    node: Node,
) -> None:
    node.person = REGISTRAR
    status, done = node.call("POST", "/api/cases", {**PETITION, "actor": "150400.xfj"})
    assert status == 201
    case_id = done["case_id"]
    transfer = {"actor": "150400.xfj", "to_body": "150404.zj"}
    assert node.call("POST", f"/api/cases/{case_id}/transfer", transfer)[0] == 200
    assert node.call("GET", f"/api/cases/{case_id}", None)[0] == 200
    assert node.call("GET", "/api/cases/150400-2026-999999", None)[0] == 404
    assert node.call("POST", f"/api/cases/{case_id}/transfer", {"to_body": 7})[0] == 422
    assert node.call("GET", "/api/audit/trail", None)[0] == 403  # a registrar
    node.person = None
    assert node.call("GET", "/api/audit/trail", None)[0] == 401  # nobody signed in

    entries = node.entries()
    roles = ("registrar",)
    who = ("li.si", roles, "150400.xfj", "account")
    assert _acts(entries) == [
        (*who, "registerCase", case_id, 201, "", ""),
        (*who, "caseTransfer", case_id, 200, "", ""),
        (*who, "getCase", case_id, 200, "", ""),
        (*who, "getCase", "150400-2026-999999", 404, "XF-CASE-NOT-FOUND", ""),
        (*who, "caseTransfer", case_id, 422, "XF-INVALID-INPUT", ""),
        (*who, "readOperatorTrail", "", 403, "XF-FORBIDDEN", ""),
        ("", (), "", "", "readOperatorTrail", "", 401, "XF-AUTH-REQUIRED", ""),
    ]
    assert [e.http for e in entries[:2]] == [
        "POST /api/cases",
        f"POST /api/cases/{case_id}/transfer",
    ]
    assert {(e.node, e.source) for e in entries} == {(CITY, "127.0.0.1")}
    assert [e.seq for e in entries] == list(range(1, 8))
    assert [e.prev_hash for e in entries] == ["", *(e.digest for e in entries[:-1])]
    key = node.world.keys[CITY]
    assert all(e.key_id == key.key_id and signature_valid(e, key.public_raw) for e in entries)
    assert entries[0].at_ms <= entries[-1].at_ms


def test_refusals_before_any_route_and_sign_in_attempts_are_recorded(node: Node) -> None:
    node.person = REGISTRAR
    too_big = b'{"title": "' + b"x" * 2_000_000 + b'"}'
    status, answer = node.api.serve_path("POST", "/api/cases", too_big)
    assert (status, answer["code"]) == (413, "XF-BODY-TOO-LARGE")
    assert node.call("GET", "/api/no/such/route", None)[0] == 404
    assert node.call("GET", "/api/me", None)[0] == 200
    node.person = None
    wrong = {"person": "zhao.liu", "password": "not-the-password", "totp": "000000"}
    assert node.call("POST", "/api/session", wrong)[0] == 401  # a failed sign-in attempt
    node.person = SYSTEM_ADMINISTRATOR  # /health details are the system administrator's
    status, health = node.call("GET", "/health", None)  # a liveness probe: not an act
    assert status == 200 and (health["trail_pending"], health["outbox_pending"]) == (4, 0)
    node.person = None
    assert node.call("POST", "/health", None)[0] == 405  # refused: recorded
    who = ("li.si", ("registrar",), "150400.xfj", "account")
    assert _acts(node.entries()) == [
        (*who, "registerCase", "", 413, "XF-BODY-TOO-LARGE", ""),  # the Guard matched it
        (*who, "", "", 404, "XF-NO-ROUTE", ""),
        (*who, "me", "", 200, "", ""),
        ("zhao.liu", (), "", "", "signIn", "", 401, "XF-AUTH-REQUIRED", "failed"),
        ("", (), "", "", "health", "", 405, "XF-METHOD-NOT-ALLOWED", ""),
    ]
    assert node.entries()[1].http == "GET /api/no/such/route"


def test_only_audit_administrators_read_the_trail_with_filters(node: Node) -> None:
    node.person = REGISTRAR
    assert node.call("POST", "/api/cases", {**PETITION, "actor": "150400.xfj"})[0] == 201
    assert node.call("GET", "/api/cases", None)[0] == 200
    status, refused = node.call("GET", "/api/audit/trail", None)
    assert (status, refused["code"]) == (403, "XF-FORBIDDEN")
    assert refused["message_zh"] and refused["message_en"]
    node.person = AUDIT_ADMINISTRATOR
    status, page = node.call("GET", "/api/audit/trail?person=li.si&action=listCases", None)
    assert status == 200, page
    assert [(e["seq"], e["action"], e["person"]) for e in page["entries"]] == [
        (2, "listCases", "li.si")
    ]
    assert (page["node"], page["head_seq"], page["next_after"]) == (CITY, 3, None)
    status, page = node.call("GET", "/api/audit/trail?since=2000-01-01&limit=2", None)
    assert [e["seq"] for e in page["entries"]] == [1, 2] and page["next_after"] == 2
    status, page = node.call("GET", "/api/audit/trail?until=2000-01-01", None)
    assert (status, page["entries"]) == (200, [])
    status, bad = node.call("GET", "/api/audit/trail?since=yesterday", None)
    assert (status, bad["code"]) == (422, "XF-INVALID-INPUT")
    # every read of the trail is itself on the trail, with the audit administrator's roles
    last = node.entries()[-1]
    assert (last.person, last.roles, last.method, last.status) == (
        "wang.wu", ("audit-admin",), "oidc", 422,
    )  # fmt: skip
    status, page = node.call("GET", "/api/audit/trail?after=5", None)
    first = decode(json.dumps(page["entries"][0]).encode())  # entries come as signed
    assert (first.seq, first.action, first.person) == (6, "readOperatorTrail", "wang.wu")
    assert signature_valid(first, node.world.keys[CITY].public_raw)


def test_an_act_that_cannot_be_recorded_is_not_answered_as_done(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    trail = node.service.trail
    assert trail is not None

    def broken(_make: Any) -> Any:
        raise DBAPIError("INSERT", {}, Exception("disk full"))

    trail.store.append = broken  # type: ignore[method-assign]
    node.person = REGISTRAR
    with caplog.at_level(logging.ERROR):
        status, answer = node.call("GET", "/api/cases", None)
    assert (status, answer["code"]) == (500, "XF-TRAIL-UNRECORDED")
    assert answer["message_zh"] and answer["message_en"]
    logged = [r.getMessage() for r in caplog.records if "NOT recorded" in r.getMessage()]
    assert len(logged) == 1 and '"action": "listCases"' in logged[0]


def test_the_database_refuses_to_change_or_remove_an_entry(node: Node) -> None:
    node.person = REGISTRAR
    assert node.call("GET", "/api/cases", None)[0] == 200
    engine = node.service.store.engine  # type: ignore[attr-defined]
    for statement in (
        "UPDATE operator_trail SET person = 'someone.else'",
        "DELETE FROM operator_trail",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert [e.person for e in node.entries()] == ["li.si"]


def _altered(record: LogRecord, **change: Any) -> LogRecord:
    entry = dataclasses.replace(decode(record.value), **change)
    return dataclasses.replace(record, value=entry.to_bytes())


def test_verify_passes_the_genuine_trail_and_names_altered_and_deleted_entries(
    node: Node,
) -> None:
    node.person = REGISTRAR
    for _ in range(3):
        node.call("GET", "/api/cases", None)
    node.call("GET", "/api/cases/150400-2026-000404", None)
    node.call("GET", "/api/cases/150400-2026-000405", None)
    records = node.records()
    keys = KeyBook(Keyring({CITY: node.world.keys[CITY].public_raw}))
    topic = TopicNames().trail(CITY)
    genuine = verify_trail(CITY, topic, records, keys)
    assert genuine.records == 5 and genuine.findings == []

    def found(recs: list[LogRecord]) -> set[tuple[str, int | None, int | None]]:
        chain = verify_trail(CITY, topic, recs, keys)
        return {(f.code, f.seq, f.offset) for f in chain.findings}

    person = [*records[:1], _altered(records[1], person="someone.else"), *records[2:]]
    assert found(person) == {("trail-altered", 2, 1)}
    outcome = [*records[:3], _altered(records[3], status=200, code=""), *records[4:]]
    assert found(outcome) == {("trail-altered", 4, 3)}
    deleted = [*records[:2], *records[3:]]
    assert found(deleted) == {("trail-missing", 3, 3)}  # located at the entry after the gap
    # a forger without the key who re-links the entries after a deletion still fails
    linked_to_2 = decode(records[1].value).digest
    relinked = [*records[:2], _altered(records[3], seq=3, prev_hash=linked_to_2)]
    assert ("trail-altered", 3, 3) in found(relinked)
    problems = check([decode(r.value) for r in person], keys.expected(CITY))
    assert problems == {2: "签名无效 / bad signature"}
    shown = table([decode(r.value) for r in records], {})
    assert "人员/person" in shown and "li.si" in shown and "共 5 条 / 5 entries" in shown


def test_the_trail_is_the_outermost_middleware_of_the_node_app(tmp_path: Path) -> None:
    """Merging guard: a middleware added after it (authentication, CSRF) would answer its
    refusals around the trail, unrecorded. Starlette runs the last one added outermost."""
    from xinfang.api.trail import TrailRecorder

    world = World(load_topology(), tmp_path)
    try:
        assert NodeApi(world.bus.nodes[CITY]).app.user_middleware[0].cls is TrailRecorder
    finally:
        world.bus.close()


def test_x_forwarded_for_counts_only_from_trusted_proxies() -> None:
    proxies = parse_proxies("10.0.0.0/8, 192.168.1.1")
    forwarded = [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.7, 10.1.2.3")]
    direct = {"client": ("198.51.100.9", 5000), "headers": forwarded}
    assert source_address(direct, proxies) == "198.51.100.9"  # not a proxy: its XFF is ignored
    via = {"client": ("192.168.1.1", 5000), "headers": forwarded}
    assert source_address(via, proxies) == "203.0.113.7"  # the nearest untrusted hop
    assert source_address(via, ()) == "192.168.1.1"
    with pytest.raises(SettingsError):
        parse_proxies("not-an-address")


def test_the_trail_topic_keeps_six_months_at_least_and_only_audit_admins_read_it() -> None:
    topology, names = load_topology(), TopicNames("p.")
    config = provisioned_topics(names, topology, CITY)[names.trail(CITY)]
    assert int(config["retention.ms"]) >= 15_552_000_000 and config["cleanup.policy"] == "delete"
    assert trail_retention_days({"XINFANG_TRAIL_RETENTION_DAYS": "200"}) == 200
    for short in ("179", "90", "-1", "half a year"):
        with pytest.raises(SettingsError):
            trail_retention_days({"XINFANG_TRAIL_RETENTION_DAYS": short})
    grants = derive_grants(topology, names)
    on_trail = {(g.principal, g.operation) for g in grants if g.name == names.trail(CITY)}
    assert on_trail == {(node_principal(CITY), "WRITE"), (AUDIT_ADMIN, "READ")}
    assert not any(g.principal == AUDITOR and ".trail" in g.name for g in grants)


def test_audit_trail_reads_the_node_route_pages_checks_and_prints_zh_en(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`xinfang audit trail --api`: the node's route (here answered in-process), every page."""
    from xinfang.chain.keys import write_public_key
    from xinfang.cli import main
    from xinfang.client import ApiError, NodeClient

    node.person = REGISTRAR
    for i in range(5):
        node.call("GET", f"/api/cases/150400-2026-00000{i}", None)

    def through_api(_client: NodeClient, method: str, path: str, body: Any = None) -> Any:
        node.person = AUDIT_ADMINISTRATOR  # the CLI's user
        status, payload = node.call(method, path, body)
        if status >= 400:
            raise ApiError(status, payload)
        return payload

    monkeypatch.setattr(NodeClient, "request", through_api)
    write_public_key(node.world.keys[CITY].public_raw, tmp_path / f"{CITY}.pub")
    args = ["audit", "trail", "--api", "http://node", "--public-keys", str(tmp_path)]
    assert main([*args, "--person", "li.si", "--action", "getCase", "--limit", "3"]) == 0
    shown = capsys.readouterr().out
    assert "人员/person" in shown and "结果/outcome" in shown and "共 3 条 / 3 entries" in shown
    assert shown.count("404 XF-CASE-NOT-FOUND") == 3 and shown.count("✓") == 3
    assert main([*args, "--person", "li.si", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["seq"], e["case_id"], e["check"]) for e in listed] == [
        (i + 1, f"150400-2026-00000{i}", "ok") for i in range(5)
    ]

    def refused(_client: NodeClient, method: str, path: str, body: Any = None) -> Any:
        status, payload = node.call(method, path, body)  # as a registrar
        raise ApiError(status, payload)

    node.person = REGISTRAR
    monkeypatch.setattr(NodeClient, "request", refused)
    assert main(args) != 0
    assert "XF-FORBIDDEN" in capsys.readouterr().err
