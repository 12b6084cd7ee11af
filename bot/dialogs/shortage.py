"""📝 Post a shortage: project → trade → minimum grade → headcount → monthly price (with the
city's guide price) → contact → summary with Edit / Confirm → posted, with its best matches.

Nothing is written before Confirm. Confirm ends the dialog; a second tap of the same button
finds no dialog and is answered as stale (bot/dialogs/stale.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import posting_approval, ring_choice
from bot.dialogs.widgets import (
    BUTTON_LEN,
    ContactStep,
    PriceStep,
    StepOrder,
    Tr,
    account_of,
    back_to,
    cancel_button,
    choice,
    grade_items,
    grade_keyboard,
    headcount_window,
    nav_row,
    on_grade,
    step,
    step_getter,
    toast,
    trade_items,
    trade_keyboard,
    uow_of,
    with_cancel,
)
from bot.filters import HasRole
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import POST_SHORTAGE, MenuText
from bot.keyboards.shortage import ShCb, propose_buttons
from bot.render.messages import edit_or_send
from bot.render.postings import (
    deviation_line,
    grade_name,
    guide_line,
    locale,
    match_lines,
    money,
    trade_name,
)
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.domain.values import MAX_HEADCOUNT
from core.services import postings
from core.services.accounts import AccountView
from core.services.guide_prices import current_guide_price
from core.services.matching import match_posting
from core.services.postings import PostingProject, PostShortageCommand
from core.services.regions import get_region

MATCHES_SHOWN = 5
FIELDS = {
    "project": N_("shortage.field.project"),
    "trade": N_("shortage.field.trade"),
    "grade": N_("shortage.field.grade"),
    "headcount": N_("shortage.field.headcount"),
    "price": N_("shortage.field.price"),
    "contact": N_("shortage.field.contact"),
}


class PostShortage(StatesGroup):
    project = State()
    trade = State()
    grade = State()
    headcount = State()
    price = State()
    price_confirm = State()  # the price is far from the guide: keep it or type another
    contact = State()  # "use this" or a typed name
    contact_phone = State()  # a typed phone for the typed name
    summary = State()
    edit = State()  # picking the field to change


S = PostShortage
STEPS = StepOrder(
    S.project,
    S.trade,
    S.grade,
    S.headcount,
    S.price,
    S.contact,
    S.summary,
    substeps={S.price_confirm: S.price, S.contact_phone: S.contact},
)


# --- reading what the dialog needs -------------------------------------------------------------


async def _projects(manager: DialogManager) -> list[PostingProject]:
    """The account's projects, read once per update."""
    uow, account = uow_of(manager), account_of(manager)
    key = f"shortage.projects:{account.id}"
    if key not in uow.memo:
        uow.memo[key] = await postings.list_posting_projects(uow, account.actor())
    return list(uow.memo[key])


async def _project(manager: DialogManager) -> PostingProject:
    wanted = manager.dialog_data.get("sh_project")
    found = next((p for p in await _projects(manager) if p.id == wanted), None)
    if found is None:  # closed or taken out of this account's scope meanwhile
        raise PermissionDenied("error.forbidden")
    return found


async def _names(manager: DialogManager) -> dict[str, Any]:
    """The chosen trade and grade in the user's language."""
    uow, data = uow_of(manager), manager.dialog_data
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    return {
        "trade": trade_name(trades, data.get("sh_trade", "")),
        "grade": grade_name(grades, int(data.get("sh_grade", 0))),
        "headcount": data.get("sh_count", 0),
    }


async def _price_context(manager: DialogManager) -> tuple[dict[str, Any], Decimal | None, str]:
    """The prompt's fields, the guide price for the project's city, trade and grade, and the
    city's name."""
    uow, data = uow_of(manager), manager.dialog_data
    project = await _project(manager)
    guide = await current_guide_price(
        uow, project.city_code, data.get("sh_trade", ""), int(data.get("sh_grade", 0))
    )
    city = await get_region(uow, project.city_code)
    return await _names(manager), guide, city.name(locale())


# --- getters -----------------------------------------------------------------------------------


async def base_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    multi = len(await _projects(dialog_manager)) > 1
    return {
        **await step_getter(dialog_manager, **kwargs),
        "can_back": multi or dialog_manager.current_context().state is not S.trade,
        "multi_project": multi,
    }


async def project_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    projects = await _projects(dialog_manager)
    return {"projects": [(p.id, p.name[:BUTTON_LEN]) for p in projects]}


async def trade_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    trades = await postings.list_trades(uow_of(dialog_manager))
    project = await _project(dialog_manager)
    more = bool(dialog_manager.dialog_data.get("more"))
    return {"project": project.name, **trade_items(trades, more=more)}


async def grade_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    grades = await postings.list_grades(uow_of(dialog_manager))
    return {**await _names(dialog_manager), "grades": grade_items(grades, with_any=True)}


async def headcount_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {**await _names(dialog_manager), "max": MAX_HEADCOUNT}


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    project = await _project(dialog_manager)
    names = await _names(dialog_manager)
    _fields, guide, city = await _price_context(dialog_manager)
    price = Decimal(data.get("sh_price", "0"))
    lines = [
        tr(
            "shortage.summary",
            project=project.name,
            **names,
            price=money(price),
            name=data.get("sh_name", ""),
            phone=data.get("sh_phone", ""),
        ),
        guide_line(guide, city, names["trade"], names["grade"]),
    ]
    if warning := deviation_line(price, guide):
        lines.append(warning)
    fields_ = ring_choice.ring_fields(dialog_manager, "sh_ring")
    lines.append(fields_["ring_line"])
    multi = len(await _projects(dialog_manager)) > 1
    fields = [(key, _(label)) for key, label in FIELDS.items() if multi or key != "project"]
    return {"summary": Safe("\n".join(lines)), "fields": fields, **fields_}


# --- the steps ---------------------------------------------------------------------------------


async def project_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, project_id: int
) -> None:
    if not any(p.id == project_id for p in await _projects(manager)):
        raise PermissionDenied("error.forbidden")  # forged, or no longer this account's
    manager.dialog_data["sh_project"] = project_id
    await STEPS.after(manager)


async def toggle_trades(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["more"] = not manager.dialog_data.get("more")


async def trade_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
) -> None:
    trades = await postings.list_trades(uow_of(manager))
    if not any(t.code == code for t in trades):
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["sh_trade"] = code
    await STEPS.after(manager)


PRICE = PriceStep(S.price, S.price_confirm, _price_context, STEPS.saving("sh_price"))
CONTACT = ContactStep(S.contact, S.contact_phone, STEPS.saving("sh_name", "sh_phone"))


async def edit_field(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, field: str
) -> None:
    steps = {"project": S.project, "trade": S.trade, "grade": S.grade}
    steps |= {"headcount": S.headcount, "price": S.price, "contact": S.contact}
    await STEPS.edit(manager, steps[field])


async def confirm(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    data, uow, account = manager.dialog_data, uow_of(manager), account_of(manager)
    command = PostShortageCommand(
        project_id=int(data["sh_project"]),
        trade_code=str(data["sh_trade"]),
        min_grade=int(data["sh_grade"]),
        headcount=int(data["sh_count"]),
        price=str(data["sh_price"]),
        contact_name=str(data["sh_name"]),
        contact_phone=str(data["sh_phone"]),
        ring=ring_choice.chosen(manager, "sh_ring"),
    )
    # a DomainError leaves the dialog on the summary: its context is saved only on success
    view, waiting = await posting_approval.post_or_request(uow, account, command)  # 需求待批
    if view is None:
        await toast(callback, _("approval.requested_short"))
        await edit_or_send(callback, waiting, None)
        await manager.done(show_mode=ShowMode.NO_UPDATE)
        return
    text, markup = await posted_message(uow, account, view)
    await toast(callback, _("shortage.posted_short"))
    # the summary message becomes the result; the finished dialog leaves nothing to tap
    await edit_or_send(callback, text, markup)
    await manager.done(show_mode=ShowMode.NO_UPDATE)


# --- windows -----------------------------------------------------------------------------------


def _dialog() -> Dialog:
    back = nav_row(STEPS.back)
    return Dialog(
        step(
            S.project,
            project_getter,
            Tr("shortage.pick_project"),
            choice("proj", "projects", project_chosen, width=1, type_factory=int),
            with_cancel(),
        ),
        step(
            S.trade,
            trade_getter,
            Tr("shortage.pick_trade"),
            trade_keyboard(trade_chosen, toggle_trades),
            nav_row(STEPS.back, back_when="can_back"),
        ),
        step(
            S.grade,
            grade_getter,
            Tr("shortage.pick_grade"),
            grade_keyboard(on_grade(STEPS.saving("sh_grade"))),
            back,
        ),
        headcount_window(
            S.headcount,
            STEPS.saving("sh_count"),
            ask=N_("shortage.ask_headcount"),
            type_=N_("shortage.type_headcount"),
            nav=back,
            getter=headcount_getter,
        ),
        *PRICE.windows(back),
        *CONTACT.windows(back),
        step(
            S.summary,
            summary_getter,
            Format("{summary}"),
            Row(
                Button(Tr("shortage.confirm"), id="confirm", on_click=confirm),
                SwitchTo(Tr("shortage.edit"), id="edit", state=S.edit),
            ),
            Row(ring_choice.toggle_button("sh_ring"), cancel_button()),
        ),
        step(
            S.edit,
            summary_getter,
            Tr("shortage.edit_pick"),
            choice("field", "fields", edit_field, width=3),
            back_to(N_("shortage.back"), S.summary),
        ),
        getter=base_getter,
        on_start=_on_start,
    )


# --- entry points ------------------------------------------------------------------------------


async def start(message: Message, dialog_manager: DialogManager) -> None:
    await _open(dialog_manager, None)


async def start_inline(
    _query: CallbackQuery, callback_data: ShCb, dialog_manager: DialogManager
) -> None:
    """The inline "📝 Post shortage" of other screens, optionally for one project."""
    value = callback_data.val
    await _open(dialog_manager, int(value) if value.isdigit() else None)


async def _open(manager: DialogManager, project_id: int | None) -> None:
    """Start on the project step, or on the trade step when there is nothing to choose."""
    projects = await postings.list_posting_projects(uow_of(manager), account_of(manager).actor())
    if not projects:
        await manager.reset_stack()
        event = manager.event
        if isinstance(event, Message):
            await event.answer(_("shortage.no_projects"))
        return
    if project_id is None and len(projects) == 1:
        project_id = projects[0].id
    if project_id is not None and any(p.id == project_id for p in projects):
        await manager.start(S.trade, mode=StartMode.RESET_STACK, data={"sh_project": project_id})
        return
    await manager.start(S.project, mode=StartMode.RESET_STACK)


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data["sh_ring"] = await ring_choice.company_ring(manager)
    if isinstance(start_data, dict):
        manager.dialog_data.update(start_data)


def create_router() -> Router:
    """The dialog and the menu button that opens it."""
    router = Router(name=__name__)
    allowed = HasRole(Role.FOREMAN, Role.DISPATCHER)
    router.message.register(start, MenuText(POST_SHORTAGE), allowed)
    router.callback_query.register(start_inline, ShCb.filter(F.act == "start"), allowed)
    router.include_router(_dialog())
    return router


async def posted_message(
    uow: UnitOfWork, account: AccountView, view: postings.ShortageView
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What a foreman sees once a shortage is posted (step by step or pasted): the posting and
    its best matches, each with its propose button."""
    matches = await match_posting(uow, account.actor(), "shortage", view.id, limit=MATCHES_SHOWN)
    grades = await postings.list_grades(uow)
    trades = await postings.list_trades(uow)
    lines = [
        tr(
            "shortage.posted",
            id=view.id,
            trade=trade_name(trades, view.trade_code),
            grade=grade_name(grades, view.min_grade),
            headcount=view.headcount,
            price=money(view.price),
        ),
        "",
    ]
    if matches:
        lines.append(_("shortage.matches_title"))
        lines += match_lines(matches, grades)
    else:
        lines.append(_("shortage.no_matches"))
    markup = InlineKeyboardMarkup(inline_keyboard=propose_buttons(matches, shortage_id=view.id))
    return "\n".join(lines), markup if matches else None
