"""Inline SVG charts of the HTML report: rate bars, supervision counts and the cross-level
timeline of a case (no scripts, no external assets)."""

from __future__ import annotations

from typing import Any

from ...domain.calendar import BEIJING
from ...domain.topology import Topology
from ...presentation import LABELS
from ..compliance import CaseReport, DivisionMetrics
from .common import LEVELS, SUPERVISION_ZH, e, local, name_of, summary_of


def bar_chart(title_zh: str, title_en: str, rows: list[tuple[str, Any]]) -> str:
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


def supervision_chart(metrics: list[DivisionMetrics]) -> str:
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
            f"{e(name_of(topology, d))}</text>"
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
            f"{e(label_en)}\n{e(local(ev.header.occurred_at))}\n{e(summary_of(ev, topology))}"
            f"\n{e(item.node)} seq {item.seq}</title></circle>"
            f"<text x='{x}' y='{y - 11}' font-size='11' text-anchor='middle'>{e(label_zh)}</text>"
            f"<text x='{x}' y='{y + 19}' font-size='10' fill='#52606d' text-anchor='middle'>"
            f"{e(ev.header.occurred_at.astimezone(BEIJING).strftime('%m-%d %H:%M'))}</text>"
        )
    out.append("</svg>")
    return "".join(out)
