"""The 统计 figures as an Excel workbook (.xlsx, openpyxl): what offices pass around.

One sheet, 考核统计: a title and the period, then one row per division (this node's first, its
children after) with the counts, each rate as a percentage (empty when nothing was due) and
its numerator/denominator beside it, and the supervision counts.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

HEAD_FILL = PatternFill("solid", fgColor="DDE6F2")
COUNTS = (
    ("registered", "登记 / registered"),
    ("received", "收到转送交办 / received"),
)
TAIL = (
    ("supervised_total", "被督办 / supervised"),
    ("supervisions_issued", "发出督办 / supervisions issued"),
    ("overdue_open", "逾期未办 / overdue open"),
    ("late", "逾期办结 / discharged late"),
)
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers(rates: list[dict[str, str]]) -> list[str]:
    """The column titles, in order (zh / en)."""
    titles = ["区划代码 / code", "名称 / name", "层级 / level"]
    titles += [title for _, title in COUNTS]
    for rate in rates:
        titles += [f"{rate['zh']} / {rate['en']}", f"{rate['zh']}（分子/分母）"]
    titles += [title for _, title in TAIL]
    return titles


def workbook(figures: dict[str, Any]) -> bytes:
    """`figures` (api/stats.py `assessment`) as .xlsx bytes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "考核统计"
    sheet.append([f"{figures['name']}（{figures['division']}）信访工作考核统计 / assessment"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([
        f"统计期间 / period: {figures['from']} 至 {figures['to']}（不含 / exclusive）",
        None, None, f"截至 / as of: {figures['as_of']}", None, f"事项 / cases: {figures['cases']}",
    ])  # fmt: skip
    titles = headers(figures["rates"])
    sheet.append(titles)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in figures["divisions"]:
        values: list[Any] = [row["division"], row["name"], row["level"]]
        values += [row[key] for key, _ in COUNTS]
        for rate in figures["rates"]:
            ratio = row[rate["key"]]
            values += [ratio["rate"], f"{ratio['numerator']}/{ratio['denominator']}"]
        extra = {"supervised_total": sum(row["supervised"].values())}
        values += [extra.get(key, row.get(key)) for key, _ in TAIL]
        sheet.append(values)
    first_rate = 1 + 3 + len(COUNTS)
    for index in range(len(figures["rates"])):
        column = first_rate + 2 * index
        for (cell,) in sheet.iter_rows(min_row=4, min_col=column, max_col=column):
            cell.number_format = "0.0%"
    for index in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16
    sheet.column_dimensions["B"].width = 22
    sheet.freeze_panes = "D4"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
