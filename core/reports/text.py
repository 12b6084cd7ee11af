"""Digests as Telegram HTML: short lines a bureau chief can read on a phone and forward."""

from __future__ import annotations

import html
from collections.abc import Iterable

from core.domain.money import format_money
from core.reports.labels import html_label, signed_pct
from core.services.digests import PRICE_ALERT_PCT, STALE_DAYS, CompanyWeekly, DealStats, Digest
from core.services.reporting_coverage import REPORTED_DAYS, SILENT_DAYS

TELEGRAM_LIMIT = 4096
LIST_SHOWN = 10  # alert lines per kind in the text; the workbook has them all
CHUNK_SEPARATOR = "\n\n-----\n\n"  # between chunks in a preview file


def _bold(text: str) -> str:
    return f"<b>{text}</b>"


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _rate(rate: object) -> str:
    return "—" if rate is None else f"{rate}%"


def _reporting_lines(d: Digest, locale: str) -> list[str]:
    """采集上报率 per sub-region with live projects, then the total and the silent count."""
    r = d.reporting
    if r is None:
        return []
    lines = ["", _bold(html_label(locale, "sec_reporting", days=REPORTED_DAYS))]
    if d.level != "county":
        for area in r.rows:
            if area.live_projects:
                lines.append(
                    html_label(
                        locale,
                        "reporting_line",
                        region=area.name(locale),
                        rate=_rate(area.rate),
                        reported=area.reported,
                        live=area.live_projects,
                    )
                )
    lines.append(
        html_label(
            locale,
            "reporting_total",
            rate=_rate(r.total.rate),
            reported=r.total.reported,
            live=r.total.live_projects,
            silent=r.silent_projects,
            silent_days=SILENT_DAYS,
        )
    )
    return lines


def render_digest_text(digest: Digest, locale: str, *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The digest as one or more HTML messages, each at most `limit` characters."""

    def t(key: str, **params: object) -> str:
        return html_label(locale, key, **params)

    d = digest
    lines = [
        _bold(t("title", region=d.region.name(locale))),
        _e(t("covers", report_day=d.report_day.isoformat(), day=d.day.isoformat())),
        "",
        _bold(t("sec_new")),
        t("new_shortage", postings=d.new_shortages.postings, headcount=d.new_shortages.headcount),
        t("new_idle", postings=d.new_idle.postings, headcount=d.new_idle.headcount),
        "",
        _bold(t("sec_open")),
    ]
    quiet = 0
    for sub in d.sub_regions:
        if not (sub.shortage_headcount or sub.idle_headcount):
            quiet += 1
            continue
        lines.append(
            t(
                "sub_line",
                region=sub.region.name(locale),
                shortage=sub.shortage_headcount,
                idle=sub.idle_headcount,
            )
        )
    if quiet:
        lines.append(t("sub_quiet", n=quiet))
    lines.append(
        _bold(
            t(
                "total_line",
                shortage=d.open_shortage.headcount,
                postings=d.open_shortage.postings,
                idle=d.open_idle.headcount,
                idle_postings=d.open_idle.postings,
            )
        )
    )

    lines += _reporting_lines(d, locale)

    lines += ["", _bold(t("sec_trades"))]
    if not d.top_trades:
        lines.append(t("none"))
    for rank, trade in enumerate(d.top_trades, 1):
        lines.append(
            t(
                "trade_line",
                rank=rank,
                trade=trade.trade.name(locale),
                headcount=trade.headcount,
                postings=trade.postings,
            )
        )

    lines += ["", _bold(t("sec_deals")), *_deal_lines(d.deals, locale)]
    lines += ["", _bold(t("sec_ratings"))]
    if d.ratings.count:
        lines.append(t("ratings_line", count=d.ratings.count, stars=d.ratings.avg_stars))
    else:
        lines.append(t("none"))

    lines += ["", _bold(t("sec_alerts"))]
    a = d.alerts
    if not a.any:
        lines.append(t("no_alerts"))
    if a.stale_count:
        lines.append(t("stale_head", days=STALE_DAYS, count=a.stale_count))
        for s in a.stale_oldest:
            lines.append(
                t(
                    "stale_line",
                    enterprise=s.enterprise,
                    project=s.project,
                    trade=s.trade.name(locale),
                    headcount=s.headcount,
                    days=s.days_open,
                )
            )
    if a.price:
        lines.append(t("price_head", pct=PRICE_ALERT_PCT))
        for p in a.price[:LIST_SHOWN]:
            pct = p.vs_guide_pct or 0
            lines.append(
                t(
                    "price_below" if pct < 0 else "price_above",
                    enterprise=p.enterprise,
                    trade=p.trade.name(locale),
                    grade=p.grade.name(locale),
                    headcount=p.headcount,
                    price=format_money(p.price, symbol=False),
                    guide=format_money(p.guide_price, symbol=False),
                    pct=abs(pct),
                )
            )
        lines.extend(_more(len(a.price), locale))
    if a.coverage:
        lines.append(t("cover_head"))
        for c in a.coverage[:LIST_SHOWN]:
            lines.append(
                t(
                    "cover_line",
                    region=c.region.name(locale),
                    trade=c.trade.name(locale),
                    shortage=c.shortage,
                    neighbour=c.neighbour.name(locale),
                    idle=c.idle,
                )
            )
        lines.extend(_more(len(a.coverage), locale))
    return split_lines(lines, limit)


def _more(total: int, locale: str) -> list[str]:
    if total <= LIST_SHOWN:
        return []
    return [html_label(locale, "more", n=total - LIST_SHOWN)]


def _deal_lines(stats: DealStats, locale: str) -> list[str]:
    def t(key: str, **params: object) -> str:
        return html_label(locale, key, **params)

    if not stats.count:
        return [t("none")]
    head = t(
        "deals_line",
        count=stats.count,
        headcount=stats.headcount,
        price=format_money(stats.avg_price, whole=True, symbol=False),
    )
    if stats.vs_guide_pct is not None:
        head += t("vs_guide", pct=signed_pct(stats.vs_guide_pct))
    lines = [head]
    for trade in stats.by_trade:
        line = t(
            "deal_trade_line",
            trade=trade.trade.name(locale),
            count=trade.count,
            headcount=trade.headcount,
            price=format_money(trade.avg_price, whole=True, symbol=False),
        )
        if trade.vs_guide_pct is not None:
            line += t("vs_guide", pct=signed_pct(trade.vs_guide_pct))
        lines.append(line)
    return lines


def render_company_weekly_text(
    weekly: CompanyWeekly, locale: str, *, limit: int = TELEGRAM_LIMIT
) -> list[str]:
    """A labour company's weekly figures as HTML messages."""

    def t(key: str, **params: object) -> str:
        return html_label(locale, key, **params)

    w = weekly
    lines = [
        _bold(t("weekly_title", enterprise=w.enterprise)),
        t("weekly_covers", start=w.week_start.isoformat(), end=w.week_end.isoformat()),
        "",
        _bold(t("weekly_posted")),
        t(
            "new_shortage",
            postings=w.shortages_posted.postings,
            headcount=w.shortages_posted.headcount,
        ),
        t("new_idle", postings=w.idle_posted.postings, headcount=w.idle_posted.headcount),
        "",
        _bold(t("weekly_open")),
        t("new_shortage", postings=w.open_shortage.postings, headcount=w.open_shortage.headcount),
        t("new_idle", postings=w.open_idle.postings, headcount=w.open_idle.headcount),
        "",
        _bold(t("weekly_received")),
        *_deal_lines(w.deals_received, locale),
        "",
        _bold(t("weekly_supplied")),
        *_deal_lines(w.deals_supplied, locale),
        "",
    ]
    for key, stats in (
        ("weekly_ratings_received", w.ratings_received),
        ("weekly_ratings_given", w.ratings_given),
    ):
        lines.append(_bold(t(key)))
        lines.append(
            t("ratings_line", count=stats.count, stars=stats.avg_stars)
            if stats.count
            else t("none")
        )
    lines += ["", t("weekly_workers", idle=w.idle_workers, busy=w.busy_workers)]
    for item in w.idle_by_trade[:LIST_SHOWN]:
        lines.append(t("weekly_idle_trade", trade=item.trade.name(locale), workers=item.workers))
    return split_lines(lines, limit)


def split_lines(lines: Iterable[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join lines into messages of at most `limit` characters, breaking only between lines
    (each line is self-contained HTML, so no tag is ever cut). Blank lines at a break vanish."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        for piece in _hard_split(line, limit):
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                chunks.append("\n".join(current).strip("\n"))
                current, size = [], 0
                extra = len(piece)
            if not current and not piece:
                continue  # no chunk starts with a blank line
            current.append(piece)
            size += extra
    if current:
        chunks.append("\n".join(current).strip("\n"))
    return [c for c in chunks if c]


def _hard_split(line: str, limit: int) -> list[str]:
    """A single line longer than a message (never in practice: names are length-capped) is cut
    outside tags and entities."""
    if len(line) <= limit:
        return [line]
    pieces = []
    while len(line) > limit:
        cut = limit
        for opener, closer in (("<", ">"), ("&", ";")):
            start = line.rfind(opener, 0, cut)
            if start != -1 and line.find(closer, start) >= cut:
                cut = start
        cut = max(cut, 1)
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces
