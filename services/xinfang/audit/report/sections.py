"""The compliance sections of the HTML report: metrics per division, overdue cases, rule
findings and every case's timeline."""

from __future__ import annotations

from ...domain.topology import Topology
from ...domain.vocabulary import zh as vocab_zh
from ...presentation import LABELS
from ..compliance import ComplianceReport, DivisionMetrics
from .charts import bar_chart, supervision_chart, timeline_svg
from .common import (
    LEVEL_ZH,
    LEVELS,
    STATUS_ZH,
    SUPERVISION_ZH,
    e,
    local,
    name_of,
    pct,
    summary_of,
    title_of,
)


def metrics_html(report: ComplianceReport) -> str:
    metrics = sorted(report.metrics.values(), key=lambda m: (LEVELS.get(m.level, 9), m.division))
    charts = [
        bar_chart(zh, en, [(f"{m.name}", getattr(m, key)) for m in metrics])
        for key, zh, en in DivisionMetrics.RATES
    ]
    charts.append(supervision_chart(metrics))
    header = "".join(
        f"<th>{zh}<br><span class='en'>{en}</span></th>" for _, zh, en in DivisionMetrics.RATES
    )
    rows = []
    for m in metrics:
        cells = "".join(
            f"<td class='num'>{pct(getattr(m, key).value)}<br><span class='en'>"
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
        f"<p>统计截至 / as of {e(local(report.now))}（北京时间）。"
        "口径见 DOMAIN.md §7：及时受理率 ="
        " 15 日内作出受理决定并告知的件数 ÷ 应受理件数；按期办结率 = 在 60 日或批准延长期内办结件数"
        " ÷ 应办结件数；满意率 =（满意 + 基本满意）÷ 已评价；参评率 = 已评价 ÷ 已出具处理意见；"
        "重复信访率 = 重复件 ÷ 登记件。</p>"
        f"<div class='charts'>{''.join(charts)}</div>"
        "<div class='scroll'><table><tr><th>行政区划</th><th>登记</th><th>收到转送/交办</th>"
        f"{header}<th>被督办<br><span class='en'>提醒/督办/挂牌</span></th><th>发出督办</th>"
        "<th>逾期履行</th><th>超期未履行</th></tr>" + "".join(rows) + "</table></div></section>"
    )


def overdue_html(report: ComplianceReport, topology: Topology) -> str:
    rows = []
    for c in report.cases:
        for o in c.overdue:
            title = title_of(c.file)
            rows.append(
                f"<tr><td><a href='#case-{e(c.case_id)}'>{e(c.case_id)}</a><br>{e(title)}</td>"
                f"<td>{e(o.rule_id)}</td><td>{e(name_of(topology, o.body))}</td><td>{e(o.zh)}</td>"
                f"<td>{e(local(o.due))}</td>"
                f"<td>{e(local(o.discharged_at)) if o.discharged_at else '—'}</td>"
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


def findings_html(report: ComplianceReport) -> str:
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


def cases_html(report: ComplianceReport, topology: Topology) -> str:
    blocks = []
    for c in report.cases:
        file = c.file
        case = c.case
        status = vocab_zh(case.status) if case else "无法重建"
        rows = "".join(
            f"<tr><td>{e(local(i.event.header.occurred_at))}</td>"
            f"<td>{e(i.event.header.source)} {e(name_of(topology, i.event.header.source))}</td>"
            f"<td>{e(LABELS.get(i.event.type, (i.event.type,))[0])}</td>"
            f"<td>{e(summary_of(i.event, topology))}</td>"
            f"<td><code>{e(i.topic)}@{i.offset}</code> seq {i.seq}</td></tr>"
            for i in c.timeline
        )
        obligations = "".join(
            f"<tr><td>{e(o.rule_id)}</td><td>{e(name_of(topology, o.body))}</td><td>{e(o.zh)}</td>"
            f"<td>{e(local(o.due))}</td>"
            f"<td>{e(local(o.discharged_at)) if o.discharged_at else '—'}</td>"
            f"<td><span class='tag {o.status}'>{STATUS_ZH[o.status]}</span></td></tr>"
            for o in c.obligations
        )
        flags = " <span class='tag late'>超期</span>" if c.overdue else ""
        error = f"<p class='bad'>{e(c.error)}</p>" if c.error else ""
        blocks.append(
            f"<details id='case-{e(c.case_id)}'{' open' if c.overdue else ''}>"
            f"<summary>{e(c.case_id)} {e(title_of(file))} — {e(status)}{flags}"
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
