"""The audit report as one self-contained HTML page (inline CSS and SVG charts, no external
assets), Chinese first: overview and log integrity here, the compliance sections in
sections.py."""

from __future__ import annotations

from ..run import AuditOutcome
from ..verify import VIOLATION, Finding
from .common import e, name_of
from .sections import cases_html, findings_html, metrics_html, overdue_html

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
        f"<p>拓扑 / topology：{e(topology.name)}　来源 / source：{e(source(outcome))}　"
        f"生成时间 / generated：{e(outcome.about.get('generated_at', ''))}</p></header><main>",
        overview(outcome),
        integrity_html(outcome),
    ]
    if report is not None:
        parts += [
            metrics_html(report),
            overdue_html(report, topology),
            findings_html(report),
            cases_html(report, topology),
        ]
    parts.append("</main></body></html>")
    return "\n".join(parts)


def source(outcome: AuditOutcome) -> str:
    src = outcome.about.get("source", {})
    if src.get("kind") == "files":
        return f"导出文件 {src.get('folder')}"
    return f"Kafka {src.get('bootstrap_servers')} 前缀 {src.get('prefix') or '（无）'}"


def overview(outcome: AuditOutcome) -> str:
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


def finding_rows(findings: list[Finding]) -> str:
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


def integrity_html(outcome: AuditOutcome) -> str:
    result, topology = outcome.integrity, outcome.topology
    rows = []
    for node, s in result.nodes.items():
        tail = s["unsigned_tail"]
        rows.append(
            f"<tr><td>{e(node)} {e(name_of(topology, node))}</td>"
            f"<td class='num'>{s['records']}</td>"
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
            "</span></th></tr>" + finding_rows(result.findings) + "</table></div>"
        )
    if result.forged:
        findings = (
            "<h3>伪造或被改动的记录 <span class='en'>Forged records, where they were found</span>"
            "</h3><table><tr><th>位置 <span class='en'>topic:partition:offset</span></th>"
            "<th>来源 <span class='en'>claimed source</span></th><th>seq</th><th>类别</th></tr>"
            + "".join(
                f"<tr><td><code>{e(f.location or f.topic)}</code></td><td>{e(f.node)}</td>"
                f"<td class='num'>{e(f.seq if f.seq is not None else '')}</td>"
                f"<td>{e(f.title_zh)}<br><span class='en'>{e(f.code)}</span></td></tr>"
                for f in result.forged
            )
            + "</table>" + findings
        )
    inbox = ""
    if result.inbox_records:
        inbox = "<p>收件箱副本已与来源日志逐条核对 / inbox copies checked against source logs: " + \
            "，".join(f"{e(d)} {n} 条" for d, n in sorted(result.inbox_records.items())) + "</p>"
    return (
        "<section><h2>日志完整性 <span class='en'>Log integrity</span></h2>"
        f"{table}{inbox}{findings}</section>"
    )
