"""The encryption bench (issue 15, decision 032) produces well-formed figures for both suites
and a report section beside the raw encode/decode. No timing thresholds: the figures belong to
`make bench`."""

from __future__ import annotations

import math

from bench.encryption import SUITES, run_encryption
from bench.report import encryption_section


def test_the_encryption_bench_measures_both_suites_beside_the_raw_codec() -> None:
    result = run_encryption(events=3).as_dict()
    assert set(result["fields"]) == set(SUITES)
    timings = [v for c in result["fields"].values() for v in c.values()] + [
        result[k] for k in ("encode_us", "decode_us", "sealed_encode_us", "sealed_decode_us")
    ]
    assert all(v > 0 and not math.isnan(v) for v in timings)
    assert result["events"] == 3
    assert result["sealed_bytes"] > result["raw_bytes"]  # ciphertext, nonces and tags
    # the node's own sealing (privacy/sealing.py): petitioner and file texts, counted on the wire
    assert result["sealed_fields"] >= 6
    # an act event beside it: the opinion and its legal basis sealed (decision 037)
    act = result["act"]
    assert act["sealed_fields"] == 2 and act["sealed_bytes"] > act["raw_bytes"]
    assert all(act[k] > 0 for k in ("encode_us", "sealed_encode_us", "sealed_decode_us"))
    section = "\n".join(encryption_section(result))
    assert "| sm4-gcm |" in section and "| aes-256-gcm |" in section
    assert "| raw |" in section and "| personal fields sealed |" in section
    assert "privacy/sealing.seal_event" in section
    assert "| opinion, act text sealed (2 fields) |" in section
    assert "FAILED" in "\n".join(encryption_section({"error": "boom"}))
