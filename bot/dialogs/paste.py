"""Paste-to-post: a labor post typed or forwarded as one chat message becomes a posting.

Foremen and dispatchers send any text that is not a menu button or a dialog answer; it is read
by core.paste. A post opens this dialog at the first thing it lacks (the project when there are
several, the grade, headcount, price or contact; for an idle post the county and the workers),
then a summary "我读到的是：…" with ✅ Publish / ✏️ Edit / ❌ Wrong. A daily rate is shown with
its monthly figure (Settings.days_per_month). Publishing calls the same core services, with the
same validation, as the step-by-step flows; nothing is written before ✅. Text that is not a
post gets the usual hint plus an example line; a regulator's post is refused.

Dialog data holds codes, ids, numbers and short strings only (JSON in the FSM storage).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Group, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs import posting_approval, shortage
from bot.dialogs.widgets import (
    REGION_CITY,
    RegionStep,
    Tr,
    cancel_button,
    choice,
    declarable_picker,
    grade_items,
    grade_keyboard,
    headcount_window,
    on_grade,
    price_items,
    price_keyboard,
    profile_contact,
    read,
    show_error,
    start_typing,
    step,
    step_getter,
    toast,
)
from bot.filters import HasRole
from bot.handlers.common import show_menu
from bot.i18n import N_, tr
from bot.keyboards.common import ALL_MENU_KEYS, MenuText
from bot.render.errors import alert_text, error_text
from bot.render.messages import edit_or_send
from bot.render.postings import (
    deviation_line,
    grade_name,
    guide_line,
    money,
    trade_name,
)
from core.config import Settings
from core.db.uow import UnitOfWork
from core.domain.contact import Contact, parse_contact
from core.domain.enums import RegionLevel, Role
from core.domain.errors import DomainError, ValidationError
from core.domain.values import MAX_HEADCOUNT, parse_price
from core.paste import PasteDraft, Price, monthly_amount, parse_paste, read_price
from core.services import postings, regions
from core.services.accounts import AccountView
from core.services.guide_prices import current_guide_price
from core.services.paging import MAX_PAGE_SIZE
from core.services.postings import DeclareIdleCommand, PostShortageCommand

EXAMPLE = "急招钢筋工5人，中级，小店区，8000/月，联系张工13912345678"


class PasteSG(StatesGroup):
    project = State()
    county = State()
    grade = State()
    headcount = State()
    workers = State()
    price = State()
    contact = State()
    summary = State()
    edit = State()


# --- reading the paste -----------------------------------------------------------------------


def draft_data(draft: PasteDraft) -> dict[str, Any]:
    """A draft as dialog data (JSON): what the paste said, nothing looked up yet."""
    return {
        "kind": draft.kind,
        "trade": draft.trade_code,
        "grade": draft.grade,
        "headcount": draft.headcount,
        "region": draft.region,
        "price": [draft.price.amount, draft.price.per] if draft.price else None,
        "name": draft.contact_name,
        "phone": draft.phone,
        "project": None,
        "county": None,
        "workers": None,
    }


def _ctx(manager: DialogManager) -> tuple[UnitOfWork, AccountView, Settings]:
    data = manager.middleware_data
    return data["uow"], data["account"], data["settings"]


def _price(data: dict[str, Any]) -> Price | None:
    raw = data.get("price")
    return Price(int(raw[0]), raw[1]) if raw else None


async def next_step(manager: DialogManager) -> State:
    """The first thing the draft still lacks, filling what can be filled without asking."""
    uow, account, _settings = _ctx(manager)
    data = manager.dialog_data
    actor = account.actor()
    if data["kind"] == "shortage":
        if data.get("project") is None:
            projects = await postings.list_posting_projects(uow, actor)
            if len(projects) == 1:
                data["project"] = projects[0].id
            else:
                return PasteSG.project
    elif data.get("county") is None:
        region = data.get("region")
        level = (await regions.get_region(uow, region)).level if region else None
        if level is RegionLevel.COUNTY:
            data["county"] = region
        else:
            # the counties of the city the post named, else the company's own first
            data[REGION_CITY] = region if level is RegionLevel.CITY else None
            return PasteSG.county
    if data.get("grade") is None:
        return PasteSG.grade
    if data["kind"] == "shortage" and data.get("headcount") is None:
        return PasteSG.headcount
    if data["kind"] == "idle" and not data.get("workers"):
        return PasteSG.workers
    if data.get("price") is None:
        return PasteSG.price
    if not (data.get("name") and data.get("phone")):
        # the profile completes the contact only when what the post named is the account's
        # own (core.domain.contact's rule): a stranger's name never gets the poster's phone
        own = profile_contact(manager)
        if own is None or data.get("name") not in (None, own.name):
            return PasteSG.contact
        if data.get("phone") not in (None, own.phone):
            return PasteSG.contact
        data["name"], data["phone"] = own.name, own.phone
    return PasteSG.summary


async def go_on(manager: DialogManager) -> None:
    manager.dialog_data["typing"] = False
    await manager.switch_to(await next_step(manager))


async def on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data.update(start_data["draft"])
    manager.dialog_data["queue"] = start_data.get("queue", [])


async def start_paste(manager: DialogManager, drafts: list[PasteDraft]) -> None:
    """Open the dialog for the first draft; the others of the same kind wait their turn."""
    first, *rest = drafts
    queue = [draft_data(d) for d in rest if d.kind == first.kind]
    await start_draft(manager, draft_data(first), queue)


async def start_draft(
    manager: DialogManager, draft: dict[str, Any], queue: list[dict[str, Any]]
) -> None:
    # the first step is known only once on_start filled dialog_data: start without showing,
    # move to the step, then show it as a new message
    await manager.start(
        PasteSG.summary,
        data={"draft": draft, "queue": queue},
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.NO_UPDATE,
    )
    await go_on(manager)
    manager.show_mode = ShowMode.SEND
    await manager.show()


# --- entry: any text outside a dialog ------------------------------------------------------


async def paste_received(
    message: Message, account: AccountView, dialog_manager: DialogManager
) -> None:
    drafts = parse_paste(message.text or "")
    if not drafts:
        hint = "\n\n".join((_("fallback.hint"), tr("paste.example", example=EXAMPLE)))
        await show_menu(message, account, hint)
        return
    if drafts[0].kind == "idle" and account.role is not Role.DISPATCHER:
        await message.answer(_("paste.idle_dispatchers_only"))
        return
    await start_paste(dialog_manager, drafts)


async def regulator_paste(message: Message) -> None:
    if not parse_paste(message.text or ""):
        raise SkipHandler()  # not a post: the fallback's usual hint
    await message.answer(_("paste.regulator_refused"))


# --- getters -------------------------------------------------------------------------------


async def _names(uow: UnitOfWork, data: dict[str, Any]) -> tuple[str, str]:
    trades = await postings.list_trades(uow)
    grades = await postings.list_grades(uow)
    grade = data.get("grade")
    return (
        trade_name(trades, data["trade"]),
        grade_name(grades, int(grade)) if grade is not None else "",
    )


async def _project_of(
    uow: UnitOfWork, account: AccountView, project_id: int | None
) -> postings.PostingProject | None:
    projects = await postings.list_posting_projects(uow, account.actor())
    return next((p for p in projects if p.id == project_id), None)


async def _guide(
    uow: UnitOfWork, account: AccountView, data: dict[str, Any]
) -> tuple[Decimal | None, str | None]:
    """The guide price for the post's city, trade and grade, and the city's code (the
    project's city, or the county's)."""
    if data["kind"] == "shortage":
        project = await _project_of(uow, account, data.get("project"))
        city_code = project.city_code if project else None
    else:
        city_code = regions.city_of(data["county"]) if data.get("county") else None
    if city_code is None:
        return None, None
    return await current_guide_price(uow, city_code, data["trade"], int(data["grade"])), city_code


def _price_lines(price: Price, settings: Settings) -> tuple[Decimal, str]:
    """The monthly figure and how the price is shown: a daily rate with its month."""
    monthly = Decimal(monthly_amount(price, settings.days_per_month))
    if price.per == "day":
        line = tr(
            "paste.price_day",
            day=price.amount,
            month=money(monthly),
            days=settings.days_per_month,
        )
    else:
        line = money(monthly)
    return monthly, line


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, account, settings = _ctx(dialog_manager)
    data = dialog_manager.dialog_data
    trade, grade = await _names(uow, data)
    price = _price(data)
    lines = [_("paste.read_title")]
    if data["kind"] == "shortage":
        project = await _project_of(uow, account, data.get("project"))
        lines.append(
            tr("paste.line_shortage", trade=trade, grade=grade, headcount=data["headcount"])
        )
        lines.append(tr("paste.line_project", project=project.name if project else "?"))
    else:
        county = await regions.get_region(uow, data["county"])
        lines.append(
            tr("paste.line_idle", trade=trade, grade=grade, headcount=len(data["workers"]))
        )
        lines.append(tr("paste.line_county", county=county.name(account.locale)))
    if price is not None:
        monthly, shown = _price_lines(price, settings)
        lines.append(tr("paste.line_price", price=shown))
        guide, city_code = await _guide(uow, account, data)
        if city_code:
            city = await regions.get_region(uow, city_code)
            lines.append(guide_line(guide, city.name(account.locale), trade, grade))
        if warning := deviation_line(monthly, guide):
            lines.append(warning)
    lines.append(tr("paste.line_contact", name=data["name"], phone=data["phone"]))
    if data.get("queue"):
        lines.append(tr("paste.more_waiting", count=len(data["queue"])))
    return {"text": "\n".join(lines)}


async def project_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, account, _settings = _ctx(dialog_manager)
    projects = await postings.list_posting_projects(uow, account.actor())
    return {
        "text": _("paste.ask_project") if projects else _("shortage.no_projects"),
        "projects": [(p.id, p.name) for p in projects],
    }


async def grade_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, _account, _settings = _ctx(dialog_manager)
    trade, _grade = await _names(uow, dialog_manager.dialog_data)
    grades = await postings.list_grades(uow)
    shortage = dialog_manager.dialog_data["kind"] == "shortage"
    key = "paste.ask_grade" if shortage else "paste.ask_idle_grade"
    # a shortage may take any grade (不限); idle workers have the grade they have
    return {"text": tr(key, trade=trade), "grades": grade_items(grades, with_any=shortage)}


async def headcount_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, _account, _settings = _ctx(dialog_manager)
    trade, grade = await _names(uow, dialog_manager.dialog_data)
    return {"trade": trade, "grade": grade, "max": MAX_HEADCOUNT}


async def workers_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    uow, _account, _settings = _ctx(dialog_manager)
    data = dialog_manager.dialog_data
    trade, grade = await _names(uow, data)
    if not data.get("preselected"):
        # as many as the post said (all when it said nothing), best grade first
        first = await PICKER.load(dialog_manager, 0, MAX_PAGE_SIZE)
        wanted = data.get("headcount") or first.total
        await PICKER.set_checked(dialog_manager, [w.id for w in first.items[:wanted]])
        data["preselected"] = True
    picker = await PICKER.getter(dialog_manager, **kwargs)
    total = picker["pick_total"]
    if total == 0:
        text = tr("paste.no_workers", trade=trade, grade=grade)
    else:
        text = tr("paste.ask_workers", trade=trade, grade=grade, total=total)
    return {**picker, "text": text, "has_workers": total > 0}


async def price_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, account, _settings = _ctx(dialog_manager)
    guide, _city = await _guide(uow, account, dialog_manager.dialog_data)
    return price_items(guide)


async def edit_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    uow, account, _settings = _ctx(dialog_manager)
    several = len(await postings.list_posting_projects(uow, account.actor())) > 1
    fields = [("grade", _("paste.field_grade")), ("price", _("paste.field_price"))]
    if data["kind"] == "shortage":
        fields.insert(0, ("headcount", _("paste.field_headcount")))
        if several:
            fields.insert(0, ("project", _("paste.field_project")))
    else:
        fields[:0] = [("county", _("paste.field_county")), ("workers", _("paste.field_workers"))]
    fields.append(("contact", _("paste.field_contact")))
    return {"fields": fields}


# --- answers -------------------------------------------------------------------------------


async def project_chosen(
    query: CallbackQuery, _widget: Any, manager: DialogManager, item_id: str
) -> None:
    uow, account, _settings = _ctx(manager)
    if await _project_of(uow, account, int(item_id)) is None:
        await toast(query, _("common.stale"))
        return
    manager.dialog_data["project"] = int(item_id)
    await go_on(manager)


async def county_saved(manager: DialogManager, code: str) -> None:
    manager.dialog_data["county"] = code
    await go_on(manager)


REGION = RegionStep(PasteSG.county, county_saved, ask=N_("paste.ask_county"))


async def grade_saved(manager: DialogManager, level: int) -> None:
    manager.dialog_data["grade"] = level
    manager.dialog_data["workers"] = None  # the eligible workers depend on the grade
    manager.dialog_data["preselected"] = False
    await go_on(manager)


async def headcount_saved(manager: DialogManager, count: int) -> None:
    manager.dialog_data["headcount"] = count
    await go_on(manager)


async def workers_picked(manager: DialogManager, ids: list[int]) -> None:
    manager.dialog_data["workers"] = ids
    await go_on(manager)


PICKER = declarable_picker("paste_workers", workers_picked)


def _take_price(manager: DialogManager, price: Price | None) -> bool:
    """Keep a price whose monthly figure passes the posting's range check."""
    _uow, _account, settings = _ctx(manager)
    if price is None:
        show_error(manager, _("paste.price_unread"))
        return False
    try:
        parse_price(monthly_amount(price, settings.days_per_month))
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        return False
    manager.dialog_data["price"] = [price.amount, price.per]
    return True


async def price_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    if _take_price(manager, read_price(message.text or "")):
        await go_on(manager)


async def price_chosen(
    _query: CallbackQuery, _widget: Any, manager: DialogManager, item_id: str
) -> None:
    """A monthly price button (the guide price, or one near it)."""
    if _take_price(manager, Price(int(Decimal(item_id)), "month")):
        await go_on(manager)


def _contact(text: str, manager: DialogManager) -> Contact:
    return parse_contact(text, own=profile_contact(manager))


async def contact_saved(manager: DialogManager, contact: Contact) -> None:
    manager.dialog_data.update(name=contact.name, phone=contact.phone)
    await go_on(manager)


async def pasted_again(message: Message, _widget: Any, manager: DialogManager) -> None:
    """A new post while a summary is shown replaces the one being confirmed."""
    _uow, account, _settings = _ctx(manager)
    drafts = parse_paste(message.text or "")
    if not drafts or (drafts[0].kind == "idle" and account.role is not Role.DISPATCHER):
        manager.show_mode = ShowMode.NO_UPDATE
        await message.answer(_("fallback.in_step"))
        return
    await start_paste(manager, drafts)


async def edit_chosen(
    _query: CallbackQuery, _widget: Any, manager: DialogManager, item_id: str
) -> None:
    data = manager.dialog_data
    if item_id == "contact":
        data["name"] = data["phone"] = None
        await manager.switch_to(PasteSG.contact)
        return
    if item_id == "workers":
        data["preselected"] = True  # keep the ticks as they are: the user edits them
    if item_id in data:
        data[item_id] = None  # asked again, then back to the summary
    await manager.switch_to(
        {
            "project": PasteSG.project,
            "county": PasteSG.county,
            "grade": PasteSG.grade,
            "headcount": PasteSG.headcount,
            "workers": PasteSG.workers,
            "price": PasteSG.price,
        }.get(item_id, PasteSG.summary)
    )


async def back_to_summary(_query: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await go_on(manager)


async def wrong(query: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await toast(query, _("paste.dropped_short"))
    await edit_or_send(query, _("paste.dropped"), None)
    await manager.done(show_mode=ShowMode.NO_UPDATE)


async def publish(query: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    uow, account, settings = _ctx(manager)
    data = dict(manager.dialog_data)
    price = _price(data)
    if await next_step(manager) != PasteSG.summary or price is None:
        await toast(query, _("common.stale"))
        return
    monthly = str(monthly_amount(price, settings.days_per_month))
    actor = account.actor()
    try:
        if data["kind"] == "shortage":
            view, waiting = await posting_approval.post_or_request(  # 需求待批 or published
                uow,
                account,
                PostShortageCommand(
                    project_id=int(data["project"]),
                    trade_code=data["trade"],
                    min_grade=int(data["grade"]),
                    headcount=int(data["headcount"]),
                    price=monthly,
                    contact_name=data["name"],
                    contact_phone=data["phone"],
                ),
            )
            if view is None:
                text, markup = waiting, None
            else:
                text, markup = await shortage.posted_message(uow, account, view)
        else:
            posting = await postings.declare_idle(
                uow,
                actor,
                DeclareIdleCommand(
                    county_code=data["county"],
                    trade_code=data["trade"],
                    grade_level=int(data["grade"]),
                    worker_ids=tuple(int(w) for w in data["workers"]),
                    price=monthly,
                    contact_name=data["name"],
                    contact_phone=data["phone"],
                ),
            )
            text, markup = tr("idle.posted", id=posting.id, count=posting.headcount), None
    except DomainError as exc:
        # nothing was written: the summary stays for Edit or Wrong
        await uow.rollback()
        await toast(query, alert_text(error_text(exc)), alert=True)
        return
    queue = list(data.get("queue") or [])
    await toast(query, _("paste.published_short"))
    # the summary message becomes the result; the finished dialog leaves nothing to tap
    await edit_or_send(query, text, markup)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    if queue:  # the next trade of the same message
        await start_draft(manager, queue[0], queue[1:])


# --- the dialog ----------------------------------------------------------------------------


def build_dialog() -> Dialog:
    prompt = Format("{text}")
    return Dialog(
        step(
            PasteSG.project,
            project_getter,
            prompt,
            choice("paste_project", "projects", project_chosen, width=1),
            cancel_button(),
        ),
        REGION.window(cancel_button()),
        step(
            PasteSG.grade,
            grade_getter,
            prompt,
            grade_keyboard(on_grade(grade_saved)),
            cancel_button(),
        ),
        headcount_window(
            PasteSG.headcount,
            headcount_saved,
            ask=N_("paste.ask_headcount"),
            type_=N_("shortage.type_headcount"),
            nav=cancel_button(),
            getter=headcount_getter,
        ),
        step(
            PasteSG.workers,
            workers_getter,
            prompt,
            Format("{pick_lines}", when="has_workers"),
            Group(PICKER.keyboard(), when="has_workers"),
            cancel_button(),
        ),
        step(
            PasteSG.price,
            price_getter,
            Tr("paste.ask_price"),
            price_keyboard(price_chosen, start_typing),
            cancel_button(),
            on_text=price_typed,
            need=N_("shortage.need_number"),
        ),
        step(PasteSG.contact, None, Tr("paste.ask_contact"), cancel_button(),
             on_text=read(_contact, contact_saved)),
        step(
            PasteSG.summary,
            summary_getter,
            prompt,
            Row(
                Button(Tr("paste.publish"), id="paste_publish", on_click=publish),
                SwitchTo(Tr("paste.edit"), id="paste_edit", state=PasteSG.edit),
                Button(Tr("paste.wrong"), id="paste_wrong", on_click=wrong),
            ),
            on_text=pasted_again,
        ),
        step(
            PasteSG.edit,
            edit_getter,
            Tr("paste.edit_pick"),
            choice("paste_field", "fields", edit_chosen, width=2),
            Button(Tr("paste.back"), id="paste_back", on_click=back_to_summary),
        ),
        getter=step_getter,
        on_start=on_start,
    )  # fmt: skip


def create_router() -> Router:
    """The dialog, then the entry for text no earlier router took (before the fallback)."""
    router = Router(name=__name__)
    router.include_router(build_dialog())
    entry = Router(name=f"{__name__}.entry")
    pasted = (F.text, ~F.text.startswith("/"), ~MenuText(*ALL_MENU_KEYS), StateFilter(None))
    entry.message.register(paste_received, HasRole(Role.FOREMAN, Role.DISPATCHER), *pasted)
    entry.message.register(regulator_paste, HasRole(Role.REGULATOR), *pasted)
    router.include_router(entry)
    return router
