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

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, StartMode, Window
from aiogram_dialog.widgets.kbd import Button, Group, Row
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import (
    PASSTHROUGH,
    PagedList,
    Passthrough,
    Tr,
    buttons_only,
    cancel_button,
    headcount_keyboard,
    pop_error,
    price_items,
    price_keyboard,
    show_error,
    toast,
    typed,
)
from bot.filters import HasRole
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import MY_POSTINGS, MenuText
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
from core.domain.values import MAX_HEADCOUNT, parse_price
from core.services import postings, rings
from core.services.accounts import AccountView
from core.services.guide_prices import current_guide_price, is_far_from_guide
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


def _account(manager: DialogManager) -> AccountView:
    account: AccountView = manager.middleware_data["account"]
    return account


def _uow(manager: DialogManager) -> UnitOfWork:
    uow: UnitOfWork = manager.middleware_data["uow"]
    return uow


def _kind(manager: DialogManager) -> PostingKind:
    return "idle" if manager.dialog_data.get("kind") == "idle" else "shortage"


# --- the list ----------------------------------------------------------------------------


async def _load(
    manager: DialogManager, cursor: str | None, direction: Direction, size: int
) -> Page[PostingCard]:
    return await list_my_postings(
        _uow(manager),
        _account(manager).actor(),
        kind=_kind(manager),
        live=bool(manager.dialog_data.get("live", True)),
        cursor=cursor,
        direction=direction,
        limit=size,
    )


async def _count(manager: DialogManager) -> int:
    live = bool(manager.dialog_data.get("live", True))
    actor = _account(manager).actor()
    return await count_my_postings(_uow(manager), actor, kind=_kind(manager), live=live)


def _label(_n: int, card: PostingCard) -> str:
    trade = card.trade_name_zh if zh() else card.trade_name_en
    return _("mp.button").format(id=card.id, trade=trade, headcount=card.headcount)


async def _open_card(callback: CallbackQuery, manager: DialogManager, posting_id: int) -> None:
    manager.dialog_data["id"] = posting_id
    await manager.switch_to(M.card)


POSTINGS = PagedList("mp", load=_load, count=_count, label=_label, on_pick=_open_card)


async def list_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, data = _uow(dialog_manager), dialog_manager.dialog_data
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
        "both_kinds": _account(dialog_manager).role is Role.DISPATCHER,
        "post": [[start_button()]] if kind == "shortage" else [],
        **POSTINGS.data(dialog_manager, page),
    }


async def toggle_live(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["live"] = not manager.dialog_data.get("live", True)
    POSTINGS.reset(manager)


async def toggle_kind(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    if _account(manager).role is not Role.DISPATCHER:  # only dispatchers see the button
        await toast(callback, _("common.stale"))
        return
    manager.dialog_data["kind"] = "shortage" if _kind(manager) == "idle" else "idle"
    POSTINGS.reset(manager)


async def back_to_list(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    POSTINGS.recount(manager)  # something may have closed
    await manager.switch_to(M.list)


# --- the card ----------------------------------------------------------------------------


async def _view(manager: DialogManager) -> View:
    """The posting as its own side sees it; the service checks the rights."""
    uow, actor = _uow(manager), _account(manager).actor()
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
    uow, kind = _uow(dialog_manager), _kind(dialog_manager)
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
        "error": pop_error(dialog_manager),
        "card": Safe("\n".join(lines)),
        "live": live,
        "shortage": kind == "shortage",
        "can_escalate": live and view.ring != Ring.ESCALATED,
        "can_open": live and view.ring == Ring.INTERNAL,
    }


async def _refused(callback: CallbackQuery | None, manager: DialogManager, exc: Conflict) -> None:
    """A stale card or a closed posting: say why, then the fresh card."""
    await _uow(manager).rollback()
    if callback is not None:
        await toast(callback, alert_text(error_text(exc)), alert=True)
    else:
        show_error(manager, error_text(exc))
    await manager.switch_to(M.card)


async def _current(callback: CallbackQuery | None, manager: DialogManager) -> View | None:
    """The posting if the card is current and the posting still live, else the fresh card."""
    view = await _view(manager)
    if view.version != manager.dialog_data.get("v"):
        await _refused(callback, manager, Conflict("error.stale"))
        return None
    if not PostingStatus(view.status).is_live:
        await _refused(callback, manager, Conflict("error.posting_closed"))
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
    view = await _current(callback, manager)
    if view is None:
        return
    if act == "esc" and view.ring == Ring.ESCALATED:
        await _refused(callback, manager, Conflict("error.already_escalated"))
        return
    manager.dialog_data["act"] = act
    await manager.switch_to(M.confirm)


async def confirm_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    act, posting_id = str(data.get("act")), int(data["id"])
    question, yes = CONFIRMS.get(act, CONFIRMS["cancel"])
    if act == "esc":
        actor = _account(dialog_manager).actor()
        people = await postings.escalation_recipients(
            _uow(dialog_manager), actor, _kind(dialog_manager), posting_id
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
    data, uow, actor = manager.dialog_data, _uow(manager), _account(manager).actor()
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
        await _refused(callback, manager, exc)
        return
    await toast(callback, done)
    await manager.switch_to(M.card)


async def open_market(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    """🌐 公开到市场: the internal posting opens to the market at the version the card showed
    (a stale card or an already public posting shows the fresh card)."""
    data = manager.dialog_data
    try:
        await rings.open_to_market(
            _uow(manager),
            _account(manager).actor(),
            _kind(manager),
            int(data["id"]),
            expected_version=int(data.get("v") or 0),
        )
    except Conflict as exc:
        await _refused(callback, manager, exc)
        return
    await toast(callback, _("rings.opened_ok"))
    await manager.switch_to(M.card)


async def show_matches(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    if await _current(callback, manager) is not None:
        await manager.switch_to(M.matches)


async def matches_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, kind = _uow(dialog_manager), _kind(dialog_manager)
    posting_id = int(dialog_manager.dialog_data["id"])
    actor = _account(dialog_manager).actor()
    matches = await match_posting(uow, actor, kind, posting_id, limit=MATCHES_SHOWN)
    grades = await postings.list_grades(uow)
    title = N_("mp.matches_shortage") if kind == "shortage" else N_("mp.matches_idle")
    lines = [tr(title, id=posting_id)]
    lines += match_lines(matches, grades) if matches else [_("mp.no_matches")]
    side = {"shortage_id": posting_id} if kind == "shortage" else {"idle_id": posting_id}
    return {"matches": Safe("\n".join(lines)), "propose": propose_buttons(matches, **side)}


# --- change headcount / price ------------------------------------------------------------


async def ask_change(callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    if await _current(callback, manager) is None:
        return
    manager.dialog_data.update(typing=False, pending=None)
    await manager.switch_to(M.headcount if button.widget_id == "hc" else M.price)


async def start_typing(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["typing"] = True


async def edit_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    view = await _view(dialog_manager)
    trade, grade, guide, city = await _names(_uow(dialog_manager), view)
    pending = dialog_manager.dialog_data.get("pending")
    far = ""
    if pending:
        far = tr(
            "shortage.price_far",
            price=money(Decimal(pending)),
            warning=Safe(deviation_line(Decimal(pending), guide)),
        )
    return {
        "error": pop_error(dialog_manager),
        "typing": bool(dialog_manager.dialog_data.get("typing")),
        "id": view.id,
        "headcount": view.headcount,
        "filled": view.filled_count,
        "max": MAX_HEADCOUNT,
        "price": money(view.price),
        "guide": Safe(guide_line(guide, city, trade, grade)),
        "far": Safe(far),
        **price_items(guide),
    }


async def _save(callback: CallbackQuery | None, manager: DialogManager, **change: Any) -> None:
    """Change the posting at the version the card showed: a wrong value is said above the
    same question, a conflict shows the fresh card."""
    data = manager.dialog_data
    try:
        await postings.edit_posting(
            _uow(manager),
            _account(manager).actor(),
            _kind(manager),
            int(data["id"]),
            expected_version=int(data.get("v") or 0),
            **change,
        )
    except ValidationError as exc:
        await _uow(manager).rollback()
        if callback is not None:
            await toast(callback, alert_text(error_text(exc)), alert=True)
        else:
            show_error(manager, error_text(exc))
        return
    except Conflict as exc:
        await _refused(callback, manager, exc)
        return
    if callback is not None:
        await toast(callback, _("mp.saved"))
    else:
        show_error(manager, _("mp.saved"))  # above the fresh card
    await manager.switch_to(M.card)


async def headcount_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, count: int
) -> None:
    await _save(callback, manager, headcount=count)


async def headcount_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["typing"] = True
    await _save(None, manager, headcount=message.text or "")


async def _take_price(callback: CallbackQuery | None, manager: DialogManager, raw: str) -> None:
    try:
        price = parse_price(raw)
    except ValidationError as exc:
        show_error(manager, error_text(exc))
        manager.dialog_data.update(typing=True, pending=None)
        await manager.switch_to(M.price)
        return
    view = await _view(manager)
    _trade, _grade, guide, _city = await _names(_uow(manager), view)
    if is_far_from_guide(price, guide):
        manager.dialog_data["pending"] = str(price)
        await manager.switch_to(M.price_confirm)
        return
    await _save(callback, manager, price=str(price))


async def price_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str
) -> None:
    await _take_price(callback, manager, value)


async def price_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    await _take_price(None, manager, message.text or "")


async def price_kept(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    pending = manager.dialog_data.get("pending")
    if not isinstance(pending, str):
        await toast(callback, _("common.stale"))
        return
    await _save(callback, manager, price=pending)


async def price_reenter(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    manager.dialog_data["pending"] = None
    await manager.switch_to(M.price)


async def to_card(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    await manager.switch_to(M.card)


# --- windows -----------------------------------------------------------------------------

TYPING = F["typing"]
CHOOSING = ~F["typing"]
ERROR = Format("{error}", when="error")


def _back_to_card() -> Row:
    return Row(Button(Tr("mp.back_card"), id="to_card", on_click=to_card), cancel_button())


def _dialog() -> Dialog:
    need_number = N_("shortage.need_number")
    return Dialog(
        Window(
            Format("{lines}"),
            POSTINGS.keyboard(),
            Row(
                Button(Tr("mp.show_closed"), id="closed", on_click=toggle_live, when="live"),
                Button(Tr("mp.show_live"), id="open", on_click=toggle_live, when=~F["live"]),
                Button(Format("{other_kind}"), id="kind", on_click=toggle_kind,
                       when="both_kinds"),
            ),
            Passthrough("post"),
            Row(cancel_button()),
            buttons_only(),
            getter=list_getter,
            state=M.list,
            markup_factory=PASSTHROUGH,
        ),
        Window(
            ERROR,
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
            Row(Button(Tr("mp.back_list"), id="to_list", on_click=back_to_list), cancel_button()),
            buttons_only(),
            getter=card_getter,
            state=M.card,
        ),
        Window(
            Format("{question}"),
            Row(
                Button(Format("{yes}"), id="yes", on_click=confirmed),
                Button(Tr("mp.back_card"), id="to_card", on_click=to_card),
            ),
            Row(cancel_button()),
            buttons_only(),
            getter=confirm_getter,
            state=M.confirm,
        ),
        Window(
            Format("{matches}"),
            Passthrough("propose"),
            _back_to_card(),
            buttons_only(),
            getter=matches_getter,
            state=M.matches,
            markup_factory=PASSTHROUGH,
        ),
        Window(
            ERROR,
            Tr("mp.ask_headcount"),
            Group(headcount_keyboard(headcount_chosen, start_typing), when=CHOOSING),
            _back_to_card(),
            *typed(headcount_typed, need_number),
            getter=edit_getter,
            state=M.headcount,
        ),
        Window(
            ERROR,
            Tr("mp.ask_price"),
            Group(price_keyboard(price_chosen, start_typing), when=CHOOSING),
            _back_to_card(),
            *typed(price_typed, need_number),
            getter=edit_getter,
            state=M.price,
        ),
        Window(
            Format("{far}"),
            Row(
                Button(Tr("shortage.keep_price"), id="keep", on_click=price_kept),
                Button(Tr("shortage.reenter"), id="reenter", on_click=price_reenter),
            ),
            _back_to_card(),
            *typed(price_typed, need_number),
            getter=edit_getter,
            state=M.price_confirm,
        ),
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


def entry_router() -> Router:
    """📋 from the menu: before every dialog, so it works from inside any of them."""
    router = Router(name=f"{__name__}.entry")
    router.message.register(start, MenuText(MY_POSTINGS), HasRole(Role.FOREMAN, Role.DISPATCHER))
    return router


def create_router() -> Router:
    router = Router(name=__name__)
    router.include_router(_dialog())
    return router
