"""👷 Workers (工人管理): the company's workers, filtered busy / idle and by trade, six a page;
a tap opens the worker's card with "Set idle" / "Set busy"; "Find" looks a name up.

ID numbers only ever show masked; the worker's phone shows masked too (company staff data).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import role_router
from bot.i18n import tr
from bot.keyboards.common import ALL_MENU_KEYS, WORKERS, MenuText, account_menu, cancel_keyboard
from bot.keyboards.workers import (
    STATUS_LETTERS,
    STATUS_MARKS,
    WORKERS_PAGE,
    WorkerCardCb,
    WorkersCb,
    WorkerSetCb,
    WorkersFindCb,
    WorkersTradesCb,
    card_keyboard,
    list_keyboard,
    trades_keyboard,
    workers_keyboard,
)
from bot.render.errors import error_text
from bot.render.messages import edit_or_send, send_below
from bot.render.postings import grade_name, trade_name
from core.db.uow import UnitOfWork
from core.domain.enums import Role, WorkerStatus
from core.domain.errors import NotFound, ValidationError
from core.services import postings, workers
from core.services.accounts import AccountView
from core.services.paging import decode_id_cursor, encode_id_cursor
from core.services.postings import GradeChoice, TradeChoice
from core.services.workers import WorkerView

Screen = tuple[str, InlineKeyboardMarkup]


class FindWorker(StatesGroup):
    name = State()  # typing (part of) a worker's name


class _Reference:
    """The trade and grade tables, for names in the viewer's language."""

    def __init__(self, trades: Sequence[TradeChoice], grades: Sequence[GradeChoice]) -> None:
        self.trades, self.grades = trades, grades

    @classmethod
    async def load(cls, uow: UnitOfWork) -> _Reference:
        return cls(await postings.list_trades(uow), await postings.list_grades(uow))

    def of(self, w: WorkerView) -> dict[str, str]:
        """The worker's trade, grade, rating and status as catalog params."""
        busy = w.status == WorkerStatus.BUSY.value
        return {
            "trade": trade_name(self.trades, w.trade_code),
            "grade": grade_name(self.grades, w.grade_level),
            "rating": _("workers.unrated") if w.avg_rating is None else f"★{w.avg_rating}",
            "status": _("workers.status_busy") if busy else _("workers.status_idle"),
        }


def _line(w: WorkerView, ref: _Reference) -> str:
    mark = STATUS_MARKS.get(w.status, "")
    return tr("workers.line", mark=mark, name=w.name, id=w.id_masked, **ref.of(w))


# --- the list --------------------------------------------------------------------------------


async def _list(
    uow: UnitOfWork, account: AccountView, st: str, trade: str, anchor: int, direction: str
) -> Screen:
    actor = account.actor()
    ref = await _Reference.load(uow)
    page = await workers.list_workers(
        uow,
        actor,
        status=STATUS_LETTERS[st],
        trade_code=trade or None,
        cursor=encode_id_cursor(anchor) if anchor else None,
        direction="prev" if direction == "p" else "next",
        limit=WORKERS_PAGE,
    )
    counts = await workers.worker_trade_counts(uow, actor)
    shown = [c for c in counts if not trade or c.trade_code == trade]
    trade_label = trade_name(ref.trades, trade) if trade else _("workers.all_trades")
    busy, idle = sum(c.busy for c in shown), sum(c.idle for c in shown)
    lines = [tr("workers.title", trade=trade_label, busy=busy, idle=idle)]
    lines += [_line(w, ref) for w in page.items] or [_("workers.none")]
    markup = list_keyboard(
        page.items,
        st,
        trade,
        trade_label,
        decode_id_cursor(page.prev_cursor) if page.prev_cursor else None,
        decode_id_cursor(page.next_cursor) if page.next_cursor else None,
    )
    return "\n".join(lines), markup


async def show_workers(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await state.set_state(None)  # a menu button leaves whatever dialog was open
    text, markup = await _list(uow, account, "a", "", 0, "n")
    await message.answer(text, reply_markup=markup)


async def list_page(
    query: CallbackQuery, callback_data: WorkersCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    valid = cb.st in STATUS_LETTERS and cb.d in ("n", "p") and cb.at >= 0
    if not valid or (cb.tr and cb.tr not in {t.code for t in await postings.list_trades(uow)}):
        # forged, or from a keyboard no version of the bot made
        await query.answer(_("common.stale"))
        return
    text, markup = await _list(uow, account, cb.st, cb.tr, cb.at, cb.d)
    await query.answer()
    await edit_or_send(query, text, markup)


async def trade_filter(
    query: CallbackQuery, callback_data: WorkersTradesCb, uow: UnitOfWork, account: AccountView
) -> None:
    if callback_data.st not in STATUS_LETTERS:
        await query.answer(_("common.stale"))
        return
    counts = await workers.worker_trade_counts(uow, account.actor())
    await query.answer()
    await edit_or_send(
        query, _("workers.pick_trade"), trades_keyboard(counts, callback_data.st, account.locale)
    )


# --- the card --------------------------------------------------------------------------------


def _card(w: WorkerView, ref: _Reference, st: str, trade: str) -> Screen:
    params = ref.of(w)
    lines = [
        tr("workers.card_title", mark=STATUS_MARKS.get(w.status, ""), name=w.name),
        tr("workers.card_id", id=w.id_masked),
        tr("workers.card_trade", trade=params["trade"], grade=params["grade"]),
        tr("workers.card_status", status=params["status"]),
        tr("workers.card_rating", rating=params["rating"], count=w.rating_count),
        tr("workers.card_credit", grade=w.credit_grade),
    ]
    if w.phone_masked:
        lines.append(tr("workers.card_phone", phone=w.phone_masked))
    if w.idle_posting_id is not None:
        lines.append(tr("workers.card_posted", id=w.idle_posting_id))
    return "\n".join(lines), card_keyboard(w, st, trade)


async def open_card(
    query: CallbackQuery, callback_data: WorkerCardCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    found = await workers.get_workers(uow, account.actor(), [cb.worker_id])
    if not found:
        # not this company's worker (or no such id): the same answer either way
        raise NotFound("error.worker_not_found")
    text, markup = _card(found[0], await _Reference.load(uow), cb.st, cb.tr)
    await query.answer()
    await edit_or_send(query, text, markup)


async def set_status(
    query: CallbackQuery, callback_data: WorkerSetCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    target = STATUS_LETTERS.get(cb.to)
    if target is None:
        await query.answer(_("common.stale"))
        return
    view = await workers.set_worker_status(uow, account.actor(), cb.worker_id, target)
    text, markup = _card(view, await _Reference.load(uow), cb.st, cb.tr)
    await query.answer(_("workers.saved"))
    await edit_or_send(query, text, markup)


# --- find by name ----------------------------------------------------------------------------


async def find_start(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(FindWorker.name)
    await query.answer()
    await send_below(query, _("workers.ask_name"), cancel_keyboard())


async def ask_name(message: Message, prompt: str | None = None) -> None:
    await message.answer(prompt or _("workers.ask_name"), reply_markup=cancel_keyboard())


async def name_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    try:
        found = await workers.find_workers(uow, account.actor(), name=message.text or "")
    except ValidationError as exc:
        await ask_name(message, error_text(exc))
        return
    if not found:
        await ask_name(message, _("workers.not_found"))
        return
    await state.set_state(None)
    ref = await _Reference.load(uow)
    # the menu comes back with the count; the list with its buttons follows
    await message.answer(tr("workers.found", count=len(found)), reply_markup=account_menu(account))
    await message.answer(
        "\n".join(_line(w, ref) for w in found),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=workers_keyboard(found)),
    )


def create_router() -> Router:
    router = role_router(__name__, Role.DISPATCHER)
    not_menu = ~MenuText(*ALL_MENU_KEYS)
    router.message.register(show_workers, MenuText(WORKERS))
    router.callback_query.register(list_page, WorkersCb.filter())
    router.callback_query.register(trade_filter, WorkersTradesCb.filter())
    router.callback_query.register(open_card, WorkerCardCb.filter())
    router.callback_query.register(set_status, WorkerSetCb.filter())
    router.callback_query.register(find_start, WorkersFindCb.filter())
    router.message.register(name_typed, FindWorker.name, F.text, not_menu)
    router.message.register(ask_name, FindWorker.name, not_menu)
    return router
