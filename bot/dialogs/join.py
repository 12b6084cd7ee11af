"""🏢 申请入驻: a user without an account applies to register a company.

company name → USCC → kind (施工总承包 / 专业分包 / 劳务企业) → city → county → contact (name and
phone in one message) → summary with Edit / Submit → filed; the county's regulators (else the
city's) get the approval card (bot/renderers/join.py).

Every answer is checked by the same core functions the filing runs again (a wrong answer is
said and the step asked again); nothing is written before Submit. The plain FSM state is
JoinGate.open while the dialog is open: the access middleware lets the guest through on it."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Column, Row, Select
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import Tr, buttons_only, choice, pop_error, show_error, toast, typed
from bot.i18n import N_, tr
from bot.keyboards.common import MenuText
from bot.keyboards.join import APPLY, JoinGate, guest_keyboard
from bot.render.errors import error_text
from bot.render.messages import edit_or_send
from bot.render.postings import locale
from core.db.uow import UnitOfWork
from core.domain.contact import parse_contact
from core.domain.errors import DomainError, ValidationError
from core.services import enterprise_applications as applications
from core.services.accounts import AccountView
from core.services.enterprises import KINDS, check_county, clean_enterprise_name
from core.services.regions import PROVINCE_CODE, children, get_region

KIND_LABELS = {
    "general": N_("join.kind.general"),
    "specialty": N_("join.kind.specialty"),
    "labor": N_("join.kind.labor"),
}
FIELDS = {
    "name": N_("join.field.name"),
    "uscc": N_("join.field.uscc"),
    "kind": N_("join.field.kind"),
    "county": N_("join.field.county"),
    "contact": N_("join.field.contact"),
}


class Join(StatesGroup):
    name = State()
    uscc = State()
    kind = State()
    city = State()
    county = State()
    contact = State()
    summary = State()
    edit = State()


J = Join
ORDER = (J.name, J.uscc, J.kind, J.city, J.county, J.contact, J.summary)


def _uow(manager: DialogManager) -> UnitOfWork:
    uow: UnitOfWork = manager.middleware_data["uow"]
    return uow


def _state(manager: DialogManager) -> FSMContext:
    state: FSMContext = manager.middleware_data["state"]
    return state


async def _after(manager: DialogManager) -> None:
    """The next step, or back to the summary when a field was being changed."""
    if manager.dialog_data.get("editing"):
        # a county belongs to its city: changing the city asks the county again
        if manager.current_context().state is J.city:
            await manager.switch_to(J.county)
            return
        await manager.switch_to(J.summary)
        return
    state = manager.current_context().state
    await manager.switch_to(ORDER[ORDER.index(state) + 1])


async def go_back(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    if manager.dialog_data.get("editing"):
        await manager.switch_to(J.summary)
        return
    state = manager.current_context().state
    await manager.switch_to(ORDER[max(ORDER.index(state) - 1, 0)])


async def cancel(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await toast(callback, _("common.cancelled"))
    await edit_or_send(callback, _("join.cancelled"))
    if callback.bot is not None:
        await callback.bot.send_message(
            callback.from_user.id, _("common.cancelled"), reply_markup=guest_keyboard()
        )


def nav(*, back: bool = True) -> Row:
    buttons = [Button(Tr("shortage.back"), id="back", on_click=go_back)] if back else []
    return Row(*buttons, Button(Tr("common.cancel"), id="cancel", on_click=cancel))


# --- getters -----------------------------------------------------------------------------------


async def base_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"error": pop_error(dialog_manager)}


async def city_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    loc = locale()
    cities = await children(_uow(dialog_manager), PROVINCE_CODE)
    return {"cities": [(c.code, c.name(loc)) for c in cities]}


async def county_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    loc, uow = locale(), _uow(dialog_manager)
    city = str(dialog_manager.dialog_data.get("city", ""))
    counties = await children(uow, city) if city else []
    name = (await get_region(uow, city)).name(loc) if city else ""
    return {"counties": [(c.code, c.name(loc)) for c in counties], "city": name}


async def kind_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"kinds": [(key, _(label)) for key, label in KIND_LABELS.items()]}


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data, uow, loc = dialog_manager.dialog_data, _uow(dialog_manager), locale()
    county = await get_region(uow, str(data["county"]))
    city = await get_region(uow, str(county.parent_code))
    text = tr(
        "join.summary",
        name=str(data["name"]),
        uscc=str(data["uscc"]),
        kind=_(KIND_LABELS[str(data["kind"])]),
        region=f"{city.name(loc)} {county.name(loc)}",
        contact=str(data["contact_name"]),
        phone=str(data["contact_phone"]),  # the applicant's own number, shown to check it
    )
    return {"summary": text, "fields": [(k, _(v)) for k, v in FIELDS.items()]}


# --- the steps ---------------------------------------------------------------------------------


async def name_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        manager.dialog_data["name"] = clean_enterprise_name(message.text)
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    await _after(manager)


async def uscc_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        # checked, and not already registered nor applied for (filing checks it again)
        manager.dialog_data["uscc"] = await applications.check_uscc_free(
            _uow(manager), message.text or ""
        )
    except DomainError as exc:
        show_error(manager, error_text(exc))
        return
    await _after(manager)


async def kind_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, kind: str
) -> None:
    if kind not in KINDS:
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["kind"] = kind
    await _after(manager)


async def city_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
) -> None:
    cities = await children(_uow(manager), PROVINCE_CODE)
    if not any(c.code == code for c in cities):
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["city"] = code
    await _after(manager)


async def county_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
) -> None:
    city = str(manager.dialog_data.get("city", ""))
    try:
        county = await check_county(_uow(manager), code)
    except DomainError:
        county = ""
    if not city or county[:4] != city[:4]:  # forged, or a county of another city
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["county"] = county
    await _after(manager)


async def contact_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    try:
        contact = parse_contact(message.text)
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return
    manager.dialog_data.update(contact_name=contact.name, contact_phone=contact.phone)
    await _after(manager)


async def edit_field(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, field: str
) -> None:
    steps = {"name": J.name, "uscc": J.uscc, "kind": J.kind}
    steps |= {"county": J.city, "contact": J.contact}
    if field not in steps:
        return
    manager.dialog_data["editing"] = True
    await manager.switch_to(steps[field])


async def submit(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    data, uow = manager.dialog_data, _uow(manager)
    user = callback.from_user
    command = applications.ApplyCommand(
        telegram_user_id=user.id,
        chat_id=user.id,  # private chats only: the chat is the user
        language_code=locale(),
        name=str(data["name"]),
        uscc=str(data["uscc"]),
        kind=str(data["kind"]),
        county_code=str(data["county"]),
        contact=f"{data['contact_name']} {data['contact_phone']}",
    )
    try:
        view = await applications.submit_application(uow, command)
    except DomainError as exc:
        # e.g. the USCC was applied for meanwhile: say so on the summary, change nothing
        await toast(callback, error_text(exc)[:200], alert=True)
        return
    await toast(callback, _("join.submitted_short"))
    await edit_or_send(callback, tr("join.submitted", name=view.name))
    await manager.done(show_mode=ShowMode.NO_UPDATE)


async def _on_close(_result: Any, manager: DialogManager) -> None:
    await _state(manager).set_state(None)  # the guest is a guest again for the access gate


# --- windows -----------------------------------------------------------------------------------


def _dialog() -> Dialog:
    error = Format("{error}", when="error")
    return Dialog(
        Window(
            error,
            Tr("join.ask_name"),
            nav(back=False),
            *typed(name_typed, N_("join.need_text")),
            state=J.name,
        ),
        Window(
            error,
            Tr("join.ask_uscc"),
            nav(),
            *typed(uscc_typed, N_("join.need_text")),
            state=J.uscc,
        ),
        Window(
            Tr("join.ask_kind"),
            Column(
                Select(
                    Format("{item[1]}"),
                    id="kind",
                    item_id_getter=itemgetter(0),
                    items="kinds",
                    on_click=kind_chosen,
                )
            ),
            nav(),
            buttons_only(),
            getter=kind_getter,
            state=J.kind,
        ),
        Window(
            Tr("join.ask_city"),
            choice("city", "cities", city_chosen, width=3),
            nav(),
            buttons_only(),
            getter=city_getter,
            state=J.city,
        ),
        Window(
            Tr("join.ask_county"),
            choice("county", "counties", county_chosen, width=3),
            nav(),
            buttons_only(),
            getter=county_getter,
            state=J.county,
        ),
        Window(
            error,
            Tr("join.ask_contact"),
            nav(),
            *typed(contact_typed, N_("join.need_text")),
            state=J.contact,
        ),
        Window(
            Format("{summary}"),
            Row(
                Button(Tr("join.submit"), id="submit", on_click=submit),
                Button(Tr("join.edit"), id="edit", on_click=lambda _c, _b, m: m.switch_to(J.edit)),
            ),
            nav(back=False),
            buttons_only(),
            getter=summary_getter,
            state=J.summary,
        ),
        Window(
            Tr("join.edit_pick"),
            choice("field", "fields", edit_field, width=3),
            nav(),
            buttons_only(),
            getter=summary_getter,
            state=J.edit,
        ),
        getter=base_getter,
        on_close=_on_close,
    )


# --- entry -------------------------------------------------------------------------------------


async def start(
    message: Message,
    dialog_manager: DialogManager,
    state: FSMContext,
    uow: UnitOfWork,
    account: AccountView | None = None,
) -> None:
    """🏢 申请入驻, for users without an account (a bound user has a menu instead)."""
    if account is not None:
        await message.answer(_("error.already_bound"))
        return
    user = message.from_user
    assert user is not None
    pending = await applications.pending_application_of(uow, user.id)
    if pending is not None:
        await message.answer(tr("join.pending_status", name=pending.name))
        return
    await state.set_state(JoinGate.open)
    await message.answer(_("join.intro"), reply_markup=guest_keyboard())
    await dialog_manager.start(J.name, mode=StartMode.RESET_STACK)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start, MenuText(APPLY), F.chat.type == "private")
    router.include_router(_dialog())
    return router
