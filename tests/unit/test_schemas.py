"""Every event type has an .avsc in schemas/ and round-trips through the wire format."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from xinfang.codec.schemas import SchemaCatalogue
from xinfang.codec.wire import DecodeError, EventCodec
from xinfang.domain.events import (
    EVENT_TYPES,
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseDiverted,
    CaseFile,
    CaseNotAccepted,
    CaseTransferred,
    ChainCheckpointed,
    CheckpointCountersigned,
    CompletionReported,
    DeadlineMissed,
    Event,
    EventHeader,
    HandlingExtended,
    HandlingOpinionIssued,
    NoticeServed,
    PersonalDataErased,
    Petitioner,
    PetitionRegistered,
    ReReviewDecided,
    ReReviewRequested,
    ReviewDecided,
    ReviewRequested,
    SatisfactionEvaluated,
    SupervisionAnswered,
    SupervisionIssued,
    TransferObjected,
    TransferReturned,
    UrgentReported,
)
from xinfang.domain.vocabulary import (
    Category,
    Channel,
    CloseReason,
    DiversionRoute,
    NoticeKind,
    Outcome,
    Rating,
    Receipt,
    ReviewResult,
    ServiceMethod,
    SupervisionLevel,
)

T = datetime(2026, 3, 2, 8, 30, 15, 123000, tzinfo=UTC)


def header(seq: int = 3) -> EventHeader:
    return EventHeader("e-1", "150400-2026-000001", "150400", "150400.xfj", T, seq, "ab" * 32)


FILE = CaseFile(
    title="标题",
    channel=Channel.LETTER,
    category=Category.ACCUSATION,
    petitioner=Petitioner(name=None, address=None, contact=None, anonymous=True),
    request="诉求",
    facts="事实",
    reasons="理由",
    place="150404",
    received_at=T,
    accused="某局某科长",
    accused_body="150404.zrzy",
    collective_size=7,
    urgent=True,
    litigation_related=False,
    repeat_of="150400-2025-000009",
)

SAMPLES: list[Event] = [
    PetitionRegistered(header=header(), query_code="ABCD2345", file=FILE, route_due=T),
    CaseTransferred(
        header=header(),
        to_body="150400.jw",
        to_division="150400",
        query_code="Q",
        file=FILE,
        acceptance_due=T,
        objection_due=T,
        note="n",
    ),
    CaseAssigned(
        header=header(),
        to_body="150404.zj",
        to_division="150404",
        query_code="Q",
        file=FILE,
        acceptance_due=T,
        objection_due=T,
        report_due=T,
        note="",
    ),
    CaseDiverted(
        header=header(),
        route=DiversionRoute.DISCIPLINE,
        to_body="150400.jw",
        to_division="150400",
        guidance="g",
    ),
    CaseDiverted(
        header=header(),
        route=DiversionRoute.LITIGATION,
        to_body=None,
        to_division=None,
        guidance="请向人民法院起诉",
    ),
    UrgentReported(header=header(), reported_to=["中共赤峰市委员会", "国家信访局"], summary="s"),
    TransferObjected(header=header(), body="150404.zj", reasons="不属于职权范围"),
    TransferReturned(header=header(), body="150400.xfj", note=""),
    CaseAccepted(header=header(), body="150404.zj", handling_due=T),
    CaseNotAccepted(header=header(), body="150404.zj", reasons="r"),
    NoticeServed(
        header=header(),
        kind=NoticeKind.ACCEPTANCE,
        served_at=T,
        method=ServiceMethod.POST,
        receipt=Receipt.REFUSED,
    ),
    HandlingExtended(
        header=header(),
        body="150404.zj",
        days=30,
        approved_by="局长",
        reasons="复杂",
        handling_due=T,
    ),
    HandlingOpinionIssued(
        header=header(), body="150404.zj", outcome=Outcome.MEDIATED, opinion="o", legal_basis="b"
    ),
    CompletionReported(header=header(), body="150404.zj", to_body="150400.xfj", summary="s"),
    ReviewRequested(header=header(), reviewer="150400.zj", reasons="r", decision_due=T),
    ReviewDecided(
        header=header(),
        reviewer="150400.zj",
        result=ReviewResult.REVOKE,
        opinion="o",
        rehandle_due=T,
    ),
    ReviewDecided(header=header(), reviewer="150400.zj", result=ReviewResult.UPHOLD, opinion="o"),
    ReReviewRequested(header=header(), reviewer="150000.zj", reasons="r", decision_due=T),
    ReReviewDecided(header=header(), reviewer="150000.zj", result=ReviewResult.VARY, opinion="o"),
    CaseClosed(header=header(), reason=CloseReason.WINDOW_LAPSED, note=""),
    DeadlineMissed(header=header(), obligation="HANDLING", rule_id="R5", body="150404.zj", due=T),
    SupervisionIssued(
        header=header(),
        supervision_id="c/S1",
        to_body="150404.zj",
        level=SupervisionLevel.LISTED,
        obligation="HANDLING",
        reasons="r",
        answer_due=T,
    ),
    SupervisionAnswered(
        header=header(), supervision_id="c/S1", body="150404.zj", answer="a", adopted=True
    ),
    SatisfactionEvaluated(
        header=header(),
        handling_body="150404.zj",
        handling_rating=Rating.SATISFIED,
        office="150400.xfj",
        office_rating=Rating.DISSATISFIED,
        comment="c",
    ),
    PersonalDataErased(header=header(), retention_days=1826, ended_at=T),
    ChainCheckpointed(
        header=EventHeader("e-2", "_chain", "150404", "150404.xfj", T, 8, "cd" * 32),
        head_seq=7,
        head_hash="cd" * 32,
        key_id="0123456789abcdef",
        public_key=bytes(range(32)),
        signature=bytes(range(64)),
    ),
    CheckpointCountersigned(
        header=EventHeader("e-3", "_chain", "150400", "150400.xfj", T, 12, "ef" * 32),
        division="150404",
        checkpoint_event_id="e-2",
        checkpoint_seq=8,
        checkpoint_hash="01" * 32,
        head_seq=7,
        head_hash="cd" * 32,
        key_id="fedcba9876543210",
        public_key=bytes(32),
        signature=bytes(64),
    ),
]


def test_every_event_type_has_a_schema_and_a_sample() -> None:
    catalogue = SchemaCatalogue()
    assert set(EVENT_TYPES) <= set(catalogue.by_name)
    assert {type(s).TYPE for s in SAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)  # type: ignore[misc]
def test_round_trip(event: Event) -> None:
    codec = EventCodec()
    data = codec.encode(event)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == codec.catalogue.get(event.type).fingerprint
    assert codec.decode(data).event == event


def test_fingerprint_matches_avro_spec_vector() -> None:
    # Avro spec: CRC-64-AVRO of the schema "int" is 0x7275d51a3f395c8f (little-endian on the wire).
    from fastavro.schema import fingerprint

    assert bytes.fromhex(fingerprint('"int"', "CRC-64-AVRO")) == (0x7275D51A3F395C8F).to_bytes(
        8, "little"
    )


def test_every_field_is_documented() -> None:
    catalogue = SchemaCatalogue()
    for path in list(catalogue.schema_dir.rglob("*.avsc")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw.get("doc"), path
        for field in raw.get("fields", []):
            assert field.get("doc"), f"{path.name}: {field['name']}"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not-single-object-encoding"),
        (b"garbage bytes here", "not-single-object-encoding"),
        (b"\xc3\x01" + b"\x00" * 8 + b"body", "unknown-schema-fingerprint"),
    ],
)
def test_bad_bytes_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        EventCodec().decode(data)
    assert info.value.reason == reason


def test_truncated_and_padded_bodies_are_refused() -> None:
    codec = EventCodec()
    data = codec.encode(SAMPLES[0])
    with pytest.raises(DecodeError):
        codec.decode(data[:-5])
    with pytest.raises(DecodeError) as info:
        codec.decode(data + b"\x00")
    assert info.value.reason == "trailing-bytes"
