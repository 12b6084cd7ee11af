"""Workbooks (openpyxl): a generic sheet writer and the digest's detail tables."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.domain.timeutil import SHANGHAI
from core.reports.labels import label
from core.services.digests import STALE_DAYS, Digest

MONEY = "#,##0.00"
PERCENT = "0.0%"
INTEGER = "0"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
MAX_TITLE = 31
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")

Cell = str | int | float | Decimal | date | datetime | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: a bold, frozen, filterable header row over plain rows.

    `formats` maps a 0-based column to an Excel number format (MONEY, PERCENT, …), `cell_formats`
    a single data cell (for key/value sheets); percent cells hold fractions (0.4 → 40.0%)."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    widths: Sequence[float] = ()
    formats: dict[int, str] = field(default_factory=dict)
    cell_formats: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col), 0-based


def safe_title(title: str, taken: set[str] | None = None) -> str:
    """A valid, unique sheet title: no []:*?/\\, at most 31 characters, not blank."""
    text = _BAD_TITLE.sub(" ", title).strip().strip("'") or "Sheet"
    text = text[:MAX_TITLE]
    if taken is None:
        return text
    candidate, n = text, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate = text[: MAX_TITLE - len(suffix)] + suffix
        n += 1
    taken.add(candidate.lower())
    return candidate


def _cell(value: Cell) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: show Shanxi wall time, to the second
        return value.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)
    return value


def _as_text(cells: Sequence[Any]) -> None:
    """Keep data as typed: openpyxl stores a string starting with "=" as a formula, so a
    company or project named "=HYPERLINK(…)" would run in a bureau's Excel (CWE-1236)."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"


def workbook_bytes(sheets: list[Sheet]) -> bytes:
    """An .xlsx file of the given sheets."""
    # imported here, not at module level: a webhook worker that never writes Excel saves the RSS
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for sheet in sheets or [Sheet("Sheet", [], [])]:
        ws = wb.create_sheet(safe_title(sheet.title, taken))
        if sheet.headers:
            ws.append(list(sheet.headers))
            for cell in ws[1]:
                cell.font = bold
            ws.freeze_panes = "A2"
        for row in sheet.rows:
            ws.append([_cell(v) for v in row])
            _as_text(ws[ws.max_row])
        n_cols = max([len(sheet.headers), *(len(r) for r in sheet.rows)], default=0)
        for col, fmt in sheet.formats.items():
            for (cell,) in ws.iter_rows(
                min_row=2, min_col=col + 1, max_col=col + 1, max_row=ws.max_row
            ):
                cell.number_format = fmt
        for (r_i, c_i), fmt in sheet.cell_formats.items():
            ws.cell(row=r_i + 2, column=c_i + 1).number_format = fmt
        for col in range(n_cols):
            width = sheet.widths[col] if col < len(sheet.widths) else _guess_width(sheet, col)
            ws.column_dimensions[get_column_letter(col + 1)].width = width
        if sheet.headers and n_cols:
            ws.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{max(ws.max_row, 1)}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _guess_width(sheet: Sheet, col: int) -> float:
    def width(value: object) -> int:
        text = "" if value is None else str(value)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK is double width

    sample: list[Cell] = [sheet.headers[col] if col < len(sheet.headers) else ""]
    sample += [r[col] for r in sheet.rows[:200] if col < len(r)]
    return float(min(max(width(v) for v in sample) + 2, 60))


def _fraction(pct: Decimal | None) -> Decimal | None:
    return None if pct is None else pct / 100


def digest_sheets(digest: Digest, locale: str) -> list[Sheet]:
    """The digest's detail tables: summary, sub-regions, trades × grades, deals, alerts."""

    def t(key: str, **params: object) -> str:
        return label(locale, key, **params)

    d = digest
    summary_rows: list[list[Cell]] = [
        [t("sum_region"), d.region.name(locale)],
        [t("sum_day"), d.day],
        [t("sum_report_day"), d.report_day],
        [t("sum_new_shortage_postings"), d.new_shortages.postings],
        [t("sum_new_shortage"), d.new_shortages.headcount],
        [t("sum_new_idle_postings"), d.new_idle.postings],
        [t("sum_new_idle"), d.new_idle.headcount],
        [t("sum_open_shortage"), d.open_shortage.headcount],
        [t("sum_open_idle"), d.open_idle.headcount],
        [t("sum_deals"), d.deals.count],
        [t("sum_deal_headcount"), d.deals.headcount],
        [t("sum_avg_price"), d.deals.avg_price],
        [t("sum_vs_guide"), _fraction(d.deals.vs_guide_pct)],
        [t("sum_ratings"), d.ratings.count],
        [t("sum_avg_stars"), d.ratings.avg_stars],
        [t("sum_stale", days=STALE_DAYS), d.alerts.stale_count],
    ]
    summary = Sheet(
        t("sheet_summary"),
        [t("col_item"), t("col_value")],
        summary_rows,
        (28, 18),
        {},
        {(1, 1): DATE, (2, 1): DATE, (11, 1): MONEY, (12, 1): PERCENT},
    )
    regions = Sheet(
        t("sheet_regions"),
        [
            t("col_code"),
            t("col_region"),
            t("col_shortage_postings"),
            t("col_shortage"),
            t("col_idle_postings"),
            t("col_idle"),
        ],
        [
            [
                s.region.code,
                s.region.name(locale),
                s.shortage_postings,
                s.shortage_headcount,
                s.idle_postings,
                s.idle_headcount,
            ]
            for s in d.sub_regions
        ],
        (10, 18, 12, 12, 12, 12),
    )
    trade_grades = Sheet(
        t("sheet_trade_grades"),
        [t("col_trade"), t("col_grade"), t("col_shortage"), t("col_idle")],
        [
            [c.trade.name(locale), c.grade.name(locale), c.shortage_headcount, c.idle_headcount]
            for c in d.trade_grades
        ],
        (18, 10, 12, 12),
    )
    deal_headers = [
        t("col_time"),
        t("col_region"),
        t("col_enterprise"),
        t("col_supplier"),
        t("col_trade"),
        t("col_grade"),
        t("col_headcount"),
        t("col_price"),
        t("col_guide"),
        t("col_vs_guide"),
    ]
    deal_formats = {0: DATETIME, 7: MONEY, 8: MONEY, 9: PERCENT}
    deal_widths = (17, 12, 30, 30, 14, 8, 8, 16, 18, 12)

    def deal_row(line: Any) -> list[Cell]:
        return [
            line.accepted_at,
            line.region.name(locale),
            line.enterprise,
            line.supplier,
            line.trade.name(locale),
            line.grade.name(locale),
            line.headcount,
            line.price,
            line.guide_price,
            _fraction(line.vs_guide_pct),
        ]

    deals = Sheet(
        t("sheet_deals"),
        deal_headers,
        [deal_row(x) for x in d.deal_lines],
        deal_widths,
        deal_formats,
    )
    stale = Sheet(
        t("sheet_stale"),
        [
            t("col_region"),
            t("col_enterprise"),
            t("col_project"),
            t("col_trade"),
            t("col_headcount"),
            t("col_days"),
        ],
        [
            [
                s.region.name(locale),
                s.enterprise,
                s.project,
                s.trade.name(locale),
                s.headcount,
                s.days_open,
            ]
            for s in d.alerts.stale_oldest
        ],
        (12, 30, 30, 14, 8, 10),
    )
    price = Sheet(
        t("sheet_price"),
        deal_headers,
        [deal_row(x) for x in d.alerts.price],
        deal_widths,
        deal_formats,
    )
    cover = Sheet(
        t("sheet_cover"),
        [
            t("col_region"),
            t("col_trade"),
            t("col_shortage"),
            t("col_neighbour"),
            t("col_neighbour_idle"),
        ],
        [
            [
                c.region.name(locale),
                c.trade.name(locale),
                c.shortage,
                c.neighbour.name(locale),
                c.idle,
            ]
            for c in d.alerts.coverage
        ],
        (14, 14, 12, 14, 16),
    )
    arrears = Sheet(
        t("sheet_arrears"),
        [
            t("col_alert"),
            t("col_region"),
            t("col_enterprise"),
            t("col_supplier"),
            t("col_month"),
            t("col_due"),
            t("col_paid"),
            t("col_owed"),
            t("col_reason"),
            t("col_days_open"),
        ],
        [
            [
                a.alert_id,
                a.region.name(locale),
                a.enterprise,
                a.supplier,
                a.month.strftime("%Y-%m"),
                a.due,
                a.paid,
                max(a.due - a.paid, Decimal(0)),
                t(f"reason_{a.reason}"),
                a.days_open,
            ]
            for a in d.arrears.lines
        ],
        (10, 14, 24, 24, 10, 12, 12, 12, 14, 10),
    )
    return [summary, regions, trade_grades, deals, stale, price, cover, arrears]


def digest_workbook(digest: Digest, locale: str) -> bytes:
    """The digest's detail tables as an .xlsx file."""
    return workbook_bytes(digest_sheets(digest, locale))
