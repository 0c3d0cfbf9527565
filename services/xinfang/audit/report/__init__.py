"""Audit reports in three formats from one `AuditOutcome`: terminal text (text.py), a JSON
document (document.py) and a self-contained HTML page (page.py, sections.py, SVG charts in
charts.py); common.py holds what they share."""

from .charts import timeline_svg
from .document import case_json, dumps, obligation_json, outcome_json, timeline_json
from .page import html_report
from .text import text_summary

__all__ = [
    "case_json",
    "dumps",
    "html_report",
    "obligation_json",
    "outcome_json",
    "text_summary",
    "timeline_json",
    "timeline_svg",
]
