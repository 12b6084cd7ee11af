"""📋 My postings: the actor's shortages (a foreman's projects', a dispatcher's company's) and,
for a dispatcher, the company's idle postings: paginated lists, a card per posting, and its
actions: change headcount or price, close as filled, cancel, escalate, matches.

Every action carries the version the card showed; the services refuse a stale one
("error.stale"), the user is told so and gets the fresh card. Rights are the services' to check:
a forged id of another company's posting ends in the error handler and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
from bot.i18n import N_, tr
from bot.keyboards.common import ALL_MENU_KEYS, MY_POSTINGS, MenuText, cancel_button
from bot.keyboards.postings import (
    KIND_CODES,
    KINDS_BY_CODE,
    MpActCb,
    MpCardCb,
    MpListCb,
    MpValCb,
    back_to_card,
    card_keyboard,
    confirm_keyboard,
    headcount_edit_keyboard,
    list_keyboard,
    matches_keyboard,
    price_edit_keyboard,
    price_warning_edit_keyboard,
)
from bot.middlewares.db import end_read
from bot.render.errors import alert_text, error_text
from bot.render.messages import edit_or_send
from bot.render.postings import (
    deviation_line,
    grade_name,
    guide_line,
    locale,
    match_lines,
    money,
    ring_text,
    status_text,
    trade_name,
    zh,
)
from core.db.uow import UnitOfWork
from core.domain.enums import PostingStatus, Ring, Role
from core.domain.errors import Conflict, ValidationError
from core.domain.timeutil import local_date
from core.domain.values import MAX_HEADCOUNT, parse_price
from core.services import postings
from core.services.accounts import AccountView
from core.services.guide_prices import current_guide_price, is_far_from_guide
from core.services.matching import match_posting
from core.services.postings import IdlePostingView, ShortageView
from core.services.regions import get_region
from core.services.search import PostingKind, list_my_postings, load_cards

MATCHES_SHOWN = 5
PAGE_SIZE = 5

Event = Message | CallbackQuery
View = ShortageView | IdlePostingView


class MyPostingEdit(StatesGroup):
    headcount = State()
    price = State()
    price_confirm = State()  # far from the guide price: keep it or type another


# --- the list -------------------------------------------------------------------------------


async def _list(
    uow: UnitOfWork, account: AccountView, kind: str, live: bool, cursor: str, direction: str
) -> tuple[str, InlineKeyboardMarkup]:
    page = await list_my_postings(
        uow,
        account.actor(),
        kind=kind,
        live=live,
        cursor=cursor or None,
        direction="prev" if direction == "p" else "next",
        limit=PAGE_SIZE,
    )
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    title = tr(
        "mp.title",
        kind=_("mp.tab_shortage") if kind == "shortage" else _("mp.tab_idle"),
        which=_("mp.live") if live else _("mp.closed"),
    )
    lines, labels = [title], []
    for card in page.items:
        trade = trade_name(trades, card.trade_code)
        grade = grade_name(grades, card.grade_level)
        params: dict[str, Any] = dict(
            id=card.id,
            trade=trade,
            grade=grade,
            filled=card.filled_count,
            headcount=card.headcount,
            price=money(card.price),
            status=status_text(card.status) + (" 📢" if card.ring == Ring.ESCALATED else ""),
        )
        if kind == "shortage":
            lines.append(tr("mp.line_shortage", project=card.project_name or "", **params))
        else:
            county = card.county_name_zh if zh() else card.county_name_en
            lines.append(tr("mp.line_idle", county=county, **params))
        labels.append(_("mp.button").format(id=card.id, trade=trade, headcount=card.headcount))
    if not page.items:
        lines.append(_("mp.empty"))
    both = account.role is Role.DISPATCHER
    markup = list_keyboard(page, kind=kind, live=live, both_kinds=both, labels=labels)
    return "\n".join(lines), markup


async def show_list(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await state.clear()
    text, markup = await _list(uow, account, "shortage", True, "", "n")
    await message.answer(text, reply_markup=markup)


async def list_page(
    query: CallbackQuery,
    callback_data: MpListCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    kind = KINDS_BY_CODE.get(callback_data.k)
    if kind is None or callback_data.d not in ("n", "p"):
        await query.answer(_("common.stale"))
        return
    await state.clear()
    text, markup = await _list(
        uow, account, kind, bool(callback_data.live), callback_data.c, callback_data.d
    )
    await query.answer()
    await edit_or_send(query, text, markup)


# --- the card -------------------------------------------------------------------------------


async def _view(uow: UnitOfWork, account: AccountView, kind: str, posting_id: int) -> View:
    """The posting as its own side sees it; the service checks the rights."""
    if kind == "shortage":
        return await postings.get_shortage(uow, account.actor(), posting_id)
    return await postings.get_idle(uow, account.actor(), posting_id)


def _grade_of(view: View) -> int:
    return view.min_grade if isinstance(view, ShortageView) else view.grade_level


async def _guide(uow: UnitOfWork, view: View) -> tuple[Decimal | None, str]:
    guide = await current_guide_price(uow, view.city_code, view.trade_code, _grade_of(view))
    city = await get_region(uow, view.city_code)
    return guide, city.name(locale())


async def _card(
    uow: UnitOfWork, account: AccountView, kind: str, posting_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    view = await _view(uow, account, kind, posting_id)
    card = (await load_cards(uow, kind, [posting_id]))[posting_id]
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    trade = trade_name(trades, view.trade_code)
    grade = grade_name(grades, _grade_of(view))
    guide, city = await _guide(uow, view)
    live = PostingStatus(view.status).is_live
    title = N_("mp.card_shortage") if kind == "shortage" else N_("mp.card_idle")
    lines = [tr(title, id=view.id, status=status_text(view.status))]
    if isinstance(view, ShortageView):
        lines.append(tr("mp.card_project", project=view.project_name))
    county = card.county_name_zh if zh() else card.county_name_en
    lines += [
        tr("mp.card_place", county=county, city=city),
        tr("mp.card_trade", trade=trade, grade=grade),
        tr(
            "mp.card_count",
            headcount=view.headcount,
            filled=view.filled_count,
            open=view.open_headcount,
        ),
        tr("mp.card_price", price=money(view.price)),
        guide_line(guide, city, trade, grade),
    ]
    if live and (warning := deviation_line(view.price, guide)):
        lines.append(warning)
    lines += [
        tr("mp.card_contact", name=view.contact_name, phone=view.contact_phone_masked),
        tr("mp.card_ring", ring=ring_text(view.ring)),
        tr("mp.card_expires", date=local_date(view.expires_at).isoformat()),
    ]
    markup = card_keyboard(
        kind, view.id, view.version, live=live, escalated=view.ring == Ring.ESCALATED
    )
    await end_read(uow)  # the service read the row FOR UPDATE: no lock over a Bot API call
    return "\n".join(lines), markup


async def open_card(
    query: CallbackQuery,
    callback_data: MpCardCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    kind = KINDS_BY_CODE.get(callback_data.k)
    if kind is None:
        await query.answer(_("common.stale"))
        return
    await state.clear()
    text, markup = await _card(uow, account, kind, callback_data.id)
    await query.answer()
    await edit_or_send(query, text, markup)


async def _refused(
    event: Event, uow: UnitOfWork, account: AccountView, kind: str, posting_id: int, exc: Conflict
) -> None:
    """A stale card or a closed posting: say why (as the error handler would), then the
    fresh card."""
    await uow.rollback()
    text, markup = await _card(uow, account, kind, posting_id)
    if isinstance(event, CallbackQuery):
        await event.answer(alert_text(error_text(exc)), show_alert=True)
        await edit_or_send(event, text, markup)
    else:
        await event.answer(error_text(exc))
        await event.answer(text, reply_markup=markup)


# --- card actions ---------------------------------------------------------------------------


async def card_action(
    query: CallbackQuery,
    callback_data: MpActCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    kind = KINDS_BY_CODE.get(callback_data.k)
    if kind is None:
        await query.answer(_("common.stale"))
        return
    try:
        await _act(query, callback_data, kind, uow, state, account)
    except Conflict as exc:
        await _refused(query, uow, account, kind, callback_data.id, exc)


async def _act(
    query: CallbackQuery,
    cb: MpActCb,
    kind: str,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    actor = account.actor()
    pid, version, act = cb.id, cb.v, cb.act
    shortage = kind == "shortage"
    if act in ("fill_ok", "cancel_ok", "esc_ok"):
        if act == "fill_ok" and shortage:
            await postings.close_shortage_filled(uow, actor, pid, expected_version=version)
            done = _("mp.closed_ok")
        elif act == "cancel_ok":
            cancel = postings.cancel_shortage if shortage else postings.withdraw_idle
            await cancel(uow, actor, pid, expected_version=version)
            done = _("mp.cancelled_ok")
        elif act == "esc_ok":
            escalate = postings.escalate_shortage if shortage else postings.escalate_idle
            await escalate(uow, actor, pid, expected_version=version)
            done = _("mp.escalated_ok")
        else:
            await query.answer(_("common.stale"))
            return
        await state.clear()
        text, markup = await _card(uow, account, kind, pid)
        await query.answer(done)
        await edit_or_send(query, text, markup)
        return

    # the rest only show something: check the rights and that the card is current first
    view = await _view(uow, account, kind, pid)
    await end_read(uow)  # read FOR UPDATE: release the row before talking to Telegram
    if view.version != version:
        raise Conflict("error.stale")
    if not PostingStatus(view.status).is_live:
        raise Conflict("error.posting_closed")
    if act == "hc":
        await _ask_headcount(query, state, kind, view)
    elif act == "pr":
        await _ask_price(query, uow, state, kind, view)
    elif act == "fill" and shortage:
        await query.answer()
        await edit_or_send(
            query,
            tr("mp.confirm_filled", id=pid),
            confirm_keyboard(kind, pid, version, act="fill_ok", yes=_("mp.yes_filled")),
        )
    elif act == "cancel":
        await query.answer()
        await edit_or_send(
            query,
            tr("mp.confirm_cancel", id=pid),
            confirm_keyboard(kind, pid, version, act="cancel_ok", yes=_("mp.yes_cancel")),
        )
    elif act == "esc":
        await _preview_escalation(query, uow, account, kind, view)
    elif act == "match":
        await _show_matches(query, uow, account, kind, view)
    else:
        await query.answer(_("common.stale"))


async def _preview_escalation(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, kind: str, view: View
) -> None:
    if view.ring == Ring.ESCALATED:
        raise Conflict("error.already_escalated")
    people = await postings.escalation_recipients(uow, account.actor(), kind, view.id)
    if people:
        names = [
            tr(
                "mp.regulator_line",
                region=p.region_name_zh if zh() else p.region_name_en,
                name=p.display_name,
            )
            for p in people
        ]
        text = "\n".join((tr("mp.escalate_preview", id=view.id), *names))
    else:
        text = tr("mp.escalate_nobody", id=view.id)
    await query.answer()
    await edit_or_send(
        query,
        text,
        confirm_keyboard(kind, view.id, view.version, act="esc_ok", yes=_("mp.yes_escalate")),
    )


async def _show_matches(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, kind: str, view: View
) -> None:
    matches = await match_posting(uow, account.actor(), kind, view.id, limit=MATCHES_SHOWN)
    grades = await postings.list_grades(uow)
    title = N_("mp.matches_shortage") if kind == "shortage" else N_("mp.matches_idle")
    lines = [tr(title, id=view.id)]
    lines += match_lines(matches, grades) if matches else [_("mp.no_matches")]
    await query.answer()
    await edit_or_send(query, "\n".join(lines), matches_keyboard(kind, view.id, matches))


# --- change headcount / price ---------------------------------------------------------------


async def _remember(state: FSMContext, kind: str, view: View) -> None:
    await state.update_data(mp_k=KIND_CODES[kind], mp_id=view.id, mp_v=view.version)


async def _ask_headcount(query: CallbackQuery, state: FSMContext, kind: str, view: View) -> None:
    await state.clear()
    await _remember(state, kind, view)
    await state.set_state(MyPostingEdit.headcount)
    await query.answer()
    text = tr(
        "mp.ask_headcount",
        id=view.id,
        headcount=view.headcount,
        filled=view.filled_count,
        max=MAX_HEADCOUNT,
    )
    await edit_or_send(query, text, headcount_edit_keyboard(kind, view.id))


async def _ask_price(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, kind: str, view: View
) -> None:
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    trade = trade_name(trades, view.trade_code)
    grade = grade_name(grades, _grade_of(view))
    guide, city = await _guide(uow, view)
    await state.clear()
    await _remember(state, kind, view)
    await state.set_state(MyPostingEdit.price)
    text = tr(
        "mp.ask_price",
        id=view.id,
        price=money(view.price),
        guide=guide_line(guide, city, trade, grade),
    )
    await query.answer()
    await edit_or_send(query, text, price_edit_keyboard(kind, view.id, guide))


async def _editing(state: FSMContext) -> tuple[str, int, int] | None:
    data = await state.get_data()
    kind = KINDS_BY_CODE.get(str(data.get("mp_k")))
    pid, version = data.get("mp_id"), data.get("mp_v")
    if kind is None or not isinstance(pid, int) or not isinstance(version, int):
        return None
    return kind, pid, version


async def _save(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView, **change: Any
) -> None:
    """Apply a headcount or price change for the posting being edited, with the version
    the card showed; a validation error re-asks, a conflict shows the fresh card."""
    editing = await _editing(state)
    if editing is None:
        await state.clear()
        await _stale(event)
        return
    kind, pid, version = editing
    try:
        await postings.edit_posting(
            uow, account.actor(), cast(PostingKind, kind), pid, expected_version=version, **change
        )
    except ValidationError as exc:
        await uow.rollback()
        await _retry(event, exc, kind, pid)
        return
    except Conflict as exc:
        await state.clear()
        await _refused(event, uow, account, kind, pid, exc)
        return
    await state.clear()
    text, markup = await _card(uow, account, kind, pid)
    if isinstance(event, CallbackQuery):
        await event.answer(_("mp.saved"))
        await edit_or_send(event, text, markup)
    else:
        await event.answer("\n".join((_("mp.saved"), text)), reply_markup=markup)


async def _retry(event: Event, exc: ValidationError, kind: str, pid: int) -> None:
    """The same question again, with what was wrong."""
    if isinstance(event, CallbackQuery):
        await event.answer(alert_text(error_text(exc)), show_alert=True)
        return
    await event.answer(error_text(exc), reply_markup=_retry_markup(kind, pid))


def _retry_markup(kind: str, pid: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[*back_to_card(kind, pid), cancel_button()]])


async def _stale(event: Event) -> None:
    # a callback gets a short answer, a message a reply: both with the same text
    await event.answer(_("common.stale"))


async def headcount_button(
    query: CallbackQuery,
    callback_data: MpValCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    await _save(query, uow, state, account, headcount=callback_data.val)


async def headcount_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await _save(message, uow, state, account, headcount=message.text or "")


async def number_expected(message: Message) -> None:
    await message.answer(_("shortage.need_number"))


async def _take_price(
    event: Event, raw: str, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    editing = await _editing(state)
    if editing is None:
        await state.clear()
        await _stale(event)
        return
    kind, pid, _version = editing
    try:
        price = parse_price(raw)
    except ValidationError as exc:
        await _retry(event, exc, kind, pid)
        return
    view = await _view(uow, account, kind, pid)
    guide, _city = await _guide(uow, view)
    if is_far_from_guide(price, guide):
        await state.update_data(mp_pending=str(price))
        await state.set_state(MyPostingEdit.price_confirm)
        text = tr("shortage.price_far", price=money(price), warning=deviation_line(price, guide))
        markup = price_warning_edit_keyboard(kind, pid)
        if isinstance(event, CallbackQuery):
            await event.answer()
            await edit_or_send(event, text, markup)
        else:
            await event.answer(text, reply_markup=markup)
        return
    await _save(event, uow, state, account, price=str(price))


async def price_button(
    query: CallbackQuery,
    callback_data: MpValCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    await _take_price(query, callback_data.val, uow, state, account)


async def price_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await _take_price(message, message.text or "", uow, state, account)


async def price_kept(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    pending = (await state.get_data()).get("mp_pending")
    if not isinstance(pending, str):
        await state.clear()
        await _stale(query)
        return
    await _save(query, uow, state, account, price=pending)


async def price_reenter(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    editing = await _editing(state)
    if editing is None:
        await state.clear()
        await _stale(query)
        return
    kind, pid, version = editing
    view = await _view(uow, account, kind, pid)
    if view.version != version:
        await state.clear()
        await _refused(query, uow, account, kind, pid, Conflict("error.stale"))
        return
    await _ask_price(query, uow, state, kind, view)


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.FOREMAN, Role.DISPATCHER)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)
    typed = (F.text, ~MenuText(*ALL_MENU_KEYS))
    E = MyPostingEdit

    router.message.register(show_list, MenuText(MY_POSTINGS))
    router.callback_query.register(list_page, MpListCb.filter())
    router.callback_query.register(open_card, MpCardCb.filter())
    router.callback_query.register(card_action, MpActCb.filter())
    router.callback_query.register(headcount_button, MpValCb.filter(F.act == "n"), E.headcount)
    router.message.register(headcount_typed, E.headcount, *typed)
    router.message.register(number_expected, E.headcount, ~F.text)
    router.callback_query.register(price_button, MpValCb.filter(F.act == "p"), E.price)
    router.message.register(price_typed, E.price, *typed)
    router.message.register(price_typed, E.price_confirm, *typed)
    router.message.register(number_expected, E.price, ~F.text)
    router.message.register(number_expected, E.price_confirm, ~F.text)
    router.callback_query.register(price_kept, MpValCb.filter(F.act == "keep"), E.price_confirm)
    router.callback_query.register(
        price_reenter, MpValCb.filter(F.act == "reenter"), E.price_confirm
    )
    return router
