"""🏗 Projects (项目用工): the seed's enterprise table for the company dispatcher.

Per project the on-duty count and, per trade, shortage 🔴N / idle 🟡N (only trades with a
nonzero number, to stay short on a phone), after the company's totals: cumulative shortage
and surplus, workers and idle workers new today. Eight projects a page.
"""

from __future__ import annotations

from aiogram import Router, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import role_router
from bot.i18n import tr
from bot.keyboards.common import PROJECTS, MenuText
from bot.keyboards.projects import PROJECTS_PAGE, ProjectsPageCb, projects_pager
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.services import summaries
from core.services.accounts import AccountView
from core.services.summaries import ProjectDemand


def _trade_cells(project: ProjectDemand, locale: str) -> str:
    cells = []
    for t in project.trades:
        marks = ([f"🔴{t.shortage}"] if t.shortage else []) + ([f"🟡{t.idle}"] if t.idle else [])
        if marks:
            name = t.trade_name_zh if locale.startswith("zh") else t.trade_name_en
            cells.append(" ".join([html.quote(name), *marks]))
    return " · ".join(cells)


async def projects_page(
    uow: UnitOfWork, account: AccountView, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    if account.enterprise_id is None:
        raise PermissionDenied("error.forbidden")
    summary = await summaries.enterprise_summary(uow, account.actor(), account.enterprise_id)
    projects = summary.projects
    pages = max(1, -(-len(projects) // PROJECTS_PAGE))
    page = min(max(0, page), pages - 1)
    lines = [
        tr("projects.title", name=summary.name, day=summary.day.isoformat()),
        tr(
            "projects.totals",
            shortage=summary.cumulative_shortage,
            surplus=summary.cumulative_surplus,
        ),
        tr(
            "projects.today",
            new_workers=summary.new_workers_today,
            new_idle=summary.new_idle_today,
        ),
        "",
    ]
    if not projects:
        lines.append(_("projects.none"))
    start = page * PROJECTS_PAGE
    for number, p in enumerate(projects[start : start + PROJECTS_PAGE], start=start + 1):
        lines.append(tr("projects.project", n=number, name=p.name, on_duty=p.on_duty))
        cells = _trade_cells(p, account.locale)
        lines.append(f"   {cells}" if cells else _("projects.balanced"))
    if projects:
        lines += ["", _("projects.legend")]
    return "\n".join(lines), projects_pager(page, pages)


async def show_projects(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    await state.set_state(None)  # a menu button leaves whatever dialog was open
    text, markup = await projects_page(uow, account, 0)
    await message.answer(text, reply_markup=markup)


async def page_turned(
    query: CallbackQuery, callback_data: ProjectsPageCb, uow: UnitOfWork, account: AccountView
) -> None:
    text, markup = await projects_page(uow, account, callback_data.page)
    await query.answer()
    await edit_or_send(query, text, markup)


def create_router() -> Router:
    router = role_router(__name__, Role.DISPATCHER)
    router.message.register(show_projects, MenuText(PROJECTS))
    router.callback_query.register(page_turned, ProjectsPageCb.filter())
    return router
