"""需求待批 in the bot: how a foreman's post ends (published, or sent to the dispatchers), and
a dispatcher's decision on the request card: ✅ 批准 at once; ✏️ 改人数或价格 → new headcount
(typed, or unchanged) → new price (typed, or unchanged) → approved with them; ❌ 驳回 → a typed
reason. Every tap is checked again by core (the company's dispatcher, the request pending)."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import Tr, cancel_dialog, pop_error, show_error, typed
from bot.filters import HasRole
from bot.i18n import N_, tr
from bot.keyboards.common import account_menu
from bot.render.errors import alert_text, error_text
from bot.render.messages import drop_inline_keyboard, edit_or_send
from bot.render.postings import locale
from bot.renderers.posting_approval import RequestCb, request_text, verdict_line
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import DomainError, NotFound, ValidationError
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


# refusals after which the card has nothing left to do for this dispatcher
CARD_DONE = frozenset(
    {
        "error.request_approved",
        "error.request_rejected",
        "error.request_decided",
        "error.request_not_found",
        "error.forbidden",
    }
)


class ChangeRequest(StatesGroup):
    headcount = State()
    price = State()


class RejectRequest(StatesGroup):
    reason = State()


def _ctx(manager: DialogManager) -> tuple[UnitOfWork, AccountView, int]:
    uow: UnitOfWork = manager.middleware_data["uow"]
    account: AccountView = manager.middleware_data["account"]
    return uow, account, int(manager.dialog_data["req_id"])


async def _decided_text(uow: UnitOfWork, view: RequestView) -> str:
    return f"{await request_text(uow, view, tr, locale())}\n\n{verdict_line(view, tr)}"


async def _refused(query: CallbackQuery, exc: DomainError) -> None:
    await query.answer(alert_text(error_text(exc)), show_alert=True)
    if exc.key in CARD_DONE:  # a bad value or a suspended company: the card stays usable
        await drop_inline_keyboard(query)


async def _checked(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, req_id: int
) -> bool:
    view = await approval.get_request(uow, req_id)
    try:
        if view is None:
            raise NotFound("error.request_not_found")
        approval.check_decider(account.actor(), view)
    except DomainError as exc:
        await _refused(query, exc)
        return False
    return True


# --- one-tap approval --------------------------------------------------------------------------


async def approve(
    query: CallbackQuery, callback_data: RequestCb, uow: UnitOfWork, account: AccountView
) -> None:
    try:
        view = await approval.approve_request(uow, account.actor(), callback_data.req_id)
    except DomainError as exc:
        await _refused(query, exc)
        return
    await query.answer(_("approval.approved_short"))
    await edit_or_send(query, await _decided_text(uow, view))


async def change(
    query: CallbackQuery,
    callback_data: RequestCb,
    uow: UnitOfWork,
    account: AccountView,
    dialog_manager: DialogManager,
) -> None:
    if not await _checked(query, uow, account, callback_data.req_id):
        return
    await query.answer()
    await dialog_manager.start(
        ChangeRequest.headcount, mode=StartMode.RESET_STACK, data={"req_id": callback_data.req_id}
    )


async def reject(
    query: CallbackQuery,
    callback_data: RequestCb,
    uow: UnitOfWork,
    account: AccountView,
    dialog_manager: DialogManager,
) -> None:
    if not await _checked(query, uow, account, callback_data.req_id):
        return
    await query.answer()
    await dialog_manager.start(
        RejectRequest.reason, mode=StartMode.RESET_STACK, data={"req_id": callback_data.req_id}
    )


# --- the change dialog -------------------------------------------------------------------------


async def headcount_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        manager.dialog_data["headcount"] = parse_headcount(message.text or "")
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    await manager.switch_to(ChangeRequest.price)


async def headcount_kept(_query: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["headcount"] = None
    await manager.switch_to(ChangeRequest.price)


async def _finish(manager: DialogManager, reply: Message | CallbackQuery) -> None:
    uow, account, req_id = _ctx(manager)
    data = manager.dialog_data
    try:
        view = await approval.approve_request(
            uow, account.actor(), req_id, headcount=data.get("headcount"), price=data.get("price")
        )
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    except DomainError as exc:  # decided meanwhile: nothing left to change
        text = error_text(exc)
    else:
        text = await _decided_text(uow, view)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    message = reply if isinstance(reply, Message) else reply.message
    if isinstance(reply, CallbackQuery):
        await reply.answer()
    if isinstance(message, Message):
        await message.answer(text, reply_markup=account_menu(account))


async def price_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        manager.dialog_data["price"] = str(parse_price(message.text or ""))
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    await _finish(manager, message)


async def price_kept(query: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["price"] = None
    await _finish(manager, query)


async def reason_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    uow, account, req_id = _ctx(manager)
    try:
        view = await approval.reject_request(uow, account.actor(), req_id, message.text or "")
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    except DomainError as exc:
        text = error_text(exc)
    else:
        text = await _decided_text(uow, view)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await message.answer(text, reply_markup=account_menu(account))


async def getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow: UnitOfWork = dialog_manager.middleware_data["uow"]
    view = await approval.get_request(uow, int(dialog_manager.dialog_data["req_id"]))
    card = await request_text(uow, view, tr, locale()) if view else ""
    return {"error": pop_error(dialog_manager), "card": card}


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    if isinstance(start_data, dict):
        manager.dialog_data.update(start_data)


def _cancel_row(keep: Button | None = None) -> Row:
    buttons = [keep] if keep is not None else []
    return Row(*buttons, Button(Tr("common.cancel"), id="cancel", on_click=cancel_dialog))


def _dialogs() -> tuple[Dialog, Dialog]:
    error = Format("{error}", when="error")
    change_dialog = Dialog(
        Window(
            error,
            Format("{card}"),
            Tr("approval.ask_headcount"),
            _cancel_row(Button(Tr("approval.keep"), id="keep", on_click=headcount_kept)),
            *typed(headcount_typed, N_("approval.need_text")),
            getter=getter,
            state=ChangeRequest.headcount,
        ),
        Window(
            error,
            Tr("approval.ask_price"),
            _cancel_row(Button(Tr("approval.keep"), id="keep", on_click=price_kept)),
            *typed(price_typed, N_("approval.need_text")),
            getter=getter,
            state=ChangeRequest.price,
        ),
        on_start=_on_start,
    )
    reject_dialog = Dialog(
        Window(
            error,
            Format("{card}"),
            Tr("approval.ask_reason"),
            _cancel_row(),
            *typed(reason_typed, N_("approval.need_text")),
            getter=getter,
            state=RejectRequest.reason,
        ),
        on_start=_on_start,
    )
    return change_dialog, reject_dialog


def create_router() -> Router:
    router = Router(name=__name__)
    dispatcher = HasRole(Role.DISPATCHER)
    router.callback_query.register(approve, RequestCb.filter(F.act == "ok"), dispatcher)
    router.callback_query.register(change, RequestCb.filter(F.act == "chg"), dispatcher)
    router.callback_query.register(reject, RequestCb.filter(F.act == "no"), dispatcher)
    router.include_routers(*_dialogs())
    return router
