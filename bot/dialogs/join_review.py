"""A regulator decides an application to join (申请入驻) from its card: ✅ 批准 at once, or
❌ 驳回 → a typed reason → rejected. The applicant is told by the service (outbox).

Every tap goes through core again: the region (a regulator of another region is refused),
the application's state (a card already decided, by this regulator or another, says so and
loses its buttons), a USCC registered meanwhile."""

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
from bot.keyboards.common import account_menu, main_menu
from bot.keyboards.join import ReviewCb
from bot.render.errors import alert_text, error_text
from bot.render.messages import drop_inline_keyboard, edit_or_send
from bot.render.postings import locale
from bot.renderers.join import card_text, verdict_line
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import (
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from core.services import enterprise_applications as applications
from core.services.accounts import AccountView
from core.services.regions import get_region

# refusals after which the card has nothing left to do for this regulator
CARD_DONE = frozenset(
    {
        "error.application_approved",
        "error.application_rejected",
        "error.application_decided",
        "error.application_not_found",
        "error.out_of_scope",
    }
)


class RejectReason(StatesGroup):
    reason = State()


async def _refused(query: CallbackQuery, uow: UnitOfWork, exc: DomainError, app_id: int) -> None:
    """A clear alert; a card whose application is decided (or out of reach) loses its buttons."""
    text = error_text(exc)
    if isinstance(exc, PermissionDenied) and exc.key == "error.out_of_scope":
        view = await applications.get_application(uow, app_id)
        if view is not None:
            county = await get_region(uow, view.county_code)
            text = tr("join.review_other_region", region=county.name(locale()))
    await query.answer(alert_text(text), show_alert=True)
    if exc.key in CARD_DONE:  # e.g. a USCC registered meanwhile keeps ❌ 驳回 usable
        await drop_inline_keyboard(query)


async def approve(
    query: CallbackQuery, callback_data: ReviewCb, uow: UnitOfWork, account: AccountView
) -> None:
    app_id = callback_data.app_id
    try:
        view = await applications.approve_application(uow, account.actor(), app_id)
    except DomainError as exc:
        await _refused(query, uow, exc, app_id)
        return
    text = await card_text(uow, view, tr, locale())
    await query.answer(_("join.approved_short"))
    await edit_or_send(query, f"{text}\n\n{verdict_line(view, tr)}")


async def reject(
    query: CallbackQuery,
    callback_data: ReviewCb,
    uow: UnitOfWork,
    account: AccountView,
    dialog_manager: DialogManager,
) -> None:
    """Check first (region, still pending), then ask for the reason."""
    app_id = callback_data.app_id
    view = await applications.get_application(uow, app_id)
    try:
        if view is None:
            raise NotFound("error.application_not_found")
        applications.check_reviewer(account.actor(), view)
    except DomainError as exc:
        await _refused(query, uow, exc, app_id)
        return
    await query.answer()
    await dialog_manager.start(
        RejectReason.reason, mode=StartMode.RESET_STACK, data={"app_id": app_id}
    )


async def reason_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    uow: UnitOfWork = manager.middleware_data["uow"]
    account: AccountView = manager.middleware_data["account"]
    app_id = int(manager.dialog_data["app_id"])
    try:
        view = await applications.reject_application(
            uow, account.actor(), app_id, message.text or ""
        )
    except ValidationError as exc:  # empty or too long: asked again
        show_error(manager, error_text(exc))
        return
    except DomainError as exc:  # decided meanwhile, or out of reach: nothing to ask any more
        await manager.done(show_mode=ShowMode.NO_UPDATE)
        await message.answer(error_text(exc), reply_markup=account_menu(account))
        return
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    text = await card_text(uow, view, tr, locale())
    await message.answer(
        f"{text}\n\n{verdict_line(view, tr)}", reply_markup=main_menu(account.role)
    )


async def reason_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow: UnitOfWork = dialog_manager.middleware_data["uow"]
    view = await applications.get_application(uow, int(dialog_manager.dialog_data["app_id"]))
    return {"error": pop_error(dialog_manager), "name": view.name if view else ""}


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    if isinstance(start_data, dict):
        manager.dialog_data.update(start_data)


def _dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{error}", when="error"),
            Tr("join.ask_reason"),
            Row(Button(Tr("common.cancel"), id="cancel", on_click=cancel_dialog)),
            *typed(reason_typed, N_("join.need_text")),
            getter=reason_getter,
            state=RejectReason.reason,
        ),
        on_start=_on_start,
    )


def create_router() -> Router:
    router = Router(name=__name__)
    reviewer = HasRole(Role.REGULATOR, Role.ADMIN)
    router.callback_query.register(approve, ReviewCb.filter(F.act == "ok"), reviewer)
    router.callback_query.register(reject, ReviewCb.filter(F.act == "no"), reviewer)
    router.include_router(_dialog())
    return router
