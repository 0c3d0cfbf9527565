"""Record signatures (issue 12 item 6, decision 021): what signing and verifying cost per record.

On real records of the slice (`events.LogWriter`: 登记 + 转送 of 松山区, as its node publishes
them), in memory, CPU time of this process, best of five:

- sign: `record_signing.sign_record` over the value and the covered headers (what the node
  adds per authored record, whatever the number of recipients);
- verify: `record_signing.record_signature_problem` against a published key set (what each
  receiver does per inbound record before anything of it is stored);
- raw: `hashlib.sha256` of the value alone (part of both; the floor of any per-record check).

    python -m bench.signing --records 2000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from xinfang.chain.keys import Keyring, NodeKey
from xinfang.chain.record_signing import (
    RECORD_COVERED,
    SIG_HEADER,
    record_signature_problem,
    sign_record,
)
from xinfang.topology_file import load_topology

from .events import LogWriter

DIVISION = "150404"


@dataclass
class SigningResult:
    records: int
    sign_us: float  # CPU µs per record
    verify_us: float
    sha256_us: float
    mean_value_bytes: float

    @property
    def sign_per_s(self) -> float:
        return 1e6 / self.sign_us

    @property
    def verify_per_s(self) -> float:
        return 1e6 / self.verify_us

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "sign_per_s": self.sign_per_s, "verify_per_s": self.verify_per_s}


def _best_us(work: Callable[[], None], count: int, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        work()
        best = min(best, time.process_time() - began)
    return best / count * 1e6


def run_signing(records: int = 2000) -> SigningResult:
    writer = LogWriter(DIVISION, load_topology())
    made: list[tuple[bytes, list[tuple[str, bytes]]]] = []
    while len(made) < records:
        made += [  # log and inbox copies (the status feed signs fewer headers)
            (r.value, r.headers)
            for r in writer.register_and_transfer()
            if r.topic.endswith((".log", ".inbox"))
        ]
    made = made[:records]
    key = NodeKey.generate()
    unsigned = [(v, [(k, x) for k, x in h if k != SIG_HEADER]) for v, h in made]
    signed = [(v, sign_record(key, v, h, RECORD_COVERED)) for v, h in unsigned]
    ring = Keyring({DIVISION: key.public_raw})
    now = datetime.now(UTC)

    def lookup(division: str, kid: str) -> bytes | None:
        return ring.lookup(division, kid, now)

    def sign_all() -> None:
        for value, headers in unsigned:
            sign_record(key, value, headers, RECORD_COVERED)

    def verify_all() -> None:
        for value, headers in signed:
            if record_signature_problem(value, headers, DIVISION, lookup) is not None:
                raise AssertionError("a genuine record failed verification")

    def hash_all() -> None:
        for value, _ in signed:
            hashlib.sha256(value).digest()

    return SigningResult(
        records=len(signed),
        sign_us=_best_us(sign_all, len(signed)),
        verify_us=_best_us(verify_all, len(signed)),
        sha256_us=_best_us(hash_all, len(signed)),
        mean_value_bytes=sum(len(v) for v, _ in signed) / len(signed),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    result = run_signing(parser.parse_args().records)
    print(json.dumps(result.as_dict(), indent=2))


if __name__ == "__main__":
    main()
