"""📋 My postings: the actor's shortages (a foreman's projects', a dispatcher's company's) and,
for a dispatcher, the company's idle postings: a paged list (live or closed), a card per
posting and its actions: change headcount or price, close as filled, cancel, escalate to the
bureau, matches (each with its 🤝, answered by the deals feature).

The card remembers the version it showed; every change is made at that version, so a change
someone made meanwhile is refused ("error.stale") and the fresh card shown. Rights are the
services' to check: a forged id of another company's posting ends in the error handler and
changes nothing (a failed handler leaves the dialog as it was)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from aiogram import F
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, StartMode
from aiogram_dialog.widgets.kbd import Button, Group, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import (
    PASSTHROUGH,
    PagedList,
    Passthrough,
    PriceStep,
    Tr,
    account_of,
    back_to,
    headcount_window,
    show_error,
    step,
    step_getter,
    toast,
    uow_of,
    with_cancel,
)
from bot.i18n import N_, Safe, tr
from bot.keyboards.shortage import propose_buttons, start_button
from bot.render.errors import alert_text, error_text
from bot.render.postings import (
    deviation_line,
    grade_name,
    guide_line,
    locale,
    match_lines,
    money,
    ring_text,
    status_text,
    trade_name,
    zh,
)
from core.db.uow import UnitOfWork
from core.domain.enums import PostingStatus, Ring, Role
from core.domain.errors import Conflict, ValidationError
from core.domain.timeutil import local_date
from core.domain.values import MAX_HEADCOUNT
from core.services import postings, rings
from core.services.guide_prices import current_guide_price
from core.services.matching import match_posting
from core.services.paging import Direction, Page
from core.services.postings import IdlePostingView, ShortageView
from core.services.regions import get_region
from core.services.search import (
    PostingCard,
    PostingKind,
    count_my_postings,
    list_my_postings,
    load_cards,
)

MATCHES_SHOWN = 5
View = ShortageView | IdlePostingView


class MyPostings(StatesGroup):
    list = State()
    card = State()
    confirm = State()  # close as filled / cancel / escalate: yes or back
    matches = State()
    headcount = State()
    price = State()
    price_confirm = State()  # far from the guide price: keep it or type another


M = MyPostings


def _kind(manager: DialogManager) -> PostingKind:
    return "idle" if manager.dialog_data.get("kind") == "idle" else "shortage"


# --- the list ----------------------------------------------------------------------------


async def _load(
    manager: DialogManager, cursor: str | None, direction: Direction, size: int
) -> Page[PostingCard]:
    return await list_my_postings(
        uow_of(manager),
        account_of(manager).actor(),
        kind=_kind(manager),
        live=bool(manager.dialog_data.get("live", True)),
        cursor=cursor,
        direction=direction,
        limit=size,
    )


async def _count(manager: DialogManager) -> int:
    live = bool(manager.dialog_data.get("live", True))
    actor = account_of(manager).actor()
    return await count_my_postings(uow_of(manager), actor, kind=_kind(manager), live=live)


def _label(_n: int, card: PostingCard) -> str:
    trade = card.trade_name_zh if zh() else card.trade_name_en
    return _("mp.button").format(id=card.id, trade=trade, headcount=card.headcount)


async def _open_card(callback: CallbackQuery, manager: DialogManager, posting_id: int) -> None:
    manager.dialog_data["id"] = posting_id
    await manager.switch_to(M.card)


POSTINGS = PagedList("mp", load=_load, count=_count, label=_label, on_pick=_open_card)


async def list_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, data = uow_of(dialog_manager), dialog_manager.dialog_data
    kind, live = _kind(dialog_manager), bool(data.get("live", True))
    page = await POSTINGS.page(dialog_manager)
    grades = await postings.list_grades(uow)
    lines = [
        tr(
            "mp.title",
            kind=_("mp.tab_shortage") if kind == "shortage" else _("mp.tab_idle"),
            which=_("mp.live") if live else _("mp.closed"),
        )
    ]
    for card in page.items:
        params: dict[str, Any] = dict(
            id=card.id,
            trade=card.trade_name_zh if zh() else card.trade_name_en,
            grade=grade_name(grades, card.grade_level),
            filled=card.filled_count,
            headcount=card.headcount,
            price=money(card.price),
            status=status_text(card.status) + (" 📢" if card.ring == Ring.ESCALATED else ""),
        )
        if kind == "shortage":
            lines.append(tr("mp.line_shortage", project=card.project_name or "", **params))
        else:
            county = card.county_name_zh if zh() else card.county_name_en
            lines.append(tr("mp.line_idle", county=county, **params))
    if not page.items:
        lines.append(_("mp.empty"))
    return {
        "lines": Safe("\n".join(lines)),
        "live": live,
        "other_kind": _("mp.tab_idle") if kind == "shortage" else _("mp.tab_shortage"),
        "both_kinds": account_of(dialog_manager).role is Role.DISPATCHER,
        "post": [[start_button()]] if kind == "shortage" else [],
        **POSTINGS.data(dialog_manager, page),
    }


async def toggle_live(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["live"] = not manager.dialog_data.get("live", True)
    POSTINGS.reset(manager)


async def toggle_kind(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    if account_of(manager).role is not Role.DISPATCHER:  # only dispatchers see the button
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["kind"] = "shortage" if _kind(manager) == "idle" else "idle"
    POSTINGS.reset(manager)


async def recount(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    POSTINGS.recount(manager)  # something may have closed


# --- the card ----------------------------------------------------------------------------


async def _view(manager: DialogManager) -> View:
    """The posting as its own side sees it; the service checks the rights."""
    uow, actor = uow_of(manager), account_of(manager).actor()
    posting_id = int(manager.dialog_data["id"])
    if _kind(manager) == "shortage":
        return await postings.get_shortage(uow, actor, posting_id)
    return await postings.get_idle(uow, actor, posting_id)


def _grade_of(view: View) -> int:
    return view.min_grade if isinstance(view, ShortageView) else view.grade_level


async def _names(uow: UnitOfWork, view: View) -> tuple[str, str, Decimal | None, str]:
    """Trade, grade, the city's guide price and the city's name."""
    trade = trade_name(await postings.list_trades(uow), view.trade_code)
    grade = grade_name(await postings.list_grades(uow), _grade_of(view))
    guide = await current_guide_price(uow, view.city_code, view.trade_code, _grade_of(view))
    city = await get_region(uow, view.city_code)
    return trade, grade, guide, city.name(locale())


async def card_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, kind = uow_of(dialog_manager), _kind(dialog_manager)
    view = await _view(dialog_manager)
    dialog_manager.dialog_data["v"] = view.version  # every change is made at this version
    card = (await load_cards(uow, kind, [view.id]))[view.id]
    trade, grade, guide, city = await _names(uow, view)
    live = PostingStatus(view.status).is_live
    title = N_("mp.card_shortage") if kind == "shortage" else N_("mp.card_idle")
    lines = [tr(title, id=view.id, status=status_text(view.status))]
    if isinstance(view, ShortageView):
        lines.append(tr("mp.card_project", project=view.project_name))
    county = card.county_name_zh if zh() else card.county_name_en
    lines += [
        tr("mp.card_place", county=county, city=city),
        tr("mp.card_trade", trade=trade, grade=grade),
        tr("mp.card_count", headcount=view.headcount, filled=view.filled_count,
           open=view.open_headcount),
        tr("mp.card_price", price=money(view.price)),
        guide_line(guide, city, trade, grade),
    ]  # fmt: skip
    if live and (warning := deviation_line(view.price, guide)):
        lines.append(warning)
    lines += [
        tr("mp.card_contact", name=view.contact_name, phone=view.contact_phone_masked),
        tr("mp.card_ring", ring=ring_text(view.ring)),
        tr("mp.card_expires", date=local_date(view.expires_at).isoformat()),
    ]
    return {
        "card": Safe("\n".join(lines)),
        "live": live,
        "shortage": kind == "shortage",
        "can_escalate": live and view.ring != Ring.ESCALATED,
        "can_open": live and view.ring == Ring.INTERNAL,
    }


async def _tell(manager: DialogManager, text: str, *, alert: bool = False) -> None:
    """A tap is answered with a toast (an alert for a refusal); typed text gets it above the
    screen that follows."""
    event = manager.event
    if isinstance(event, CallbackQuery):
        await toast(event, alert_text(text) if alert else text, alert=alert)
    else:
        show_error(manager, text)


async def _refused(manager: DialogManager, exc: Conflict) -> None:
    """A stale card or a closed posting: say why, then the fresh card."""
    await uow_of(manager).rollback()
    await _tell(manager, error_text(exc), alert=True)
    await manager.switch_to(M.card)


async def _current(manager: DialogManager) -> View | None:
    """The posting if the card is current and the posting still live, else the fresh card."""
    view = await _view(manager)
    if view.version != manager.dialog_data.get("v"):
        await _refused(manager, Conflict("error.stale"))
        return None
    if not PostingStatus(view.status).is_live:
        await _refused(manager, Conflict("error.posting_closed"))
        return None
    return view


CONFIRMS = {
    "fill": (N_("mp.confirm_filled"), N_("mp.yes_filled")),
    "cancel": (N_("mp.confirm_cancel"), N_("mp.yes_cancel")),
    "esc": ("", N_("mp.yes_escalate")),
}


async def ask_confirm(callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    act = str(button.widget_id)
    if act == "fill" and _kind(manager) != "shortage":
        await toast(callback, _("common.stale"))  # idle workers are withdrawn, not filled
        return
    view = await _current(manager)
    if view is None:
        return
    if act == "esc" and view.ring == Ring.ESCALATED:
        await _refused(manager, Conflict("error.already_escalated"))
        return
    manager.dialog_data["act"] = act
    await manager.switch_to(M.confirm)


async def confirm_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    act, posting_id = str(data.get("act")), int(data["id"])
    question, yes = CONFIRMS.get(act, CONFIRMS["cancel"])
    if act == "esc":
        actor = account_of(dialog_manager).actor()
        people = await postings.escalation_recipients(
            uow_of(dialog_manager), actor, _kind(dialog_manager), posting_id
        )
        names = [
            tr("mp.regulator_line", region=p.region_name_zh if zh() else p.region_name_en,
               name=p.display_name)
            for p in people
        ]  # fmt: skip
        key = N_("mp.escalate_preview") if people else N_("mp.escalate_nobody")
        text = "\n".join((tr(key, id=posting_id), *names))
    else:
        text = tr(question, id=posting_id)
    return {"question": Safe(text), "yes": _(yes)}


async def confirmed(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    data, uow, actor = manager.dialog_data, uow_of(manager), account_of(manager).actor()
    act, shortage = data.get("act"), _kind(manager) == "shortage"
    pid, version = int(data["id"]), int(data.get("v") or 0)
    try:
        if act == "fill" and shortage:
            await postings.close_shortage_filled(uow, actor, pid, expected_version=version)
            done = _("mp.closed_ok")
        elif act == "cancel":
            cancel = postings.cancel_shortage if shortage else postings.withdraw_idle
            await cancel(uow, actor, pid, expected_version=version)
            done = _("mp.cancelled_ok")
        elif act == "esc":
            escalate = postings.escalate_shortage if shortage else postings.escalate_idle
            await escalate(uow, actor, pid, expected_version=version)
            done = _("mp.escalated_ok")
        else:
            await toast(callback, _("common.stale"))
            return
    except Conflict as exc:
        await _refused(manager, exc)
        return
    await toast(callback, done)
    await manager.switch_to(M.card)


async def open_market(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    """🌐 公开到市场: the internal posting opens to the market at the version the card showed
    (a stale card or an already public posting shows the fresh card)."""
    data = manager.dialog_data
    try:
        await rings.open_to_market(
            uow_of(manager),
            account_of(manager).actor(),
            _kind(manager),
            int(data["id"]),
            expected_version=int(data.get("v") or 0),
        )
    except Conflict as exc:
        await _refused(manager, exc)
        return
    await toast(callback, _("rings.opened_ok"))
    await manager.switch_to(M.card)


async def show_matches(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    if await _current(manager) is not None:
        await manager.switch_to(M.matches)


async def matches_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, kind = uow_of(dialog_manager), _kind(dialog_manager)
    posting_id = int(dialog_manager.dialog_data["id"])
    actor = account_of(dialog_manager).actor()
    matches = await match_posting(uow, actor, kind, posting_id, limit=MATCHES_SHOWN)
    grades = await postings.list_grades(uow)
    title = N_("mp.matches_shortage") if kind == "shortage" else N_("mp.matches_idle")
    lines = [tr(title, id=posting_id)]
    lines += match_lines(matches, grades) if matches else [_("mp.no_matches")]
    side = {"shortage_id": posting_id} if kind == "shortage" else {"idle_id": posting_id}
    return {"matches": Safe("\n".join(lines)), "propose": propose_buttons(matches, **side)}


# --- change headcount / price ------------------------------------------------------------


async def ask_change(_callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    if await _current(manager) is None:
        return
    manager.dialog_data["typing"] = False
    await manager.switch_to(M.headcount if button.widget_id == "hc" else M.price)


async def _change_context(manager: DialogManager) -> tuple[dict[str, Any], Decimal | None, str]:
    """The change prompts' fields, the city's guide price and the city's name."""
    view = await _view(manager)
    trade, grade, guide, city = await _names(uow_of(manager), view)
    fields: dict[str, Any] = {"id": view.id, "headcount": view.headcount}
    fields |= {"filled": view.filled_count, "max": MAX_HEADCOUNT, "price": money(view.price)}
    fields |= {"trade": trade, "grade": grade}
    return fields, guide, city


async def headcount_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    fields, _guide, _city = await _change_context(dialog_manager)
    return fields


async def _save(manager: DialogManager, **change: Any) -> None:
    """Change the posting at the version the card showed: a wrong value is said above the
    same question, a conflict shows the fresh card."""
    data = manager.dialog_data
    try:
        await postings.edit_posting(
            uow_of(manager),
            account_of(manager).actor(),
            _kind(manager),
            int(data["id"]),
            expected_version=int(data.get("v") or 0),
            **change,
        )
    except ValidationError as exc:
        await uow_of(manager).rollback()
        await _tell(manager, error_text(exc), alert=True)
        return
    except Conflict as exc:
        await _refused(manager, exc)
        return
    await _tell(manager, _("mp.saved"))  # a toast, or above the fresh card
    await manager.switch_to(M.card)


async def headcount_saved(manager: DialogManager, count: int) -> None:
    await _save(manager, headcount=count)


async def price_saved(manager: DialogManager, price: str) -> None:
    await _save(manager, price=price)


PRICE = PriceStep(
    M.price,
    M.price_confirm,
    _change_context,
    price_saved,
    texts=(N_("mp.ask_price"), N_("mp.ask_price")),
)


# --- windows -----------------------------------------------------------------------------


def dialog() -> Dialog:
    to_card = back_to(N_("mp.back_card"), M.card, "to_card")
    return Dialog(
        step(
            M.list,
            list_getter,
            Format("{lines}"),
            POSTINGS.keyboard(),
            Row(
                Button(Tr("mp.show_closed"), id="closed", on_click=toggle_live, when="live"),
                Button(Tr("mp.show_live"), id="open", on_click=toggle_live, when=~F["live"]),
                Button(Format("{other_kind}"), id="kind", on_click=toggle_kind,
                       when="both_kinds"),
            ),
            Passthrough("post"),
            with_cancel(),
            markup_factory=PASSTHROUGH,
        ),
        step(
            M.card,
            card_getter,
            Format("{card}"),
            Group(
                Row(
                    Button(Tr("mp.change_headcount"), id="hc", on_click=ask_change),
                    Button(Tr("mp.change_price"), id="pr", on_click=ask_change),
                ),
                Row(
                    Button(Tr("mp.close_filled"), id="fill", on_click=ask_confirm,
                           when="shortage"),
                    Button(Tr("mp.cancel_posting"), id="cancel", on_click=ask_confirm),
                ),
                Row(
                    Button(Tr("mp.matches"), id="match", on_click=show_matches),
                    Button(Tr("mp.escalate"), id="esc", on_click=ask_confirm,
                           when="can_escalate"),
                ),
                Row(Button(Tr("rings.open_market"), id="open", on_click=open_market,
                           when="can_open")),
                when="live",
            ),
            back_to(N_("mp.back_list"), M.list, "to_list", on_click=recount),
        ),
        step(
            M.confirm,
            confirm_getter,
            Format("{question}"),
            Row(
                Button(Format("{yes}"), id="yes", on_click=confirmed),
                SwitchTo(Tr("mp.back_card"), id="to_card", state=M.card),
            ),
            with_cancel(),
        ),
        step(
            M.matches,
            matches_getter,
            Format("{matches}"),
            Passthrough("propose"),
            to_card,
            markup_factory=PASSTHROUGH,
        ),
        headcount_window(
            M.headcount,
            headcount_saved,
            ask=N_("mp.ask_headcount"),
            type_=N_("mp.ask_headcount"),
            nav=to_card,
            getter=headcount_getter,
        ),
        *PRICE.windows(to_card, to_card),
        getter=step_getter,
        on_start=_on_start,
    )  # fmt: skip


# --- entry -------------------------------------------------------------------------------


async def start(message: Message, dialog_manager: DialogManager) -> None:
    await dialog_manager.start(
        M.list, mode=StartMode.RESET_STACK, data={"kind": "shortage", "live": True}
    )


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    if isinstance(start_data, dict):
        manager.dialog_data.update(cast(dict[str, Any], start_data))
