"""The audit report as terminal text, Chinese first."""

from __future__ import annotations

from ...domain.topology import Topology
from ..compliance import ComplianceReport
from ..run import AuditOutcome
from .common import STATUS_ZH, SUPERVISION_ZH, local, name_of, pct


def text_summary(outcome: AuditOutcome) -> str:
    result, topology = outcome.integrity, outcome.topology
    lines = ["", "== 日志完整性 / log integrity =="]
    for node, s in result.nodes.items():
        tail = s["unsigned_tail"]
        key = s["key_id"] or "—"
        published = "已发布" if s["key_published"] else "未发布"
        lines.append(
            f"  {node} {name_of(topology, node)}: {s['records']} 条记录 / records"
            f"（seq {s['first_seq'] or 0}–{s['last_seq']}，重复投递 {s['redeliveries']}），"
            f"检查点 {s['checkpoints']}，会签 {s['countersigns']}，密钥 {key}（{published}）"
            + (f"，未签名尾部 seq {tail[0]}–{tail[1]}" if tail else "")
            + ("  ✗" if s["violations"] else "  ✓")
        )
    for node, n in sorted(result.inbox_records.items()):
        bad = result.inbox_undecodable.get(node, 0)
        lines.append(
            f"  收件箱 / inbox {node}: {n} 条，已与来源日志核对 / checked against source logs"
            + (f"（{bad} 条无法解码，已忽略 / undecodable, ignored）" if bad else "")
        )
    if result.forged:
        lines.append(f"\n伪造或被改动的记录 {len(result.forged)} 条 / forged records:")
        lines += [
            f"  ✗ {f.location or f.topic}  {f.node} seq {f.seq}  {f.code}  {f.title_zh}"
            for f in result.forged
        ]
    if result.violations:
        lines.append(f"\n违规 {len(result.violations)} 项 / {len(result.violations)} violations:")
        lines += [f"  ✗ {f.line()}" for f in result.violations]
    if result.warnings:
        lines.append(f"\n提示 {len(result.warnings)} 项 / {len(result.warnings)} warnings:")
        lines += [f"  ! {f.line()}" for f in result.warnings]
    verdict = (
        "结论：日志完整，链、签名与会签均通过校验 / verdict: logs intact"
        if result.ok
        else "结论：发现违规，日志不可信 / verdict: VIOLATIONS FOUND"
    )
    lines.append("\n" + verdict)
    report = outcome.compliance
    if report is not None:
        lines += compliance_text(report, topology)
    return "\n".join(lines)


def compliance_text(report: ComplianceReport, topology: Topology) -> list[str]:
    lines = [
        "",
        f"== 事项与合规（截至 {local(report.now)}）/ cases and compliance ==",
        f"  事项 {len(report.cases)} 件 / cases rebuilt from the logs: {len(report.cases)}",
        "",
        "  行政区划            及时受理率  按期办结率  满意率    参评率    重复信访率  "
        "督办(提醒/督办/挂牌)",
    ]
    for d, m in report.metrics.items():
        sup = "/".join(str(m.supervised.get(k, 0)) for k in SUPERVISION_ZH)
        lines.append(
            f"  {d} {m.name:<10}  {pct(m.timely_acceptance.value):>8}  "
            f"{pct(m.on_time_completion.value):>8}  {pct(m.satisfaction.value):>7}  "
            f"{pct(m.participation.value):>7}  {pct(m.repeat.value):>9}  {sup}"
        )
    overdue = [(c, o) for c in report.cases for o in c.overdue]
    if overdue:
        lines.append(f"\n  超期 {len(overdue)} 项 / {len(overdue)} overdue obligations:")
        for c, o in overdue:
            lines.append(
                f"    {c.case_id} {o.rule_id} {name_of(topology, o.body)}「{o.zh}」"
                f"期限 {local(o.due)}，{STATUS_ZH[o.status]}（{o.days_late(report.now):.1f} 日）"
            )
    other = [f for f in report.findings if not f.code.startswith("deadline-")]
    if other:
        lines.append(f"\n  合规问题 {len(other)} 项 / compliance findings:")
        for f in other:
            lines.append(f"    {f.rule_id} {f.case_id} [{f.division}] {f.zh} / {f.en}")
    if not report.findings:
        lines.append("\n  未发现超期或违反规则的情况 / no overdue obligations or rule breaches")
    return lines
