"""Texts shared by the shortage dialog and "My postings": prices, grades, match lines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.utils.i18n import I18n

from bot.i18n import N_, tr
from core.domain.money import format_money
from core.services.guide_prices import GUIDE_WARN_PCT, is_far_from_guide, price_deviation
from core.services.matching import MatchView
from core.services.postings import GradeChoice, TradeChoice

STATUS_KEYS = {
    "open": N_("posting.status.open"),
    "partly_filled": N_("posting.status.partly_filled"),
    "filled": N_("posting.status.filled"),
    "cancelled": N_("posting.status.cancelled"),
    "expired": N_("posting.status.expired"),
}
RING_KEYS = {
    "internal": N_("posting.ring.internal"),
    "market": N_("posting.ring.market"),
    "escalated": N_("posting.ring.escalated"),
}


def locale() -> str:
    """The current user's language (set by the locale middleware)."""
    return I18n.get_current(no_error=False).current_locale


def zh() -> bool:
    return locale().startswith("zh")


def money(price: Decimal) -> str:
    """ "¥5,500/月" in the user's language."""
    return tr("posting.price", amount=format_money(price, symbol=False))


def trade_name(trades: Sequence[TradeChoice], code: str) -> str:
    found = next((t for t in trades if t.code == code), None)
    return found.name(locale()) if found is not None else code


def grade_name(grades: Sequence[GradeChoice], level: int) -> str:
    found = next((g for g in grades if g.level == level), None)
    return found.name(locale()) if found is not None else str(level)


def status_text(status: str) -> str:
    key = STATUS_KEYS.get(status)
    return tr(key) if key else status


def ring_text(ring: str) -> str:
    key = RING_KEYS.get(ring)
    return tr(key) if key else ring


def guide_line(guide: Decimal | None, city: str, trade: str, grade: str) -> str:
    if guide is None:
        return tr("posting.no_guide", city=city)
    return tr("posting.guide", city=city, trade=trade, grade=grade, price=money(guide))


def deviation_line(price: Decimal, guide: Decimal | None) -> str:
    """ "⚠️ 25% below the guide price" when past the warning limit, else ""."""
    if guide is None or not is_far_from_guide(price, guide):
        return ""
    pct = price_deviation(price, guide)
    key = N_("posting.far_below") if pct < 0 else N_("posting.far_above")
    return tr(key, pct=f"{abs(pct).normalize():f}", limit=GUIDE_WARN_PCT, guide=money(guide))


def match_lines(matches: Sequence[MatchView], grades: Sequence[GradeChoice]) -> list[str]:
    """One line per candidate: enterprise, city and county, grade, open headcount, price, how
    well it fits (no contacts: they stay hidden until a deal is accepted). 🏠 marks the own
    company."""
    lines = []
    for n, m in enumerate(matches, 1):
        card = m.card
        lines.append(
            tr(
                "posting.match_line",
                n=n,
                home="🏠 " if m.internal else "",
                enterprise=card.enterprise_name,
                # the city too: a county name alone (潞城区, 浮山县) says nothing of the distance
                county=f"{card.city_name_zh}{card.county_name_zh}"
                if zh()
                else f"{card.county_name_en}, {card.city_name_en}",
                grade=grade_name(grades, card.grade_level),
                open=card.open_headcount,
                price=money(card.price),
                score=f"{m.score:.0f}",
            )
        )
    return lines
