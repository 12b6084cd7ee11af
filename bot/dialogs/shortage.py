"""📝 Post a shortage: project → trade → minimum grade → headcount → monthly price (with the
city's guide price) → contact → summary with Edit / Confirm → posted, with its best matches.

Nothing is written before Confirm. Confirm ends the dialog; a second tap of the same button
finds no dialog and is answered as stale (bot/dialogs/stale.py)."""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from typing import Any

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Column, Group, Row, Select
from aiogram_dialog.widgets.text import Format

from bot.dialogs import posting_approval
from bot.dialogs.widgets import (
    ANY_GRADE,
    BUTTON_LEN,
    Tr,
    buttons_only,
    cancel_button,
    grade_items,
    grade_keyboard,
    headcount_keyboard,
    nav_row,
    pop_error,
    price_items,
    price_keyboard,
    show_error,
    toast,
    trade_items,
    trade_keyboard,
    typed,
)
from bot.filters import HasRole
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import POST_SHORTAGE, MenuText
from bot.keyboards.shortage import ShCb, propose_buttons
from bot.render.errors import error_text
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
from core.domain.contact import Contact, own_contact, parse_contact, split_contact
from core.domain.enums import Role
from core.domain.errors import PermissionDenied, ValidationError
from core.domain.values import MAX_HEADCOUNT, parse_headcount, parse_mobile, parse_price
from core.services import postings
from core.services.accounts import AccountView
from core.services.guide_prices import current_guide_price, is_far_from_guide
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
ORDER = (S.project, S.trade, S.grade, S.headcount, S.price, S.contact, S.summary)


# --- reading what the dialog needs -------------------------------------------------------------


def _account(manager: DialogManager) -> AccountView:
    account: AccountView = manager.middleware_data["account"]
    return account


def _uow(manager: DialogManager) -> UnitOfWork:
    uow: UnitOfWork = manager.middleware_data["uow"]
    return uow


async def _projects(manager: DialogManager) -> list[PostingProject]:
    """The account's projects, read once per update."""
    uow, account = _uow(manager), _account(manager)
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
    uow, data = _uow(manager), manager.dialog_data
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    return {
        "trade": trade_name(trades, data.get("sh_trade", "")),
        "grade": grade_name(grades, int(data.get("sh_grade", 0))),
        "headcount": data.get("sh_count", 0),
    }


async def _guide(manager: DialogManager) -> tuple[Decimal | None, str]:
    """The guide price for the project's city, trade and grade, and the city's name."""
    uow, data = _uow(manager), manager.dialog_data
    project = await _project(manager)
    guide = await current_guide_price(
        uow, project.city_code, data.get("sh_trade", ""), int(data.get("sh_grade", 0))
    )
    city = await get_region(uow, project.city_code)
    return guide, city.name(locale())


def _profile_contact(account: AccountView) -> Contact | None:
    return own_contact(account.display_name, account.phone)


# --- moving between steps ----------------------------------------------------------------------


async def _after(manager: DialogManager) -> None:
    """Go on from a finished step: the next one, or back to the summary when editing."""
    manager.dialog_data["typing"] = False
    if manager.dialog_data.get("sh_edit"):
        await manager.switch_to(S.summary)
        return
    state = manager.current_context().state
    step = S.price if state is S.price_confirm else state
    following = ORDER[ORDER.index(step) + 1]
    if following is S.summary:
        manager.dialog_data["sh_edit"] = False
    await manager.switch_to(following)


async def go_back(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    """The summary when editing, else the step before (the project step only with a choice)."""
    manager.dialog_data["typing"] = False
    if manager.dialog_data.get("sh_edit"):
        await manager.switch_to(S.summary)
        return
    state = manager.current_context().state
    step = {S.contact_phone: S.contact}.get(state, state)
    await manager.switch_to(ORDER[max(ORDER.index(step) - 1, 0)])


async def start_typing(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["typing"] = True


# --- getters -----------------------------------------------------------------------------------


async def base_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    multi = len(await _projects(dialog_manager)) > 1
    return {
        "error": pop_error(dialog_manager),
        "typing": bool(dialog_manager.dialog_data.get("typing")),
        "can_back": multi or dialog_manager.current_context().state is not S.trade,
        "multi_project": multi,
    }


async def project_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    projects = await _projects(dialog_manager)
    return {"projects": [(p.id, p.name[:BUTTON_LEN]) for p in projects]}


async def trade_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    trades = await postings.list_trades(_uow(dialog_manager))
    project = await _project(dialog_manager)
    more = bool(dialog_manager.dialog_data.get("more"))
    return {"project": project.name, **trade_items(trades, more=more)}


async def grade_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    grades = await postings.list_grades(_uow(dialog_manager))
    return {**await _names(dialog_manager), "grades": grade_items(grades, with_any=True)}


async def headcount_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {**await _names(dialog_manager), "max": MAX_HEADCOUNT}


async def price_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    names = await _names(dialog_manager)
    guide, city = await _guide(dialog_manager)
    line = guide_line(guide, city, names["trade"], names["grade"])
    pending = dialog_manager.dialog_data.get("sh_pending")
    far = ""
    if pending:
        far = tr(
            "shortage.price_far",
            price=money(Decimal(pending)),
            warning=Safe(deviation_line(Decimal(pending), guide)),
        )
    return {**names, "guide": Safe(line), "far": Safe(far), **price_items(guide)}


async def contact_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    profile = _profile_contact(_account(dialog_manager))
    name, phone = (profile.name, profile.phone) if profile else ("", "")
    return {
        "prefilled": profile is not None,
        "name": name,
        "phone": phone,
        "typed_name": dialog_manager.dialog_data.get("sh_name", ""),
    }


async def contact_phone_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"name": dialog_manager.dialog_data.get("sh_name", "")}


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    project = await _project(dialog_manager)
    names = await _names(dialog_manager)
    guide, city = await _guide(dialog_manager)
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
    multi = len(await _projects(dialog_manager)) > 1
    fields = [(key, _(label)) for key, label in FIELDS.items() if multi or key != "project"]
    return {"summary": Safe("\n".join(lines)), "fields": fields}


# --- the steps ---------------------------------------------------------------------------------


async def project_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, project_id: int
) -> None:
    if not any(p.id == project_id for p in await _projects(manager)):
        raise PermissionDenied("error.forbidden")  # forged, or no longer this account's
    manager.dialog_data["sh_project"] = project_id
    await _after(manager)


async def toggle_trades(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["more"] = not manager.dialog_data.get("more")


async def trade_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
) -> None:
    trades = await postings.list_trades(_uow(manager))
    if not any(t.code == code for t in trades):
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["sh_trade"] = code
    await _after(manager)


async def grade_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, level: int
) -> None:
    grades = await postings.list_grades(_uow(manager))
    levels = [g.level for g in grades]
    if level == ANY_GRADE:  # 不限: the lowest grade, every worker qualifies
        level = max(levels)
    if level not in levels:
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["sh_grade"] = level
    await _after(manager)


async def headcount_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, count: int
) -> None:
    manager.dialog_data["sh_count"] = parse_headcount(count)
    await _after(manager)


async def headcount_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        manager.dialog_data["sh_count"] = parse_headcount(message.text or "")
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        manager.dialog_data["typing"] = True
        return
    await _after(manager)


async def _take_price(manager: DialogManager, raw: str) -> None:
    price = parse_price(raw)
    guide, _city = await _guide(manager)
    if is_far_from_guide(price, guide):
        manager.dialog_data["sh_pending"] = str(price)
        await manager.switch_to(S.price_confirm)
        return
    manager.dialog_data.update(sh_price=str(price), sh_pending=None)
    await _after(manager)


async def price_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str
) -> None:
    await _take_price(manager, value)


async def price_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        await _take_price(manager, message.text or "")
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        manager.dialog_data.update(typing=True, sh_pending=None)
        await manager.switch_to(S.price)


async def price_kept(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    pending = manager.dialog_data.get("sh_pending")
    if not isinstance(pending, str):
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data.update(sh_price=pending, sh_pending=None)
    await _after(manager)


async def price_reenter(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["sh_pending"] = None
    await manager.switch_to(S.price)


async def contact_profile(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    profile = _profile_contact(_account(manager))
    if profile is None:
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data.update(sh_name=profile.name, sh_phone=profile.phone)
    await _after(manager)


async def contact_name_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    """A name (then the phone is asked), or name and phone in one message, either order."""
    manager.dialog_data["typing"] = True
    try:
        typed = split_contact(message.text)
        own = _profile_contact(_account(manager))
        contact = parse_contact(message.text, own=own) if typed.phone is not None else None
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    if contact is not None:
        manager.dialog_data.update(sh_name=contact.name, sh_phone=contact.phone)
        await _after(manager)
        return
    manager.dialog_data["sh_name"] = typed.name
    await manager.switch_to(S.contact_phone)


async def contact_phone_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        manager.dialog_data["sh_phone"] = parse_mobile(message.text or "")
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    await manager.switch_to(S.contact)  # _after moves on from the contact step
    await _after(manager)


async def edit_field(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, field: str
) -> None:
    steps = {"project": S.project, "trade": S.trade, "grade": S.grade}
    steps |= {"headcount": S.headcount, "price": S.price, "contact": S.contact}
    manager.dialog_data["sh_edit"] = True
    await manager.switch_to(steps[field])


async def confirm(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    data, uow, account = manager.dialog_data, _uow(manager), _account(manager)
    command = PostShortageCommand(
        project_id=int(data["sh_project"]),
        trade_code=str(data["sh_trade"]),
        min_grade=int(data["sh_grade"]),
        headcount=int(data["sh_count"]),
        price=str(data["sh_price"]),
        contact_name=str(data["sh_name"]),
        contact_phone=str(data["sh_phone"]),
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

TYPING = F["typing"]
CHOOSING = ~F["typing"]


def _dialog() -> Dialog:
    error = Format("{error}", when="error")
    return Dialog(
        Window(
            Tr("shortage.pick_project"),
            Column(
                Select(
                    Format("{item[1]}"),
                    id="proj",
                    item_id_getter=itemgetter(0),
                    items="projects",
                    type_factory=int,
                    on_click=project_chosen,
                )
            ),
            Row(cancel_button()),
            buttons_only(),
            getter=project_getter,
            state=S.project,
        ),
        Window(
            Tr("shortage.pick_trade"),
            trade_keyboard(trade_chosen, toggle_trades),
            nav_row(go_back, back_when="can_back"),
            buttons_only(),
            getter=trade_getter,
            state=S.trade,
        ),
        Window(
            Tr("shortage.pick_grade"),
            grade_keyboard(grade_chosen),
            nav_row(go_back),
            buttons_only(),
            getter=grade_getter,
            state=S.grade,
        ),
        Window(
            error,
            Tr("shortage.ask_headcount", when=CHOOSING),
            Tr("shortage.type_headcount", when=TYPING),
            Group(headcount_keyboard(headcount_chosen, start_typing), when=CHOOSING),
            nav_row(go_back),
            *typed(headcount_typed, N_("shortage.need_number")),
            getter=headcount_getter,
            state=S.headcount,
        ),
        Window(
            error,
            Tr("shortage.ask_price", when=CHOOSING),
            Tr("shortage.type_price", when=TYPING),
            Group(price_keyboard(price_chosen, start_typing), when=CHOOSING),
            nav_row(go_back),
            *typed(price_typed, N_("shortage.need_number")),
            getter=price_getter,
            state=S.price,
        ),
        Window(
            Format("{far}"),
            Row(
                Button(Tr("shortage.keep_price"), id="keep", on_click=price_kept),
                Button(Tr("shortage.reenter"), id="reenter", on_click=price_reenter),
            ),
            Row(cancel_button()),
            *typed(price_typed, N_("shortage.need_number")),
            getter=price_getter,
            state=S.price_confirm,
        ),
        Window(
            error,
            Tr("shortage.ask_contact", when=CHOOSING & F["prefilled"]),
            Tr("shortage.type_contact_name", when=TYPING | ~F["prefilled"]),
            Button(
                Tr("shortage.use_contact"),
                id="me",
                on_click=contact_profile,
                when=CHOOSING & F["prefilled"],
            ),
            Button(Tr("shortage.other_contact"), id="other", on_click=start_typing, when=CHOOSING),
            nav_row(go_back),
            *typed(contact_name_typed, N_("shortage.need_text")),
            getter=contact_getter,
            state=S.contact,
        ),
        Window(
            error,
            Tr("shortage.type_contact_phone"),
            nav_row(go_back),
            *typed(contact_phone_typed, N_("shortage.need_text")),
            getter=contact_phone_getter,
            state=S.contact_phone,
        ),
        Window(
            Format("{summary}"),
            Row(
                Button(Tr("shortage.confirm"), id="confirm", on_click=confirm),
                Button(
                    Tr("shortage.edit"),
                    id="edit",
                    on_click=lambda _c, _b, m: m.switch_to(S.edit),
                ),
            ),
            Row(cancel_button()),
            buttons_only(),
            getter=summary_getter,
            state=S.summary,
        ),
        Window(
            Tr("shortage.edit_pick"),
            Group(
                Select(
                    Format("{item[1]}"),
                    id="field",
                    item_id_getter=itemgetter(0),
                    items="fields",
                    on_click=edit_field,
                ),
                width=3,
            ),
            Row(
                Button(
                    Tr("shortage.back"),
                    id="back",
                    on_click=lambda _c, _b, m: m.switch_to(S.summary),
                ),
                cancel_button(),
            ),
            buttons_only(),
            getter=summary_getter,
            state=S.edit,
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
    projects = await postings.list_posting_projects(_uow(manager), _account(manager).actor())
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
