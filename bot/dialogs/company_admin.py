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
from typing import Any

from aiogram import Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Column, Row
from aiogram_dialog.widgets.text import Format

from bot.dialogs.answers import answer_window
from bot.dialogs.widgets import (
    BUTTON_LEN,
    RegionPicker,
    Tr,
    account_of,
    buttons_only,
    cancel_button,
    choice,
    uow_of,
)
from bot.filters import HasRole
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import COMPANY_ADMIN, MenuText
from bot.render.postings import locale
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.services import accounts, company_projects, teams
from core.services.accounts import AccountView
from core.services.company_admin import invite_member, is_company_admin
from core.services.company_projects import FIELDS, OPTIONAL, ProjectDraft
from core.services.regions import get_region
from core.services.teams import WorkerCard


class AdminSG(StatesGroup):
    home = State()
    projects = State()
    project = State()
    close = State()  # confirm closing
    edit = State()  # which field
    county = State()  # the city, then its county
    text = State()  # every typed answer; dialog_data["ask"] says which
    new_summary = State()
    teams = State()
    team = State()
    joinable = State()
    worker = State()
    targets = State()
    invite_project = State()


S = AdminSG
FIELD_LABELS = {
    "name": N_("admin.field.name"),
    "county": N_("admin.field.county"),
    "address": N_("admin.field.address"),
    "start": N_("admin.field.start"),
    "end": N_("admin.field.end"),
    "realname": N_("admin.field.realname"),
}
ASKS = {  # a project's field (new or edited), or what else a typed answer is for
    "name": N_("admin.ask.name"),
    "address": N_("admin.ask.address"),
    "start": N_("admin.ask.start"),
    "end": N_("admin.ask.end"),
    "realname": N_("admin.ask.realname"),
    "team_new": N_("admin.ask.team_name"),
    "team_rename": N_("admin.ask.team_name"),
    "invite_name": N_("admin.ask.invite_name"),
}
ROLE_LABELS = {
    Role.DISPATCHER.value: N_("role.dispatcher"),
    Role.FOREMAN.value: N_("role.foreman"),
}

Handler = Callable[[CallbackQuery, Any, DialogManager], Awaitable[None]]


# --- reading what the dialog needs -------------------------------------------------------------


def _id(manager: DialogManager, key: str) -> int:
    return int(manager.dialog_data.get(key) or 0)


def _day(value: date | None) -> str:
    return value.isoformat() if value else _("admin.unset")


def _new(manager: DialogManager) -> dict[str, str] | None:
    """The project being added, None while a field of an existing one is edited."""
    new = manager.dialog_data.get("new")
    return new if isinstance(new, dict) else None


async def base_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"notice": Safe(str(dialog_manager.dialog_data.pop("notice", "") or ""))}


def _page(manager: DialogManager, page: int, pages: int, items: list[Any]) -> dict[str, Any]:
    """A page of big buttons with ◀ x/y ▶; remembers the page shown."""
    manager.dialog_data["page"] = page
    return {
        "items": items,
        "empty": not items,
        "has_prev": page > 0,
        "has_next": page + 1 < pages,
        "page_label": f"{page + 1}/{pages}" if pages > 1 else "",
    }


def _slice(manager: DialogManager, items: list[Any]) -> dict[str, Any]:
    """A page of a list core returns whole (teams, move targets): six big buttons a screen."""
    pages = max(1, -(-len(items) // teams.PAGE_SIZE))
    page = min(max(0, _id(manager, "page")), pages - 1)
    start = page * teams.PAGE_SIZE
    return _page(manager, page, pages, items[start : start + teams.PAGE_SIZE])


# --- getters -----------------------------------------------------------------------------------


async def projects_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    found = await company_projects.list_projects(
        uow_of(dialog_manager),
        account_of(dialog_manager).actor(),
        page=_id(dialog_manager, "page"),
    )
    items = [(p.id, f"🏗 {p.name}"[:BUTTON_LEN]) for p in found.items]
    return _page(dialog_manager, found.page, found.pages, items)


async def _project_text(manager: DialogManager, key: str, fields: Any, **more: Any) -> str:
    """A project's card, or the summary of one being added; a field not given reads 未填写."""
    county = await get_region(uow_of(manager), str(fields.get("county", "")))
    shown = {f: str(fields.get(f) or _("admin.unset")) for f in OPTIONAL}
    name = fields.get("name", "")
    return tr(key, name=name, county=county.name(locale()), **shown, **more)


async def project_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    view = await company_projects.get_project(
        uow_of(dialog_manager), account_of(dialog_manager).actor(), _id(dialog_manager, "project")
    )
    card = await _project_text(
        dialog_manager,
        N_("admin.project_card"),
        view.fields(),
        status=_("admin.status.closed") if view.closed else _("admin.status.active"),
        teams=view.teams,
        workers=view.workers,
    )
    return {"card": Safe(card), "active": not view.closed}


async def fields_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {"fields": [(key, _(label)) for key, label in FIELD_LABELS.items()]}


async def text_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    ask = str(dialog_manager.dialog_data.get("ask") or "")
    optional = ask in OPTIONAL and _new(dialog_manager) is not None
    return {"prompt": _(ASKS.get(ask, "admin.ask.name")), "optional": optional}


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    new = _new(dialog_manager) or {}
    return {"summary": Safe(await _project_text(dialog_manager, N_("admin.new_summary"), new))}


async def teams_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, actor = uow_of(dialog_manager), account_of(dialog_manager).actor()
    project = await company_projects.get_project(uow, actor, _id(dialog_manager, "project"))
    found = await teams.list_teams(uow, actor, project.id)
    items = [(t.id, f"👥 {t.name} · {t.members}"[:BUTTON_LEN]) for t in found]
    return {"project": project.name, "active": not project.closed, **_slice(dialog_manager, items)}


def _workers_getter(load: Any, icon: str) -> Any:
    """A team's page of workers (its members, or those who may join it) as "icon name · trade"."""

    async def getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        uow, actor = uow_of(dialog_manager), account_of(dialog_manager).actor()
        team = await teams.get_team(uow, actor, _id(dialog_manager, "team"))
        found = await load(uow, actor, team.id, page=_id(dialog_manager, "page"))
        zh = locale() == "zh"
        items = [
            (m.id, f"{icon} {m.name} · {m.trade_name_zh if zh else m.trade_name_en}")
            for m in found.items
        ]
        return {
            "team": team.name,
            "project": team.project_name,
            "members": team.members,
            "active": not team.project_closed,
            **_page(dialog_manager, found.page, found.pages, items),
        }

    return getter


def card_text(card: WorkerCard) -> str:
    """The worker's card: masked ID and phone only."""
    zh = locale() == "zh"
    lines = [
        tr(
            "admin.worker_card",
            name=card.name,
            id_masked=card.id_masked,
            phone=card.phone_masked or _("admin.unset"),
            trade=card.trade_name_zh if zh else card.trade_name_en,
            grade=card.grade_name_zh if zh else card.grade_name_en,
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
        uow_of(dialog_manager), account_of(dialog_manager).actor(), _id(dialog_manager, "worker")
    )
    return {"card": Safe(card_text(card)), "in_team": card.team_id is not None}


async def targets_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    found = await teams.move_targets(
        uow_of(dialog_manager), account_of(dialog_manager).actor(), _id(dialog_manager, "worker")
    )
    items = [(t.id, f"{t.project_name} · {t.name}"[:BUTTON_LEN]) for t in found]
    return _slice(dialog_manager, items)


async def invite_project_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    found = await accounts.list_invite_projects(
        uow_of(dialog_manager), account_of(dialog_manager).actor()
    )
    return {"items": [(p.id, p.name[:BUTTON_LEN]) for p in found], "empty": not found}


# --- moving around: a refused tap is answered by bot.handlers.errors, the screen stays --------


async def _go(manager: DialogManager, state: State, notice: str = "", **data: Any) -> None:
    manager.dialog_data.update(data, notice=notice)
    await manager.switch_to(state)


def goto(state: State, **data: Any) -> Handler:
    async def run(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
        await _go(manager, state, **data)

    return run


def ask(what: str, back: State, **data: Any) -> Handler:
    """To the typed-answer window; its ⬅️ goes to `back`."""
    return goto(S.text, ask=what, back=back.state, **data)


async def text_back(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    back = str(manager.dialog_data.get("back") or S.home.state)
    states = {s.state: s for s in AdminSG.__states__}
    await manager.switch_to(states.get(back, S.home))


async def turn_page(_callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    step = 1 if button.widget_id == "next" else -1
    manager.dialog_data["page"] = max(0, _id(manager, "page") + step)


def opens(state: State, key: str, check: Any) -> Any:
    """A tapped id, checked by core (another company's is "not found"), opens `state`."""

    async def chosen(
        _callback: CallbackQuery, _widget: Any, manager: DialogManager, item: int
    ) -> None:
        found = await check(uow_of(manager), account_of(manager).actor(), int(item))
        await _go(manager, state, **{key: found.id, "page": 0})

    return chosen


# --- projects ----------------------------------------------------------------------------------


async def new_project(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await _go(manager, S.text, new={}, ask="name", back=S.projects.state)


async def close_confirmed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    view = await company_projects.close_project(
        uow_of(manager), account_of(manager).actor(), _id(manager, "project")
    )
    await _go(manager, S.project, tr("admin.closed", name=view.name))


async def field_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, field: str
) -> None:
    if field in FIELD_LABELS:
        state = S.county if field == "county" else S.text
        await _go(manager, state, new=None, ask=field, back=S.project.state)


async def field_taken(manager: DialogManager, field: str, raw: str) -> None:
    """A field of a new project (checked as create_project will check it), then the next one;
    or of an existing project, saved at once."""
    uow, actor, new = uow_of(manager), account_of(manager).actor(), _new(manager)
    if new is None:
        view = await company_projects.edit_project(uow, actor, _id(manager, "project"), field, raw)
        await _go(manager, S.project, tr("admin.saved", name=view.name))
        return
    new[field] = await company_projects.draft_field(uow, field, raw, start=new.get("start", ""))
    following = FIELDS[FIELDS.index(field) + 1 :]
    if not following:
        await manager.switch_to(S.new_summary)
    elif following[0] == "county":
        await manager.switch_to(S.county)
    else:
        await _go(manager, S.text, ask=following[0], back=S.county.state)


async def county_taken(manager: DialogManager, code: str) -> None:
    await field_taken(manager, "county", code)


REGION = RegionPicker(
    "county", county_taken, asks=(N_("admin.pick_city"), N_("admin.pick_county")), state=S.county
)


async def skip_optional(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await field_taken(manager, str(manager.dialog_data.get("ask") or ""), "")


async def create_confirmed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    draft = ProjectDraft.of(_new(manager) or {})
    view = await company_projects.create_project(
        uow_of(manager), account_of(manager).actor(), draft
    )
    await _go(manager, S.project, tr("admin.created", name=view.name), project=view.id, new=None)


# --- teams, workers, invites -------------------------------------------------------------------


async def _move(manager: DialogManager, worker_id: int, team_id: int) -> int | None:
    card = await teams.move_worker(
        uow_of(manager), account_of(manager).actor(), worker_id, team_id
    )
    manager.dialog_data["notice"] = tr("admin.moved", name=card.name, team=card.team_name or "")
    return card.team_id


async def joiner_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, item: int
) -> None:
    await _move(manager, int(item), _id(manager, "team"))


async def target_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, item: int
) -> None:
    team_id = await _move(manager, _id(manager, "worker"), int(item))
    manager.dialog_data["team"] = team_id
    await manager.switch_to(S.worker)


async def leave_confirmed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    card = await teams.leave_site(
        uow_of(manager), account_of(manager).actor(), _id(manager, "worker")
    )
    manager.dialog_data["notice"] = tr("admin.left_site", name=card.name)


async def worker_back(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await _go(manager, S.team if _id(manager, "team") else S.projects, page=0)


async def invite_project_chosen(
    _callback: CallbackQuery, _widget: Any, manager: DialogManager, project_id: int
) -> None:
    await _go(
        manager, S.text, invite_project=project_id, ask="invite_name", back=S.invite_project.state
    )


async def _invite(manager: DialogManager, raw: str) -> None:
    role = Role(str(manager.dialog_data.get("invite_role") or Role.DISPATCHER.value))
    project = manager.dialog_data.get("invite_project")
    uow = uow_of(manager)
    invite = await invite_member(
        uow,
        account_of(manager).actor(),
        role=role,
        display_name=raw,
        project_ids=(int(project),) if project else (),
    )
    notice = tr(
        "admin.invited",
        name=invite.display_name,
        role=_(ROLE_LABELS[role.value]),
        link=invite.link,
        code=invite.token,
        hours=uow.settings.invite_ttl_hours,
    )
    await _go(manager, S.home, notice)


async def text_taken(manager: DialogManager, raw: str) -> None:
    """Every typed answer; a refused one is said above the same prompt, which asks again."""
    what = str(manager.dialog_data.get("ask") or "")
    uow, actor = uow_of(manager), account_of(manager).actor()
    if what == "team_new":
        team = await teams.create_team(uow, actor, _id(manager, "project"), raw)
        await _go(manager, S.team, tr("admin.team_created", name=team.name), team=team.id, page=0)
    elif what == "team_rename":
        team = await teams.rename_team(uow, actor, _id(manager, "team"), raw)
        await _go(manager, S.team, tr("admin.saved", name=team.name))
    elif what == "invite_name":
        await _invite(manager, raw)
    elif what in FIELDS:
        await field_taken(manager, what, raw)


# --- windows -----------------------------------------------------------------------------------


def _tap(key: str, on_click: Any, when: str | None = None) -> Button:
    """A button named by its catalog key (its id the key's last part)."""
    return Button(Tr(key), id=key.rsplit(".", 1)[-1], on_click=on_click, when=when)


def _back(handler: Handler) -> Row:
    return Row(Button(Tr("shortage.back"), id="back", on_click=handler), cancel_button())


NOTICE = Format("{notice}", when="notice")


def _screen(state: State, *widgets: Any, back: Handler | None, getter: Any = None) -> Window:
    """A screen of buttons: the last notice, `widgets`, ⬅️ `back` (else only ❌)."""
    nav = _back(back) if back is not None else Row(cancel_button())
    return Window(NOTICE, *widgets, nav, buttons_only(), getter=getter, state=state)


def _list(state: State, title: str, empty: str, on_pick: Any, *extra: Any, **kw: Any) -> Window:
    """A list of big buttons (the getter's "items"), ◀ x/y ▶ under them, then `extra`."""
    return _screen(
        state,
        Tr(title),
        Tr(empty, when="empty"),
        choice("item", "items", on_pick, width=1, type_factory=int),
        Row(
            Button(Format("◀"), id="prev", on_click=turn_page, when="has_prev"),
            Button(Format("{page_label}"), id="pg", when="page_label"),
            Button(Format("▶"), id="next", on_click=turn_page, when="has_next"),
        ),
        *extra,
        **kw,
    )


def _dialog() -> Dialog:
    invite_dispatcher = ask(
        "invite_name", S.home, invite_role=Role.DISPATCHER.value, invite_project=None
    )
    invite_foreman = goto(S.invite_project, invite_role=Role.FOREMAN.value, invite_project=None)
    return Dialog(
        _screen(
            S.home,
            Tr("admin.home"),
            Column(
                _tap(N_("admin.projects"), goto(S.projects, page=0)),
                _tap(N_("admin.new_project"), new_project),
                _tap(N_("admin.invite_dispatcher"), invite_dispatcher),
                _tap(N_("admin.invite_foreman"), invite_foreman),
            ),
            back=None,
        ),
        _list(
            S.projects,
            N_("admin.projects_title"),
            N_("admin.no_projects"),
            opens(S.project, "project", company_projects.get_project),
            _tap(N_("admin.new_project"), new_project),
            back=goto(S.home),
            getter=projects_getter,
        ),
        _screen(
            S.project,
            Format("{card}"),
            Column(
                _tap(N_("admin.teams"), goto(S.teams, page=0)),
                _tap(N_("admin.edit"), goto(S.edit), when="active"),
                _tap(N_("admin.close"), goto(S.close), when="active"),
            ),
            back=goto(S.projects),
            getter=project_getter,
        ),
        _screen(
            S.close,
            Format("{card}"),
            Tr("admin.close_confirm"),
            _tap(N_("admin.close_yes"), close_confirmed),
            back=goto(S.project),
            getter=project_getter,
        ),
        _screen(
            S.edit,
            Tr("admin.edit_pick"),
            choice("field", "fields", field_chosen, width=2),
            back=goto(S.project),
            getter=fields_getter,
        ),
        REGION.window(Row(cancel_button())),
        answer_window(
            S.text,
            Format("{prompt}"),
            _tap(N_("admin.skip"), skip_optional, when="optional"),
            take=text_taken,
            nav=_back(text_back),
            getter=text_getter,
        ),
        _screen(
            S.new_summary,
            Format("{summary}"),
            _tap(N_("admin.create_yes"), create_confirmed),
            back=None,
            getter=summary_getter,
        ),
        _list(
            S.teams,
            N_("admin.teams_title"),
            N_("admin.no_teams"),
            opens(S.team, "team", teams.get_team),
            _tap(N_("admin.new_team"), ask("team_new", S.teams), when="active"),
            back=goto(S.project),
            getter=teams_getter,
        ),
        _list(
            S.team,
            N_("admin.team_title"),
            N_("admin.no_members"),
            opens(S.worker, "worker", teams.worker_card),
            Row(
                _tap(N_("admin.add_worker"), goto(S.joinable, page=0), when="active"),
                _tap(N_("admin.rename"), ask("team_rename", S.team)),
            ),
            back=goto(S.teams, page=0),
            getter=_workers_getter(teams.team_members, "👷"),
        ),
        _list(
            S.joinable,
            N_("admin.joinable_title"),
            N_("admin.no_joinable"),
            joiner_chosen,
            back=goto(S.team, page=0),
            getter=_workers_getter(teams.joinable_workers, "➕"),
        ),
        _screen(
            S.worker,
            Format("{card}"),
            Row(
                _tap(N_("admin.move"), goto(S.targets, page=0)),
                _tap(N_("admin.leave_site"), leave_confirmed, when="in_team"),
            ),
            back=worker_back,
            getter=worker_getter,
        ),
        _list(
            S.targets,
            N_("admin.targets_title"),
            N_("admin.no_targets"),
            target_chosen,
            back=goto(S.worker),
            getter=targets_getter,
        ),
        _list(
            S.invite_project,
            N_("admin.invite_pick_project"),
            N_("admin.no_projects"),
            invite_project_chosen,
            back=goto(S.home),
            getter=invite_project_getter,
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
