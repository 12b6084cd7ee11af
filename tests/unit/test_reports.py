"""Digest renderers: labels, Telegram text chunks, the chart (bars, CJK glyphs), workbooks."""

from __future__ import annotations

import io
import logging
import re
import string
import struct
import warnings
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from matplotlib.ft2font import FT2Font

from core.reports.chart import (
    HEIGHT_PX,
    WIDTH_PX,
    build_digest_figure,
    cjk_font_family,
    cjk_font_path,
    render_digest_chart,
)
from core.reports.labels import LABELS, html_label, label, signed_pct
from core.reports.text import (
    TELEGRAM_LIMIT,
    render_company_weekly_text,
    render_digest_text,
    split_lines,
)
from core.reports.xlsx import MONEY, PERCENT, Sheet, digest_workbook, safe_title, workbook_bytes
from core.services.digests import (
    Alerts,
    CompanyWeekly,
    Count,
    CoverageAlert,
    DealLine,
    DealStats,
    Digest,
    IdleByTrade,
    Named,
    RatingStats,
    StaleShortage,
    SubRegionTotals,
    TradeDeals,
    TradeGradeTotals,
    TradeShortage,
)

PLASTERER = Named("plasterer", "抹灰工", "Plasterer")
MASON = Named("mason", "砌筑工", "Mason")
GRADE3 = Named("3", "三级", "Grade 3")
XIAODIAN = Named("140105", "小店区", "Xiaodian District")
YUCI = Named("140702", "榆次区", "Yuci District")


def _sub(i: int, shortage: int, idle: int, name: str | None = None) -> SubRegionTotals:
    zh = name or f"第{i}区"
    return SubRegionTotals(Named(f"1401{i:02d}", zh, f"District {i}"), 1, shortage, 1, idle)


def sample_digest(subs: tuple[SubRegionTotals, ...] | None = None) -> Digest:
    subs = subs or tuple(_sub(i, 30 - i, i) for i in range(1, 21))  # 20 counties
    cheap = DealLine(
        deal_id=1,
        accepted_at=datetime(2026, 3, 3, 7, 0, tzinfo=UTC),
        enterprise="太原<一建>&劳务",
        supplier="榆次劳务",
        region=XIAODIAN,
        trade=PLASTERER,
        grade=GRADE3,
        headcount=4,
        price=Decimal("3300.00"),
        guide_price=Decimal("5500.00"),
        vs_guide_pct=Decimal("-40.0"),
    )
    return Digest(
        region=Named("140100", "太原市", "Taiyuan"),
        level="city",
        day=date(2026, 3, 4),
        report_day=date(2026, 3, 3),
        new_shortages=Count(2, 16),
        new_idle=Count(1, 2),
        sub_regions=subs,
        open_shortage=Count(sum(s.shortage_postings for s in subs), 12345),
        open_idle=Count(sum(s.idle_postings for s in subs), 210),
        top_trades=(TradeShortage(PLASTERER, 1, 12), TradeShortage(MASON, 1, 4)),
        trade_grades=(TradeGradeTotals(PLASTERER, GRADE3, 12, 0),),
        deals=DealStats(
            1,
            4,
            Decimal("3300.00"),
            Decimal("-40.0"),
            (TradeDeals(PLASTERER, 1, 4, Decimal("3300.00"), Decimal("-40.0")),),
        ),
        deal_lines=(cheap,),
        ratings=RatingStats(3, Decimal("4.3")),
        alerts=Alerts(
            stale_count=1,
            stale_oldest=(StaleShortage(7, "太原<一建>&劳务", "小店万达", XIAODIAN, MASON, 3, 9),),
            price=(cheap,),
            coverage=(CoverageAlert(XIAODIAN, PLASTERER, 12, YUCI, 15),),
        ),
    )


# --- labels ---------------------------------------------------------------------------------


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_label_exists_in_both_languages_with_the_same_placeholders() -> None:
    assert set(LABELS) == {"zh", "en"}
    assert LABELS["zh"].keys() == LABELS["en"].keys()
    for key, zh in LABELS["zh"].items():
        assert _fields(zh) == _fields(LABELS["en"][key]), key
        assert zh.strip(), key
        assert LABELS["en"][key].strip(), key


def test_html_labels_escape_user_data_and_plain_labels_do_not() -> None:
    assert html_label("zh", "weekly_title", enterprise="A<b>&C") == "📊 A&lt;b&gt;&amp;C 用工周报"
    assert label("zh", "weekly_title", enterprise="A<b>&C") == "📊 A<b>&C 用工周报"
    assert label("fr", "chart_idle") == "赋闲"  # unknown locale falls back to zh


def test_percent_and_counts_read_well() -> None:
    assert (signed_pct(Decimal("6.0")), signed_pct(Decimal("-40.0"))) == ("+6.0%", "−40.0%")
    assert (
        label("en", "sub_line", region="X", shortage=100884, idle=5) == "X: short 100,884 · idle 5"
    )


# --- text -----------------------------------------------------------------------------------


def _balanced(chunk: str) -> bool:
    return chunk.count("<b>") == chunk.count("</b>")


def test_digest_text_is_one_escaped_message_with_every_section() -> None:
    (zh,) = render_digest_text(sample_digest(), "zh")
    assert "<b>📊 太原市 用工调度日报</b>" in zh
    assert "太原&lt;一建&gt;&amp;劳务" in zh
    assert "<一建>" not in zh
    assert "小店区 缺 抹灰工 12 人，邻近 榆次区 有 15 人赋闲" in zh
    assert "比指导价 5,500 低 40.0%" in zh
    assert "（较指导价 −40.0%）" in zh
    assert "3 条 · 平均 4.3 星" in zh
    assert "合计：缺 12,345 人" in zh
    (en,) = render_digest_text(sample_digest(), "en")
    assert "Xiaodian District needs Plasterer ×12; neighbouring Yuci District has 15 idle" in en
    assert "40.0% below the guide price 5,500" in en
    assert _balanced(zh)
    assert _balanced(en)


def test_a_digest_too_long_for_one_message_is_split_at_line_boundaries() -> None:
    long_name = "<很长的区名>&" * 10
    subs = tuple(_sub(i, 500 - i, i, name=f"{long_name}{i}") for i in range(200))
    digest = sample_digest(subs)
    chunks = render_digest_text(digest, "zh")

    assert len(chunks) > 1
    assert all(0 < len(c) <= TELEGRAM_LIMIT for c in chunks)
    assert all(_balanced(c) for c in chunks)
    assert chunks[0].startswith("<b>📊 太原市")
    # nothing lost, nothing cut inside a line, in the digest's order
    lines = [line for c in chunks for line in c.split("\n")]
    expected = [
        html_label(
            "zh",
            "sub_line",
            region=s.region.name_zh,
            shortage=s.shortage_headcount,
            idle=s.idle_headcount,
        )
        for s in digest.sub_regions
    ]
    assert [line for line in lines if "很长的区名" in line] == expected
    assert "<b>⚠️ 提醒</b>" in chunks[-1]


def test_split_lines_keeps_lines_whole_and_drops_blank_lines_at_a_break() -> None:
    lines = ["a" * 40, "", "b" * 40, "c" * 40, "", "d" * 10]
    chunks = split_lines(lines, limit=60)
    assert chunks == ["a" * 40, "b" * 40, "c" * 40 + "\n\n" + "d" * 10]
    assert split_lines(lines, limit=200) == ["\n".join(lines)]
    assert split_lines([], limit=10) == []


def test_a_single_overlong_line_is_cut_outside_tags_and_entities() -> None:
    line = "x" * 7 + "&amp;" + "y" * 10 + "<b>z</b>"
    chunks = split_lines([line], limit=10)
    assert "".join(chunks) == line
    assert all(len(c) <= 10 for c in chunks)
    assert all(not re.search(r"&[a-z]*$|<[^>]*$", c) for c in chunks)


def test_company_weekly_text_renders_in_both_languages() -> None:
    weekly = CompanyWeekly(
        enterprise_id=1,
        enterprise="万柏林<劳务>",
        week_start=date(2026, 2, 25),
        week_end=date(2026, 3, 3),
        shortages_posted=Count(2, 6),
        idle_posted=Count(1, 2),
        open_shortage=Count(1, 4),
        open_idle=Count(1, 2),
        deals_received=DealStats(0, 0, None, None, ()),
        deals_supplied=DealStats(
            2,
            7,
            Decimal("4457.14"),
            None,
            (TradeDeals(PLASTERER, 2, 7, Decimal("4457.14"), None),),
        ),
        ratings_received=RatingStats(4, Decimal("3.5")),
        ratings_given=RatingStats(0, None),
        idle_workers=2,
        busy_workers=5,
        idle_by_trade=(IdleByTrade(MASON, 2),),
    )
    (zh,) = render_company_weekly_text(weekly, "zh")
    assert "万柏林&lt;劳务&gt; 用工周报" in zh
    assert "2 笔 · 7 人 · 均价 4,457 元/月" in zh
    assert "• 砌筑工 赋闲 2 人" in zh
    (en,) = render_company_weekly_text(weekly, "en")
    assert "Workers: 2 idle · 5 on duty" in en


# --- chart ----------------------------------------------------------------------------------


def test_chart_shows_the_15_largest_shortages_as_paired_bars_with_chinese_labels() -> None:
    fig = build_digest_figure(sample_digest(), "zh")
    (ax,) = fig.axes
    assert len(ax.patches) == 30  # 15 sub-regions × (shortage, idle)
    shortage, idle = ax.containers
    assert [int(p.get_width()) for p in shortage] == list(range(29, 14, -1))
    assert [int(p.get_width()) for p in idle] == list(range(1, 16))
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "第1区"
    assert len(ticks) == 15
    assert ticks == sorted(ticks, key=lambda t: int(t[1:-1]))
    # the largest shortage is drawn at the top
    assert shortage[0].get_y() > shortage[-1].get_y()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["缺工", "赋闲"]
    assert "太原市" in fig._suptitle.get_text()


def test_the_bundled_font_has_every_glyph_the_chart_uses() -> None:
    font = FT2Font(str(cjk_font_path()))
    assert cjk_font_family() == "Noto Sans SC"
    fig = build_digest_figure(sample_digest(), "zh")
    (ax,) = fig.axes
    texts = [fig._suptitle.get_text(), ax.get_title(), ax.get_xlabel()]
    texts += [t.get_text() for t in ax.get_yticklabels()]
    texts += [t.get_text() for t in fig.legends[0].get_texts()]
    missing = {ch for text in texts for ch in text if not ch.isspace()}
    missing = {ch for ch in missing if font.get_char_index(ord(ch)) == 0}
    assert missing == set()


def test_chart_renders_without_missing_glyph_or_font_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="matplotlib"), warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise here
        for locale in ("zh", "en"):
            png = render_digest_chart(sample_digest(), locale)
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert [r.getMessage() for r in caplog.records if "font" in r.getMessage().lower()] == []


def test_chart_png_has_a_fixed_size_even_when_nothing_is_open() -> None:
    empty = sample_digest((_sub(1, 0, 0),))
    fig = build_digest_figure(empty, "zh")
    assert len(fig.axes[0].patches) == 0
    for digest in (sample_digest(), empty):
        png = render_digest_chart(digest, "zh")
        assert png[12:16] == b"IHDR"
        assert struct.unpack(">II", png[16:24]) == (WIDTH_PX, HEIGHT_PX)


# --- workbooks ------------------------------------------------------------------------------


def test_sheet_titles_are_made_valid_and_unique() -> None:
    taken: set[str] = set()
    assert safe_title("a[b]:c*d?e/f\\g", taken) == "a b  c d e f g"
    long = "太原市" * 20
    first = safe_title(long, taken)
    second = safe_title(long, taken)
    assert len(first) == 31
    assert len(second) <= 31
    assert first != second
    assert safe_title("  ", None) == "Sheet"


def test_workbook_has_bold_frozen_filtered_headers_and_number_formats() -> None:
    data = workbook_bytes(
        [
            Sheet(
                "成交: 2026/3/3",
                ["企业", "价格", "偏离"],
                [["甲", Decimal("3300.00"), Decimal("-0.4")], ["乙", 5300, 0.06]],
                (20, 12, 10),
                {1: MONEY, 2: PERCENT},
            )
        ]
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    (ws,) = wb.worksheets
    assert ws.title == "成交  2026 3 3"
    assert [c.value for c in ws[1]] == ["企业", "价格", "偏离"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C3"
    assert ws["B2"].number_format == MONEY
    assert ws["C3"].number_format == PERCENT
    assert ws["B2"].value == 3300
    assert ws["C2"].value == pytest.approx(-0.4)
    assert ws.column_dimensions["A"].width == 20


def test_digest_workbook_has_the_detail_sheets_and_rows() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(digest_workbook(sample_digest(), "en")))
    assert wb.sheetnames == [
        "Summary",
        "Sub-regions",
        "Trades x grades",
        "Deals yesterday",
        "Stale shortages",
        "Price alerts",
        "Neighbour cover",
        "Wage arrears",
    ]
    assert all(len(t) <= 31 for t in wb.sheetnames)
    regions = list(wb["Sub-regions"].iter_rows(min_row=2, values_only=True))
    assert len(regions) == 20
    assert regions[0] == ("140101", "District 1", 1, 29, 1, 1)
    (deal,) = wb["Price alerts"].iter_rows(min_row=2, values_only=True)
    assert isinstance(deal[0], datetime)
    assert deal[0].isoformat() == "2026-03-03T15:00:00"  # Shanghai wall time, naive in Excel
    assert deal[2:] == (
        "太原<一建>&劳务",
        "榆次劳务",
        "Plasterer",
        "Grade 3",
        4,
        3300,
        5500,
        pytest.approx(-0.4),
    )
    (cover,) = wb["Neighbour cover"].iter_rows(min_row=2, values_only=True)
    assert cover == ("Xiaodian District", "Plasterer", 12, "Yuci District", 15)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Shortages open > 7 days"] == 1
    assert summary["vs guide"] == pytest.approx(-0.4)
