"""🏢 公司管理: the company admin's conversation. Projects (add, edit one field, close), their
teams (create, rename, members, add a worker), a worker's card (project, team, credit grade,
进场 / 退场 with dates; ID and phone masked) with move and 退场, and invites of dispatchers
and foremen (a one-time, expiring link and code).

Every rule is in core (company_admin, company_projects, teams); a refused tap is answered
with the reason and the screen stays; a refused typed answer is said above the same prompt,
which asks again. Ids in callbacks are re-checked by the services (another company's id is
"not found"). /cancel and ❌ leave at every step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from operator import itemgetter
from typing import Any

from aiogram import Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Column, Row, Select
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import (
    BUTTON_LEN,
    OnItem,
    Tr,
    buttons_only,
    cancel_button,
    choice,
    pop_error,
    show_error,
    toast,
    typed,
)
from bot.filters import HasRole
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import COMPANY_ADMIN, MenuText
from bot.render.errors import alert_text, error_text
from bot.render.postings import locale
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import DomainError
from core.domain.projects import (
    check_planned_dates,
    parse_address,
    parse_planned_date,
    parse_project_name,
    parse_realname_code,
)
from core.services import accounts, company_projects, teams
from core.services.accounts import AccountView
from core.services.company_admin import invite_member, is_company_admin
from core.services.company_projects import ProjectDraft, ProjectView
from core.services.regions import children, get_region
from core.services.teams import WorkerCard

PROVINCE = "140000"


class AdminSG(StatesGroup):
    home = State()
    projects = State()
    project = State()
    close = State()  # confirm closing
    edit = State()  # which field
    city = State()  # the county picker: city, then county
    county = State()
    text = State()  # every typed answer; dialog_data["ask"] says which
    new_summary = State()
    teams = State()
    team = State()
    joinable = State()
    worker = State()
    targets = State()
    invite_project = State()


S = AdminSG
FIELDS = {
    "name": N_("admin.field.name"),
    "county": N_("admin.field.county"),
    "address": N_("admin.field.address"),
    "start": N_("admin.field.start"),
    "end": N_("admin.field.end"),
    "realname": N_("admin.field.realname"),
}
ASKS = {
    "new_name": N_("admin.ask.name"),
    "new_address": N_("admin.ask.address"),
    "new_start": N_("admin.ask.start"),
    "new_end": N_("admin.ask.end"),
    "new_realname": N_("admin.ask.realname"),
    "edit:name": N_("admin.ask.name"),
    "edit:address": N_("admin.ask.address"),
    "edit:start": N_("admin.ask.start"),
    "edit:end": N_("admin.ask.end"),
    "edit:realname": N_("admin.ask.realname"),
    "team_new": N_("admin.ask.team_name"),
    "team_rename": N_("admin.ask.team_name"),
    "invite_name": N_("admin.ask.invite_name"),
}
OPTIONAL = {"new_address", "new_start", "new_end", "new_realname"}
ROLE_LABELS = {
    Role.DISPATCHER.value: N_("role.dispatcher"),
    Role.FOREMAN.value: N_("role.foreman"),
}

Handler = Callable[[CallbackQuery, Any, DialogManager], Awaitable[None]]


# --- reading what the dialog needs -------------------------------------------------------------


def _today(manager: DialogManager) -> date:
    return company_projects.today_of(_uow(manager))


def _uow(manager: DialogManager) -> UnitOfWork:
    uow: UnitOfWork = manager.middleware_data["uow"]
    return uow


def _account(manager: DialogManager) -> AccountView:
    account: AccountView = manager.middleware_data["account"]
    return account


def _id(manager: DialogManager, key: str) -> int:
    return int(manager.dialog_data.get(key) or 0)


def _day(value: date | None) -> str:
    return value.isoformat() if value else _("admin.unset")


def _notice(manager: DialogManager, text: str) -> None:
    manager.dialog_data["notice"] = text


async def _refused(manager: DialogManager, callback: CallbackQuery, exc: DomainError) -> None:
    """A tap a rule refused: its reason as an alert, the screen stays."""
    await _uow(manager).rollback()
    await toast(callback, alert_text(error_text(exc)), alert=True)


def guarded(handler: Handler) -> Handler:
    async def run(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
        try:
            await handler(callback, widget, manager)
        except DomainError as exc:
            await _refused(manager, callback, exc)

    return run


def item_guarded(
    handler: Callable[[CallbackQuery, DialogManager, Any], Awaitable[None]],
) -> OnItem:
    async def run(
        callback: CallbackQuery, _widget: Any, manager: DialogManager, item: Any
    ) -> None:
        try:
            await handler(callback, manager, item)
        except DomainError as exc:
            await _refused(manager, callback, exc)

    return run


# --- getters -----------------------------------------------------------------------------------


async def base_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    notice = str(dialog_manager.dialog_data.pop("notice", "") or "")
    return {"error": pop_error(dialog_manager), "notice": Safe(notice)}


def _slice(manager: DialogManager, items: list[Any]) -> dict[str, Any]:
    """A page of a list core returns whole (teams, move targets): six big buttons a screen."""
    pages = max(1, -(-len(items) // teams.PAGE_SIZE))
    page = min(max(0, _id(manager, "page")), pages - 1)
    manager.dialog_data["page"] = page
    start = page * teams.PAGE_SIZE
    shown = items[start : start + teams.PAGE_SIZE]
    return {"items": shown, "empty": not items, **_pager(page, pages)}


def _pager(page: int, pages: int) -> dict[str, Any]:
    return {
        "has_prev": page > 0,
        "has_next": page + 1 < pages,
        "page_label": f"{page + 1}/{pages}" if pages > 1 else "",
    }


async def projects_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    found = await company_projects.list_projects(
        _uow(dialog_manager), _account(dialog_manager).actor(), page=_id(dialog_manager, "page")
    )
    dialog_manager.dialog_data["page"] = found.page
    items = [(p.id, f"🏗 {p.name}"[:BUTTON_LEN]) for p in found.items]
    return {"items": items, "empty": not items, **_pager(found.page, found.pages)}


async def _project_text(manager: DialogManager, view: ProjectView) -> str:
    county = await get_region(_uow(manager), view.county_code)
    return tr(
        "admin.project_card",
        name=view.name,
        county=county.name(locale()),
        address=view.address or _("admin.unset"),
        start=_day(view.planned_start),
        end=_day(view.planned_end),
        realname=view.realname_code or _("admin.unset"),
        status=_("admin.status.closed") if view.closed else _("admin.status.active"),
        teams=view.teams,
        workers=view.workers,
    )


async def project_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    view = await company_projects.get_project(
        _uow(dialog_manager), _account(dialog_manager).actor(), _id(dialog_manager, "project")
    )
    return {"card": Safe(await _project_text(dialog_manager, view)), "active": not view.closed}


async def fields_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"fields": [(key, _(label)) for key, label in FIELDS.items()]}


async def city_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    cities = await children(_uow(dialog_manager), PROVINCE)
    return {"regions": [(r.code, r.name(locale())) for r in cities]}


async def county_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    city = str(dialog_manager.dialog_data.get("city") or PROVINCE)
    counties = await children(_uow(dialog_manager), city)
    return {"regions": [(r.code, r.name(locale())) for r in counties]}


async def text_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    ask = str(dialog_manager.dialog_data.get("ask") or "")
    return {"prompt": _(ASKS.get(ask, "admin.ask.name")), "optional": ask in OPTIONAL}


def _new(manager: DialogManager) -> dict[str, str]:
    new = manager.dialog_data.setdefault("new", {})
    assert isinstance(new, dict)
    return new


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    new = _new(dialog_manager)
    county = await get_region(_uow(dialog_manager), new.get("county", PROVINCE))
    text = tr(
        "admin.new_summary",
        name=new.get("name", ""),
        county=county.name(locale()),
        address=new.get("address") or _("admin.unset"),
        start=new.get("start") or _("admin.unset"),
        end=new.get("end") or _("admin.unset"),
        realname=new.get("realname") or _("admin.unset"),
    )
    return {"summary": Safe(text)}


async def teams_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, actor = _uow(dialog_manager), _account(dialog_manager).actor()
    project = await company_projects.get_project(uow, actor, _id(dialog_manager, "project"))
    found = await teams.list_teams(uow, actor, project.id)
    items = [(t.id, f"👥 {t.name} · {t.members}"[:BUTTON_LEN]) for t in found]
    return {
        "project": project.name,
        "active": not project.closed,
        **_slice(dialog_manager, items),
    }


def _worker_items(manager: DialogManager, found: Any, icon: str) -> list[tuple[int, str]]:
    """One page of workers as (id, "icon name · trade") buttons; remembers the page shown."""
    manager.dialog_data["page"] = found.page
    loc = locale()
    return [
        (m.id, f"{icon} {m.name} · {m.trade_name_zh if loc == 'zh' else m.trade_name_en}")
        for m in found.items
    ]


async def team_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, actor = _uow(dialog_manager), _account(dialog_manager).actor()
    team = await teams.get_team(uow, actor, _id(dialog_manager, "team"))
    found = await teams.team_members(uow, actor, team.id, page=_id(dialog_manager, "page"))
    items = _worker_items(dialog_manager, found, "👷")
    return {
        "team": team.name,
        "project": team.project_name,
        "members": team.members,
        "items": items,
        "empty": not items,
        "active": not team.project_closed,
        **_pager(found.page, found.pages),
    }


async def joinable_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, actor = _uow(dialog_manager), _account(dialog_manager).actor()
    team = await teams.get_team(uow, actor, _id(dialog_manager, "team"))
    found = await teams.joinable_workers(uow, actor, team.id, page=_id(dialog_manager, "page"))
    items = _worker_items(dialog_manager, found, "➕")
    return {
        "team": team.name,
        "items": items,
        "empty": not items,
        **_pager(found.page, found.pages),
    }


def card_text(card: WorkerCard) -> str:
    """The worker's card: masked ID and phone only."""
    loc = locale()
    lines = [
        tr(
            "admin.worker_card",
            name=card.name,
            id_masked=card.id_masked,
            phone=card.phone_masked or _("admin.unset"),
            trade=card.trade_name_zh if loc == "zh" else card.trade_name_en,
            grade=card.grade_name_zh if loc == "zh" else card.grade_name_en,
            credit=card.credit_grade,
        )
    ]
    if card.team_name is not None:
        lines.append(
            tr(
                "admin.worker_on_site",
                project=card.project_name or "",
                team=card.team_name,
                since=_day(card.on_site_since),
            )
        )
    else:
        lines.append(_("admin.worker_off_site"))
    if card.stays:
        lines.append(_("admin.worker_history"))
        for stay in card.stays:
            where = stay.project_name + (f" · {stay.team_name}" if stay.team_name else "")
            lines.append(
                tr(
                    "admin.worker_stay",
                    where=where,
                    entered=stay.entered_on.isoformat(),
                    left=stay.left_on.isoformat() if stay.left_on else _("admin.still_on_site"),
                )
            )
    return "\n".join(lines)


async def worker_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    card = await teams.worker_card(
        _uow(dialog_manager), _account(dialog_manager).actor(), _id(dialog_manager, "worker")
    )
    return {"card": Safe(card_text(card)), "in_team": card.team_id is not None}


async def targets_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    found = await teams.move_targets(
        _uow(dialog_manager), _account(dialog_manager).actor(), _id(dialog_manager, "worker")
    )
    items = [(t.id, f"{t.project_name} · {t.name}"[:BUTTON_LEN]) for t in found]
    return _slice(dialog_manager, items)


async def invite_project_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    found = await accounts.list_invite_projects(
        _uow(dialog_manager), _account(dialog_manager).actor()
    )
    return {"items": [(p.id, p.name[:BUTTON_LEN]) for p in found], "empty": not found}


# --- moving around -----------------------------------------------------------------------------


async def _go(manager: DialogManager, state: State, **data: Any) -> None:
    manager.dialog_data.update(data)
    await manager.switch_to(state)


def goto(state: State, **data: Any) -> Handler:
    async def run(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
        await _go(manager, state, **data)

    return run


async def _ask(manager: DialogManager, ask: str, back: State) -> None:
    await _go(manager, S.text, ask=ask, back=back.state)


async def text_back(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    back = str(manager.dialog_data.get("back") or S.home.state)
    states = {s.state: s for s in AdminSG.__states__}
    await manager.switch_to(states.get(back, S.home))


async def page_prev(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["page"] = max(0, _id(manager, "page") - 1)


async def page_next(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["page"] = _id(manager, "page") + 1


# --- projects ----------------------------------------------------------------------------------


@item_guarded
async def project_chosen(_callback: CallbackQuery, manager: DialogManager, item: Any) -> None:
    view = await company_projects.get_project(_uow(manager), _account(manager).actor(), int(item))
    await _go(manager, S.project, project=view.id)


async def new_project(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["new"] = {}
    await _ask(manager, "new_name", S.projects)


@guarded
async def close_confirmed(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    view = await company_projects.close_project(
        _uow(manager), _account(manager).actor(), _id(manager, "project")
    )
    _notice(manager, tr("admin.closed", name=view.name))
    await manager.switch_to(S.project)


async def field_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, field: str
) -> None:
    if field not in FIELDS:
        return
    if field == "county":
        await _go(manager, S.city, county_for="edit")
        return
    await _ask(manager, f"edit:{field}", S.project)


async def city_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
) -> None:
    await _go(manager, S.county, city=code)


@item_guarded
async def county_chosen(callback: CallbackQuery, manager: DialogManager, item: Any) -> None:
    code = str(item)
    if manager.dialog_data.get("county_for") == "edit":
        view = await company_projects.edit_project(
            _uow(manager), _account(manager).actor(), _id(manager, "project"), "county", code
        )
        _notice(manager, tr("admin.saved", name=view.name))
        await manager.switch_to(S.project)
        return
    region = await get_region(_uow(manager), code)
    _new(manager)["county"] = region.code
    await _ask(manager, "new_address", S.city)


async def skip_optional(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await _take_new(manager, str(manager.dialog_data.get("ask") or ""), "")


async def _take_new(manager: DialogManager, ask: str, raw: str) -> None:
    """One step of a new project: checked by the same core parsers create_project uses."""
    new = _new(manager)
    if ask == "new_name":
        new["name"] = parse_project_name(raw)
        await _go(manager, S.city, county_for="new")
    elif ask == "new_address":
        new["address"] = parse_address(raw) if raw else ""
        await _ask(manager, "new_start", S.city)
    elif ask == "new_start":
        new["start"] = parse_planned_date(raw, _today(manager)).isoformat() if raw else ""
        await _ask(manager, "new_end", S.city)
    elif ask == "new_end":
        end = parse_planned_date(raw, _today(manager)) if raw else None
        start = date.fromisoformat(new["start"]) if new.get("start") else None
        check_planned_dates(start, end)
        new["end"] = end.isoformat() if end else ""
        await _ask(manager, "new_realname", S.city)
    elif ask == "new_realname":
        new["realname"] = (parse_realname_code(raw) or "") if raw else ""
        await manager.switch_to(S.new_summary)


@guarded
async def create_confirmed(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    new = _new(manager)
    view = await company_projects.create_project(
        _uow(manager),
        _account(manager).actor(),
        ProjectDraft(
            name=new.get("name", ""),
            county_code=new.get("county", ""),
            address=new.get("address", ""),
            planned_start=new.get("start", ""),
            planned_end=new.get("end", ""),
            realname_code=new.get("realname", ""),
        ),
    )
    manager.dialog_data["new"] = {}
    _notice(manager, tr("admin.created", name=view.name))
    await _go(manager, S.project, project=view.id)


# --- teams and workers -------------------------------------------------------------------------


@item_guarded
async def team_chosen(_callback: CallbackQuery, manager: DialogManager, item: Any) -> None:
    view = await teams.get_team(_uow(manager), _account(manager).actor(), int(item))
    await _go(manager, S.team, team=view.id, page=0)


@item_guarded
async def member_chosen(_callback: CallbackQuery, manager: DialogManager, item: Any) -> None:
    card = await teams.worker_card(_uow(manager), _account(manager).actor(), int(item))
    await _go(manager, S.worker, worker=card.id, from_team=True)


@item_guarded
async def joiner_chosen(_callback: CallbackQuery, manager: DialogManager, item: Any) -> None:
    card = await teams.move_worker(
        _uow(manager), _account(manager).actor(), int(item), _id(manager, "team")
    )
    _notice(manager, tr("admin.moved", name=card.name, team=card.team_name or ""))


@item_guarded
async def target_chosen(_callback: CallbackQuery, manager: DialogManager, item: Any) -> None:
    card = await teams.move_worker(
        _uow(manager), _account(manager).actor(), _id(manager, "worker"), int(item)
    )
    _notice(manager, tr("admin.moved", name=card.name, team=card.team_name or ""))
    await _go(manager, S.worker, team=card.team_id)


@guarded
async def leave_confirmed(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    card = await teams.leave_site(_uow(manager), _account(manager).actor(), _id(manager, "worker"))
    _notice(manager, tr("admin.left_site", name=card.name))


async def worker_back(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["page"] = 0
    await manager.switch_to(S.team if _id(manager, "team") else S.projects)


# --- invites -----------------------------------------------------------------------------------


async def invite_dispatcher(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager
) -> None:
    manager.dialog_data.update(invite_role=Role.DISPATCHER.value, invite_project=None)
    await _ask(manager, "invite_name", S.home)


async def invite_foreman(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data.update(invite_role=Role.FOREMAN.value, invite_project=None)
    await manager.switch_to(S.invite_project)


async def invite_project_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, project_id: int
) -> None:
    manager.dialog_data["invite_project"] = project_id
    await _ask(manager, "invite_name", S.invite_project)


async def _invite(manager: DialogManager, raw: str) -> None:
    role = Role(str(manager.dialog_data.get("invite_role") or Role.DISPATCHER.value))
    project = manager.dialog_data.get("invite_project")
    uow = _uow(manager)
    invite = await invite_member(
        uow,
        _account(manager).actor(),
        role=role,
        display_name=raw,
        project_ids=(int(project),) if project else (),
    )
    _notice(
        manager,
        tr(
            "admin.invited",
            name=invite.display_name,
            role=_(ROLE_LABELS[role.value]),
            link=invite.link,
            code=invite.token,
            hours=uow.settings.invite_ttl_hours,
        ),
    )
    await manager.switch_to(S.home)


# --- the typed answers -------------------------------------------------------------------------


async def text_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    ask = str(manager.dialog_data.get("ask") or "")
    raw = message.text or ""
    uow, actor = _uow(manager), _account(manager).actor()
    try:
        if ask.startswith("new_"):
            await _take_new(manager, ask, raw)
        elif ask.startswith("edit:"):
            view = await company_projects.edit_project(
                uow, actor, _id(manager, "project"), ask.removeprefix("edit:"), raw
            )
            _notice(manager, tr("admin.saved", name=view.name))
            await manager.switch_to(S.project)
        elif ask == "team_new":
            team = await teams.create_team(uow, actor, _id(manager, "project"), raw)
            _notice(manager, tr("admin.team_created", name=team.name))
            await _go(manager, S.team, team=team.id, page=0)
        elif ask == "team_rename":
            team = await teams.rename_team(uow, actor, _id(manager, "team"), raw)
            _notice(manager, tr("admin.saved", name=team.name))
            await manager.switch_to(S.team)
        elif ask == "invite_name":
            await _invite(manager, raw)
    except DomainError as exc:
        await uow.rollback()
        show_error(manager, error_text(exc))


# --- windows -----------------------------------------------------------------------------------


def _back(handler: Handler) -> Row:
    return Row(Button(Tr("shortage.back"), id="back", on_click=handler), cancel_button())


def _big_list(on_click: Any, *, type_factory: Any = int) -> Column:
    return Column(
        Select(
            Format("{item[1]}"),
            id="item",
            item_id_getter=itemgetter(0),
            items="items",
            type_factory=type_factory,
            on_click=on_click,
        )
    )


def _pager_row() -> Row:
    return Row(
        Button(Format("◀"), id="prev", on_click=page_prev, when="has_prev"),
        Button(Format("{page_label}"), id="pg", when="page_label"),
        Button(Format("▶"), id="next", on_click=page_next, when="has_next"),
    )


NOTICE = Format("{notice}", when="notice")
ERROR = Format("{error}", when="error")


def _dialog() -> Dialog:
    return Dialog(
        Window(
            NOTICE,
            Tr("admin.home"),
            Column(
                Button(Tr("admin.projects"), id="projects", on_click=goto(S.projects, page=0)),
                Button(Tr("admin.new_project"), id="new", on_click=new_project),
                Button(Tr("admin.invite_dispatcher"), id="inv_d", on_click=invite_dispatcher),
                Button(Tr("admin.invite_foreman"), id="inv_f", on_click=invite_foreman),
            ),
            Row(cancel_button()),
            buttons_only(),
            state=S.home,
        ),
        Window(
            Tr("admin.projects_title"),
            Tr("admin.no_projects", when="empty"),
            _big_list(project_chosen),
            _pager_row(),
            Button(Tr("admin.new_project"), id="new", on_click=new_project),
            _back(goto(S.home)),
            buttons_only(),
            getter=projects_getter,
            state=S.projects,
        ),
        Window(
            NOTICE,
            Format("{card}"),
            Column(
                Button(Tr("admin.teams"), id="teams", on_click=goto(S.teams, page=0)),
                Button(Tr("admin.edit"), id="edit", on_click=goto(S.edit), when="active"),
                Button(Tr("admin.close"), id="close", on_click=goto(S.close), when="active"),
            ),
            _back(goto(S.projects)),
            buttons_only(),
            getter=project_getter,
            state=S.project,
        ),
        Window(
            Format("{card}"),
            Tr("admin.close_confirm"),
            Button(Tr("admin.close_yes"), id="yes", on_click=close_confirmed),
            _back(goto(S.project)),
            buttons_only(),
            getter=project_getter,
            state=S.close,
        ),
        Window(
            Tr("admin.edit_pick"),
            choice("field", "fields", field_chosen, width=2),
            _back(goto(S.project)),
            buttons_only(),
            getter=fields_getter,
            state=S.edit,
        ),
        Window(
            Tr("admin.pick_city"),
            choice("city", "regions", city_chosen, width=3),
            Row(cancel_button()),
            buttons_only(),
            getter=city_getter,
            state=S.city,
        ),
        Window(
            Tr("admin.pick_county"),
            choice("county", "regions", county_chosen, width=3),
            _back(goto(S.city)),
            buttons_only(),
            getter=county_getter,
            state=S.county,
        ),
        Window(
            ERROR,
            Format("{prompt}"),
            Button(Tr("admin.skip"), id="skip", on_click=skip_optional, when="optional"),
            _back(text_back),
            *typed(text_typed, N_("shortage.need_text")),
            getter=text_getter,
            state=S.text,
        ),
        Window(
            Format("{summary}"),
            Button(Tr("admin.create_yes"), id="create", on_click=create_confirmed),
            Row(cancel_button()),
            buttons_only(),
            getter=summary_getter,
            state=S.new_summary,
        ),
        Window(
            NOTICE,
            Tr("admin.teams_title"),
            Tr("admin.no_teams", when="empty"),
            _big_list(team_chosen),
            _pager_row(),
            Button(
                Tr("admin.new_team"),
                id="new_team",
                on_click=lambda _c, _b, m: _ask(m, "team_new", S.teams),
                when="active",
            ),
            _back(goto(S.project)),
            buttons_only(),
            getter=teams_getter,
            state=S.teams,
        ),
        Window(
            NOTICE,
            Tr("admin.team_title"),
            Tr("admin.no_members", when="empty"),
            _big_list(member_chosen),
            _pager_row(),
            Row(
                Button(
                    Tr("admin.add_worker"),
                    id="add",
                    on_click=goto(S.joinable, page=0),
                    when="active",
                ),
                Button(
                    Tr("admin.rename"),
                    id="rename",
                    on_click=lambda _c, _b, m: _ask(m, "team_rename", S.team),
                ),
            ),
            _back(goto(S.teams, page=0)),
            buttons_only(),
            getter=team_getter,
            state=S.team,
        ),
        Window(
            NOTICE,
            Tr("admin.joinable_title"),
            Tr("admin.no_joinable", when="empty"),
            _big_list(joiner_chosen),
            _pager_row(),
            _back(goto(S.team, page=0)),
            buttons_only(),
            getter=joinable_getter,
            state=S.joinable,
        ),
        Window(
            NOTICE,
            Format("{card}"),
            Row(
                Button(Tr("admin.move"), id="move", on_click=goto(S.targets, page=0)),
                Button(
                    Tr("admin.leave_site"), id="leave", on_click=leave_confirmed, when="in_team"
                ),
            ),
            _back(worker_back),
            buttons_only(),
            getter=worker_getter,
            state=S.worker,
        ),
        Window(
            Tr("admin.targets_title"),
            Tr("admin.no_targets", when="empty"),
            _big_list(target_chosen),
            _pager_row(),
            _back(goto(S.worker)),
            buttons_only(),
            getter=targets_getter,
            state=S.targets,
        ),
        Window(
            Tr("admin.invite_pick_project"),
            Tr("admin.no_projects", when="empty"),
            Column(
                Select(
                    Format("{item[1]}"),
                    id="iproj",
                    item_id_getter=itemgetter(0),
                    items="items",
                    type_factory=int,
                    on_click=invite_project_chosen,
                )
            ),
            _back(goto(S.home)),
            buttons_only(),
            getter=invite_project_getter,
            state=S.invite_project,
        ),
        getter=base_getter,
    )


# --- entry -------------------------------------------------------------------------------------


async def start(
    message: Message, dialog_manager: DialogManager, uow: UnitOfWork, account: AccountView
) -> None:
    """🏢 公司管理: only a company's admin gets in (read from the account row each time)."""
    if not await is_company_admin(uow, account.actor()):
        await message.answer(_("error.not_company_admin"))
        return
    await dialog_manager.start(S.home, mode=StartMode.RESET_STACK)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start, MenuText(COMPANY_ADMIN), HasRole(Role.DISPATCHER))
    router.include_router(_dialog())
    return router
