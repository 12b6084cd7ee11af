"""🔍 Search (用工搜索): foremen browse idle postings, dispatchers shortages (or idle postings).

Filters are inline buttons on one message (edited in place): region (city → county or all),
trade, grade, price range, ring. The filters being edited live in FSM data; a results page is
self-contained instead: its ◀ ▶ buttons carry the filters and the keyset anchor of
core.services.search (created_at µs, id), so a page re-runs correctly however postings come
and go between taps, and an old results message keeps working. Filters too long for the
64-byte callback data are kept in FSM data under a short token instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Router, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import SearchCb, SearchPageCb, ViewPostingCb
from bot.filters import HasRole
from bot.i18n import Safe, tr
from bot.keyboards.common import SEARCH, MenuText
from bot.keyboards.search import (
    card_keyboard,
    choices_keyboard,
    filters_keyboard,
    results_keyboard,
    sf,
)
from bot.middlewares.db import end_read
from bot.render.messages import edit_or_send
from bot.renderers.match import (
    KIND_CODE,
    KIND_OF_CODE,
    grade_names,
    is_live,
    place_name,
    posting_card_text,
    price_text,
    propose_callback,
    trade_name,
)
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import DomainError
from core.domain.money import format_money
from core.domain.rules import may_propose_on
from core.services import postings, regions
from core.services.accounts import AccountView
from core.services.paging import decode_ts_cursor, encode_ts_cursor
from core.services.search import PostingCard, PostingQuery, get_posting_card, search_postings

FILTERS_KEY = "search"  # FSM data: the filters being edited
TOKENS_KEY = "search_tokens"  # FSM data: filters too long for callback data, by token
BACK_KEY = "search_back"  # FSM data: the results page (callback data) a card returns to
MAX_TOKENS = 10
PAGE_SIZE = 5
LABEL_LEN = 14
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# price range presets (CNY per month): code → (min, max)
PRICE_PRESETS: dict[str, tuple[int | None, int | None]] = {
    "1": (None, 4000),
    "2": (4000, 6000),
    "3": (6000, None),
}
PRICE_LABELS = {"1": "≤ ¥4,000", "2": "¥4,000–6,000", "3": "≥ ¥6,000"}
RINGS = {"m": "market", "e": "escalated", "i": "internal"}


@dataclass(frozen=True)
class Filters:
    kind: str = "i"  # "s" shortages | "i" idle postings
    region: str = ""  # "" all of Shanxi, else a city or county code
    trade: str = ""
    grade: int = 0  # 0: any
    price: str = ""  # "" any, else a PRICE_PRESETS code
    ring: str = ""  # "" any, else a RINGS code

    def pack(self) -> str:
        return ".".join(
            (self.kind, self.region, self.trade, str(self.grade or ""), self.price, self.ring)
        )

    @classmethod
    def unpack(cls, text: str) -> Filters | None:
        parts = text.split(".")
        if len(parts) != 6:
            return None
        kind, region, trade, grade, price, ring = parts
        return cls.valid(kind, region, trade, grade, price, ring)

    @classmethod
    def from_dict(cls, data: Any) -> Filters | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls.valid(
                str(data["kind"]),
                str(data["region"]),
                str(data["trade"]),
                str(data["grade"] or ""),
                str(data["price"]),
                str(data["ring"]),
            )
        except KeyError:
            return None

    @classmethod
    def valid(
        cls, kind: str, region: str, trade: str, grade: str, price: str, ring: str
    ) -> Filters | None:
        """Filters from client-controlled text, or None if anything is off."""
        ok = (
            kind in KIND_OF_CODE
            and (region == "" or (region.isdigit() and len(region) == 6))
            and len(trade) <= 30
            and all(c.isalnum() or c == "_" for c in trade)
            and (grade == "" or (grade.isdigit() and len(grade) == 1))
            and (price == "" or price in PRICE_PRESETS)
            and (ring == "" or ring in RINGS)
        )
        if not ok:
            return None
        return cls(kind, region, trade, int(grade or 0), price, ring)

    def query(self, cursor: str | None, direction: str) -> PostingQuery:
        low, high = PRICE_PRESETS.get(self.price, (None, None))
        return PostingQuery(
            kind="shortage" if self.kind == "s" else "idle",
            region_code=self.region or None,
            trade_code=self.trade or None,
            grade_level=self.grade or None,
            price_min=str(low) if low is not None else None,
            price_max=str(high) if high is not None else None,
            ring=RINGS.get(self.ring) or None,
            cursor=cursor,
            direction="prev" if direction == "p" else "next",
            limit=PAGE_SIZE,
        )


def default_filters(account: AccountView) -> Filters:
    # foremen look for idle workers; labour companies for shortages to fill
    return Filters(kind="s" if account.role is Role.DISPATCHER else "i")


async def current_filters(state: FSMContext, account: AccountView) -> Filters:
    data = await state.get_data()
    return Filters.from_dict(data.get(FILTERS_KEY)) or default_filters(account)


async def save_filters(state: FSMContext, filters: Filters) -> None:
    await state.update_data({FILTERS_KEY: asdict(filters)})


def locale_of(i18n: I18n) -> str:
    return i18n.current_locale


# --- cursors in callback data -----------------------------------------------------------------


def anchor_of(cursor: str) -> tuple[int, int]:
    at, row_id = decode_ts_cursor(cursor)
    return (at - EPOCH) // timedelta(microseconds=1), row_id


def cursor_of(at: int, row_id: int) -> str:
    return encode_ts_cursor(EPOCH + timedelta(microseconds=at), row_id)


async def page_callback(
    state: FSMContext, filters: Filters, *, at: int = 0, row_id: int = 0, d: str = ""
) -> SearchPageCb:
    """The page's callback data: the filters inline when they fit 64 bytes, else a token."""
    packed = filters.pack()
    if Filters.unpack(packed) == filters:
        cb = SearchPageCb(f=packed, at=at, id=row_id, d=d)
        try:
            cb.pack()
            return cb
        except ValueError:
            pass  # too long for Telegram: keep the filters here, send a token
    token = hashlib.sha1(packed.encode()).hexdigest()[:8]
    data = await state.get_data()
    tokens = dict(data.get(TOKENS_KEY) or {})
    tokens.pop(token, None)
    tokens[token] = asdict(filters)
    while len(tokens) > MAX_TOKENS:
        tokens.pop(next(iter(tokens)))
    await state.update_data({TOKENS_KEY: tokens})
    return SearchPageCb(f="@" + token, at=at, id=row_id, d=d)


async def filters_of_page(state: FSMContext, cb: SearchPageCb) -> Filters | None:
    if cb.f.startswith("@"):
        tokens = (await state.get_data()).get(TOKENS_KEY) or {}
        return Filters.from_dict(tokens.get(cb.f[1:]))
    return Filters.unpack(cb.f)


# --- the filter screen ------------------------------------------------------------------------


ANY_KEYS = {
    "region": "search.any_region",
    "trade": "search.any_trade",
    "grade": "search.any_grade",
    "price": "search.any_price",
    "ring": "search.any_ring",
}


async def describe(uow: UnitOfWork, filters: Filters, locale: str) -> dict[str, str | None]:
    """Readable values of the filters as HTML (None: not set), for the filter screen and the
    results header."""
    region: str | None = None
    if filters.region:
        found = await regions.get_region(uow, filters.region)
        region = html.quote(found.name(locale))
        if found.parent_code and found.parent_code != regions.PROVINCE_CODE:
            city = await regions.get_region(uow, found.parent_code)
            region = f"{html.quote(city.name(locale))} {region}"
    trade: str | None = None
    if filters.trade:
        names = {t.code: t.name(locale) for t in await postings.list_trades(uow)}
        trade = html.quote(names.get(filters.trade, filters.trade))
    grade: str | None = None
    if filters.grade:
        name = (await grade_names(uow, locale)).get(filters.grade, str(filters.grade))
        grade = tr("search.grade_min", grade=name) if filters.kind == "s" else html.quote(name)
    ring = {
        "m": _("search.ring_market"),
        "e": _("search.ring_escalated"),
        "i": _("search.ring_internal"),
    }.get(filters.ring)
    return {
        "region": region,
        "trade": trade,
        "grade": grade,
        "price": PRICE_LABELS.get(filters.price),
        "ring": ring,
    }


def kind_text(filters: Filters) -> str:
    return _("search.kind_shortage") if filters.kind == "s" else _("search.kind_idle")


async def filters_text(uow: UnitOfWork, filters: Filters, locale: str) -> str:
    d = await describe(uow, filters, locale)
    shown = {k: v if v is not None else _(ANY_KEYS[k]) for k, v in d.items()}
    return "\n".join(
        (
            tr("search.filters_title", kind=kind_text(filters)),
            tr("search.filter_region", value=Safe(shown["region"])),
            tr("search.filter_trade", value=Safe(shown["trade"])),
            tr("search.filter_grade", value=Safe(shown["grade"])),
            tr("search.filter_price", value=Safe(shown["price"])),
            tr("search.filter_ring", value=Safe(shown["ring"])),
            "",
            _("search.filters_hint"),
        )
    )


async def show_filters(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    account: AccountView,
    filters: Filters,
    locale: str,
) -> None:
    text = await filters_text(uow, filters, locale)
    await end_read(uow)
    markup = filters_keyboard(can_toggle_kind=account.role is Role.DISPATCHER, kind=filters.kind)
    if isinstance(target, Message):
        await target.answer(text, reply_markup=markup)
    else:
        await edit_or_send(target, text, markup)


async def search_start(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView, i18n: I18n
) -> None:
    filters = await current_filters(state, account)
    await save_filters(state, filters)
    await show_filters(message, uow, account, filters, locale_of(i18n))


async def filter_action(
    query: CallbackQuery,
    callback_data: SearchCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    i18n: I18n,
) -> None:
    locale = locale_of(i18n)
    filters = await current_filters(state, account)
    a, f, v = callback_data.a, callback_data.f, callback_data.v
    if a == "show":
        await query.answer()
        await show_filters(query, uow, account, filters, locale)
    elif a == "open":
        await open_filter(query, uow, account, filters, f, locale)
    elif a == "city" and v.isdigit() and len(v) == 6:
        await open_counties(query, uow, v, locale)
    elif a == "set":
        changed = set_filter(filters, account, f, v)
        if changed is None or not await offered(uow, f, v):
            await end_read(uow)
            await query.answer(_("common.stale"))
            return
        await save_filters(state, changed)
        await query.answer()
        await show_filters(query, uow, account, changed, locale)
    elif a == "go":
        await query.answer()
        await show_page(
            query, uow, state, account, filters, locale, await page_callback(state, filters)
        )
    else:
        await query.answer(_("common.stale"))


def set_filter(filters: Filters, account: AccountView, f: str, v: str) -> Filters | None:
    """The filters with one value changed; None for a value no button offers."""
    if f == "k" and v in KIND_OF_CODE and account.role is Role.DISPATCHER:
        return replace(filters, kind=v)
    if f == "r" and (v == "" or (v.isdigit() and len(v) == 6)):
        return replace(filters, region=v)
    if f == "t" and len(v) <= 30 and all(c.isalnum() or c == "_" for c in v):
        return replace(filters, trade=v)
    if f == "g" and (v == "" or (v.isdigit() and len(v) == 1)):
        return replace(filters, grade=int(v or 0))
    if f == "p" and (v == "" or v in PRICE_PRESETS):
        return replace(filters, price=v)
    if f == "rg" and (v == "" or v in RINGS):
        if v == "i" and account.enterprise_id is None:
            return None
        return replace(filters, ring=v)
    return None


async def offered(uow: UnitOfWork, f: str, v: str) -> bool:
    """A region, trade or grade value is one of the reference data's (a button offers it)."""
    if v == "":
        return True
    if f == "r":
        try:
            await regions.get_region(uow, v)
        except DomainError:
            return False
    elif f == "t":
        return v in {t.code for t in await postings.list_trades(uow)}
    elif f == "g":
        return int(v) in {g.level for g in await postings.list_grades(uow)}
    return True


async def open_filter(
    query: CallbackQuery,
    uow: UnitOfWork,
    account: AccountView,
    filters: Filters,
    f: str,
    locale: str,
) -> None:
    if f == "r":
        cities = await regions.children(uow, regions.PROVINCE_CODE)
        await end_read(uow)
        markup = choices_keyboard(
            "r",
            [(c.name(locale), c.code) for c in cities],
            any_text=_("search.any_region"),
            action="city",
        )
        text = _("search.pick_city")
    elif f == "t":
        trades = await postings.list_trades(uow)
        await end_read(uow)
        markup = choices_keyboard(
            "t", [(t.name(locale), t.code) for t in trades], any_text=_("search.any_trade")
        )
        text = _("search.pick_trade")
    elif f == "g":
        grades = await postings.list_grades(uow)
        await end_read(uow)
        markup = choices_keyboard(
            "g",
            [(g.name(locale), str(g.level)) for g in grades],
            any_text=_("search.any_grade"),
        )
        text = _("search.pick_grade")
    elif f == "p":
        markup = choices_keyboard(
            "p",
            [(label, code) for code, label in PRICE_LABELS.items()],
            any_text=_("search.any_price"),
            per_row=1,
        )
        text = _("search.pick_price")
    elif f == "rg":
        rings = [(_("search.ring_market"), "m"), (_("search.ring_escalated"), "e")]
        if account.enterprise_id is not None:
            rings.append((_("search.ring_internal"), "i"))
        markup = choices_keyboard("rg", rings, any_text=_("search.any_ring"), per_row=1)
        text = _("search.pick_ring")
    else:
        await query.answer(_("common.stale"))
        return
    await query.answer()
    await edit_or_send(query, text, markup)


async def open_counties(
    query: CallbackQuery, uow: UnitOfWork, city_code: str, locale: str
) -> None:
    city = await regions.get_region(uow, city_code)
    counties = await regions.children(uow, city.code)
    await end_read(uow)
    markup = choices_keyboard(
        "r",
        [(c.name(locale), c.code) for c in counties],
        any_text=tr("search.all_of_city", city=city.name(locale)),
        any_value=city.code,
        extra=[sf(_("search.btn_other_city"), "open", "r")],
    )
    await query.answer()
    await edit_or_send(query, tr("search.pick_county", city=city.name(locale)), markup)


# --- result pages -----------------------------------------------------------------------------


def result_line(n: int, card: PostingCard, locale: str, grades: dict[int, str]) -> str:
    grade = grades.get(card.grade_level, str(card.grade_level))
    return tr(
        "search.result_line",
        n=n,
        name=card.enterprise_name,
        place=place_name(card, locale),
        trade=trade_name(card, locale),
        grade=grade,
        open=card.open_headcount,
        price=Safe(price_text(tr, card.price)),
    )


def result_label(n: int, card: PostingCard, locale: str) -> str:
    name = card.enterprise_name
    if len(name) > LABEL_LEN:
        name = name[: LABEL_LEN - 1] + "…"
    return f"{n}. {name} · {trade_name(card, locale)} · {format_money(card.price)}"


async def show_page(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    filters: Filters,
    locale: str,
    this_page: SearchPageCb,
) -> None:
    cursor = cursor_of(this_page.at, this_page.id) if this_page.d in ("n", "p") else None
    page = await search_postings(uow, account.actor(), filters.query(cursor, this_page.d))
    grades = await grade_names(uow, locale)
    described = await describe(uow, filters, locale)
    await end_read(uow)
    # the kind, then only the filters that narrow something
    summary = " · ".join([html.quote(kind_text(filters)), *(v for v in described.values() if v)])
    lines = [tr("search.results_title", filters=Safe(summary))]
    if not page.items:
        lines.append(_("search.nothing_found"))
    lines += [result_line(n, card, locale, grades) for n, card in enumerate(page.items, 1)]
    prev_cb = next_cb = None
    if page.prev_cursor is not None:
        at, row_id = anchor_of(page.prev_cursor)
        prev_cb = await page_callback(state, filters, at=at, row_id=row_id, d="p")
    if page.next_cursor is not None:
        at, row_id = anchor_of(page.next_cursor)
        next_cb = await page_callback(state, filters, at=at, row_id=row_id, d="n")
    markup = results_keyboard(
        [
            (result_label(n, card, locale), KIND_CODE[card.kind], card.id)
            for n, card in enumerate(page.items, 1)
        ],
        prev_cb=prev_cb,
        next_cb=next_cb,
    )
    message_id = query.message.message_id if query.message is not None else 0
    await state.update_data({BACK_KEY: [this_page.pack(), message_id]})
    await edit_or_send(query, "\n".join(lines), markup)


async def page_tapped(
    query: CallbackQuery,
    callback_data: SearchPageCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    i18n: I18n,
) -> None:
    filters = await filters_of_page(state, callback_data)
    if filters is None or callback_data.d not in ("", "n", "p"):
        await query.answer(_("common.stale"))
        return
    await query.answer()
    await show_page(query, uow, state, account, filters, locale_of(i18n), callback_data)


# --- the card ---------------------------------------------------------------------------------


def can_propose(card: PostingCard, account: AccountView, now: datetime) -> bool:
    """Anyone of the other side may: an idle posting is asked for by a project (a foreman or
    a dispatcher), a shortage is offered workers by a labour company's dispatcher."""
    return is_live(card, now) and may_propose_on(account.role, card.kind)


async def view_posting(
    query: CallbackQuery,
    callback_data: ViewPostingCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    i18n: I18n,
) -> None:
    kind = KIND_OF_CODE.get(callback_data.kind)
    if kind is None:
        await query.answer(_("common.stale"))
        return
    locale = locale_of(i18n)
    card = await get_posting_card(uow, account.actor(), kind, callback_data.id)
    now = uow.now()
    grades = await grade_names(uow, locale)
    await end_read(uow)
    text = posting_card_text(card, tr, locale, grades, now)
    back = (await state.get_data()).get(BACK_KEY)
    message_id = query.message.message_id if query.message is not None else None
    back_data = (
        str(back[0])
        if isinstance(back, list) and len(back) == 2 and back[1] == message_id
        else None
    )
    mine = max(callback_data.via, 0)
    propose = propose_callback(card, mine) if can_propose(card, account, now) else None
    await query.answer()
    if mine and isinstance(query.message, Message):
        # from a match notification: the card comes below it, the notification stays
        await query.message.answer(text, reply_markup=card_keyboard(propose=propose, back=None))
        return
    await edit_or_send(query, text, card_keyboard(propose=propose, back=back_data))


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.FOREMAN, Role.DISPATCHER)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)
    router.message.register(search_start, MenuText(SEARCH))
    router.callback_query.register(filter_action, SearchCb.filter())
    router.callback_query.register(page_tapped, SearchPageCb.filter())
    router.callback_query.register(view_posting, ViewPostingCb.filter())
    return router
