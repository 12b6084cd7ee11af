"""A regulator decides an application to join (申请入驻) from its card: ✅ 批准 at once, or
❌ 驳回 → a typed reason → rejected. The applicant is told by the service (outbox).

Every tap goes through core again: the region (a regulator of another region is refused),
the application's state (a card already decided, by this regulator or another, says so and
loses its buttons), a USCC registered meanwhile."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager

from bot.dialogs.answers import (
    answer_window,
    ask_from_card,
    decide_on_card,
    refuse_on_card,
    settle,
    started,
)
from bot.dialogs.widgets import Tr, account_of, uow_of
from bot.filters import HasRole
from bot.i18n import N_, tr
from bot.keyboards.join import ReviewCb
from bot.render.postings import locale
from bot.renderers.join import card_text, verdict_line
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import DomainError, PermissionDenied, ValidationError
from core.services import enterprise_applications as applications
from core.services.accounts import AccountView
from core.services.enterprise_applications import ApplicationView
from core.services.regions import get_region

# refusals after which the card has nothing left to do for this regulator (a USCC registered
# meanwhile keeps ❌ 驳回 usable)
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


async def _refused(query: CallbackQuery, uow: UnitOfWork, app_id: int, exc: DomainError) -> None:
    """Out of this regulator's region: the alert names the application's county."""
    text = ""
    if isinstance(exc, PermissionDenied) and exc.key == "error.out_of_scope":
        view = await applications.get_application(uow, app_id)
        if view is not None:
            county = await get_region(uow, view.county_code)
            text = tr("join.review_other_region", region=county.name(locale()))
    await refuse_on_card(query, exc, CARD_DONE, text)


async def _decided(uow: UnitOfWork, view: ApplicationView) -> str:
    return f"{await card_text(uow, view, tr, locale())}\n\n{verdict_line(view, tr)}"


async def approve(
    query: CallbackQuery, callback_data: ReviewCb, uow: UnitOfWork, account: AccountView
) -> None:
    app_id = callback_data.app_id
    approved = applications.approve_application(uow, account.actor(), app_id)
    refuse = partial(_refused, query, uow, app_id)
    await decide_on_card(query, approved, refuse, _("join.approved_short"), partial(_decided, uow))


async def reject(
    query: CallbackQuery,
    callback_data: ReviewCb,
    uow: UnitOfWork,
    account: AccountView,
    dialog_manager: DialogManager,
) -> None:
    """Check first (region, still pending), then ask for the reason."""
    app_id = callback_data.app_id
    check = applications.reviewable(uow, account.actor(), app_id)
    refuse = partial(_refused, query, uow, app_id)
    await ask_from_card(
        query, dialog_manager, RejectReason.reason, {"app_id": app_id}, check, refuse
    )


async def reason_taken(manager: DialogManager, raw: str) -> None:
    uow, actor = uow_of(manager), account_of(manager).actor()
    rejected = applications.reject_application(uow, actor, started(manager, "app_id"), raw)
    await settle(manager, rejected, partial(_decided, uow))


async def reason_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    view = await applications.get_application(
        uow_of(dialog_manager), started(dialog_manager, "app_id")
    )
    return {"name": view.name if view else ""}


def create_router() -> Router:
    router = Router(name=__name__)
    reviewer = HasRole(Role.REGULATOR, Role.ADMIN)
    router.callback_query.register(approve, ReviewCb.filter(F.act == "ok"), reviewer)
    router.callback_query.register(reject, ReviewCb.filter(F.act == "no"), reviewer)
    window = answer_window(
        RejectReason.reason,
        Tr("join.ask_reason"),
        take=reason_taken,
        need=N_("join.need_text"),
        retry=ValidationError,
        getter=reason_getter,
    )
    router.include_router(Dialog(window))
    return router
