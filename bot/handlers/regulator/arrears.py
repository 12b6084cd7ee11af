"""📉 欠薪预警 for regulators: the menu button (or /arrears) lists the open (or resolved) alerts
of their region, with buttons to narrow to a county or switch the status; 👷 在场人数 (or
/onsite) shows the dispatched workers on site per project (进场 / 退场 today). Region codes in
callback data are checked again by the core services (a forged county outside the region is
refused)."""

from __future__ import annotations

from aiogram.filters import Command, or_f
from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import Ctx, Reply, locale, on_message, screen, show_screen
from bot.i18n import tr
from bot.keyboards.common import ARREARS, ON_SITE, MenuText
from bot.keyboards.regulator import button, markup, rows
from bot.render.dispatch import arrears_text
from core.domain.dispatch import AlertStatus
from core.services import dispatch, wages
from core.services.regions import get_region

SHOWN = 10


class ArrearsCb(CallbackData, prefix="aa"):
    """The list: county `c` ("" = the whole region), status `s` ("open" / "resolved")."""

    c: str = ""
    s: str = "open"


def _t(key: str, /, **params: object) -> str:
    return tr(key, **params)


async def _name(c: Ctx, code: str) -> str:
    return (await get_region(c.uow, code)).name(locale())


@screen(ArrearsCb, ARREARS, lambda c: ArrearsCb())
async def arrears(c: Ctx, cb: ArrearsCb) -> Reply:
    alerts = await wages.list_arrears(
        c.uow, c.actor, c.home, county_code=cb.c or None, status=cb.s, limit=50
    )
    status = _(f"arrears.status.{AlertStatus(cb.s).value}")
    count, region = len(alerts), await _name(c, cb.c or c.home)
    lines = [tr("arrears.title", status=status, region=region, count=count)]
    if not alerts:
        lines.append(_("arrears.none"))
    lines += [arrears_text(a, _t) for a in alerts[:SHOWN]]
    other = "resolved" if cb.s == "open" else "open"
    toggle = [button(_(f"arrears.status.{other}"), ArrearsCb(c=cb.c, s=other))]
    counties = [
        button(await _name(c, code), ArrearsCb(c=code, s=cb.s))
        for code in sorted({a.county_code for a in alerts})[:6]
    ]
    return "\n\n".join(lines), markup(toggle, *rows(counties))


@on_message(Command("arrears"))
async def arrears_command(c: Ctx) -> None:
    """/arrears [county code] [resolved]."""
    args = (c.message.text or "").split()[1:]
    county = next((a for a in args if a.isdigit()), "")
    status = "resolved" if "resolved" in args else "open"
    await show_screen(c, arrears, ArrearsCb(c=county, s=status))


@on_message(or_f(Command("onsite"), MenuText(ON_SITE)))
async def onsite(c: Ctx) -> None:
    projects = await dispatch.on_site_by_project(c.uow, c.actor, c.home)
    lines = [tr("onsite.title", region=await _name(c, c.home))]
    if not projects:
        lines.append(_("onsite.none"))
    for p in projects:
        lines.append(
            tr(
                "onsite.line",
                project=p.project_name,
                on_site=p.on_site,
                entered=p.entered_today,
                left=p.left_today,
            )
        )
    await c.message.answer("\n".join(lines))
