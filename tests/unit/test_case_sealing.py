"""Personal fields sealed with the case key in every record (issue 15 items 4, 6; decision 028)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from xinfang.codec.wire import EventCodec
from xinfang.domain.commands import TransferCase
from xinfang.domain.deciders import decide_transfer
from xinfang.domain.events import PetitionRegistered
from xinfang.domain.topology import Topology
from xinfang.node.case_sealer import WRAP_HEADER, without_wrap
from xinfang.privacy.sealing import (
    MARK,
    new_case_key,
    open_event,
    open_text,
    seal_event,
    seal_text,
)
from xinfang.privacy.suites import DecryptionFailed

from .fakes import FakeBus
from .test_slice_in_memory import sample_file

CLEAR = ("张三", "松山区某小区", "13800000000", "室温长期低于 18 度", "请求督促供热公司整改")


def _registered(bus: FakeBus) -> PetitionRegistered:
    reg = bus.nodes["150400"].register("150400.xfj", sample_file(bus))
    event = reg.events[0]
    assert isinstance(event, PetitionRegistered)
    return event


def test_a_sealed_event_carries_no_clear_text_and_opens_with_its_case_key(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150400"], tmp_path, sealed=False)
    event = _registered(bus)
    key = new_case_key()
    sealed = seal_event(event, key)
    data = EventCodec().encode(sealed)
    for text in CLEAR:
        assert text.encode() not in data
    assert sealed.file.petitioner.name is not None
    assert sealed.file.petitioner.name.startswith(MARK)
    assert sealed.file.place == event.file.place  # structural fields stay clear
    decoded = EventCodec().decode(data).event
    assert open_event(decoded, key) == event


def test_the_sealer_refuses_altered_text_another_key_and_another_case() -> None:
    key = new_case_key()
    stored = seal_text(key, "150400-2026-000001", "file.facts", "室温长期低于 18 度")
    assert open_text(key, "150400-2026-000001", "file.facts", stored) == "室温长期低于 18 度"
    tampered = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(DecryptionFailed):
        open_text(key, "150400-2026-000001", "file.facts", tampered)
    with pytest.raises(DecryptionFailed):  # another case's key
        open_text(new_case_key(), "150400-2026-000001", "file.facts", stored)
    with pytest.raises(DecryptionFailed):  # moved to another case
        open_text(key, "150400-2026-000002", "file.facts", stored)
    with pytest.raises(DecryptionFailed):  # moved to another field
        open_text(key, "150400-2026-000001", "file.reasons", stored)
    assert open_text(None, "150400-2026-000001", "file.facts", stored) == "已删除 / erased"


def _transferred(bus: FakeBus) -> str:
    city = bus.nodes["150400"]
    reg = city.register("150400.xfj", sample_file(bus))
    city.execute(
        reg.case_id, decide_transfer, TransferCase(actor="150400.xfj", to_body="150404.zj")
    )
    return reg.case_id


def test_only_inbox_copies_carry_the_wrapped_key_and_the_receivers_read_clear_values(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    case_id = _transferred(bus)
    bus.settle()
    for division in ("150000", "150404"):  # the county handles it, the province oversees
        petitioner = bus.nodes[division].case(case_id).file.petitioner
        assert (petitioner.name, petitioner.contact) == ("张三", "13800000000")
    for topic, records in bus.delivered.items():
        for value, headers in records:
            for text in CLEAR:
                assert text.encode() not in value, (topic, text)
            wrapped = any(k == WRAP_HEADER for k, _ in headers)
            if ".log" in topic or "public" in topic:
                assert not wrapped, topic
    inbox_copies = bus.delivered[bus.topics.inbox("150404")]
    assert all(any(k == WRAP_HEADER for k, _ in h) for _, h in inbox_copies)
    for division in ("150000", "150400", "150404"):
        for path in tmp_path.glob(f"{division}.db*"):
            raw = path.read_bytes()
            for text in CLEAR:
                assert text.encode() not in raw, (path.name, text)


def test_a_record_without_a_usable_wrap_is_dead_lettered_not_applied(
    topology: Topology, tmp_path: Path
) -> None:
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    case_id = _transferred(bus)
    rows = bus.nodes["150400"].store.outbox.pending()
    copy = next(r for r in rows if r.topic == bus.topics.inbox("150404"))
    county = bus.nodes["150404"]
    assert county.receive(copy.value, without_wrap(copy.headers)).value == "dead_lettered"
    other = next(r for r in rows if r.topic == bus.topics.inbox("150000"))
    wrong = [*without_wrap(copy.headers), *[(k, v) for k, v in other.headers if k == WRAP_HEADER]]
    assert county.receive(copy.value, wrong).value == "dead_lettered"  # wrapped for 150000
    letters = [
        dict(r.headers) for r in county.store.outbox.pending()
        if r.topic == bus.topics.deadletter("150404")
    ]  # fmt: skip
    assert [h["xinfang_dlq_reason"] for h in letters] == [b"data-key-missing", b"data-key-invalid"]
    assert county.list_cases() == []
    assert county.receive(copy.value, copy.headers).value == "applied"
    assert county.case(case_id).file.petitioner.name == "张三"


def test_a_forwarded_copy_is_rewrapped_for_the_next_recipient(
    topology: Topology, tmp_path: Path
) -> None:
    """The county's events reach the province through the city (forward_upward): the city
    re-wraps the key it holds for the province."""
    bus = FakeBus(topology, ["150000", "150400", "150404"], tmp_path)
    county = bus.nodes["150404"]
    reg = county.register("150404.xfj", dataclasses.replace(sample_file(bus), place="150404"))
    bus.settle()
    assert bus.nodes["150000"].case(reg.case_id).file.petitioner.name == "张三"


def test_after_retention_the_key_is_shredded_views_say_erased_and_the_logs_verify(
    topology: Topology, tmp_path: Path
) -> None:
    from datetime import timedelta

    from xinfang.domain.events import PersonalDataErased
    from xinfang.privacy.sealing import ERASED
    from xinfang.store.tables import case_keys

    from .audit_world import CITY, COUNTY, PROVINCE, World
    from .test_audit_chain import audit

    w = World(topology, tmp_path)
    case_id = w.handled_case()
    bus = w.bus
    for node in bus.nodes.values():
        node.retention = timedelta(days=30)
    bus.clock.advance(days=120)  # the review window lapses: the case is closed
    bus.sweep()
    assert all(bus.nodes[d].case(case_id).closed for d in (CITY, COUNTY, PROVINCE))
    for node in bus.nodes.values():
        assert node.case(case_id).file.petitioner.name == "张三"  # not yet: 30 days after
    bus.clock.advance(days=31)
    bus.sweep()
    for division in (CITY, COUNTY, PROVINCE):
        node = bus.nodes[division]
        file = node.case(case_id).file
        assert (file.petitioner.name, file.petitioner.contact, file.facts) == (ERASED,) * 3
        erasures = [e for _, e in node.history(case_id) if isinstance(e, PersonalDataErased)]
        assert [(e.header.source, e.retention_days) for e in erasures] == [(division, 30)]
        with node.store.engine.connect() as conn:
            rows = conn.execute(case_keys.select()).all()
        assert [(r.case_id, r.sealed_key, r.erased_at is not None) for r in rows] == [
            (case_id, None, True)
        ]
    def types(topic: str) -> list[bytes]:
        return [v for _, h in bus.delivered.get(topic, []) for k, v in h if k == "ce_type"]

    erased_type = b"xinfang.events.PersonalDataErased"
    for division in (CITY, COUNTY, PROVINCE):  # each node's erasure is in its own log only
        assert types(bus.topics.log(division)).count(erased_type) == 1
        assert erased_type not in types(bus.topics.inbox(division))
    w.checkpoint_all()
    assert audit(w).violations == []
