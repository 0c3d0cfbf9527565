"""Issue 10 items 2, 3, 10 (HTTP side), 13 through the framework-free handler: raw body bytes
in, as the web server passes them (`NodeApi.serve_path`), over real services and stores."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from xinfang.api.handlers import NodeApi
from xinfang.api.openapi import ENUMS, TIMES
from xinfang.commands import COMMANDS
from xinfang.commands.limits import (
    FIELD_CHARS,
    INT_BOUNDS,
    MAX_BODY_BYTES,
    PRODUCER_MAX_REQUEST_BYTES,
    RECORD_BUDGET_BYTES,
)
from xinfang.devtools.staff import signed_in
from xinfang.domain.calendar import BEIJING
from xinfang.node.relay import PRODUCER_SETTINGS
from xinfang.topology_file import load_topology

from .fakes import FakeBus
from .lifecycle import PETITION

CITY = "150400"


@pytest.fixture
def bus(tmp_path: Path) -> FakeBus:
    bus = FakeBus(load_topology(), [CITY, "150404", "150000"], tmp_path)
    bus.clock.now = datetime(2026, 2, 14, 2, 0, tzinfo=UTC)
    return bus


def post(api: NodeApi, path: str, body: Any, key: str | None = None) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return api.serve_path("POST", path, raw, key)


def case_count(bus: FakeBus) -> int:
    return len(bus.nodes[CITY].store.cases.list_cases())


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"[" * 100_000, 400, "XF-JSON-TOO-DEEP"),
        (b'{"a":' * 50 + b"1" + b"}" * 50, 400, "XF-JSON-TOO-DEEP"),
        (b"\xff\xfe{", 400, "XF-INVALID-JSON"),
        (b'{"collective_size": ' + b"9" * 5000 + b"}", 400, "XF-INVALID-JSON"),
        (b" " * (MAX_BODY_BYTES + 1), 413, "XF-BODY-TOO-LARGE"),
    ],
    ids=["nested-100000", "nested-objects", "not-utf8", "5000-digits", "over-body-limit"],
)
def test_malformed_bodies_are_4xx_and_change_nothing(
    bus: FakeBus, raw: bytes, status: int, code: str
) -> None:
    api = signed_in(bus.nodes[CITY])
    assert post(api, "/api/cases", raw)[0] == status
    assert post(api, "/api/cases", raw)[1]["code"] == code
    assert case_count(bus) == 0


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"received_at": "9999-12-31T23:00:00Z"}, "XF-TIME-OUT-OF-RANGE"),
        ({"received_at": "2000-01-01T00:00:00Z"}, "XF-TIME-OUT-OF-RANGE"),
        ({"received_at": "0001-01-01T00:00:00+14:00"}, "XF-TIME-OUT-OF-RANGE"),
        ({"collective_size": 10**30}, "XF-VALUE-OUT-OF-RANGE"),
        ({"collective_size": 2**31}, "XF-VALUE-OUT-OF-RANGE"),
        ({"representatives": -1}, "XF-VALUE-OUT-OF-RANGE"),
        ({"title": "x" * (FIELD_CHARS["title"] + 1)}, "XF-FIELD-TOO-LONG"),
        ({"facts": "事" * (FIELD_CHARS["facts"] + 1)}, "XF-FIELD-TOO-LONG"),
        ({"petitioner": {"name": "n" * 101}}, "XF-FIELD-TOO-LONG"),
        ({"title": "a\x00b"}, "XF-INVALID-INPUT"),
        ({"title": "\ud800"}, "XF-INVALID-INPUT"),
    ],
)
def test_the_issue_inputs_are_refused_with_422(
    bus: FakeBus, override: dict[str, Any], code: str
) -> None:
    """Issue 10 item 2: 500, 503 and 201 (2^31 in an Avro int) before; 422 with a code now."""
    api = signed_in(bus.nodes[CITY])
    raw = json.dumps({**PETITION, **override}).encode()  # ASCII escapes carry the surrogate
    status, payload = post(api, "/api/cases", raw)
    assert (status, payload["code"]) == (422, code)
    assert payload["message_zh"] and payload["message_en"]
    assert case_count(bus) == 0


def test_every_command_bounds_every_text_and_number_field(bus: FakeBus) -> None:
    """Every command's parser: each text field one over its length, each number one past its
    range → 422 with the field named, before the case is even looked up."""
    api = signed_in(bus.nodes[CITY])
    checked = 0
    for command in COMMANDS:
        for name, (kind, _) in command.fields.items():
            kind = kind.lstrip("!")
            if kind == "string" and name in FIELD_CHARS and name not in ENUMS:
                bad: Any = "字" * (FIELD_CHARS[name] + 1)
                code = "XF-FIELD-TOO-LONG"
            elif kind == "integer":
                bad, code = INT_BOUNDS[name][1] + 1, "XF-VALUE-OUT-OF-RANGE"
            else:
                continue
            body = {**valid_fields(command.fields), name: bad}
            status, payload = post(api, f"/api/cases/X-1/{command.name}", body)
            assert (status, payload["code"], payload["context"]["field"]) == (422, code, name)
            checked += 1
    assert checked >= 25  # 29 fields; `actor` is no longer a request field (decision 025)
    for path, body in (
        ("review-request", {"actor": "150400.zj", "reasons": "r", "requested_at": "9999-01-01"}),
        ("accept", {"actor": "150400.zj", "notice": {"served_at": "1999-12-31T00:00:00"}}),
    ):
        status, payload = post(api, f"/api/cases/X-1/{path}", body)
        assert (status, payload["code"]) == (422, "XF-TIME-OUT-OF-RANGE")


def valid_fields(fields: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A value within bounds for every field but notices."""
    body: dict[str, Any] = {}
    for name, (kind, _) in fields.items():
        kind = kind.lstrip("!")
        if name in ENUMS:
            body[name] = next(iter(ENUMS[name])).value
        elif name in TIMES:
            body[name] = "2026-02-13T17:00:00"
        elif kind == "string":
            body[name] = "150404.zj"
        elif kind == "integer":
            body[name] = INT_BOUNDS[name][0]
        elif kind == "boolean":
            body[name] = False
    return body


def test_a_time_without_offset_is_beijing_time(bus: FakeBus) -> None:
    """Issue 10 item 3: 2026-02-13 17:00 is a Friday evening in Beijing: R1's 15 days run to
    2026-02-28, a 调休 working Saturday (read as UTC it was 02-14 01:00 → 03-02)."""
    bus.clock.now = datetime(2026, 2, 13, 9, 30, tzinfo=UTC)  # 17:30 Beijing: not back-dated
    api = signed_in(bus.nodes[CITY])
    status, done = post(api, "/api/cases", {**PETITION, "received_at": "2026-02-13T17:00:00"})
    assert status == 201
    case = bus.nodes[CITY].case(done["case_id"])
    assert case.file.received_at == datetime(2026, 2, 13, 9, 0, tzinfo=UTC)
    assert case.route_due is not None
    assert case.route_due.astimezone(BEIJING).date() == date(2026, 2, 28)


def test_the_largest_accepted_request_fits_a_kafka_record(bus: FakeBus) -> None:
    """Issue 10 item 10: every field at its length in 4-byte characters, registered and then
    transferred with the longest note: every record the node queues (log, inbox copies,
    status feed) is within the record budget, below the producer's limit."""
    assert PRODUCER_SETTINGS.get("max_request_size", 1_048_576) == PRODUCER_MAX_REQUEST_BYTES
    default = inspect.signature(AIOKafkaProducer).parameters["max_request_size"].default
    assert default == PRODUCER_MAX_REQUEST_BYTES
    api = signed_in(bus.nodes[CITY])
    status, done = post(api, "/api/cases", largest_petition())
    assert status == 201, done
    note = "😀" * FIELD_CHARS["note"]
    status, answer = post(
        api,
        f"/api/cases/{done['case_id']}/transfer",
        {"actor": "150400.xfj", "to_body": "150404.zj", "note": note},
    )
    assert status == 200, answer
    rows = bus.nodes[CITY].store.outbox.pending()
    sizes = [len(r.value) + len(r.key) + sum(len(k) + len(v) for k, v in r.headers) for r in rows]
    assert max(sizes) > 600_000  # the transfer: the whole file and the note
    assert max(sizes) <= RECORD_BUDGET_BYTES


def largest_petition() -> dict[str, Any]:
    wide = "😀"  # 4 bytes of UTF-8: the worst case per character
    texts = ("title", "request", "facts", "reasons", "accused")
    person = {k: wide * FIELD_CHARS[k] for k in ("name", "address", "contact")}
    return {
        **PETITION,
        **{k: wide * FIELD_CHARS[k] for k in texts},
        "petitioner": person,
    }


def test_idempotency_key_returns_the_first_answer_and_survives_a_restart(
    bus: FakeBus, tmp_path: Path
) -> None:
    """Issue 10 item 13: the same key and body → the first answer and status, one case; the
    key with another body → 422; the key is kept in the node's database."""
    api = signed_in(bus.nodes[CITY])
    anonymous = {**PETITION, "petitioner": {"anonymous": True}}
    first = post(api, "/api/cases", anonymous, key="k-1")
    assert first[0] == 201
    assert post(api, "/api/cases", anonymous, key="k-1") == first
    other = post(api, "/api/cases", {**anonymous, "title": "另一事项"}, key="k-1")
    assert (other[0], other[1]["code"]) == (422, "XF-IDEMPOTENCY-KEY-REUSED")
    assert case_count(bus) == 1

    restarted = FakeBus(load_topology(), [CITY], tmp_path)  # same database files
    restarted.clock.now = bus.clock.now
    assert post(signed_in(restarted.nodes[CITY]), "/api/cases", anonymous, key="k-1") == first
    assert post(api, "/api/cases", anonymous, key="k-2")[0] == 201
    assert case_count(bus) == 2
    bad = post(api, "/api/cases", anonymous, key="x" * 201)
    assert (bad[0], bad[1]["code"]) == (422, "XF-IDEMPOTENCY-KEY-INVALID")


def test_cli_time_options_read_a_time_without_offset_as_beijing_time() -> None:
    """`xinfang audit verify --since/--until` and `audit report --now` use the API's reading."""
    from xinfang.cli import build_parser

    args = build_parser().parse_args(
        ["audit", "verify", "--since", "2026-02-13T17:00:00", "--until", "2026-02-14"]
    )
    assert args.since == datetime(2026, 2, 13, 9, 0, tzinfo=UTC)
    assert args.until == datetime(2026, 2, 13, 16, 0, tzinfo=UTC)


def test_a_case_id_no_case_can_have_is_404_without_a_query(bus: FakeBus) -> None:
    """PostgreSQL refuses NUL in text: such a path must be a 404, not a database error."""
    api = signed_in(bus.nodes[CITY])
    for n, case_id in enumerate(("a\x00b", "\udc80", "9" * 65)):
        assert api.serve_path("GET", f"/api/cases/{case_id}", b"")[1]["code"] == (
            "XF-CASE-NOT-FOUND"
        )
        path = f"/api/cases/{case_id}/accept"
        status, payload = post(api, path, {"actor": "150400.zj"}, f"key-{n}")
        assert (status, payload["code"]) == (404, "XF-CASE-NOT-FOUND")


def test_a_missing_required_number_is_named_as_missing(bus: FakeBus) -> None:
    api = signed_in(bus.nodes[CITY])
    body = {"actor": "150400.zj", "approved_by": "王局长", "reasons": "需要调查"}
    status, payload = post(api, "/api/cases/X-1/extend", body)
    assert (status, payload["code"], payload["context"]["field"]) == (
        422,
        "XF-INVALID-INPUT",
        "days",
    )
