"""📤 Declare idle (赋闲工人提报), the company dispatcher's dialog:

county (the company's own counties first, or a city then a county) → trade → grade → pick
workers (multi-select, 6 a page) → asking monthly price (guide price shown, a warning past
±30 %) → contact (prefilled from the profile) → summary with Edit / Confirm → posted, with its
best matches (internal ones first).

FSM data keeps codes and worker ids only (never ID numbers); nothing is written before Confirm.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import ProposeCb, ViewPostingCb
from bot.filters import HasRole
from bot.i18n import Safe, tr
from bot.keyboards.common import ALL_MENU_KEYS, DECLARE_IDLE, MenuText, cancel_button
from bot.keyboards.idle import (
    PICK_PAGE,
    IdleAllCb,
    IdleBackCb,
    IdleCityCb,
    IdleContactCb,
    IdleCountyCb,
    IdleDoneCb,
    IdleGradeCb,
    IdlePageCb,
    IdlePickCb,
    IdlePriceCb,
    IdleSummaryCb,
    IdleTradeCb,
    cities_keyboard,
    contact_keyboard,
    counties_of_city_keyboard,
    county_keyboard,
    grade_keyboard,
    picker_keyboard,
    price_keyboard,
    price_warning_keyboard,
    summary_keyboard,
    trade_keyboard,
)
from bot.render.errors import alert_text, error_text
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.contact import Contact, own_contact, parse_contact
from core.domain.enums import RegionLevel, Role
from core.domain.errors import DomainError, PermissionDenied, ValidationError
from core.domain.money import format_money
from core.domain.rules import may_declare_idle
from core.domain.values import parse_price
from core.services import guide_prices, matching, postings, regions, workers
from core.services.accounts import AccountView
from core.services.postings import DeclareIdleCommand
from core.services.workers import WorkerView

MATCHES_SHOWN = 3
PROVINCE = "140000"

# FSM data keys of this dialog
COUNTY = "idle_county"
TRADE = "idle_trade"
GRADE = "idle_grade"
SELECTED = "idle_sel"
OFFSET = "idle_offset"
PRICE = "idle_price"
PENDING_PRICE = "idle_pending_price"  # typed, far from the guide, waiting for "keep"
CONTACT = "idle_contact"  # [name, phone]
FRESH: dict[str, Any] = {
    COUNTY: None,
    TRADE: None,
    GRADE: None,
    SELECTED: [],
    OFFSET: 0,
    PRICE: None,
    PENDING_PRICE: None,
    CONTACT: None,
}


class DeclareIdle(StatesGroup):
    county = State()
    trade = State()
    grade = State()
    workers = State()
    price = State()
    contact = State()
    summary = State()


# --- small helpers ---------------------------------------------------------------------------


def _selected(data: dict[str, Any]) -> list[int]:
    return [int(w) for w in data.get(SELECTED) or []]


def _rating(w: WorkerView) -> str:
    return f"★{w.avg_rating}" if w.avg_rating is not None else _("idle.unrated")


async def _grade_names(uow: UnitOfWork, locale: str) -> dict[int, str]:
    return {g.level: g.name(locale) for g in await postings.list_grades(uow)}


async def _trade_name(uow: UnitOfWork, code: str, locale: str) -> str:
    names = {t.code: t.name(locale) for t in await postings.list_trades(uow)}
    return names.get(code, code)


def _eligible(w: WorkerView, trade: str, grade: int) -> bool:
    # the views come from workers.get_workers, which returns the actor's own company's only
    return may_declare_idle(
        w.terms, enterprise_id=w.enterprise_id, trade_code=trade, grade_level=grade
    )


# --- entry and county ------------------------------------------------------------------------


async def start(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    actor = account.actor()
    trades = [t for t in await workers.worker_trade_counts(uow, actor) if t.declarable > 0]
    if not trades:
        await state.set_state(None)
        await message.answer(_("idle.nobody_idle"))
        return
    counties = await regions.company_counties(uow, actor)
    await state.set_state(DeclareIdle.county)
    await state.update_data(FRESH)
    await message.answer(
        _("idle.ask_county"), reply_markup=county_keyboard(counties, account.locale)
    )


async def _show_counties(query: CallbackQuery, uow: UnitOfWork, account: AccountView) -> None:
    counties = await regions.company_counties(uow, account.actor())
    await edit_or_send(query, _("idle.ask_county"), county_keyboard(counties, account.locale))


async def city_chosen(
    query: CallbackQuery, callback_data: IdleCityCb, uow: UnitOfWork, account: AccountView
) -> None:
    if callback_data.code == 0:
        cities = await regions.children(uow, PROVINCE)
        await query.answer()
        await edit_or_send(query, _("idle.ask_city"), cities_keyboard(cities, account.locale))
        return
    city = await regions.get_region(uow, str(callback_data.code))
    if city.level is not RegionLevel.CITY:
        raise ValidationError("error.unknown_region")
    counties = await regions.children(uow, city.code)
    await query.answer()
    await edit_or_send(
        query,
        tr("idle.ask_county_of", city=city.name(account.locale)),
        counties_of_city_keyboard(counties, account.locale),
    )


async def county_chosen(
    query: CallbackQuery,
    callback_data: IdleCountyCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    county = await regions.get_region(uow, str(callback_data.code))
    if county.level is not RegionLevel.COUNTY:
        raise ValidationError("error.unknown_region")
    await state.update_data({COUNTY: county.code})
    await state.set_state(DeclareIdle.trade)
    await query.answer()
    await _show_trades(query, uow, account)


# --- trade and grade -------------------------------------------------------------------------


async def _show_trades(query: CallbackQuery, uow: UnitOfWork, account: AccountView) -> None:
    trades = [
        t for t in await workers.worker_trade_counts(uow, account.actor()) if t.declarable > 0
    ]
    await edit_or_send(query, _("idle.ask_trade"), trade_keyboard(trades, account.locale))


async def trade_chosen(
    query: CallbackQuery,
    callback_data: IdleTradeCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    actor = account.actor()
    trades = {t.trade_code: t for t in await workers.worker_trade_counts(uow, actor)}
    chosen = trades.get(callback_data.code)
    if chosen is None or chosen.declarable <= 0:
        await query.answer(_("common.stale"))
        return
    data = await state.get_data()
    if data.get(TRADE) != chosen.trade_code:
        await state.update_data({TRADE: chosen.trade_code, GRADE: None, SELECTED: [], OFFSET: 0})
    await state.set_state(DeclareIdle.grade)
    await query.answer()
    await _show_grades(query, uow, account, chosen.trade_code)


async def _show_grades(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, trade: str
) -> None:
    grades = await workers.declarable_grade_counts(uow, account.actor(), trade)
    text = tr("idle.ask_grade", trade=await _trade_name(uow, trade, account.locale))
    await edit_or_send(query, text, grade_keyboard(grades, account.locale))


async def grade_chosen(
    query: CallbackQuery,
    callback_data: IdleGradeCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    data = await state.get_data()
    trade = data.get(TRADE)
    if not trade:
        await query.answer(_("common.stale"))
        return
    grades = {
        g.level: g for g in await workers.declarable_grade_counts(uow, account.actor(), trade)
    }
    chosen = grades.get(callback_data.level)
    if chosen is None or chosen.at_or_above <= 0:
        await query.answer(_("common.stale"))
        return
    if data.get(GRADE) != chosen.level:
        # a stricter grade may rule out workers picked before: start the pick afresh
        await state.update_data({GRADE: chosen.level, SELECTED: [], OFFSET: 0})
    await state.set_state(DeclareIdle.workers)
    await query.answer()
    await _show_picker(query, uow, state, account, 0)


async def back(
    query: CallbackQuery,
    callback_data: IdleBackCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    data = await state.get_data()
    await query.answer()
    if callback_data.to == "trade" and data.get(COUNTY):
        await state.set_state(DeclareIdle.trade)
        await _show_trades(query, uow, account)
    elif callback_data.to == "grade" and data.get(TRADE):
        await state.set_state(DeclareIdle.grade)
        await _show_grades(query, uow, account, str(data[TRADE]))
    else:
        await state.set_state(DeclareIdle.county)
        await _show_counties(query, uow, account)


# --- picking workers -------------------------------------------------------------------------


async def _picker(
    uow: UnitOfWork, state: FSMContext, account: AccountView, offset: int, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    data = await state.get_data()
    trade, grade = str(data[TRADE]), int(data[GRADE])
    selected = set(_selected(data))
    page = await workers.declarable_workers(
        uow, account.actor(), trade_code=trade, max_grade=grade, offset=offset, limit=PICK_PAGE
    )
    names = await _grade_names(uow, account.locale)
    lines = [note] if note else []
    lines.append(
        tr(
            "idle.pick_title",
            trade=await _trade_name(uow, trade, account.locale),
            grade=names.get(grade, str(grade)),
            total=page.total,
        )
    )
    for number, w in enumerate(page.items, start=page.offset + 1):
        lines.append(
            tr(
                "idle.pick_line",
                n=number,
                mark="✅" if w.id in selected else "⬜",
                name=w.name,
                id=w.id_masked,
                grade=names.get(w.grade_level, str(w.grade_level)),
                rating=_rating(w),
            )
        )
    lines.append(tr("idle.selected_count", count=len(selected)))
    await state.update_data({OFFSET: page.offset})
    return "\n".join(lines), picker_keyboard(page.items, selected, page.offset, page.total)


async def _show_picker(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    offset: int,
    note: str = "",
) -> None:
    text, markup = await _picker(uow, state, account, offset, note)
    await edit_or_send(query, text, markup)


async def worker_toggled(
    query: CallbackQuery,
    callback_data: IdlePickCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    data = await state.get_data()
    selected = _selected(data)
    wid = callback_data.worker_id
    if callback_data.on and wid not in selected:
        found = await workers.get_workers(uow, account.actor(), [wid])
        if not found:
            # another company's worker (or none at all): the id came from the client
            raise PermissionDenied("error.worker_not_yours")
        if not _eligible(found[0], str(data[TRADE]), int(data[GRADE])):
            await query.answer(_("idle.not_selectable"), show_alert=True)
            await _show_picker(query, uow, state, account, callback_data.offset)
            return
        selected.append(wid)
    elif not callback_data.on and wid in selected:
        selected.remove(wid)
    await state.update_data({SELECTED: selected})
    await query.answer()
    await _show_picker(query, uow, state, account, callback_data.offset)


async def page_turned(
    query: CallbackQuery,
    callback_data: IdlePageCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    await query.answer()
    await _show_picker(query, uow, state, account, max(0, callback_data.offset))


async def page_selected(
    query: CallbackQuery,
    callback_data: IdleAllCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    data = await state.get_data()
    page = await workers.declarable_workers(
        uow,
        account.actor(),
        trade_code=str(data[TRADE]),
        max_grade=int(data[GRADE]),
        offset=max(0, callback_data.offset),
        limit=PICK_PAGE,
    )
    selected = _selected(data)
    selected += [w.id for w in page.items if w.id not in selected]
    await state.update_data({SELECTED: selected})
    await query.answer()
    await _show_picker(query, uow, state, account, page.offset)


async def picking_done(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    selected = _selected(data)
    if not selected:
        await query.answer(_("idle.pick_none"), show_alert=True)
        return
    # drop whoever stopped qualifying while the dialog was open
    trade, grade = str(data[TRADE]), int(data[GRADE])
    views = await workers.get_workers(uow, account.actor(), selected)
    kept = [w.id for w in views if _eligible(w, trade, grade)]
    if len(kept) != len(selected):
        await state.update_data({SELECTED: kept})
        if not kept:
            await query.answer(_("idle.pick_none"), show_alert=True)
            await _show_picker(query, uow, state, account, int(data.get(OFFSET) or 0))
            return
    await query.answer()
    await _advance(query, uow, state, account)


# --- the next missing field, or the summary ----------------------------------------------


async def _advance(
    query: CallbackQuery | None,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    message: Message | None = None,
) -> None:
    data = await state.get_data()
    if not data.get(PRICE):
        await state.set_state(DeclareIdle.price)
        text, markup = await _price_prompt(uow, data, account)
    elif not data.get(CONTACT):
        await state.set_state(DeclareIdle.contact)
        text, markup = _contact_prompt(account)
    else:
        await state.set_state(DeclareIdle.summary)
        text, markup = await _summary(uow, data, account)
    if query is not None:
        await edit_or_send(query, text, markup)
    elif message is not None:
        await message.answer(text, reply_markup=markup)


# --- price -----------------------------------------------------------------------------------


async def _guide(uow: UnitOfWork, data: dict[str, Any]) -> Decimal | None:
    return await guide_prices.current_guide_price(
        uow, regions.city_of(str(data[COUNTY])), str(data[TRADE]), int(data[GRADE])
    )


async def _price_prompt(
    uow: UnitOfWork, data: dict[str, Any], account: AccountView
) -> tuple[str, InlineKeyboardMarkup]:
    guide = await _guide(uow, data)
    if guide is None:
        text = _("idle.ask_price_no_guide")
    else:
        text = tr("idle.ask_price", guide=format_money(guide))
    return text, price_keyboard(guide)


async def price_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    try:
        price = parse_price(message.text or "")
    except ValidationError as exc:
        _text, markup = await _price_prompt(uow, data, account)
        await message.answer(error_text(exc), reply_markup=markup)
        return
    guide = await _guide(uow, data)
    if guide_prices.is_far_from_guide(price, guide):
        assert guide is not None
        pct = guide_prices.price_deviation(price, guide)
        await state.update_data({PENDING_PRICE: str(price)})
        await message.answer(
            tr(
                "idle.price_warning",
                price=format_money(price),
                guide=format_money(guide),
                pct=f"{pct:+}",
            ),
            reply_markup=price_warning_keyboard(price),
        )
        return
    await state.update_data({PRICE: str(price), PENDING_PRICE: None})
    await _advance(None, uow, state, account, message)


async def price_expected(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    text, markup = await _price_prompt(uow, await state.get_data(), account)
    await message.answer(text, reply_markup=markup)


async def price_button(
    query: CallbackQuery,
    callback_data: IdlePriceCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    data = await state.get_data()
    if callback_data.action == "keep" and data.get(PENDING_PRICE):
        price: Decimal | None = Decimal(str(data[PENDING_PRICE]))
    elif callback_data.action == "guide":
        price = await _guide(uow, data)
    else:
        price = None
    if price is None:
        await query.answer(_("common.stale"))
        return
    await state.update_data({PRICE: str(price), PENDING_PRICE: None})
    await query.answer()
    await _advance(query, uow, state, account)


# --- contact ---------------------------------------------------------------------------------


def _profile_contact(account: AccountView) -> Contact | None:
    return own_contact(account.display_name, account.phone)


def _contact_prompt(account: AccountView) -> tuple[str, InlineKeyboardMarkup]:
    profile = _profile_contact(account)
    if profile is None:
        return _("idle.ask_contact"), InlineKeyboardMarkup(inline_keyboard=[[cancel_button()]])
    return (
        tr("idle.ask_contact_prefilled", name=profile.name, phone=profile.phone),
        contact_keyboard(profile.name, profile.phone),
    )


async def contact_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    try:
        contact = parse_contact(message.text, own=_profile_contact(account))
    except ValidationError as exc:
        _text, markup = _contact_prompt(account)
        await message.answer(error_text(exc), reply_markup=markup)
        return
    await state.update_data({CONTACT: [contact.name, contact.phone]})
    await _advance(None, uow, state, account, message)


async def contact_expected(message: Message, account: AccountView) -> None:
    text, markup = _contact_prompt(account)
    await message.answer(text, reply_markup=markup)


async def contact_from_profile(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    profile = _profile_contact(account)
    if profile is None:
        await query.answer(_("common.stale"))
        return
    await state.update_data({CONTACT: [profile.name, profile.phone]})
    await query.answer()
    await _advance(query, uow, state, account)


# --- summary and confirm -----------------------------------------------------------------


async def _summary(
    uow: UnitOfWork, data: dict[str, Any], account: AccountView, note: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    locale = account.locale
    county = await regions.get_region(uow, str(data[COUNTY]))
    city = await regions.get_region(uow, regions.city_of(county.code))
    grade = int(data[GRADE])
    names = await _grade_names(uow, locale)
    chosen = await workers.get_workers(uow, account.actor(), _selected(data))
    price = Decimal(str(data[PRICE]))
    guide = await _guide(uow, data)
    name, phone = data[CONTACT]
    if locale.startswith("zh"):
        crew = "、".join(f"{w.name}（{names.get(w.grade_level, w.grade_level)}）" for w in chosen)
    else:
        crew = ", ".join(f"{w.name} ({names.get(w.grade_level, w.grade_level)})" for w in chosen)
    lines = [note] if note else []
    lines += [
        _("idle.summary_title"),
        tr("idle.summary_region", county=county.name(locale), city=city.name(locale)),
        tr(
            "idle.summary_trade",
            trade=await _trade_name(uow, str(data[TRADE]), locale),
            grade=names.get(grade, str(grade)),
        ),
        tr("idle.summary_workers", count=len(chosen), workers=crew),
        tr("idle.summary_price", price=format_money(price)),
    ]
    if guide is not None:
        pct = guide_prices.price_deviation(price, guide)
        if guide_prices.is_far_from_guide(price, guide):
            lines.append(tr("idle.summary_guide_far", guide=format_money(guide), pct=f"{pct:+}"))
        else:
            lines.append(tr("idle.summary_guide", guide=format_money(guide), pct=f"{pct:+}"))
    lines.append(tr("idle.summary_contact", name=name, phone=phone))
    return "\n".join(lines), summary_keyboard()


async def summary_action(
    query: CallbackQuery,
    callback_data: IdleSummaryCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    action = callback_data.action
    if action == "ok":
        await _confirm(query, uow, state, account)
    elif action == "workers":
        await query.answer()
        await state.set_state(DeclareIdle.workers)
        await _show_picker(query, uow, state, account, 0)
    elif action in ("price", "contact"):
        # forget the value: the dialog asks for it again, then returns to the summary
        await query.answer()
        await state.update_data({PRICE if action == "price" else CONTACT: None})
        await _advance(query, uow, state, account)
    else:
        await query.answer(_("common.stale"))


async def _confirm(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    selected = _selected(data)
    name, phone = data[CONTACT]
    command = DeclareIdleCommand(
        county_code=str(data[COUNTY]),
        trade_code=str(data[TRADE]),
        grade_level=int(data[GRADE]),
        worker_ids=tuple(selected),
        price=Decimal(str(data[PRICE])),
        contact_name=name,
        contact_phone=phone,
    )
    actor = account.actor()
    try:
        posting = await postings.declare_idle(uow, actor, command)
    except DomainError as exc:
        worker_id = exc.params.get("worker_id")
        if worker_id not in selected:
            raise
        # one worker went (busy, dispatched, posted elsewhere): offer the rest again
        await uow.rollback()
        selected.remove(worker_id)
        await state.update_data({SELECTED: selected})
        note = error_text(exc)
        await query.answer(alert_text(note), show_alert=True)
        if not selected:
            await state.set_state(DeclareIdle.workers)
            await _show_picker(query, uow, state, account, 0, note)
            return
        text, summary_markup = await _summary(uow, await state.get_data(), account, note)
        await edit_or_send(query, text, summary_markup)
        return
    await state.set_state(None)
    await state.update_data(FRESH)
    await query.answer(_("idle.posted_short"))
    matches = await matching.match_posting(uow, actor, "idle", posting.id, limit=MATCHES_SHOWN)
    text, markup = _posted(posting.id, posting.headcount, matches, account.locale)
    await edit_or_send(query, text, markup)


def _posted(
    posting_id: int, headcount: int, matches: Sequence[matching.MatchView], locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [tr("idle.posted", id=posting_id, count=headcount)]
    if not matches:
        lines.append(_("idle.no_matches"))
        return "\n".join(lines), None
    lines.append(_("idle.matches_title"))
    rows = []
    for number, m in enumerate(matches, start=1):
        card = m.card
        where = card.county_name_zh if locale.startswith("zh") else card.county_name_en
        trade = card.trade_name_zh if locale.startswith("zh") else card.trade_name_en
        lines.append(
            tr(
                "idle.match_line",
                n=number,
                internal=Safe(_("idle.internal_tag") if m.internal else ""),
                company=card.enterprise_name,
                project=card.project_name or "",
                county=where,
                trade=trade,
                open=card.open_headcount,
                price=format_money(card.price),
                score=f"{m.score:.0f}",
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("idle.view_match").format(n=number),
                    callback_data=ViewPostingCb(kind="s", id=m.posting_id).pack(),
                ),
                InlineKeyboardButton(
                    text=_("idle.propose_match").format(n=number),
                    callback_data=ProposeCb(shortage_id=m.posting_id, idle_id=posting_id).pack(),
                ),
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


# --- the router --------------------------------------------------------------------------


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.DISPATCHER))
    router.callback_query.filter(HasRole(Role.DISPATCHER))
    not_menu = ~MenuText(*ALL_MENU_KEYS)

    router.message.register(start, MenuText(DECLARE_IDLE))
    router.callback_query.register(city_chosen, IdleCityCb.filter(), DeclareIdle.county)
    router.callback_query.register(county_chosen, IdleCountyCb.filter(), DeclareIdle.county)
    router.callback_query.register(trade_chosen, IdleTradeCb.filter(), DeclareIdle.trade)
    router.callback_query.register(grade_chosen, IdleGradeCb.filter(), DeclareIdle.grade)
    router.callback_query.register(
        back,
        IdleBackCb.filter(),
        DeclareIdle.county,
        DeclareIdle.trade,
        DeclareIdle.grade,
        DeclareIdle.workers,
    )
    router.callback_query.register(worker_toggled, IdlePickCb.filter(), DeclareIdle.workers)
    router.callback_query.register(page_turned, IdlePageCb.filter(), DeclareIdle.workers)
    router.callback_query.register(page_selected, IdleAllCb.filter(), DeclareIdle.workers)
    router.callback_query.register(picking_done, IdleDoneCb.filter(), DeclareIdle.workers)
    router.message.register(price_typed, DeclareIdle.price, F.text, not_menu)
    router.message.register(price_expected, DeclareIdle.price, not_menu)
    router.callback_query.register(price_button, IdlePriceCb.filter(), DeclareIdle.price)
    router.message.register(contact_typed, DeclareIdle.contact, F.text, not_menu)
    router.message.register(contact_expected, DeclareIdle.contact, not_menu)
    router.callback_query.register(
        contact_from_profile, IdleContactCb.filter(), DeclareIdle.contact
    )
    router.callback_query.register(summary_action, IdleSummaryCb.filter(), DeclareIdle.summary)
    return router
