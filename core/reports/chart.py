"""The digest chart: open shortage vs idle headcount per sub-region, as a PNG with CJK labels.

The CJK font ships with the `pylopdf-fonts-zh-cn` wheel (Noto Sans SC, OFL-1.1), so no system
font is needed; it is registered with matplotlib once, on first use.
"""

from __future__ import annotations

import io
import threading
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from core.reports.labels import label
from core.services.digests import Digest, SubRegionTotals

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 1000, 700, 100
TOP_REGIONS = 15
SHORTAGE_COLOR = "#d64541"  # red, as the seed marks shortages
IDLE_COLOR = "#f0b429"  # yellow, as the seed marks idle workers
FONT_PACKAGE = "pylopdf_fonts_zh_cn"
FONT_FILE = "NotoSansSC-Regular.otf"


def cjk_font_path() -> Path:
    """The bundled Noto Sans SC file inside the installed font package."""
    with resources.as_file(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)) as path:
        return Path(path)


@cache
def cjk_font_family() -> str:
    """Register the CJK font with matplotlib (once, lazily) and return its family name."""
    # imported here, not at module level: matplotlib costs a webhook worker ≈ 40 MB of RSS,
    # and only the digest sender draws charts
    import matplotlib
    from matplotlib import font_manager

    matplotlib.use("Agg")  # headless everywhere: the bot, the scheduler and the CLI

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


def chart_regions(digest: Digest) -> list[SubRegionTotals]:
    """The sub-regions the chart shows: up to 15 with anything open, largest shortage first."""
    shown = [s for s in digest.sub_regions if s.shortage_headcount or s.idle_headcount]
    shown.sort(key=lambda s: (-s.shortage_headcount, -s.idle_headcount, s.region.code))
    return shown[:TOP_REGIONS]


def build_digest_figure(digest: Digest, locale: str) -> Figure:
    """The chart as a matplotlib Figure (Agg canvas attached), for rendering or inspection."""
    family = [cjk_font_family(), "DejaVu Sans"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    regions = chart_regions(digest)
    fig.suptitle(
        label(locale, "chart_title", region=digest.region.name(locale))
        + f"  {digest.report_day.isoformat()}",
        fontfamily=family,
        fontsize=17,  # the bundled font has one weight: size, not bold, marks the title
    )
    ax.set_title(
        label(
            locale,
            "chart_subtitle",
            day=digest.day.isoformat(),
            shortage=digest.open_shortage.headcount,
            idle=digest.open_idle.headcount,
            n=len(regions),
        ),
        fontfamily=family,
        fontsize=10,
        color="#555555",
    )
    if not regions:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            label(locale, "chart_empty"),
            ha="center",
            va="center",
            fontfamily=family,
            fontsize=14,
            transform=ax.transAxes,
        )
        return fig

    # the largest shortage at the top
    positions = list(range(len(regions)))[::-1]
    height = 0.38
    shortage = ax.barh(
        [p + height / 2 for p in positions],
        [r.shortage_headcount for r in regions],
        height=height,
        color=SHORTAGE_COLOR,
        label=label(locale, "chart_shortage"),
    )
    idle = ax.barh(
        [p - height / 2 for p in positions],
        [r.idle_headcount for r in regions],
        height=height,
        color=IDLE_COLOR,
        label=label(locale, "chart_idle"),
    )
    for bars, values in (
        (shortage, [r.shortage_headcount for r in regions]),
        (idle, [r.idle_headcount for r in regions]),
    ):
        ax.bar_label(
            bars,
            labels=[str(v) if v else "" for v in values],  # a "0" beside no bar is noise
            padding=3,
            fontsize=9,
            fontfamily=family,
            color="#333333",
        )
    ax.set_yticks(positions, labels=[r.region.name(locale) for r in regions])
    ax.tick_params(axis="both", labelfontfamily=family[0], labelsize=11)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(label(locale, "chart_xlabel"), fontfamily=family)
    ax.margins(x=0.12)  # room for the value labels at the bar ends
    ax.set_ylim(-0.7, len(regions) - 0.3)
    ax.grid(axis="x", color="#e5e5e5")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # below the axes, so it never hides a bar
    fig.legend(
        loc="outside lower center", ncols=2, prop={"family": family, "size": 11}, frameon=False
    )
    return fig


# matplotlib's font cache and rcParams are process-global: one chart at a time per process
# (the Telegram and the channel senders may both render in threads)
_render_lock = threading.Lock()


def render_digest_chart(digest: Digest, locale: str) -> bytes:
    """The chart as PNG bytes, always WIDTH_PX × HEIGHT_PX."""
    with _render_lock:
        fig = build_digest_figure(digest, locale)
        buffer = io.BytesIO()
        # no version metadata: the same digest gives the same bytes
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


ARREARS_COLOR = "#7b2cbf"


def build_arrears_figure(digest: Digest, locale: str) -> Figure:
    """欠薪预警 by county: the amount owed on open alerts, largest at the top."""
    family = [cjk_font_family(), "DejaVu Sans"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    counties = list(digest.arrears.by_county[:TOP_REGIONS])
    fig.suptitle(
        label(locale, "chart_arrears") + f"  {digest.report_day.isoformat()}",
        fontfamily=family,
        fontsize=17,
    )
    if not counties:
        ax.set_axis_off()
        ax.text(0.5, 0.5, label(locale, "none"), ha="center", va="center", fontfamily=family)
        return fig
    positions = list(range(len(counties)))[::-1]
    bars = ax.barh(positions, [float(c.owed) for c in counties], color=ARREARS_COLOR)
    ax.bar_label(
        bars,
        labels=[f"{c.owed:,.0f} ({c.alerts})" for c in counties],
        padding=3,
        fontsize=9,
        fontfamily=family,
    )
    ax.set_yticks(positions, labels=[c.region.name(locale) for c in counties])
    ax.tick_params(axis="both", labelfontfamily=family[0], labelsize=11)
    ax.margins(x=0.2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def render_arrears_chart(digest: Digest, locale: str) -> bytes:
    """The arrears chart as PNG bytes (WIDTH_PX × HEIGHT_PX)."""
    fig = build_arrears_figure(digest, locale)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
