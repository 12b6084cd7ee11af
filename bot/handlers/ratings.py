"""⭐ Rate workers (企业用工评价): the receiving side (the project's foreman or its company's
dispatcher) rates each dispatched worker of an accepted deal 1–5 stars, then an optional
comment (Skip, or text ≤ 200 characters), worker after worker. Each rating shows the worker's
new average; the last one shows the deal's ratings in the seed's four buckets.

Entry points: the menu button (accepted deals with unrated workers) and the "Rate now" button
of the scheduled prompt (bot/renderers/rating.py). A star button carries deal, worker and
stars, so it works from any old prompt; the rating is written with its comment (or Skip).
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import role_router
from bot.i18n import tr
from bot.keyboards.common import ALL_MENU_KEYS, RATE_WORKERS, MenuText
from bot.keyboards.ratings import (
    STARS,
    RateDealCb,
    RateSkipCb,
    RateStarCb,
    comment_keyboard,
    deals_keyboard,
    stars_keyboard,
)
from bot.render.errors import error_text
from bot.render.messages import drop_inline_keyboard, edit_or_send
from bot.render.postings import grade_name, zh
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import Conflict, ValidationError
from core.services import postings, ratings
from core.services.accounts import AccountView
from core.services.ratings import MAX_COMMENT_LEN

DEALS_SHOWN = 10

# FSM data keys of this dialog
DEAL = "rate_deal"
WORKER = "rate_worker"
STARS_KEY = "rate_stars"
Held = tuple[int, int, int]  # deal, worker, stars of the comment step


class RateWorkers(StatesGroup):
    comment = State()  # stars chosen: waiting for a comment or Skip


def _stars(n: int) -> str:
    return "★" * n + "☆" * (5 - n)


def _held(data: dict[str, Any]) -> Held | None:
    """What the comment step holds; None once it moved on (another device, /cancel)."""
    deal, worker, stars = data.get(DEAL), data.get(WORKER), data.get(STARS_KEY)
    if isinstance(deal, int) and isinstance(worker, int) and isinstance(stars, int):
        return deal, worker, stars
    return None


# --- the list of deals -----------------------------------------------------------------------


async def show_deals(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await state.set_state(None)  # a menu button leaves whatever dialog was open
    deals = await ratings.deals_awaiting_rating(uow, account.actor(), limit=DEALS_SHOWN)
    if not deals:
        await message.answer(_("rating.nothing"))
        return
    trades = [d.trade_name_zh if zh() else d.trade_name_en for d in deals]
    lines = [_("rating.deals_title")]
    for d, trade in zip(deals, trades, strict=True):
        lines.append(
            tr(
                "rating.deal_line",
                id=d.deal_id,
                project=d.project_name,
                trade=trade,
                supplier=d.idle_enterprise_name,
                start=d.start_date.isoformat(),
                unrated=d.unrated,
                workers=d.workers,
            )
        )
    await message.answer("\n".join(lines), reply_markup=deals_keyboard(deals, trades))


# --- one worker after the other --------------------------------------------------------------


async def _next(
    uow: UnitOfWork, state: FSMContext, account: AccountView, deal_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The prompt for the deal's next unrated worker, or the deal's rating summary."""
    actor = account.actor()
    pending = await ratings.pending_ratings(uow, actor, deal_id)
    summary = await ratings.deal_rating_summary(uow, actor, deal_id)
    await state.set_state(None)
    await state.update_data({DEAL: None, WORKER: None, STARS_KEY: None})
    if not pending:
        lines = [tr("rating.deal_done", id=deal_id, count=len(summary.rated))]
        if summary.rated:
            buckets = {bucket: getattr(summary, bucket) for bucket in ratings.BUCKETS}
            lines.append(tr("rating.distribution", **buckets))
            lines.append(tr("rating.deal_average", average=f"{summary.average}"))
        return "\n".join(lines), None
    worker = pending[0]
    text = tr(
        "rating.ask_stars",
        id=deal_id,
        n=len(summary.rated) + 1,
        total=summary.workers,
        name=worker.name,
        masked=worker.id_masked,
        grade=grade_name(await postings.list_grades(uow), worker.grade_level),
    )
    return text, stars_keyboard(deal_id, worker.id)


async def open_deal(
    query: CallbackQuery,
    callback_data: RateDealCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    text, markup = await _next(uow, state, account, callback_data.deal_id)
    await query.answer()
    await edit_or_send(query, text, markup)


async def stars_chosen(
    query: CallbackQuery,
    callback_data: RateStarCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    cb = callback_data
    if cb.stars not in STARS:
        raise ValidationError("error.stars_range", min=1, max=5)
    actor = account.actor()
    pending = {w.id: w for w in await ratings.pending_ratings(uow, actor, cb.deal_id)}
    worker = pending.get(cb.worker_id)
    if worker is None:
        summary = await ratings.deal_rating_summary(uow, actor, cb.deal_id)
        if any(r.worker_id == cb.worker_id for r in summary.rated):
            raise Conflict("error.already_rated")
        raise ValidationError("error.worker_not_in_deal")
    await state.set_state(RateWorkers.comment)
    await state.update_data({DEAL: cb.deal_id, WORKER: cb.worker_id, STARS_KEY: cb.stars})
    await query.answer()
    text = tr(
        "rating.ask_comment",
        name=worker.name,
        stars=_stars(cb.stars),
        n=cb.stars,
        max=MAX_COMMENT_LEN,
    )
    await edit_or_send(query, text, comment_keyboard(cb.deal_id, cb.worker_id))


async def _rate(
    uow: UnitOfWork, state: FSMContext, account: AccountView, held: Held, comment: str | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Write the held rating; the saved line and what comes next."""
    deal_id, worker_id, stars = held
    try:
        view = await ratings.rate_worker(uow, account.actor(), deal_id, worker_id, stars, comment)
        done = tr(
            "rating.saved",
            name=view.worker_name,
            stars=_stars(view.stars),
            average=f"{view.worker_avg}",
            count=view.worker_rating_count,
        )
    except Conflict as exc:
        # rated meanwhile (another device, the dispatcher): go on with the others
        await uow.rollback()
        done = error_text(exc)
    text, markup = await _next(uow, state, account, deal_id)
    return f"{done}\n\n{text}", markup


async def comment_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    held = _held(await state.get_data())
    if held is None:
        await state.set_state(None)
        await message.answer(_("common.stale"))
        return
    try:
        text, markup = await _rate(uow, state, account, held, message.text or "")
    except ValidationError as exc:
        # too long, or nothing but control characters: the same step again
        await message.answer(error_text(exc), reply_markup=comment_keyboard(*held[:2]))
        return
    await message.answer(text, reply_markup=markup)


async def comment_expected(message: Message, state: FSMContext) -> None:
    held = _held(await state.get_data())
    markup = comment_keyboard(*held[:2]) if held else None
    await message.answer(tr("rating.comment_again", max=MAX_COMMENT_LEN), reply_markup=markup)


async def comment_skipped(
    query: CallbackQuery,
    callback_data: RateSkipCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    held = _held(await state.get_data())
    if held is None or held[:2] != (callback_data.deal_id, callback_data.worker_id):
        await query.answer(_("common.stale"))
        await drop_inline_keyboard(query)
        return
    text, markup = await _rate(uow, state, account, held, None)
    await query.answer()
    await edit_or_send(query, text, markup)


def create_router() -> Router:
    router = role_router(__name__, Role.FOREMAN, Role.DISPATCHER)  # the receiving side
    not_menu = ~MenuText(*ALL_MENU_KEYS)
    router.message.register(show_deals, MenuText(RATE_WORKERS))
    router.callback_query.register(open_deal, RateDealCb.filter())
    router.callback_query.register(stars_chosen, RateStarCb.filter())
    router.callback_query.register(comment_skipped, RateSkipCb.filter(), RateWorkers.comment)
    router.message.register(comment_typed, RateWorkers.comment, F.text, not_menu)
    router.message.register(comment_expected, RateWorkers.comment, not_menu)
    return router
