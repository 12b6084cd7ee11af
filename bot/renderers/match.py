"""Posting cards (search results, the match notification) and the "match" outbox renderer.

A "match" row (queued by core.services.matching.notify_matches) carries
{"my_posting_kind", "my_posting_id", "other_kind", "other_posting_id", "score"}: the recipient's
posting and the new one on the other side. Recipients, once-per-pair, quiet hours and muted
accounts are settled in core; here the postings are read again at send time, because a match
held through the night may be moot by morning: if either posting closed, nothing is sent.
The card shows the contact's phone masked: it is revealed only once a deal is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks_deals import ProposeCb, ViewPostingCb
from bot.i18n import Safe
from bot.notifier import OutgoingMessage, Renderers, Translate
from bot.renderers.contact_exchange import request_button
from core.db.uow import UnitOfWork
from core.domain.money import format_money
from core.domain.rules import is_open_for_deals
from core.domain.timeutil import SHANGHAI
from core.services import postings
from core.services.outbox import OutboxItem
from core.services.search import PostingCard, load_cards

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers
KIND_CODE = {"shortage": "s", "idle": "i"}
KIND_OF_CODE = {code: kind for kind, code in KIND_CODE.items()}


def is_zh(locale: str) -> bool:
    return locale.startswith("zh")


def price_text(T: Translate, price: Decimal) -> str:
    """¥5,500/月 (¥5,500/month)."""
    return T("deals.price", amount=format_money(price, symbol=False))


def local_time(at: datetime) -> str:
    """03-04 10:00 in Shanxi time."""
    return at.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


async def grade_names(uow: UnitOfWork, locale: str) -> dict[int, str]:
    return {g.level: g.name(locale) for g in await postings.list_grades(uow)}


def is_live(card: PostingCard, now: datetime) -> bool:
    """Open for a deal: live status, not past its expiry, someone still wanted / on offer."""
    return is_open_for_deals(card.terms, now)


def trade_name(card: PostingCard, locale: str) -> str:
    return card.trade_name_zh if is_zh(locale) else card.trade_name_en


def place_name(card: PostingCard, locale: str) -> str:
    city = card.city_name_zh if is_zh(locale) else card.city_name_en
    county = card.county_name_zh if is_zh(locale) else card.county_name_en
    return " ".join(part for part in (city, county) if part) or card.county_code


def grade_text(T: Translate, card: PostingCard, grades: Mapping[int, str]) -> str:
    """An idle posting's grade; a shortage's minimum ("三级及以上")."""
    name = grades.get(card.grade_level, str(card.grade_level))
    return T("search.grade_min", grade=name) if card.kind == "shortage" else name


def ring_text(T: Translate, ring: str) -> str:
    return {
        "market": T("search.ring_market"),
        "escalated": T("search.ring_escalated"),
        "internal": T("search.ring_internal"),
    }.get(ring, html.quote(ring))


def age_text(T: Translate, created_at: datetime, now: datetime) -> str:
    hours = int((now - created_at).total_seconds() // 3600)
    if hours < 1:
        return T("search.age_new")
    if hours < 24:
        return T("search.age_hours", n=hours)
    return T("search.age_days", n=hours // 24)


def kind_title(T: Translate, card: PostingCard) -> str:
    if card.kind == "shortage":
        return T("search.card_title_shortage", id=card.id)
    return T("search.card_title_idle", id=card.id)


def posting_card_text(
    card: PostingCard, T: Translate, locale: str, grades: Mapping[int, str], now: datetime
) -> str:
    """The full card: who, where, what, how many, how much, which ring, how old; phone masked."""
    who = T("search.card_enterprise", name=card.enterprise_name)
    if card.project_name:
        who += "\n" + T("search.card_project", name=card.project_name)
    lines = [
        f"<b>{kind_title(T, card)}</b>",
        who,
        T("search.card_place", place=place_name(card, locale)),
        T(
            "search.card_trade",
            trade=trade_name(card, locale),
            grade=Safe(grade_text(T, card, grades)),
        ),
        T("search.card_open", open=card.open_headcount, total=card.headcount),
        T("search.card_price", price=Safe(price_text(T, card.price))),
        T("search.card_ring", ring=Safe(ring_text(T, card.ring))),
        T("search.card_age", age=Safe(age_text(T, card.created_at, now))),
        T("search.card_contact", name=card.contact_name, phone=card.contact_phone_masked),
    ]
    if not is_live(card, now):
        lines.append(T("search.card_closed"))
    return "\n".join(lines)


def propose_callback(card: PostingCard, mine: int = 0) -> str:
    """From someone else's card: ask an idle posting (pick my shortage) or offer workers to a
    shortage (no posting of mine needed); with `mine`, my posting it was matched with."""
    if card.kind == "idle":
        return ProposeCb(shortage_id=mine, idle_id=card.id).pack()
    return ProposeCb(shortage_id=card.id, idle_id=mine).pack()


# --- the "match" notification -----------------------------------------------------------------


@RENDERERS.register("match")
async def render_match(item: OutboxItem, uow: UnitOfWork, t: Translate) -> list[OutgoingMessage]:
    payload = item.payload
    my_kind = str(payload.get("my_posting_kind", ""))
    other_kind = str(payload.get("other_kind", ""))
    if my_kind not in KIND_CODE or other_kind not in KIND_CODE or my_kind == other_kind:
        return []
    my_id = int(payload.get("my_posting_id", 0))
    other_id = int(payload.get("other_posting_id", 0))
    mine = (await load_cards(uow, my_kind, [my_id])).get(my_id)
    other = (await load_cards(uow, other_kind, [other_id])).get(other_id)
    now = uow.now()
    if mine is None or other is None or not is_live(mine, now) or not is_live(other, now):
        return []  # filled, withdrawn or expired while the notification waited
    locale = item.locale
    grades = await grade_names(uow, locale)
    if my_kind == "shortage":
        headline = t("match.title_for_shortage", id=mine.id, trade=trade_name(mine, locale))
        about = t("match.found_idle")
        shortage_id, idle_id = mine.id, other.id
    else:
        headline = t("match.title_for_idle", id=mine.id, trade=trade_name(mine, locale))
        about = t("match.found_shortage")
        shortage_id, idle_id = other.id, mine.id
    score = payload.get("score")
    lines = [
        f"<b>{headline}</b>",
        about,
        t("search.card_enterprise", name=other.enterprise_name),
        t("search.card_place", place=place_name(other, locale)),
        t(
            "search.card_trade",
            trade=trade_name(other, locale),
            grade=Safe(grade_text(t, other, grades)),
        ),
        t("search.card_open", open=other.open_headcount, total=other.headcount),
        t("search.card_price", price=Safe(price_text(t, other.price))),
    ]
    if isinstance(score, int | float):
        lines.append(t("match.score", score=f"{float(score):.0f}"))
    lines.append(t("match.contacts_hidden"))
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("match.view"),
                    callback_data=ViewPostingCb(
                        kind=KIND_CODE[other_kind], id=other.id, via=mine.id
                    ).pack(),
                ),
                InlineKeyboardButton(
                    text=t("match.propose"),
                    callback_data=ProposeCb(shortage_id=shortage_id, idle_id=idle_id).pack(),
                ),
            ],
            [request_button(t, shortage_id, idle_id)],
        ]
    )
    return [OutgoingMessage(text="\n".join(lines), reply_markup=markup)]
