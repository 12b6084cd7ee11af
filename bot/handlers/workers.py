"""👷 Workers (工人管理): the company's workers, filtered busy / idle and by trade, six a page;
a tap opens the worker's card with "Set idle" / "Set busy"; "Find" looks a name up.

ID numbers only ever show masked; the worker's phone shows masked too (company staff data).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
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
    found_keyboard,
    list_keyboard,
    trades_keyboard,
)
from bot.render.errors import error_text
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.enums import Role, WorkerStatus
from core.domain.errors import NotFound, ValidationError
from core.services import postings, workers
from core.services.accounts import AccountView
from core.services.paging import decode_id_cursor, encode_id_cursor
from core.services.workers import WorkerView


class FindWorker(StatesGroup):
    name = State()  # typing (part of) a worker's name


def _status_text(status: str) -> str:
    if status == WorkerStatus.BUSY.value:
        return _("workers.status_busy")
    return _("workers.status_idle")


def _rating(w: WorkerView) -> str:
    if w.avg_rating is None:
        return _("workers.unrated")
    return f"★{w.avg_rating}"


class _Names:
    """Trade and grade names in the viewer's language (reference data from the database)."""

    def __init__(self, trades: dict[str, str], grades: dict[int, str]) -> None:
        self.trades = trades
        self.grades = grades

    @classmethod
    async def load(cls, uow: UnitOfWork, locale: str) -> _Names:
        trades = {t.code: t.name(locale) for t in await postings.list_trades(uow)}
        grades = {g.level: g.name(locale) for g in await postings.list_grades(uow)}
        return cls(trades, grades)

    def trade(self, code: str) -> str:
        return self.trades.get(code, code)

    def grade(self, level: int) -> str:
        return self.grades.get(level, str(level))


def _line(w: WorkerView, names: _Names) -> str:
    return tr(
        "workers.line",
        mark=STATUS_MARKS.get(w.status, ""),
        name=w.name,
        id=w.id_masked,
        trade=names.trade(w.trade_code),
        grade=names.grade(w.grade_level),
        rating=_rating(w),
        status=_status_text(w.status),
    )


# --- the list --------------------------------------------------------------------------------


async def _list(
    uow: UnitOfWork, account: AccountView, st: str, trade: str, anchor: int, direction: str
) -> tuple[str, InlineKeyboardMarkup]:
    actor = account.actor()
    counts = await workers.worker_trade_counts(uow, actor)
    names = await _Names.load(uow, account.locale)
    page = await workers.list_workers(
        uow,
        actor,
        status=STATUS_LETTERS[st],
        trade_code=trade or None,
        cursor=encode_id_cursor(anchor) if anchor else None,
        direction="prev" if direction == "p" else "next",
        limit=WORKERS_PAGE,
    )
    shown = [c for c in counts if not trade or c.trade_code == trade]
    trade_label = names.trade(trade) if trade else _("workers.all_trades")
    lines = [
        tr(
            "workers.title",
            trade=trade_label,
            busy=sum(c.busy for c in shown),
            idle=sum(c.idle for c in shown),
        )
    ]
    lines += [_line(w, names) for w in page.items]
    if not page.items:
        lines.append(_("workers.none"))
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
    if not valid or (cb.tr and cb.tr not in (await _Names.load(uow, account.locale)).trades):
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


async def _card(
    uow: UnitOfWork, account: AccountView, worker_id: int, st: str, trade: str
) -> tuple[str, InlineKeyboardMarkup]:
    found = await workers.get_workers(uow, account.actor(), [worker_id])
    if not found:
        # not this company's worker (or no such id): the same answer either way
        raise NotFound("error.worker_not_found")
    return _card_of(found[0], await _Names.load(uow, account.locale), st, trade)


def _card_of(
    w: WorkerView, names: _Names, st: str, trade: str
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        tr("workers.card_title", mark=STATUS_MARKS.get(w.status, ""), name=w.name),
        tr("workers.card_id", id=w.id_masked),
        tr(
            "workers.card_trade", trade=names.trade(w.trade_code), grade=names.grade(w.grade_level)
        ),
        tr("workers.card_status", status=_status_text(w.status)),
        tr("workers.card_rating", rating=_rating(w), count=w.rating_count),
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
    text, markup = await _card(uow, account, cb.worker_id, cb.st, cb.tr)
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
    text, markup = _card_of(view, await _Names.load(uow, account.locale), cb.st, cb.tr)
    await query.answer(_("workers.saved"))
    await edit_or_send(query, text, markup)


# --- find by name ----------------------------------------------------------------------------


async def find_start(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(FindWorker.name)
    await query.answer()
    if query.bot is not None:
        await query.bot.send_message(
            query.from_user.id, _("workers.ask_name"), reply_markup=cancel_keyboard()
        )


async def name_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    try:
        found = await workers.find_workers(uow, account.actor(), name=message.text or "")
    except ValidationError as exc:
        await message.answer(error_text(exc), reply_markup=cancel_keyboard())
        return
    if not found:
        await message.answer(_("workers.not_found"), reply_markup=cancel_keyboard())
        return
    await state.set_state(None)
    names = await _Names.load(uow, account.locale)
    # the menu comes back with the count; the list with its buttons follows
    await message.answer(
        tr("workers.found", count=len(found)),
        reply_markup=account_menu(account),
    )
    text = "\n".join(_line(w, names) for w in found)
    await message.answer(text, reply_markup=found_keyboard(found))


async def name_expected(message: Message) -> None:
    await message.answer(_("workers.ask_name"), reply_markup=cancel_keyboard())


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.DISPATCHER))
    router.callback_query.filter(HasRole(Role.DISPATCHER))
    not_menu = ~MenuText(*ALL_MENU_KEYS)
    router.message.register(show_workers, MenuText(WORKERS))
    router.callback_query.register(list_page, WorkersCb.filter())
    router.callback_query.register(trade_filter, WorkersTradesCb.filter())
    router.callback_query.register(open_card, WorkerCardCb.filter())
    router.callback_query.register(set_status, WorkerSetCb.filter())
    router.callback_query.register(find_start, WorkersFindCb.filter())
    router.message.register(name_typed, FindWorker.name, F.text, not_menu)
    router.message.register(name_expected, FindWorker.name, not_menu)
    return router
