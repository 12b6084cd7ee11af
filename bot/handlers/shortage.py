"""📝 Post a shortage: project → trade → minimum grade → headcount → monthly price (with the
city's guide price) → contact → summary with Edit / Confirm → posted, with its best matches.

Nothing is written before Confirm. FSM data holds ids, numbers and short strings only (keys
start with "sh_"). Confirm clears the state before the service call, so a second tap of the
same button (serialized by the event isolation) finds no dialog and is answered as stale.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
from bot.i18n import tr
from bot.keyboards.common import ALL_MENU_KEYS, POST_SHORTAGE, MenuText
from bot.keyboards.shortage import (
    ShCb,
    contact_keyboard,
    edit_keyboard,
    grades_keyboard,
    headcount_keyboard,
    price_keyboard,
    price_warning_keyboard,
    projects_keyboard,
    propose_buttons,
    summary_keyboard,
    trades_keyboard,
    typing_keyboard,
)
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
from core.domain.errors import DomainError, PermissionDenied, ValidationError
from core.domain.values import MAX_HEADCOUNT, parse_headcount, parse_mobile, parse_price
from core.services import postings
from core.services.accounts import AccountView
from core.services.guide_prices import current_guide_price, is_far_from_guide
from core.services.matching import match_posting
from core.services.postings import PostingProject, PostShortageCommand
from core.services.regions import get_region

MATCHES_SHOWN = 5

Event = Message | CallbackQuery


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


async def _show(event: Event, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Inline steps edit the dialog's message; after typed input a new message is sent."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        await edit_or_send(event, text, markup)
    else:
        await event.answer(text, reply_markup=markup)


async def _projects(uow: UnitOfWork, account: AccountView) -> list[PostingProject]:
    """The account's projects, read once per update (a step asks for them up to three times)."""
    key = f"shortage.projects:{account.id}"
    if key not in uow.memo:
        uow.memo[key] = await postings.list_posting_projects(uow, account.actor())
    return list(uow.memo[key])


async def _project(uow: UnitOfWork, account: AccountView, data: dict[str, Any]) -> PostingProject:
    found = next(
        (p for p in await _projects(uow, account) if p.id == data.get("sh_project")), None
    )
    if found is None:  # the project was closed or taken out of this account's scope meanwhile
        raise PermissionDenied("error.forbidden")
    return found


async def _after(
    step: str, event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    """Go on from a finished step: the next one, or back to the summary when editing."""
    data = await state.get_data()
    if data.get("sh_edit"):
        await show_summary(event, uow, state, account)
        return
    following = {
        "project": ask_trade,
        "trade": ask_grade,
        "grade": ask_headcount,
        "headcount": ask_price,
        "price": ask_contact,
        "contact": show_summary,
    }[step]
    await following(event, uow, state, account)


async def _back_from(
    step: str, state: FSMContext, uow: UnitOfWork, account: AccountView
) -> str | None:
    """Where Back leads from a step: the summary when editing, else the step before it
    (the project step only when there is a choice)."""
    data = await state.get_data()
    if data.get("sh_edit"):
        return "summary"
    before = {
        "trade": "project",
        "grade": "trade",
        "headcount": "grade",
        "price": "headcount",
        "contact": "price",
    }.get(step)
    if before == "project" and len(await _projects(uow, account)) <= 1:
        return None
    return before


# --- start and project ----------------------------------------------------------------------


async def start(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await state.clear()
    await ask_project(message, uow, state, account)


async def start_inline(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    """The inline "📝 Post shortage" of other screens, optionally for one project."""
    await state.clear()
    if callback_data.val.isdigit():
        projects = await _projects(uow, account)
        if any(p.id == int(callback_data.val) for p in projects):
            await state.update_data(sh_project=int(callback_data.val))
            await ask_trade(query, uow, state, account)
            return
    await ask_project(query, uow, state, account)


async def ask_project(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    projects = await _projects(uow, account)
    if not projects:
        await state.clear()
        await _show(event, _("shortage.no_projects"), None)
        return
    if len(projects) == 1:
        await state.update_data(sh_project=projects[0].id)
        await _after("project", event, uow, state, account)
        return
    await state.set_state(PostShortage.project)
    await _show(event, _("shortage.pick_project"), projects_keyboard(projects))


async def project_chosen(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    projects = await _projects(uow, account)
    if not any(str(p.id) == callback_data.val for p in projects):
        raise PermissionDenied("error.forbidden")  # forged, or no longer this account's
    await state.update_data(sh_project=int(callback_data.val))
    await _after("project", query, uow, state, account)


# --- trade and grade ------------------------------------------------------------------------


async def ask_trade(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView, *, more: bool = False
) -> None:
    data = await state.get_data()
    project = await _project(uow, account, data)
    trades = await postings.list_trades(uow)
    back = await _back_from("trade", state, uow, account)
    await state.set_state(PostShortage.trade)
    await _show(
        event,
        tr("shortage.pick_trade", project=project.name),
        trades_keyboard(trades, more=more, back=back),
    )


async def trade_page(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    await ask_trade(query, uow, state, account, more=callback_data.act == "more")


async def trade_chosen(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    trades = await postings.list_trades(uow)
    if not any(t.code == callback_data.val for t in trades):
        await query.answer(_("common.stale"))
        return
    await state.update_data(sh_trade=callback_data.val)
    await _after("trade", query, uow, state, account)


async def ask_grade(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    back = await _back_from("grade", state, uow, account)
    await state.set_state(PostShortage.grade)
    await _show(
        event,
        tr("shortage.pick_grade", trade=trade_name(trades, data.get("sh_trade", ""))),
        grades_keyboard(grades, back=back),
    )


async def grade_chosen(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    grades = await postings.list_grades(uow)
    if not any(str(g.level) == callback_data.val for g in grades):
        await query.answer(_("common.stale"))
        return
    await state.update_data(sh_grade=int(callback_data.val))
    await _after("grade", query, uow, state, account)


# --- headcount ------------------------------------------------------------------------------


async def _what(uow: UnitOfWork, data: dict[str, Any]) -> tuple[str, str]:
    """The chosen trade and grade as names in the user's language."""
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    return trade_name(trades, data.get("sh_trade", "")), grade_name(
        grades, data.get("sh_grade", 0)
    )


async def ask_headcount(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    trade, grade = await _what(uow, data)
    back = await _back_from("headcount", state, uow, account)
    await state.set_state(PostShortage.headcount)
    await _show(
        event,
        tr("shortage.ask_headcount", trade=trade, grade=grade),
        headcount_keyboard(back=back),
    )


async def headcount_type(query: CallbackQuery) -> None:
    await query.answer()
    await edit_or_send(
        query, tr("shortage.type_headcount", max=MAX_HEADCOUNT), typing_keyboard("headcount")
    )


async def _take_headcount(
    event: Event, raw: str | int, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    count = parse_headcount(raw)
    await state.update_data(sh_count=count)
    await _after("headcount", event, uow, state, account)


async def headcount_chosen(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    await _take_headcount(query, callback_data.val, uow, state, account)


async def headcount_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    try:
        await _take_headcount(message, message.text or "", uow, state, account)
    except ValidationError as exc:
        await message.answer(
            "\n".join((error_text(exc), tr("shortage.type_headcount", max=MAX_HEADCOUNT))),
            reply_markup=typing_keyboard("headcount"),
        )


async def number_expected(message: Message) -> None:
    """A sticker, photo or anything but text where a number is due."""
    await message.answer(_("shortage.need_number"))


# --- price ----------------------------------------------------------------------------------


async def _guide(
    uow: UnitOfWork, account: AccountView, data: dict[str, Any]
) -> tuple[Decimal | None, str]:
    """The guide price for the chosen project's city, trade and grade, and the city's name."""
    project = await _project(uow, account, data)
    guide = await current_guide_price(
        uow, project.city_code, data.get("sh_trade", ""), int(data.get("sh_grade", 0))
    )
    city = await get_region(uow, project.city_code)
    return guide, city.name(locale())


async def ask_price(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    trade, grade = await _what(uow, data)
    guide, city = await _guide(uow, account, data)
    back = await _back_from("price", state, uow, account)
    await state.set_state(PostShortage.price)
    text = tr(
        "shortage.ask_price",
        trade=trade,
        grade=grade,
        headcount=data.get("sh_count", 0),
        guide=guide_line(guide, city, trade, grade),
    )
    await _show(event, text, price_keyboard(guide, back=back))


async def price_type(query: CallbackQuery) -> None:
    await query.answer()
    await edit_or_send(query, _("shortage.type_price"), typing_keyboard("price"))


async def _take_price(
    event: Event, raw: str, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    price = parse_price(raw)
    data = await state.get_data()
    guide, _city = await _guide(uow, account, data)
    if is_far_from_guide(price, guide):
        await state.update_data(sh_pending=str(price))
        await state.set_state(PostShortage.price_confirm)
        text = tr("shortage.price_far", price=money(price), warning=deviation_line(price, guide))
        await _show(event, text, price_warning_keyboard())
        return
    await state.update_data(sh_price=str(price), sh_pending=None)
    await _after("price", event, uow, state, account)


async def price_chosen(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    await _take_price(query, callback_data.val, uow, state, account)


async def price_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    try:
        await _take_price(message, message.text or "", uow, state, account)
    except ValidationError as exc:
        await state.set_state(PostShortage.price)
        await message.answer(
            "\n".join((error_text(exc), _("shortage.type_price"))),
            reply_markup=typing_keyboard("price"),
        )


async def price_kept(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    pending = data.get("sh_pending")
    if not isinstance(pending, str):
        await query.answer(_("common.stale"))
        return
    await state.update_data(sh_price=pending, sh_pending=None)
    await _after("price", query, uow, state, account)


async def price_reenter(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await state.update_data(sh_pending=None)
    await ask_price(query, uow, state, account)


# --- contact --------------------------------------------------------------------------------


def _profile_contact(account: AccountView) -> Contact | None:
    return own_contact(account.display_name, account.phone)


async def ask_contact(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    back = await _back_from("contact", state, uow, account)
    await state.set_state(PostShortage.contact)
    profile = _profile_contact(account)
    if profile is None:
        await _show(event, _("shortage.type_contact_name"), typing_keyboard(back or "price"))
        return
    await _show(
        event,
        tr("shortage.ask_contact", name=profile.name, phone=profile.phone),
        contact_keyboard(prefilled=True, back=back),
    )


async def contact_profile(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    profile = _profile_contact(account)
    if profile is None:
        await query.answer(_("common.stale"))
        return
    await state.update_data(sh_name=profile.name, sh_phone=profile.phone)
    await _after("contact", query, uow, state, account)


async def contact_other(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(PostShortage.contact)
    await query.answer()
    await edit_or_send(query, _("shortage.type_contact_name"), typing_keyboard("contact"))


async def contact_name_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    """A name (then the phone is asked), or name and phone in one message."""
    try:
        typed = split_contact(message.text)
        own = _profile_contact(account)
        contact = parse_contact(message.text, own=own) if typed.phone is not None else None
    except ValidationError as exc:
        await message.answer(
            "\n".join((error_text(exc), _("shortage.type_contact_name"))),
            reply_markup=typing_keyboard("contact"),
        )
        return
    if contact is not None:
        await state.update_data(sh_name=contact.name, sh_phone=contact.phone)
        await _after("contact", message, uow, state, account)
        return
    await state.update_data(sh_name=typed.name)
    await state.set_state(PostShortage.contact_phone)
    await message.answer(
        tr("shortage.type_contact_phone", name=typed.name), reply_markup=typing_keyboard("contact")
    )


async def contact_phone_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    try:
        phone = parse_mobile(message.text or "")
    except ValidationError as exc:
        name = (await state.get_data()).get("sh_name", "")
        again = tr("shortage.type_contact_phone", name=name)
        await message.answer(
            "\n".join((error_text(exc), again)), reply_markup=typing_keyboard("contact")
        )
        return
    await state.update_data(sh_phone=phone)
    await _after("contact", message, uow, state, account)


async def text_expected(message: Message) -> None:
    await message.answer(_("shortage.need_text"))


# --- summary, edit, confirm -----------------------------------------------------------------


async def show_summary(
    event: Event, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    project = await _project(uow, account, data)
    trade, grade = await _what(uow, data)
    guide, city = await _guide(uow, account, data)
    price = Decimal(data.get("sh_price", "0"))
    lines = [
        tr(
            "shortage.summary",
            project=project.name,
            trade=trade,
            grade=grade,
            headcount=data.get("sh_count", 0),
            price=money(price),
            name=data.get("sh_name", ""),
            phone=data.get("sh_phone", ""),
        ),
        guide_line(guide, city, trade, grade),
    ]
    if warning := deviation_line(price, guide):
        lines.append(warning)
    await state.update_data(sh_edit=False)
    await state.set_state(PostShortage.summary)
    await _show(event, "\n".join(lines), summary_keyboard())


async def back_to(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    steps = {
        "project": ask_project,
        "trade": ask_trade,
        "grade": ask_grade,
        "headcount": ask_headcount,
        "price": ask_price,
        "contact": ask_contact,
        "summary": show_summary,
    }
    step = steps.get(callback_data.val)
    if step is None or not _complete_until(callback_data.val, await state.get_data()):
        await query.answer(_("common.stale"))
        return
    if step is ask_project:
        await state.update_data(sh_edit=False)
    await step(query, uow, state, account)


_NEEDS = {
    "project": (),
    "trade": ("sh_project",),
    "grade": ("sh_project", "sh_trade"),
    "headcount": ("sh_project", "sh_trade", "sh_grade"),
    "price": ("sh_project", "sh_trade", "sh_grade", "sh_count"),
    "contact": ("sh_project", "sh_trade", "sh_grade", "sh_count", "sh_price"),
    "summary": (
        "sh_project",
        "sh_trade",
        "sh_grade",
        "sh_count",
        "sh_price",
        "sh_name",
        "sh_phone",
    ),
}


def _complete_until(step: str, data: dict[str, Any]) -> bool:
    """The answers a step builds on are all there (an old button must not skip a step)."""
    return all(data.get(key) not in (None, "") for key in _NEEDS.get(step, ("?",)))


async def edit_pick(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await state.set_state(PostShortage.edit)
    with_project = len(await _projects(uow, account)) > 1
    await query.answer()
    await edit_or_send(query, _("shortage.edit_pick"), edit_keyboard(with_project=with_project))


async def edit_field(
    query: CallbackQuery,
    callback_data: ShCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    steps = {
        "project": ask_project,
        "trade": ask_trade,
        "grade": ask_grade,
        "headcount": ask_headcount,
        "price": ask_price,
        "contact": ask_contact,
    }
    step = steps.get(callback_data.val)
    if step is None:
        await query.answer(_("common.stale"))
        return
    await state.update_data(sh_edit=True)
    await step(query, uow, state, account)


async def summary_again(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await show_summary(query, uow, state, account)


async def confirm(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    if not _complete_until("summary", data):
        await state.clear()
        await query.answer(_("common.stale"))
        return
    # the dialog ends before the write: a repeated tap finds no summary step to confirm
    await state.clear()
    command = PostShortageCommand(
        project_id=int(data["sh_project"]),
        trade_code=str(data["sh_trade"]),
        min_grade=int(data["sh_grade"]),
        headcount=int(data["sh_count"]),
        price=str(data["sh_price"]),
        contact_name=str(data["sh_name"]),
        contact_phone=str(data["sh_phone"]),
    )
    actor = account.actor()
    try:
        view = await postings.post_shortage(uow, actor, command)
    except DomainError:
        # nothing was written: give the summary back so the user can edit or cancel
        await state.set_state(PostShortage.summary)
        await state.set_data(data)
        raise
    matches = await match_posting(uow, actor, "shortage", view.id, limit=MATCHES_SHOWN)
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
    await query.answer(_("shortage.posted_short"))
    await edit_or_send(query, "\n".join(lines), markup if matches else None)


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.FOREMAN, Role.DISPATCHER)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)
    typed = (F.text, ~MenuText(*ALL_MENU_KEYS))
    S = PostShortage

    router.message.register(start, MenuText(POST_SHORTAGE))
    router.callback_query.register(start_inline, ShCb.filter(F.act == "start"))
    router.callback_query.register(project_chosen, ShCb.filter(F.act == "proj"), S.project)
    router.callback_query.register(trade_page, ShCb.filter(F.act.in_({"more", "less"})), S.trade)
    router.callback_query.register(trade_chosen, ShCb.filter(F.act == "trade"), S.trade)
    router.callback_query.register(grade_chosen, ShCb.filter(F.act == "grade"), S.grade)
    router.callback_query.register(headcount_chosen, ShCb.filter(F.act == "n"), S.headcount)
    router.callback_query.register(headcount_type, ShCb.filter(F.act == "ntype"), S.headcount)
    router.message.register(headcount_typed, S.headcount, *typed)
    router.message.register(number_expected, S.headcount, ~F.text)
    router.callback_query.register(price_chosen, ShCb.filter(F.act == "price"), S.price)
    router.callback_query.register(price_type, ShCb.filter(F.act == "ptype"), S.price)
    router.message.register(price_typed, S.price, *typed)
    router.message.register(price_typed, S.price_confirm, *typed)
    router.message.register(number_expected, S.price, ~F.text)
    router.message.register(number_expected, S.price_confirm, ~F.text)
    router.callback_query.register(price_kept, ShCb.filter(F.act == "keep"), S.price_confirm)
    router.callback_query.register(price_reenter, ShCb.filter(F.act == "reenter"), S.price_confirm)
    router.callback_query.register(contact_profile, ShCb.filter(F.act == "me"), S.contact)
    router.callback_query.register(contact_other, ShCb.filter(F.act == "other"), S.contact)
    router.message.register(contact_name_typed, S.contact, *typed)
    router.message.register(contact_phone_typed, S.contact_phone, *typed)
    router.message.register(text_expected, S.contact, ~F.text)
    router.message.register(text_expected, S.contact_phone, ~F.text)
    router.callback_query.register(
        back_to,
        ShCb.filter(F.act == "back"),
        StateFilter(S.trade, S.grade, S.headcount, S.price, S.contact, S.contact_phone),
    )
    router.callback_query.register(edit_pick, ShCb.filter(F.act == "edit"), S.summary)
    router.callback_query.register(edit_field, ShCb.filter(F.act == "field"), S.edit)
    router.callback_query.register(summary_again, ShCb.filter(F.act == "summary"), S.edit)
    router.callback_query.register(confirm, ShCb.filter(F.act == "confirm"), S.summary)
    return router
