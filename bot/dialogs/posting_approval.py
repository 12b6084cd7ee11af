"""需求待批 in the bot: how a foreman's post ends (published, or sent to the dispatchers), and
a dispatcher's decision on the request card: ✅ 批准 at once; ✏️ 改人数或价格 → new headcount
(typed, or unchanged) → new price (typed, or unchanged) → approved with them; ❌ 驳回 → a typed
reason. Every tap is checked again by core (the company's dispatcher, the request pending)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Format

from bot.dialogs.answers import (
    answer_window,
    ask_from_card,
    decide_on_card,
    refuse_on_card,
    settle,
    started,
)
from bot.dialogs.widgets import Tr, account_of, cancel_button, uow_of
from bot.filters import HasRole
from bot.i18n import N_, tr
from bot.render.postings import locale
from bot.renderers.posting_approval import RequestCb, request_text, verdict_line
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import ValidationError
from core.domain.values import parse_headcount, parse_price
from core.services import posting_approval as approval
from core.services.accounts import AccountView
from core.services.posting_approval import RequestView
from core.services.postings import PostShortageCommand, ShortageView


async def post_or_request(
    uow: UnitOfWork, account: AccountView, command: PostShortageCommand
) -> tuple[ShortageView | None, str]:
    """Post through the one core rule: the shortage when published, else None and the text
    telling the foreman it waits for a dispatcher."""
    outcome = await approval.post_or_request(uow, account.actor(), command)
    if outcome.request is not None:
        return None, tr("approval.requested", id=outcome.request.id)
    return outcome.shortage, ""


# refusals after which the card has nothing left to do for this dispatcher (a bad value or a
# suspended company leave it usable)
CARD_DONE = frozenset(
    {
        "error.request_approved",
        "error.request_rejected",
        "error.request_decided",
        "error.request_not_found",
        "error.forbidden",
    }
)
NEED = N_("approval.need_text")


class ChangeRequest(StatesGroup):
    headcount = State()
    price = State()


class RejectRequest(StatesGroup):
    reason = State()


async def _decided_text(uow: UnitOfWork, view: RequestView) -> str:
    return f"{await request_text(uow, view, tr, locale())}\n\n{verdict_line(view, tr)}"


# --- the card's buttons ------------------------------------------------------------------------


async def approve(
    query: CallbackQuery, callback_data: RequestCb, uow: UnitOfWork, account: AccountView
) -> None:
    approved = approval.approve_request(uow, account.actor(), callback_data.req_id)
    refuse = partial(refuse_on_card, query, done=CARD_DONE)
    short = _("approval.approved_short")
    await decide_on_card(query, approved, refuse, short, partial(_decided_text, uow))


def opens(state: State) -> Any:
    """✏️ or ❌: checked first (the company's dispatcher, still pending), then its dialog."""

    async def open_dialog(
        query: CallbackQuery,
        callback_data: RequestCb,
        uow: UnitOfWork,
        account: AccountView,
        dialog_manager: DialogManager,
    ) -> None:
        req_id = callback_data.req_id
        check = approval.decidable(uow, account.actor(), req_id)
        refuse = partial(refuse_on_card, query, done=CARD_DONE)
        await ask_from_card(query, dialog_manager, state, {"req_id": req_id}, check, refuse)

    return open_dialog


# --- the dialogs: typed values, or ⏭ keep as it is ---------------------------------------------


async def headcount_taken(manager: DialogManager, raw: str) -> None:
    manager.dialog_data["headcount"] = parse_headcount(raw) if raw else None  # "": kept
    await manager.switch_to(ChangeRequest.price)


async def price_taken(manager: DialogManager, raw: str) -> None:
    uow, actor = uow_of(manager), account_of(manager).actor()
    approved = approval.approve_request(
        uow,
        actor,
        started(manager, "req_id"),
        headcount=manager.dialog_data.get("headcount"),
        price=str(parse_price(raw)) if raw else None,
    )
    await settle(manager, approved, partial(_decided_text, uow))


async def reason_taken(manager: DialogManager, raw: str) -> None:
    uow, actor = uow_of(manager), account_of(manager).actor()
    rejected = approval.reject_request(uow, actor, started(manager, "req_id"), raw)
    await settle(manager, rejected, partial(_decided_text, uow))


def _keep(take: Any) -> Row:
    async def kept(_query: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        await take(manager, "")

    return Row(Button(Tr("approval.keep"), id="keep", on_click=kept), cancel_button())


async def getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow = uow_of(dialog_manager)
    view = await approval.get_request(uow, started(dialog_manager, "req_id"))
    return {"card": await request_text(uow, view, tr, locale()) if view else ""}


def _dialogs() -> tuple[Dialog, Dialog]:
    card = Format("{card}")
    ask = partial(answer_window, need=NEED, retry=ValidationError)  # a bad value: asked again
    change_dialog = Dialog(
        ask(
            ChangeRequest.headcount,
            card,
            Tr("approval.ask_headcount"),
            take=headcount_taken,
            nav=_keep(headcount_taken),
            getter=getter,
        ),
        ask(
            ChangeRequest.price, Tr("approval.ask_price"), take=price_taken, nav=_keep(price_taken)
        ),
    )
    reason = Tr("approval.ask_reason")
    reject_dialog = Dialog(
        ask(RejectRequest.reason, card, reason, take=reason_taken, getter=getter)
    )
    return change_dialog, reject_dialog


def create_router() -> Router:
    router = Router(name=__name__)
    dispatcher = HasRole(Role.DISPATCHER)
    router.callback_query.register(approve, RequestCb.filter(F.act == "ok"), dispatcher)
    router.callback_query.register(
        opens(ChangeRequest.headcount), RequestCb.filter(F.act == "chg"), dispatcher
    )
    router.callback_query.register(
        opens(RejectRequest.reason), RequestCb.filter(F.act == "no"), dispatcher
    )
    router.include_routers(*_dialogs())
    return router
