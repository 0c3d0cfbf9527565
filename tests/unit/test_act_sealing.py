"""The free text of act events sealed with the case key (issue 15 item 4, decision 037): every
opinion, reason, note, summary, answer and comment, on the topics and in the stores, opened
for the entitled nodes' views, erased with the key."""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xinfang.codec.wire import EventCodec
from xinfang.domain import events as ev
from xinfang.domain.deadlines import Obligation
from xinfang.domain.events import CaseFile, Event, EventHeader, Petitioner
from xinfang.domain.topology import Topology
from xinfang.domain.vocabulary import Category, Channel
from xinfang.privacy.sealing import (
    ACT_TEXT,
    CLEAR_TEXT,
    ERASED,
    MARK,
    new_case_key,
    open_event,
    open_text,
    seal_event,
    sealed_paths,
)
from xinfang.privacy.suites import DecryptionFailed

from .audit_world import CITY, COUNTY, PROVINCE, World
from .http_world import Http
from .lifecycle import PETITION

CASE = "150400-2026-000001"
AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
_EVENTS = [
    cls for cls in vars(ev).values()
    if isinstance(cls, type) and issubclass(cls, Event) and cls is not Event
]  # fmt: skip
_CARRIER = ("header", "file", "query_code")  # sealed by the case-file rules (decision 028)


def _text_fields(cls: type[Event]) -> list[str]:
    hints = typing.get_type_hints(cls)
    return [
        f.name for f in dataclasses.fields(cls)
        if f.name not in _CARRIER and hints[f.name] in (str, str | None)
    ]  # fmt: skip


def test_every_text_field_of_every_event_is_sealed_or_listed_as_clear() -> None:
    """A text field added to an event later must be decided on: sealed or clear, not neither."""
    undecided = {
        (cls.TYPE, name)
        for cls in _EVENTS
        for name in _text_fields(cls)
        if (name in ACT_TEXT.get(cls.TYPE, ())) == (name in CLEAR_TEXT)
    }
    assert undecided == set()
    listed = {(t, n) for t, names in ACT_TEXT.items() for n in names}
    assert listed <= {(c.TYPE, n) for c in _EVENTS for n in _text_fields(c)}


def _value(hint: Any, name: str, sealed: tuple[str, ...]) -> Any:
    if hint in (str, str | None):
        return f"needle-{name}-张三于某日称" if name in sealed else "150404.zj"
    if hint is datetime or hint == datetime | None:
        return AT
    if hint is int:
        return 1
    if hint is bool:
        return False
    if hint == list[str]:
        return ["中共赤峰市委员会"]
    if hint is CaseFile:
        return CaseFile(
            "供热不达标", Channel.ONLINE, Category.PROPOSAL, Petitioner("张三", None, None),
            "整改", "室温低", "违约", "150404", AT,
        )  # fmt: skip
    if hint is Obligation:
        return Obligation.HANDLING
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    raise AssertionError(f"no sample for {hint}")


def _sample(cls: type[Event]) -> Event:
    hints = typing.get_type_hints(cls)
    values = {
        f.name: _value(hints[f.name], f.name, ACT_TEXT.get(cls.TYPE, ()))
        for f in dataclasses.fields(cls) if f.name != "header"
    }  # fmt: skip
    header = EventHeader("e-1", CASE, "150400", "150400.xfj", AT)
    return cls(header=header, **values)


@pytest.mark.parametrize("event_type", sorted(ACT_TEXT))
def test_each_act_text_travels_sealed_and_opens_only_in_its_case_and_field(
    event_type: str,
) -> None:
    cls = next(c for c in _EVENTS if event_type == c.TYPE)
    event = _sample(cls)
    key = new_case_key()
    data = EventCodec().encode(seal_event(event, key))
    decoded = EventCodec().decode(data).event
    names = ACT_TEXT[event_type]
    assert b"needle-" not in data and "张三".encode() not in data
    assert {f"act.{n}" for n in names} <= set(sealed_paths(decoded))
    for name in names:
        stored = getattr(decoded, name)
        assert stored.startswith(MARK)
        assert open_text(key, CASE, f"act.{name}", stored) == getattr(event, name)
        with pytest.raises(DecryptionFailed):  # moved to another case
            open_text(key, "150400-2026-000002", f"act.{name}", stored)
        with pytest.raises(DecryptionFailed):  # moved to another field
            other = "act.comment" if name != "comment" else "act.note"
            open_text(key, CASE, other, stored)
        with pytest.raises(DecryptionFailed):  # the same case's field under another key
            open_text(new_case_key(), CASE, f"act.{name}", stored)
    assert open_event(decoded, key) == event
    erased = open_event(decoded, None)
    assert [getattr(erased, n) for n in names] == [ERASED] * len(names)
    for name in CLEAR_TEXT & {f.name for f in dataclasses.fields(cls)}:
        assert getattr(decoded, name) == getattr(event, name)  # structural fields stay clear


OPINION = "经查，张三反映的镇干部李某某收受补偿款属实（act-needle-opinion）"
LEGAL = "《信访工作条例》第三十二条；李某某案卷第 7 页（act-needle-basis）"


def _handled(http: Http) -> str:
    body = {**PETITION, "actor": "150400.xfj"}
    case_id = http.register(CITY, body)
    http.command(CITY, case_id, "transfer", {"actor": "150400.xfj", "to_body": "150404.zj"})
    http.command(COUNTY, case_id, "accept", {"actor": "150404.zj"})
    http.command(COUNTY, case_id, "opinion", {
        "actor": "150404.zj", "outcome": "SUPPORTED", "opinion": OPINION, "legal_basis": LEGAL,
    })  # fmt: skip
    return case_id


def test_the_case_view_shows_the_opinion_that_no_topic_or_store_holds_in_clear(
    topology: Topology, tmp_path: Path
) -> None:
    world = World(topology, tmp_path)
    http = Http(world.bus)
    case_id = _handled(http)
    for division in (COUNTY, CITY, PROVINCE):  # handles it, routed it, oversees it
        status, view = http.get(division, f"/api/cases/{case_id}/timeline")
        assert status == 200, view
        text = json.dumps(view, ensure_ascii=False)
        assert OPINION in text, division
        assert MARK not in text, division
    for topic, records in world.bus.delivered.items():
        for value, _ in records:
            assert b"act-needle" not in value, topic
    for path in tmp_path.glob("*.db*"):
        assert b"act-needle" not in path.read_bytes(), path.name
    # every inbound act opened with the key its node held: nothing was refused
    assert [t for t in world.bus.delivered if ".deadletter" in t] == []


def test_after_retention_the_act_text_reads_erased_and_new_text_is_refused(
    topology: Topology, tmp_path: Path
) -> None:
    world = World(topology, tmp_path)
    http = Http(world.bus)
    case_id = _handled(http)
    bus = world.bus
    for node in bus.nodes.values():
        node.retention = timedelta(days=30)
    bus.clock.advance(days=120)  # the review window lapses: the case is closed
    bus.sweep()
    bus.clock.advance(days=31)
    bus.sweep()
    for division in (COUNTY, CITY, PROVINCE):
        [opinion] = [
            e for _, e in bus.nodes[division].history(case_id)
            if isinstance(e, ev.HandlingOpinionIssued)
        ]  # fmt: skip
        assert (opinion.opinion, opinion.legal_basis) == (ERASED, ERASED), division
        status, view = http.get(division, f"/api/cases/{case_id}/timeline")
        assert status == 200, view
        text = json.dumps(view, ensure_ascii=False)
        assert "act-needle" not in text and ERASED in text
    # a comment would be sealed with no key any reader holds: refused, nothing recorded
    def recorded() -> dict[str, int]:  # the operator trail records every request, refused too
        return {k: v for k, v in bus.nodes[COUNTY].store.stats().items() if "trail" not in k}

    before = recorded()
    evaluation = {"actor": "150404.zj", "handling_rating": "SATISFIED",
                  "office_rating": "SATISFIED", "comment": "张三表示满意"}  # fmt: skip
    status, code = http.refused(COUNTY, f"/api/cases/{case_id}/evaluate", evaluation)
    assert (status, code) == (409, "XF-CASE-DATA-ERASED")
    assert recorded() == before
    done = http.command(COUNTY, case_id, "evaluate", {**evaluation, "comment": ""})
    assert [e["type"] for e in done["events"]] == ["SatisfactionEvaluated"]


def test_the_auditor_without_keys_sees_that_act_text_is_sealed_not_its_ciphertext(
    topology: Topology, tmp_path: Path
) -> None:
    from xinfang.audit.report.common import summary_of
    from xinfang.privacy.sealing import SEALED

    world = World(topology, tmp_path)
    _handled(Http(world.bus))
    raw = [EventCodec().decode(v).event for v in world.values(COUNTY)]  # as the auditor reads
    [opinion] = [e for e in raw if isinstance(e, ev.HandlingOpinionIssued)]
    summary = summary_of(opinion, topology)
    assert SEALED in summary and MARK not in summary and "act-needle" not in summary


def test_an_act_on_a_case_whose_file_was_written_clear_is_written_clear_without_a_new_key(
    topology: Topology, tmp_path: Path
) -> None:
    """A case registered before sealing (its file clear on every log, no key anywhere): an act
    on it is not sealed under a key made now, which the nodes that learn of the case could not
    tell from a second key; it is written clear, as its file, and applied upwards as before."""
    from xinfang.store.tables import case_keys

    world = World(topology, tmp_path)
    http = Http(world.bus)
    city = world.bus.nodes[CITY]
    sealers = {d: n.sealer for d, n in world.bus.nodes.items()}
    for node in world.bus.nodes.values():
        node.sealer = None  # as a node wrote before decision 028
    case_id = http.register(CITY, {**PETITION, "actor": "150400.xfj"})
    for division, node in world.bus.nodes.items():
        node.sealer = sealers[division]
    guidance = "请向赤峰市纪委监委反映（act-needle-guidance）"
    divert = {"actor": "150400.xfj", "route": "DISCIPLINE", "to_body": "150400.jw",
              "guidance": guidance}  # fmt: skip
    done = http.command(CITY, case_id, "divert", divert)
    assert done["events"][0]["type"] == "CaseDiverted"
    with city.store.engine.connect() as conn:
        assert conn.execute(case_keys.select()).all() == []  # no key made for an existing case
    log = world.bus.delivered[world.bus.topics.log(CITY)]
    assert any(guidance.encode() in value for value, _ in log)  # clear, like the file
    status, view = http.get(PROVINCE, f"/api/cases/{case_id}/timeline")
    assert status == 200 and guidance in json.dumps(view, ensure_ascii=False)
    assert [t for t in world.bus.delivered if ".deadletter" in t] == []
