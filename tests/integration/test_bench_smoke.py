"""Issue 7: the benchmark harness, smoke-sized, against the session broker.

Each measurement runs with tiny sizes and must produce well-formed results: positive numbers,
a computed ratio, a table between the markers of a benchmarks document. No timing thresholds:
the figures themselves belong to `make bench`, not to the test suite.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from bench.report import END, START, render, rewrite
from bench.run import Sizes, describe_broker, run_all

from xinfang.devtools.broker import Broker

pytestmark = pytest.mark.integration

SMALL_TOPOLOGY = """\
name: 烟雾测试拓扑
body_templates:
  - {suffix: xfj, kind: petition_office, name: 信访局, line: xf}
  - {suffix: zj, kind: department, name: 住房和城乡建设局, line: zj}
divisions:
  - {code: "150000", name: 内蒙古自治区, level: province}
  - {code: "150400", name: 赤峰市, level: city, parent: "150000"}
  - {code: "150404", name: 松山区, level: county, parent: "150400"}
"""


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not math.isnan(value) and value > 0


def test_every_benchmark_produces_well_formed_results(
    kafka: Broker, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # faust writes `<app id>-data/` into the working directory
    topology = tmp_path / "small.yaml"
    topology.write_text(SMALL_TOPOLOGY, encoding="utf-8")
    sizes = Sizes(
        hop_cases=5,
        hop_raw=10,
        throughput_cases=10,  # 20 events
        audit_records=20,
        scale_topology=topology,
        scale_per_county=1,
        scale_idle_window_s=1.0,
    )

    results = run_all(kafka.bootstrap_servers, topic_prefix, tmp_path / "work", sizes)

    for name in ("hop", "throughput", "audit", "tls_cost", "scale"):
        assert "error" not in results[name], results[name]

    hop = results["hop"]
    assert hop["cases"] == 5 and hop["raw"]["n"] == 10
    assert set(hop["hops"]) == {"150400→150404", "150404→150400", "150400→150000"}
    for stats in (*hop["hops"].values(), *hop["relay"].values(), hop["raw"]):
        assert stats["p50"] <= stats["p99"] <= stats["max"]
    assert all(_positive(s["p50"]) for s in (*hop["hops"].values(), hop["raw"]))
    assert _positive(hop["ratio_p50"]) and _positive(hop["ratio_p99"])

    tp = results["throughput"]
    assert tp["events"] >= 20  # 10 cases × (登记 + 转送) reported upward
    assert all(_positive(tp[k]) for k in ("node_eps", "raw_eps", "ratio", "node_rss_mb"))

    audit = results["audit"]
    assert audit["records"] >= 20 and audit["chain_ok"] is True and audit["provisional"] is True
    assert all(_positive(audit[k]) for k in ("verify_replay_rps", "raw_replay_rps", "ratio_cpu"))

    module = results["audit_module"]  # the audit module's own verifier, where it exists
    if "skipped" not in module:
        assert "error" not in module, module
        assert module["records"] >= 20 and module["chain_ok"] is True
        assert _positive(module["ratio_replay"]) and _positive(module["ratio_cpu"])

    enc = results["encryption"]  # issue 15: field encryption and sealed events beside raw
    assert "error" not in enc, enc
    assert set(enc["fields"]) == {"aes-256-gcm", "sm4-gcm"}
    assert all(_positive(c["both_us"]) for c in enc["fields"].values())
    assert _positive(enc["encode_us"]) and _positive(enc["sealed_encode_us"])

    scale = results["scale"]
    assert scale["nodes"] == 3 and scale["cases"] == 1 and scale["agree"] is True
    assert scale["deliveries"] == 3  # county gets the transfer, province registration + transfer
    assert scale["broker"]["topics"] >= 9 and scale["broker"]["partitions"] >= 9
    assert all(_positive(scale[k]) for k in ("startup_s", "settle_s", "rss_per_node_mb"))

    # issue 13: the raw baselines on a plaintext broker beside the same on the secured one
    assert kafka.security == "sasl_ssl", "the bench runs on the secured broker"
    cost = results["tls_cost"]
    assert cost["hop"]["plaintext"]["n"] == cost["hop"]["secured"]["n"] == 10
    assert cost["events"] >= 20 and cost["records"] >= 20
    assert "plaintext" in cost["plaintext_broker"]
    assert cost["protocol"] == {"plaintext": "PLAINTEXT", "secured": "SASL_SSL"}
    assert kafka.bootstrap_servers not in cost["plaintext_broker"]  # a second broker
    for side in ("plaintext", "secured"):
        assert _positive(cost["pass_through_eps"][side]) and _positive(cost["decode_rps"][side])
        assert _positive(cost["hop"][side]["p50"])
    assert all(
        _positive(cost[k])
        for k in ("hop_p50_ratio", "hop_p99_ratio", "pass_through_ratio", "decode_ratio")
    )

    results["run"] = {
        "started": "smoke",
        "mode": "smoke",
        "duration_s": 1.0,
        "broker": describe_broker(kafka, kafka.bootstrap_servers, "4.1.1"),
        "load_start": "0",
        "load_end": "0",
        "machine": {
            "nproc": 2,
            "cpu": "cpu",
            "memory_gib": 1,
            "kernel": "k",
            "python": "3",
            "java": "17",
            "kafka": "4",
            "sqlite": "3",
            "packages": {},
        },
    }
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# 手写部分 / hand-written\n\n{START}\nold\n{END}\n\n## 尾部 / tail\n")
    rewrite(doc, render(results))
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# 手写部分 / hand-written") and text.endswith("## 尾部 / tail\n")
    assert "old" not in text and text.count(START) == 1 and text.count(END) == 1
    assert "150400→150404" in text and "% of raw" in text
    broker_line = next(line for line in text.splitlines() if line.startswith("**Broker**"))
    assert "secured" in broker_line and "SASL/SCRAM-SHA-512" in broker_line
    assert "TLS" in broker_line and "Kafka 4.1.1" in broker_line and "single broker" in broker_line
    section = text.split("### 5. The TLS/SASL cost", 1)[1]
    assert "| measure | raw plaintext | raw secured | secured ÷ plaintext |" in section
    pt = cost["pass_through_eps"]
    row = f"| consume→produce (events/s) | {pt['plaintext']:,.0f} | {pt['secured']:,.0f} |"
    assert f"{row} **{cost['pass_through_ratio']:.2f}×** |" in section
