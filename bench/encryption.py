"""Personal data under encryption (issue 15, decision 032): what field encryption at rest and
sealing a whole event's personal fields cost, beside the raw encode/decode.

In memory, CPU time of this process, best of five:

- per field, for AES-256-GCM and SM4-GCM (`privacy/columns.ColumnCipher`, the at-rest format
  `xf1.` with associated data naming table, column and row): seal, open, and both — on the
  fields a node protects (a name, a phone number, an identity number, an address, a title and a
  500-character statement of facts);
- per event, on the registrations of the slice (`events.LogWriter`): the raw Avro encode and
  decode of the record (`codec.wire.EventCodec`), and beside it, in the same run, the node's
  real sealing (`privacy/sealing.seal_event` before encoding, `open_event` after decoding,
  each case under its own `new_case_key()`, AES-256-GCM): every text field of the petitioner
  and the file's title, request, facts, reasons and accused (decision 028);
- per act event, the same on a handling opinion of each of those cases (`HandlingOpinionIssued`
  with a 200-character opinion and its legal basis, both sealed as "act.<field>", decision 037).

    python -m bench.encryption --events 500
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from xinfang.codec.wire import EventCodec
from xinfang.domain.events import HandlingOpinionIssued, PetitionRegistered
from xinfang.domain.vocabulary import Outcome
from xinfang.privacy.columns import ColumnCipher
from xinfang.privacy.keyfile import DataKeys
from xinfang.privacy.sealing import new_case_key, open_event, seal_event, sealed_paths
from xinfang.topology_file import load_topology

from .events import LogWriter

DIVISION = "150404"
FIELDS = {
    "name": "张三",
    "phone": "13912345678",
    "id_number": "150404198001011234",
    "address": "内蒙古自治区赤峰市松山区某镇某村三组",
    "title": "征地补偿款未足额发放",
    "facts": "二〇二五年征地后补偿款仅发放六成，多次反映无果。" * 20,  # 500 characters
}
SUITES = ("aes-256-gcm", "sm4-gcm")
OPINION = "经调查，信访人反映的供热不达标情况属实，责令供热企业七日内整改，室温达标后回访。" * 5


@dataclass
class EncryptionResult:
    fields: dict[str, dict[str, float]]  # suite -> seal_us / open_us / both_us (mean per field)
    field_bytes: dict[str, int]  # field -> UTF-8 bytes of the clear text
    events: int
    encode_us: float  # raw: encode one event (µs CPU)
    decode_us: float
    sealed_encode_us: float  # personal fields sealed (privacy/sealing.seal_event), then encoded
    sealed_decode_us: float  # decoded, then opened (open_event)
    sealed_fields: int  # fields sealed per event (mean)
    raw_bytes: float  # mean record size
    sealed_bytes: float
    act: dict[str, float]  # the same five figures and two sizes on a HandlingOpinionIssued

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _best_us(work: Callable[[], None], count: int, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        work()
        best = min(best, time.process_time() - began)
    return best / count * 1e6


def _field_costs(suite: str, repeat: int = 200) -> dict[str, float]:
    cipher = ColumnCipher(DataKeys.generate(suite))
    items = list(FIELDS.items()) * repeat
    sealed = [(n, cipher.seal("cases", n, "150404-2026-000001", v)) for n, v in items]

    def seal_all() -> None:
        for name, value in items:
            cipher.seal("cases", name, "150404-2026-000001", value)

    def open_all() -> None:
        for name, value in sealed:
            cipher.open("cases", name, "150404-2026-000001", value)

    seal_us, open_us = _best_us(seal_all, len(items)), _best_us(open_all, len(items))
    return {"seal_us": seal_us, "open_us": open_us, "both_us": seal_us + open_us}


def _opinion(registered: PetitionRegistered) -> HandlingOpinionIssued:
    header = replace(registered.header, event_id=registered.header.event_id[::-1], seq=0)
    return HandlingOpinionIssued(
        header=header, body="150404.zj", outcome=Outcome.SUPPORTED, opinion=OPINION,
        legal_basis="《信访工作条例》第三十二条；《内蒙古自治区城镇供热条例》第二十条",
    )  # fmt: skip


def _per_event(
    codec: EventCodec, events: list[Any], keys: dict[str, bytes]
) -> dict[str, float]:
    """encode/decode µs raw and sealed, mean record bytes raw and sealed, fields sealed."""
    raw = [codec.encode(e) for e in events]
    sealed = [codec.encode(seal_event(e, keys[e.case_id])) for e in events]
    opened = [open_event(codec.decode(data).event, keys[e.case_id])
              for data, e in zip(sealed, events, strict=True)]  # fmt: skip
    if opened != events:  # the round trip must give the events back before timing it
        raise RuntimeError("sealing round trip changed an event")
    paths = [len(sealed_paths(codec.decode(data).event)) for data in sealed]

    def encode_raw() -> None:
        for e in events:
            codec.encode(e)

    def decode_raw() -> None:
        for data in raw:
            codec.decode(data)

    def encode_sealed() -> None:
        for e in events:
            codec.encode(seal_event(e, keys[e.case_id]))

    def decode_sealed() -> None:
        for data, e in zip(sealed, events, strict=True):
            open_event(codec.decode(data).event, keys[e.case_id])

    n = len(events)
    return {
        "encode_us": _best_us(encode_raw, n),
        "decode_us": _best_us(decode_raw, n),
        "sealed_encode_us": _best_us(encode_sealed, n),
        "sealed_decode_us": _best_us(decode_sealed, n),
        "sealed_fields": round(sum(paths) / n),
        "raw_bytes": sum(map(len, raw)) / n,
        "sealed_bytes": sum(map(len, sealed)) / n,
    }


def run_encryption(events: int = 500) -> EncryptionResult:
    writer = LogWriter(DIVISION, load_topology())
    codec = EventCodec()
    registered: list[PetitionRegistered] = []
    while len(registered) < events:
        for record in writer.register_and_transfer():
            if not record.topic.endswith(".log"):
                continue  # inbox copies and the status feed
            event = codec.decode(record.value).event
            if isinstance(event, PetitionRegistered):
                registered.append(event)
    registered = registered[:events]
    keys = {e.case_id: new_case_key() for e in registered}  # each case its own key (decision 028)

    file = _per_event(codec, registered, keys)
    return EncryptionResult(
        fields={s: _field_costs(s) for s in SUITES},
        field_bytes={k: len(v.encode()) for k, v in FIELDS.items()},
        events=len(registered),
        encode_us=file["encode_us"],
        decode_us=file["decode_us"],
        sealed_encode_us=file["sealed_encode_us"],
        sealed_decode_us=file["sealed_decode_us"],
        sealed_fields=int(file["sealed_fields"]),
        raw_bytes=file["raw_bytes"],
        sealed_bytes=file["sealed_bytes"],
        act=_per_event(codec, [_opinion(e) for e in registered], keys),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    print(json.dumps(run_encryption(parser.parse_args().events).as_dict(), indent=2))


if __name__ == "__main__":
    main()
