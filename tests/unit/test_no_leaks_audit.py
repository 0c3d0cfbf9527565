"""Issue 15: what an auditor reads (`xinfang audit report` HTML, `--json`, the text summary)
holds no personal data and no ciphertext dressed up as a title: the auditor holds no case key
(decision 028), so a sealed title or request shows as 〔已加密 / sealed〕 while the logs still
verify and every case, deadline and finding is reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from xinfang.audit.compliance import ComplianceAuditor, Located
from xinfang.audit.report import html_report, text_summary
from xinfang.audit.report.document import dumps
from xinfang.audit.run import AuditOutcome
from xinfang.audit.trail_cli import table
from xinfang.audit.verify import Auditor
from xinfang.chain.keys import NodeKey
from xinfang.domain.commands import TransferCase
from xinfang.domain.deciders import decide_transfer
from xinfang.domain.topology import Topology
from xinfang.identity.trail_record import TrailAct, place, signature_valid

from .audit_world import CITY, COUNTY, PROVINCE, World
from .test_slice_in_memory import sample_file

CLEAR = ("张三", "13800000000", "松山区某小区", "小区供暖不达标", "室温长期", "供热公司整改",
         "无人受理的供暖")  # fmt: skip


def _outcome(w: World) -> AuditOutcome:
    """`audit report --compliance` over the three logs as the broker holds them."""
    checker = ComplianceAuditor(w.topology)
    auditor = Auditor(
        w.topology,
        w.keyring,
        sink=lambda node, entry, event: checker.add(
            Located(event, node, entry.seq, entry.topic, entry.partition, entry.offset)
        ),
    )
    for d in (COUNTY, CITY, PROVINCE):
        auditor.feed_log(d, w.records(d))
    return AuditOutcome(auditor.finish(), checker.run([], now=w.bus.clock()), w.topology)


def test_the_audit_report_shows_sealed_fields_as_sealed_never_their_text(
    topology: Topology, tmp_path: Path
) -> None:
    w = World(topology, tmp_path)
    handled = w.handled_case()
    late = w.bus.nodes[CITY].register(
        "150400.xfj", replace(sample_file(w.bus), title="无人受理的供暖", request="另一诉求")
    )
    w.bus.nodes[CITY].execute(
        late.case_id, decide_transfer, TransferCase("150400.xfj", "150404.zj")
    )
    w.bus.settle()
    w.bus.clock.advance(days=20)  # never accepted: an overdue row naming the case
    outcome = _outcome(w)
    assert outcome.ok, [f.line() for f in outcome.integrity.violations]
    assert outcome.compliance is not None
    assert {c.case_id for c in outcome.compliance.cases} == {handled, late.case_id}
    assert [c.case_id for c in outcome.compliance.cases if c.overdue] == [late.case_id]

    page, document, text = html_report(outcome), dumps(outcome), text_summary(outcome)
    for shown in (page, document, text):
        assert "xfs1." not in shown  # no ciphertext passed off as a title or a summary
        assert [s for s in CLEAR if s in shown] == []
    assert f"{late.case_id} 〔已加密 / sealed〕" in page  # the overdue row and the case heading
    assert "渠道登记「〔已加密 / sealed〕」" in page and "〔已加密 / sealed〕" in document


def test_xinfang_audit_trail_masks_a_number_in_a_reason_signed_before_redaction() -> None:
    """Entries written before the trail masked reasons keep their signed bytes; the 审计管理员's
    table (`xinfang audit trail`) still shows the number masked."""
    act = TrailAct(
        at_ms=1_767_000_000_000, person="registrar.150400.xfj", roles=("registrar",),
        body="150400.xfj", method="account", action="revealPersonalData",
        http="POST /api/cases/150400-2026-000001/personal-data", case_id="150400-2026-000001",
        status=200, code="", sign_in="", source="127.0.0.1", agent="",
        reason="核实 150404198003122035 的身份",
    )  # fmt: skip
    key = NodeKey.generate()
    entry = place(act, CITY, 1, "0" * 64, key)
    assert signature_valid(entry, key.public_raw)  # an old entry, valid as it is
    shown = table([entry], {})
    assert "核实 150404********2035 的身份" in shown and "150404198003122035" not in shown
