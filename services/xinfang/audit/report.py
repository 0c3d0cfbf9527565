"""Audit reports: a terminal summary, a JSON document and a self-contained HTML page
(inline CSS and SVG charts, no external assets), Chinese first."""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from ..domain.calendar import BEIJING
from ..domain.topology import Topology
from ..domain.vocabulary import SupervisionLevel
from ..domain.vocabulary import zh as vocab_zh
from ..presentation import LABELS, summary_zh
from .compliance import (
    CaseReport,
    ComplianceReport,
    DivisionMetrics,
    DueStatus,
    Located,
    ObligationRecord,
)
from .run import AuditOutcome
from .verify import VIOLATION, Finding

LEVELS = {"province": 0, "city": 1, "county": 2}
LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县级"}
STATUS_ZH: dict[DueStatus, str] = {
    "on_time": "按期",
    "late": "逾期履行",
    "overdue": "超期未履行",
    "pending": "未到期",
}
SUPERVISION_ZH = {level.value: vocab_zh(level) for level in SupervisionLevel}  # ladder order


def _local(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _name(topology: Topology, code: str) -> str:
    if topology.has_division(code):
        return topology.division(code).name
    if topology.has_body(code):
        return topology.body(code).name
    return code


# -- JSON ---------------------------------------------------------------------------------------
def timeline_json(item: Located, topology: Topology) -> dict[str, Any]:
    e = item.event
    label_zh, label_en = LABELS.get(e.type, (e.type, e.type))
    return {
        "event_id": e.header.event_id,
        "type": e.type,
        "label_zh": label_zh,
        "label_en": label_en,
        "occurred_at": e.header.occurred_at.isoformat(),
        "occurred_at_local": _local(e.header.occurred_at),
        "division": e.header.source,
        "division_name": _name(topology, e.header.source),
        "actor": e.header.actor,
        "actor_name": _name(topology, e.header.actor),
        "summary_zh": summary_zh(e, topology),
        "log": {"node": item.node, "seq": item.seq, "topic": item.topic, "offset": item.offset},
    }


def obligation_json(o: ObligationRecord, now: datetime) -> dict[str, Any]:
    return {
        "rule": o.rule_id,
        "obligation": o.obligation.value,
        "obligation_zh": o.obligation.zh,
        "obligation_en": o.obligation.en,
        "body": o.body,
        "division": o.division,
        "opened_at": o.opened_at.isoformat(),
        "due": o.due.isoformat(),
        "discharged_at": o.discharged_at.isoformat() if o.discharged_at else None,
        "discharged_by": o.discharged_by,
        "status": o.status,
        "status_zh": STATUS_ZH[o.status],
        "days_late": round(o.days_late(now), 2),
    }


def case_json(report: CaseReport, topology: Topology, now: datetime) -> dict[str, Any]:
    case = report.case
    file = report.file
    return {
        "case_id": report.case_id,
        "title": file.title if file else None,
        "category": file.category.value if file else None,
        "status": case.status.value if case else None,
        "status_zh": vocab_zh(case.status) if case else None,
        "holder": case.holder if case else None,
        "final": case.final if case else None,
        "simplified": report.simplified,
        "participants": list(case.participants) if case else [],
        "error": report.error,
        "obligations": [obligation_json(o, now) for o in report.obligations],
        "timeline": [timeline_json(i, topology) for i in report.timeline],
    }


def outcome_json(outcome: AuditOutcome, with_cases: bool = True) -> dict[str, Any]:
    result = outcome.integrity
    payload: dict[str, Any] = {
        "about": outcome.about,
        "integrity": {
            "ok": result.ok,
            "violations": [f.as_dict() for f in result.violations],
            "warnings": [f.as_dict() for f in result.warnings],
            "nodes": result.nodes,
            "inboxes": {
                d: {"records": n, "undecodable": result.inbox_undecodable.get(d, 0)}
                for d, n in sorted(result.inbox_records.items())
            },
        },
    }
    report = outcome.compliance
    if report is not None:
        payload["compliance"] = {
            "now": report.now.isoformat(),
            "cases": len(report.cases),
            "findings": [f.as_dict() for f in report.findings],
            "metrics": {d: m.as_dict() for d, m in report.metrics.items()},
            "overdue": [
                {"case_id": c.case_id, **obligation_json(o, report.now)}
                for c in report.cases
                for o in c.overdue
            ],
        }
        if with_cases:
            payload["cases"] = [case_json(c, outcome.topology, report.now) for c in report.cases]
    return payload


def dumps(outcome: AuditOutcome) -> str:
    return json.dumps(outcome_json(outcome), ensure_ascii=False, indent=2, default=str)


# -- terminal ------------------------------------------------------------------------------------
def text_summary(outcome: AuditOutcome) -> str:
    result, topology = outcome.integrity, outcome.topology
    lines = ["", "== 日志完整性 / log integrity =="]
    for node, s in result.nodes.items():
        tail = s["unsigned_tail"]
        key = s["key_id"] or "—"
        published = "已发布" if s["key_published"] else "未发布"
        lines.append(
            f"  {node} {_name(topology, node)}: {s['records']} 条记录 / records"
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
        lines += _compliance_text(report, topology)
    return "\n".join(lines)


def _compliance_text(report: ComplianceReport, topology: Topology) -> list[str]:
    lines = [
        "",
        f"== 事项与合规（截至 {_local(report.now)}）/ cases and compliance ==",
        f"  事项 {len(report.cases)} 件 / cases rebuilt from the logs: {len(report.cases)}",
        "",
        "  行政区划            及时受理率  按期办结率  满意率    参评率    重复信访率  "
        "督办(提醒/督办/挂牌)",
    ]
    for d, m in report.metrics.items():
        sup = "/".join(str(m.supervised.get(k, 0)) for k in SUPERVISION_ZH)
        lines.append(
            f"  {d} {m.name:<10}  {_pct(m.timely_acceptance.value):>8}  "
            f"{_pct(m.on_time_completion.value):>8}  {_pct(m.satisfaction.value):>7}  "
            f"{_pct(m.participation.value):>7}  {_pct(m.repeat.value):>9}  {sup}"
        )
    overdue = [(c, o) for c in report.cases for o in c.overdue]
    if overdue:
        lines.append(f"\n  超期 {len(overdue)} 项 / {len(overdue)} overdue obligations:")
        for c, o in overdue:
            lines.append(
                f"    {c.case_id} {o.rule_id} {_name(topology, o.body)}「{o.zh}」"
                f"期限 {_local(o.due)}，{STATUS_ZH[o.status]}（{o.days_late(report.now):.1f} 日）"
            )
    other = [f for f in report.findings if not f.code.startswith("deadline-")]
    if other:
        lines.append(f"\n  合规问题 {len(other)} 项 / compliance findings:")
        for f in other:
            lines.append(f"    {f.rule_id} {f.case_id} [{f.division}] {f.zh} / {f.en}")
    if not report.findings:
        lines.append("\n  未发现超期或违反规则的情况 / no overdue obligations or rule breaches")
    return lines


# -- HTML ----------------------------------------------------------------------------------------
def e(text: object) -> str:
    return html.escape(str(text), quote=True)


CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
 sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#8b1a1a;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{padding:18px 28px;max-width:1280px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 18px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:18px;margin:0 0 12px;border-left:4px solid #8b1a1a;padding-left:8px}
h3{font-size:15px;margin:14px 0 8px}
.en{color:#7b8794;font-weight:normal;font-size:.85em}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 150px;border:1px solid #e4e7eb;border-radius:6px;padding:10px 14px}
.card b{display:block;font-size:24px}.ok{color:#1e7b34}.bad{color:#b42318}.warn{color:#b54708}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{flex:1 1 380px}
details{border:1px solid #e4e7eb;border-radius:6px;margin:8px 0;padding:6px 10px}
summary{cursor:pointer;font-weight:600}
.scroll{overflow-x:auto}
code{font-size:12px;background:#f0f4f8;padding:0 3px;border-radius:3px}
.tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;background:#e4e7eb}
.tag.late,.tag.overdue{background:#fde2e1;color:#b42318}.tag.on_time{background:#dcfce7;color:#1e7b34}
"""


def html_report(outcome: AuditOutcome) -> str:
    topology = outcome.topology
    report = outcome.compliance
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>信访日志审计报告 / Petition log audit report</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><h1>信访日志审计报告 <span class='en'>/ Petition log audit report</span></h1>",
        f"<p>拓扑 / topology：{e(topology.name)}　来源 / source：{e(_source(outcome))}　"
        f"生成时间 / generated：{e(outcome.about.get('generated_at', ''))}</p></header><main>",
        _overview(outcome),
        _integrity_html(outcome),
    ]
    if report is not None:
        parts += [
            _metrics_html(report),
            _overdue_html(report, topology),
            _findings_html(report),
            _cases_html(report, topology),
        ]
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _source(outcome: AuditOutcome) -> str:
    src = outcome.about.get("source", {})
    if src.get("kind") == "files":
        return f"导出文件 {src.get('folder')}"
    return f"Kafka {src.get('bootstrap_servers')} 前缀 {src.get('prefix') or '（无）'}"


def _overview(outcome: AuditOutcome) -> str:
    result = outcome.integrity
    records = sum(int(s["records"]) for s in result.nodes.values())
    cards = [
        ("节点日志", "node logs", str(len(result.nodes)), ""),
        ("日志记录", "log records", str(records), ""),
        (
            "完整性违规",
            "integrity violations",
            str(len(result.violations)),
            "bad" if result.violations else "ok",
        ),
        ("提示", "warnings", str(len(result.warnings)), "warn" if result.warnings else "ok"),
    ]
    if outcome.compliance is not None:
        c = outcome.compliance
        overdue = sum(len(x.overdue) for x in c.cases)
        cards += [
            ("事项", "cases", str(len(c.cases)), ""),
            ("超期义务", "overdue obligations", str(overdue), "bad" if overdue else "ok"),
            ("合规问题", "findings", str(len(c.findings)), "bad" if c.findings else "ok"),
        ]
    body = "".join(
        f"<div class='card'>{zh} <span class='en'>{en}</span><b class='{cls}'>{e(v)}</b></div>"
        for zh, en, v, cls in cards
    )
    verdict = (
        "<p class='ok'><b>结论：日志完整，哈希链、签名与会签均通过校验。</b>"
        " <span class='en'>Verdict: the logs are intact.</span></p>"
        if result.ok
        else "<p class='bad'><b>结论：发现违规，相关日志不可信。</b>"
        " <span class='en'>Verdict: violations found.</span></p>"
    )
    return f"<section><h2>概览 <span class='en'>Overview</span></h2>{verdict}" \
        f"<div class='cards'>{body}</div></section>"


def _finding_rows(findings: list[Finding]) -> str:
    rows = []
    for f in findings:
        cls = "bad" if f.level == VIOLATION else "warn"
        rows.append(
            f"<tr><td class='{cls}'>{'违规' if f.level == VIOLATION else '提示'}</td>"
            f"<td>{e(f.node)}</td><td class='num'>{e(f.seq if f.seq is not None else '')}</td>"
            f"<td><code>{e(f.topic)}</code></td>"
            f"<td class='num'>{e(f.partition if f.partition is not None else '')}</td>"
            f"<td class='num'>{e(f.offset if f.offset is not None else '')}</td>"
            f"<td>{e(f.title_zh)}<br><span class='en'>{e(f.code)}</span></td>"
            f"<td>{e(f.zh)}<br><span class='en'>{e(f.en)}</span></td></tr>"
        )
    return "".join(rows)


def _integrity_html(outcome: AuditOutcome) -> str:
    result, topology = outcome.integrity, outcome.topology
    rows = []
    for node, s in result.nodes.items():
        tail = s["unsigned_tail"]
        rows.append(
            f"<tr><td>{e(node)} {e(_name(topology, node))}</td><td class='num'>{s['records']}</td>"
            f"<td class='num'>{e(s['first_seq'] or 0)}–{e(s['last_seq'])}</td>"
            f"<td class='num'>{s['redeliveries']}</td><td class='num'>{s['checkpoints']}</td>"
            f"<td class='num'>{s['countersigns']}</td>"
            f"<td><code>{e(s['key_id'] or '—')}</code> "
            f"{'已发布' if s['key_published'] else '<span class=warn>未发布</span>'}</td>"
            f"<td>{e(f'{tail[0]}–{tail[1]}' if tail else '—')}</td>"
            f"<td class='{'bad' if s['violations'] else 'ok'}'>"
            f"{'✗ ' + str(s['violations']) if s['violations'] else '✓'}</td></tr>"
        )
    table = (
        "<table><tr><th>节点 <span class='en'>node</span></th><th>记录 <span class='en'>"
        "records</span></th><th>序号 <span class='en'>seq</span></th><th>重复投递 <span "
        "class='en'>redelivered</span></th><th>检查点 <span class='en'>checkpoints</span></th>"
        "<th>会签 <span class='en'>countersigns</span></th><th>签名密钥 <span class='en'>key"
        "</span></th><th>未签名尾部 <span class='en'>unsigned tail</span></th><th>结果 <span "
        "class='en'>result</span></th></tr>" + "".join(rows) + "</table>"
    )
    findings = ""
    if result.findings:
        findings = (
            "<h3>违规与提示 <span class='en'>Violations and warnings</span></h3>"
            "<div class='scroll'><table><tr><th>级别</th><th>节点</th><th>seq</th><th>主题</th>"
            "<th>分区</th><th>offset</th><th>类别</th><th>说明 <span class='en'>what is wrong"
            "</span></th></tr>" + _finding_rows(result.findings) + "</table></div>"
        )
    inbox = ""
    if result.inbox_records:
        inbox = "<p>收件箱副本已与来源日志逐条核对 / inbox copies checked against source logs: " + \
            "，".join(f"{e(d)} {n} 条" for d, n in sorted(result.inbox_records.items())) + "</p>"
    return (
        "<section><h2>日志完整性 <span class='en'>Log integrity</span></h2>"
        f"{table}{inbox}{findings}</section>"
    )


def _bar_chart(title_zh: str, title_en: str, rows: list[tuple[str, Any]]) -> str:
    """Horizontal bars of rates in [0, 1]; rows: (label, Ratio)."""
    bar_w, label_w, row_h = 240, 150, 26
    height = 34 + row_h * max(len(rows), 1)
    out = [
        f"<svg class='chart' role='img' width='{label_w + bar_w + 120}' height='{height}' "
        f"viewBox='0 0 {label_w + bar_w + 120} {height}' xmlns='http://www.w3.org/2000/svg'>",
        f"<title>{e(title_zh)} / {e(title_en)}</title>",
        f"<text x='0' y='16' font-size='14' font-weight='bold'>{e(title_zh)}"
        f"<tspan fill='#7b8794' font-weight='normal' font-size='12'> {e(title_en)}</tspan></text>",
    ]
    for i, (label, ratio) in enumerate(rows):
        y = 30 + i * row_h
        value = ratio.value
        width = 0 if value is None else max(1, round(bar_w * value))
        color = "#b42318" if value is not None and value < 0.8 else "#1e7b34"
        if value is None:
            color = "#cbd2d9"
        out.append(f"<text x='0' y='{y + 15}' font-size='12'>{e(label)}</text>")
        out.append(
            f"<rect x='{label_w}' y='{y + 3}' width='{bar_w}' height='16' fill='#f0f4f8'/>"
            f"<rect x='{label_w}' y='{y + 3}' width='{width}' height='16' fill='{color}'/>"
        )
        text = (
            "无数据"
            if value is None
            else f"{value * 100:.1f}%（{ratio.numerator}/{ratio.denominator}）"
        )
        out.append(
            f"<text x='{label_w + bar_w + 6}' y='{y + 15}' font-size='12'>{e(text)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _supervision_chart(metrics: list[DivisionMetrics]) -> str:
    colors = {"REMINDER": "#f7b955", "SUPERVISION": "#e8590c", "LISTED": "#b42318"}
    rows = [m for m in metrics if m.supervised]
    label_w, row_h, unit = 150, 26, 40
    widest = max((sum(m.supervised.values()) for m in rows), default=1)
    width = label_w + unit * widest + 180
    height = 54 + row_h * max(len(rows), 1)
    out = [
        f"<svg class='chart' role='img' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' xmlns='http://www.w3.org/2000/svg'>",
        "<title>督办次数 / supervisions received</title>",
        "<text x='0' y='16' font-size='14' font-weight='bold'>被督办次数"
        "<tspan fill='#7b8794' font-weight='normal' font-size='12'> supervisions received"
        "</tspan></text>",
    ]
    x = 0
    for level, zh in SUPERVISION_ZH.items():
        out.append(
            f"<rect x='{x}' y='26' width='12' height='12' fill='{colors[level]}'/>"
            f"<text x='{x + 16}' y='37' font-size='12'>{zh}</text>"
        )
        x += 80
    if not rows:
        out.append("<text x='0' y='66' font-size='12' fill='#7b8794'>无督办 / none</text>")
    for i, m in enumerate(rows):
        y = 48 + i * row_h
        out.append(f"<text x='0' y='{y + 15}' font-size='12'>{e(m.name)}</text>")
        x = label_w
        for level in SUPERVISION_ZH:
            n = m.supervised.get(level, 0)
            if n:
                out.append(
                    f"<rect x='{x}' y='{y + 3}' width='{unit * n}' height='16' "
                    f"fill='{colors[level]}'><title>{SUPERVISION_ZH[level]} {n}</title></rect>"
                )
                x += unit * n
        out.append(
            f"<text x='{x + 6}' y='{y + 15}' font-size='12'>{sum(m.supervised.values())} 次</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _metrics_html(report: ComplianceReport) -> str:
    metrics = sorted(report.metrics.values(), key=lambda m: (LEVELS.get(m.level, 9), m.division))
    charts = [
        _bar_chart(zh, en, [(f"{m.name}", getattr(m, key)) for m in metrics])
        for key, zh, en in DivisionMetrics.RATES
    ]
    charts.append(_supervision_chart(metrics))
    header = "".join(
        f"<th>{zh}<br><span class='en'>{en}</span></th>" for _, zh, en in DivisionMetrics.RATES
    )
    rows = []
    for m in metrics:
        cells = "".join(
            f"<td class='num'>{_pct(getattr(m, key).value)}<br><span class='en'>"
            f"{getattr(m, key).numerator}/{getattr(m, key).denominator}</span></td>"
            for key, _, _ in DivisionMetrics.RATES
        )
        sup = "/".join(str(m.supervised.get(k, 0)) for k in SUPERVISION_ZH)
        rows.append(
            f"<tr><td>{e(m.division)} {e(m.name)}<br><span class='en'>"
            f"{e(LEVEL_ZH.get(m.level, m.level))}</span></td><td class='num'>{m.registered}</td>"
            f"<td class='num'>{m.received}</td>{cells}<td class='num'>{sup}</td>"
            f"<td class='num'>{m.supervisions_issued}</td><td class='num'>{m.late}</td>"
            f"<td class='num'>{m.overdue_open}</td></tr>"
        )
    return (
        "<section><h2>各行政区划指标 <span class='en'>Metrics per division</span></h2>"
        f"<p>统计截至 / as of {e(_local(report.now))}（北京时间）。"
        "口径见 DOMAIN.md §7：及时受理率 ="
        " 15 日内作出受理决定并告知的件数 ÷ 应受理件数；按期办结率 = 在 60 日或批准延长期内办结件数"
        " ÷ 应办结件数；满意率 =（满意 + 基本满意）÷ 已评价；参评率 = 已评价 ÷ 已出具处理意见；"
        "重复信访率 = 重复件 ÷ 登记件。</p>"
        f"<div class='charts'>{''.join(charts)}</div>"
        "<div class='scroll'><table><tr><th>行政区划</th><th>登记</th><th>收到转送/交办</th>"
        f"{header}<th>被督办<br><span class='en'>提醒/督办/挂牌</span></th><th>发出督办</th>"
        "<th>逾期履行</th><th>超期未履行</th></tr>" + "".join(rows) + "</table></div></section>"
    )


def _overdue_html(report: ComplianceReport, topology: Topology) -> str:
    rows = []
    for c in report.cases:
        for o in c.overdue:
            title = c.file.title if c.file else ""
            rows.append(
                f"<tr><td><a href='#case-{e(c.case_id)}'>{e(c.case_id)}</a><br>{e(title)}</td>"
                f"<td>{e(o.rule_id)}</td><td>{e(_name(topology, o.body))}</td><td>{e(o.zh)}</td>"
                f"<td>{e(_local(o.due))}</td>"
                f"<td>{e(_local(o.discharged_at)) if o.discharged_at else '—'}</td>"
                f"<td><span class='tag {o.status}'>{STATUS_ZH[o.status]}</span></td>"
                f"<td class='num'>{o.days_late(report.now):.1f}</td></tr>"
            )
    body = (
        "<table><tr><th>事项</th><th>规则</th><th>义务机关</th><th>义务</th><th>期限</th>"
        "<th>履行时间</th><th>状态</th><th>超期（日）</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p class='ok'>没有超期事项 / no overdue cases</p>"
    )
    return f"<section><h2>超期事项 <span class='en'>Overdue cases</span></h2>{body}</section>"


def _findings_html(report: ComplianceReport) -> str:
    rows = [
        f"<tr><td>{e(f.rule_id)}</td><td><a href='#case-{e(f.case_id)}'>{e(f.case_id)}</a></td>"
        f"<td>{e(f.division)}</td><td>{e(f.zh)}<br><span class='en'>{e(f.en)}</span></td>"
        f"<td>{e(f.node or '')}{' seq ' + str(f.seq) if f.seq is not None else ''}"
        f"{'<br><code>' + e(f.topic) + '@' + str(f.offset) + '</code>' if f.topic else ''}"
        "</td></tr>"
        for f in report.findings
    ]
    body = (
        "<table><tr><th>规则</th><th>事项</th><th>行政区划</th><th>说明</th><th>证据位置</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<p class='ok'>未发现违反 R1–R10、R16–R18 的情况 / no rule breaches found</p>"
    )
    return (
        "<section><h2>规则检查 <span class='en'>Rule checks (R1–R10, R16, R17, R18)</span></h2>"
        f"{body}</section>"
    )


def timeline_svg(report: CaseReport, topology: Topology) -> str:
    """A swimlane per division (province at the top), one column per event in causal order."""
    lanes: list[str] = []
    for item in report.timeline:
        d = item.event.header.source
        if d not in lanes:
            lanes.append(d)
    lanes.sort(key=lambda d: (LEVELS.get(topology.division(d).level.value, 9)
                              if topology.has_division(d) else 9, d))
    label_w, col_w, lane_h = 150, 118, 64
    width = label_w + col_w * max(len(report.timeline), 1) + 20
    height = lane_h * len(lanes) + 20
    out = [
        f"<svg role='img' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        "xmlns='http://www.w3.org/2000/svg'>",
        f"<title>{e(report.case_id)} 跨层级时间线 / cross-level timeline</title>",
    ]
    y_of = {}
    for i, d in enumerate(lanes):
        y = 10 + i * lane_h + lane_h // 2
        y_of[d] = y
        fill = "#f5f7fa" if i % 2 == 0 else "#ffffff"
        out.append(
            f"<rect x='0' y='{10 + i * lane_h}' width='{width}' height='{lane_h}' fill='{fill}'/>"
            f"<text x='6' y='{y + 4}' font-size='12' font-weight='bold'>{e(d)} "
            f"{e(_name(topology, d))}</text>"
        )
    points = []
    for j, item in enumerate(report.timeline):
        x = label_w + col_w * j + col_w // 2
        points.append((x, y_of[item.event.header.source]))
    if len(points) > 1:
        path = " ".join(f"{x},{y}" for x, y in points)
        out.append(f"<polyline points='{path}' fill='none' stroke='#9aa5b1' stroke-width='1.5'/>")
    for (x, y), item in zip(points, report.timeline, strict=True):
        ev = item.event
        label_zh, label_en = LABELS.get(ev.type, (ev.type, ev.type))
        color = "#b42318" if ev.type in ("DeadlineMissed", "SupervisionIssued") else "#8b1a1a"
        out.append(
            f"<circle cx='{x}' cy='{y}' r='6' fill='{color}'><title>{e(label_zh)} / "
            f"{e(label_en)}\n{e(_local(ev.header.occurred_at))}\n{e(summary_zh(ev, topology))}"
            f"\n{e(item.node)} seq {item.seq}</title></circle>"
            f"<text x='{x}' y='{y - 11}' font-size='11' text-anchor='middle'>{e(label_zh)}</text>"
            f"<text x='{x}' y='{y + 19}' font-size='10' fill='#52606d' text-anchor='middle'>"
            f"{e(ev.header.occurred_at.astimezone(BEIJING).strftime('%m-%d %H:%M'))}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _cases_html(report: ComplianceReport, topology: Topology) -> str:
    blocks = []
    for c in report.cases:
        file = c.file
        case = c.case
        status = vocab_zh(case.status) if case else "无法重建"
        rows = "".join(
            f"<tr><td>{e(_local(i.event.header.occurred_at))}</td>"
            f"<td>{e(i.event.header.source)} {e(_name(topology, i.event.header.source))}</td>"
            f"<td>{e(LABELS.get(i.event.type, (i.event.type,))[0])}</td>"
            f"<td>{e(summary_zh(i.event, topology))}</td>"
            f"<td><code>{e(i.topic)}@{i.offset}</code> seq {i.seq}</td></tr>"
            for i in c.timeline
        )
        obligations = "".join(
            f"<tr><td>{e(o.rule_id)}</td><td>{e(_name(topology, o.body))}</td><td>{e(o.zh)}</td>"
            f"<td>{e(_local(o.due))}</td>"
            f"<td>{e(_local(o.discharged_at)) if o.discharged_at else '—'}</td>"
            f"<td><span class='tag {o.status}'>{STATUS_ZH[o.status]}</span></td></tr>"
            for o in c.obligations
        )
        flags = " <span class='tag late'>超期</span>" if c.overdue else ""
        error = f"<p class='bad'>{e(c.error)}</p>" if c.error else ""
        blocks.append(
            f"<details id='case-{e(c.case_id)}'{' open' if c.overdue else ''}>"
            f"<summary>{e(c.case_id)} {e(file.title if file else '')} — {e(status)}{flags}"
            f"</summary>{error}<div class='scroll'>{timeline_svg(c, topology)}</div>"
            "<table><tr><th>时间（北京）</th><th>节点</th><th>环节</th><th>摘要</th>"
            f"<th>日志位置</th></tr>{rows}</table>"
            "<h3>期限义务 <span class='en'>Obligations</span></h3>"
            "<table><tr><th>规则</th><th>机关</th><th>义务</th><th>期限</th><th>履行</th>"
            f"<th>状态</th></tr>{obligations}</table></details>"
        )
    return (
        "<section><h2>事项跨层级时间线 <span class='en'>Cross-level timeline of every case</span>"
        "</h2><p>仅凭各节点日志重建（不读取任何节点数据库）；点击事项展开。"
        "<span class='en'>Rebuilt from the node logs alone; click a case to open it.</span></p>"
        + "".join(blocks)
        + "</section>"
    )
