"""📉 欠薪预警 for regulators: the menu button (or /arrears) lists the open (or resolved) alerts
of their region, with buttons to narrow to a county or switch the status; 👷 在场人数 (or
/onsite) shows the dispatched workers on site per project (进场 / 退场 today). Region codes in
callback data are checked again by the core services (a forged county outside the region is
refused)."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import tr
from bot.render.dispatch import arrears_text
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.dispatch import AlertStatus
from core.services import dispatch, wages
from core.services.accounts import AccountView
from core.services.region_scope import home_region
from core.services.regions import get_region

SHOWN = 10


class ArrearsCb(CallbackData, prefix="aa"):
    """The list: county `c` ("" = the whole region), status `s` ("open" / "resolved")."""

    c: str = ""
    s: str = "open"


def _t(key: str, /, **params: object) -> str:
    return tr(key, **params)


async def _page(
    uow: UnitOfWork, account: AccountView, county: str, status: str
) -> tuple[str, InlineKeyboardMarkup]:
    actor = account.actor()
    region = home_region(actor)
    alerts = await wages.list_arrears(
        uow, actor, region, county_code=county or None, status=status, limit=50
    )
    place = await get_region(uow, county or region)
    name = place.name_zh if account.locale.startswith("zh") else place.name_en
    lines = [
        tr(
            "arrears.title",
            status=_(f"arrears.status.{AlertStatus(status).value}"),
            region=name,
            count=len(alerts),
        )
    ]
    if not alerts:
        lines.append(_("arrears.none"))
    lines += [arrears_text(a, _t) for a in alerts[:SHOWN]]
    counties = sorted({a.county_code for a in alerts})
    other = "resolved" if status == "open" else "open"
    rows = [
        [
            InlineKeyboardButton(
                text=_(f"arrears.status.{other}"),
                callback_data=ArrearsCb(c=county, s=other).pack(),
            )
        ]
    ]
    county_buttons = []
    for code in counties[:6]:
        region_view = await get_region(uow, code)
        label = region_view.name_zh if account.locale.startswith("zh") else region_view.name_en
        county_buttons.append(
            InlineKeyboardButton(text=label, callback_data=ArrearsCb(c=code, s=status).pack())
        )
    if county_buttons:
        rows.append(county_buttons[:3])
        if len(county_buttons) > 3:
            rows.append(county_buttons[3:])
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def arrears_command(
    message: Message, command: CommandObject, uow: UnitOfWork, account: AccountView
) -> None:
    args = (command.args or "").split()
    county = next((a for a in args if a.isdigit()), "")
    status = "resolved" if "resolved" in args else "open"
    text, markup = await _page(uow, account, county, status)
    await message.answer(text, reply_markup=markup)


async def arrears_menu(message: Message, uow: UnitOfWork, account: AccountView) -> None:
    """The 📉 欠薪预警 menu button: the region's open alerts, as /arrears without arguments."""
    text, markup = await _page(uow, account, "", "open")
    await message.answer(text, reply_markup=markup)


async def arrears_tapped(
    query: CallbackQuery, callback_data: ArrearsCb, uow: UnitOfWork, account: AccountView
) -> None:
    text, markup = await _page(uow, account, callback_data.c, callback_data.s)
    await query.answer()
    await edit_or_send(query, text, markup)


async def onsite_command(message: Message, uow: UnitOfWork, account: AccountView) -> None:
    actor = account.actor()
    region = home_region(actor)
    rows = await dispatch.on_site_by_project(uow, actor, region)
    place = await get_region(uow, region)
    name = place.name_zh if account.locale.startswith("zh") else place.name_en
    lines = [tr("onsite.title", region=name)]
    if not rows:
        lines.append(_("onsite.none"))
    for row in rows:
        lines.append(
            tr(
                "onsite.line",
                project=row.project_name,
                on_site=row.on_site,
                entered=row.entered_today,
                left=row.left_today,
            )
        )
    await message.answer("\n".join(lines))
