"""🏢 申请入驻: a user without an account applies to register a company.

company name → USCC → kind (施工总承包 / 专业分包 / 劳务企业) → city → county → contact (name and
phone in one message) → summary with Edit / Submit → filed; the county's regulators (else the
city's) get the approval card (bot/renderers/join.py).

Every answer is checked by the same core functions the filing runs again (a wrong answer is
said and the step asked again); nothing is written before Submit. The plain FSM state is
JoinGate.open while the dialog is open: the access middleware lets the guest through on it."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Format

from bot.dialogs.answers import answer_window
from bot.dialogs.widgets import RegionPicker, StepOrder, Tr, buttons_only, choice, toast, uow_of
from bot.i18n import N_, tr
from bot.keyboards.common import MenuText
from bot.keyboards.join import APPLY, KIND_LABELS, JoinGate, guest_keyboard
from bot.render.errors import error_text
from bot.render.messages import edit_or_send
from bot.render.postings import locale
from core.db.uow import UnitOfWork
from core.domain.contact import parse_contact
from core.domain.errors import DomainError
from core.services import enterprise_applications as applications
from core.services.accounts import AccountView
from core.services.enterprises import KINDS, clean_enterprise_name
from core.services.regions import get_region

FIELDS = {
    "name": N_("join.field.name"),
    "uscc": N_("join.field.uscc"),
    "kind": N_("join.field.kind"),
    "county": N_("join.field.county"),
    "contact": N_("join.field.contact"),
}
NEED = N_("join.need_text")


class Join(StatesGroup):
    name = State()
    uscc = State()
    kind = State()
    county = State()  # the city, then its county
    contact = State()
    summary = State()
    edit = State()


J = Join
ORDER = StepOrder(J.name, J.uscc, J.kind, J.county, J.contact, J.summary)


async def cancel(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await toast(callback, _("common.cancelled"))
    await edit_or_send(callback, _("join.cancelled"))
    if callback.bot is not None:
        await callback.bot.send_message(
            callback.from_user.id, _("common.cancelled"), reply_markup=guest_keyboard()
        )


def nav(*, back: bool = True) -> Row:
    buttons = [Button(Tr("shortage.back"), id="back", on_click=ORDER.back)] if back else []
    return Row(*buttons, Button(Tr("common.cancel"), id="cancel", on_click=cancel))


# --- the steps: every answer checked by the core functions the filing runs again ---------------


async def name_taken(manager: DialogManager, raw: str) -> None:
    manager.dialog_data["name"] = clean_enterprise_name(raw)
    await ORDER.after(manager)


async def uscc_taken(manager: DialogManager, raw: str) -> None:
    # checked, and not already registered nor applied for (filing checks it again)
    manager.dialog_data["uscc"] = await applications.check_uscc_free(uow_of(manager), raw)
    await ORDER.after(manager)


async def kind_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, kind: str
) -> None:
    if kind not in KINDS:
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["kind"] = kind
    await ORDER.after(manager)


async def county_taken(manager: DialogManager, code: str) -> None:
    manager.dialog_data["county"] = code
    await ORDER.after(manager)


REGION = RegionPicker(
    "county", county_taken, asks=(N_("join.ask_city"), N_("join.ask_county")), state=J.county
)


async def contact_taken(manager: DialogManager, raw: str) -> None:
    contact = parse_contact(raw)
    manager.dialog_data.update(contact_name=contact.name, contact_phone=contact.phone)
    await ORDER.after(manager)


async def kind_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"kinds": [(key, _(label)) for key, label in KIND_LABELS.items()]}


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data, uow, loc = dialog_manager.dialog_data, uow_of(dialog_manager), locale()
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


async def edit_field(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, field: str
) -> None:
    steps = {"name": J.name, "uscc": J.uscc, "kind": J.kind, "county": J.county}
    if field in FIELDS:
        await ORDER.edit(manager, steps.get(field, J.contact))


async def submit(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    data, user = manager.dialog_data, callback.from_user
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
        view = await applications.submit_application(uow_of(manager), command)
    except DomainError as exc:
        # e.g. the USCC was applied for meanwhile: say so on the summary, change nothing
        await toast(callback, error_text(exc)[:200], alert=True)
        return
    await toast(callback, _("join.submitted_short"))
    await edit_or_send(callback, tr("join.submitted", name=view.name))
    await manager.done(show_mode=ShowMode.NO_UPDATE)


async def _on_close(_result: Any, manager: DialogManager) -> None:
    state: FSMContext = manager.middleware_data["state"]
    await state.set_state(None)  # the guest is a guest again for the access gate


def _dialog() -> Dialog:
    return Dialog(
        answer_window(
            J.name, Tr("join.ask_name"), take=name_taken, need=NEED, nav=nav(back=False)
        ),
        answer_window(J.uscc, Tr("join.ask_uscc"), take=uscc_taken, need=NEED, nav=nav()),
        Window(
            Tr("join.ask_kind"),
            choice("kind", "kinds", kind_chosen, width=1),
            nav(),
            buttons_only(),
            getter=kind_getter,
            state=J.kind,
        ),
        REGION.window(nav()),
        answer_window(J.contact, Tr("join.ask_contact"), take=contact_taken, need=NEED, nav=nav()),
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
