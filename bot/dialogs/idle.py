"""📤 Declare idle workers (赋闲工人提报), the company dispatcher's dialog: county (the company's
own first) → trade → grade → which workers (multi-select over pages) → asking monthly price
(with the city's guide price) → contact → summary with Edit / Confirm → posted, with its best
matches (the company's own projects first).

Opened from the menu, or from a proposal that found no fitting idle worker: then the trade is
set and the result leads back to that shortage. Nothing is written before Confirm; dialog data
holds codes and worker ids only (never ID numbers). Confirm ends the dialog; a second tap of
the same button is answered as stale (bot/dialogs/stale.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from aiogram import Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Format

from bot.callbacks import DeclareIdleCb
from bot.callbacks_deals import ProposeCb, ViewPostingCb
from bot.callbacks_dispatch import ReIdleCb
from bot.dialogs import ring_choice
from bot.dialogs.widgets import (
    ContactStep,
    PriceStep,
    RegionStep,
    StepOrder,
    Tr,
    account_of,
    cancel_button,
    declarable_picker,
    grade_keyboard,
    grade_label,
    grade_level,
    nav_row,
    set_idle_button,
    show_error,
    step,
    step_getter,
    toast,
    trade_keyboard,
    uow_of,
)
from bot.filters import HasRole
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import DECLARE_IDLE, MenuText
from bot.render.errors import alert_text, error_text
from bot.render.messages import edit_or_send
from bot.render.postings import grade_name, locale, trade_name
from core.domain.enums import Role
from core.domain.errors import DomainError
from core.domain.money import format_money
from core.services import dispatch, guide_prices, matching, postings, regions, workers
from core.services.postings import DeclareIdleCommand
from core.services.workers import GradeCount, TradeCount

MATCHES_SHOWN = 3
PICKED = "idle_workers"  # the picker's widget id: its data holds the ticked worker ids


class DeclareIdle(StatesGroup):
    county = State()
    trade = State()
    grade = State()
    workers = State()
    price = State()
    price_confirm = State()  # the price is far from the guide: keep it or type another
    contact = State()
    contact_phone = State()  # a typed phone for a typed name
    summary = State()


S = DeclareIdle
STEPS = StepOrder(
    S.county,
    S.trade,
    S.grade,
    S.workers,
    S.price,
    S.contact,
    S.summary,
    substeps={S.price_confirm: S.price, S.contact_phone: S.contact},
)


# --- reading what the dialog needs ---------------------------------------------------------


async def _trades(manager: DialogManager) -> list[TradeCount]:
    """The company's trades that have workers to declare."""
    counts = await workers.worker_trade_counts(uow_of(manager), account_of(manager).actor())
    return [t for t in counts if t.declarable > 0]


async def _grades(manager: DialogManager) -> list[GradeCount]:
    trade = str(manager.dialog_data.get("trade") or "")
    found = await workers.declarable_grade_counts(
        uow_of(manager), account_of(manager).actor(), trade
    )
    return [g for g in found if g.at_or_above > 0]


async def _names(manager: DialogManager) -> dict[str, Any]:
    uow, data = uow_of(manager), manager.dialog_data
    return {
        "trade": trade_name(await postings.list_trades(uow), str(data.get("trade") or "")),
        "grade": grade_name(await postings.list_grades(uow), int(data.get("grade") or 0)),
        "headcount": len(PICKER.checked(manager)),
    }


async def _price_context(manager: DialogManager) -> tuple[dict[str, Any], Decimal | None, str]:
    uow, data = uow_of(manager), manager.dialog_data
    city_code = regions.city_of(str(data["county"]))
    guide = await guide_prices.current_guide_price(
        uow, city_code, str(data["trade"]), int(data["grade"])
    )
    city = await regions.get_region(uow, city_code)
    return await _names(manager), guide, city.name(locale())


# --- the steps -----------------------------------------------------------------------------


async def county_saved(manager: DialogManager, code: str) -> None:
    manager.dialog_data["county"] = code
    if manager.dialog_data.get("trade"):  # opened for one trade: its grade is next
        await manager.switch_to(S.grade)
        return
    await STEPS.after(manager)


async def trade_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
) -> None:
    if not any(t.trade_code == code for t in await _trades(manager)):
        await toast(callback, _("common.stale"))
        return
    if manager.dialog_data.get("trade") != code:
        manager.dialog_data.update(trade=code, grade=None)
        await PICKER.set_checked(manager, [])
    await STEPS.after(manager)


async def grade_chosen(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, level: int
) -> None:
    found = await grade_level(manager, level)
    if found is None or not any(g.level == found for g in await _grades(manager)):
        await toast(callback, _("common.stale"))
        return
    if manager.dialog_data.get("grade") != found:
        # a stricter grade may rule out workers picked before: only those it admits stay
        manager.dialog_data["grade"] = found
        picked = PICKER.checked(manager)
        await PICKER.set_checked(
            manager, [w for w in picked if await PICKER.refusal(manager, w) is None]
        )
    await STEPS.after(manager)


async def workers_picked(manager: DialogManager, _ids: Sequence[int]) -> None:
    await STEPS.after(manager)  # the picker keeps the ticks


PICKER = declarable_picker(PICKED, workers_picked)


PRICE = PriceStep(S.price, S.price_confirm, _price_context, STEPS.saving("price"))
CONTACT = ContactStep(S.contact, S.contact_phone, STEPS.saving("name", "phone"))
REGION = RegionStep(S.county, county_saved, ask=N_("idle.ask_county"))


async def edit(_callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    steps = {"edit_workers": S.workers, "edit_price": S.price, "edit_contact": S.contact}
    await STEPS.edit(manager, steps[button.widget_id])


async def confirm(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    data, uow, account = manager.dialog_data, uow_of(manager), account_of(manager)
    picked = PICKER.checked(manager)
    command = DeclareIdleCommand(
        county_code=str(data["county"]),
        trade_code=str(data["trade"]),
        grade_level=int(data["grade"]),
        worker_ids=tuple(picked),
        price=Decimal(str(data["price"])),
        contact_name=str(data["name"]),
        contact_phone=str(data["phone"]),
        ring=ring_choice.chosen(manager, "ring"),
    )
    actor = account.actor()
    try:
        posting = await postings.declare_idle(uow, actor, command)
    except DomainError as exc:
        worker_id = exc.params.get("worker_id")
        if worker_id not in picked:
            raise  # the dialog stays on the summary: its context is saved only on success
        # one worker went (busy, dispatched, posted elsewhere): offer the rest again
        await uow.rollback()
        picked.remove(worker_id)
        await PICKER.set_checked(manager, picked)
        note = error_text(exc)
        await toast(callback, alert_text(note), alert=True)
        show_error(manager, note)
        if not picked:
            await manager.switch_to(S.workers)
        return
    matches = await matching.match_posting(uow, actor, "idle", posting.id, limit=MATCHES_SHOWN)
    text, markup = posted_message(posting.id, posting.headcount, matches, int(data["shortage"]))
    await toast(callback, _("idle.posted_short"))
    # the summary message becomes the result; the finished dialog leaves nothing to tap
    await edit_or_send(callback, text, markup)
    await manager.done(show_mode=ShowMode.NO_UPDATE)


# --- getters -------------------------------------------------------------------------------


async def base_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {
        **await step_getter(dialog_manager, **kwargs),
        "can_back": dialog_manager.current_context().state is not S.county,
    }


async def trade_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    loc = locale()
    trades = await _trades(dialog_manager)
    return {
        "trades": [(t.trade_code, f"{t.name(loc)} ({t.declarable})") for t in trades],
        "trade_toggle": "",
    }


async def grade_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    grades = await postings.list_grades(uow_of(dialog_manager))
    counts = {g.level: g.at_or_above for g in await _grades(dialog_manager)}
    return {
        **await _names(dialog_manager),
        "grades": [
            (g.level, f"{grade_label(g)} ({counts[g.level]})") for g in grades if g.level in counts
        ],
    }


async def workers_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    picker = await PICKER.getter(dialog_manager, **kwargs)
    return {**await _names(dialog_manager), **picker, "total": picker["pick_total"]}


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data, uow, account = (
        dialog_manager.dialog_data,
        uow_of(dialog_manager),
        account_of(dialog_manager),
    )
    loc = locale()
    county = await regions.get_region(uow, str(data["county"]))
    city = await regions.get_region(uow, regions.city_of(county.code))
    grades = await postings.list_grades(uow)
    chosen = await workers.get_workers(uow, account.actor(), PICKER.checked(dialog_manager))
    names = await _names(dialog_manager)
    price = Decimal(str(data["price"]))
    _fields, guide, _city = await _price_context(dialog_manager)
    sep, pattern = ("、", "{}（{}）") if loc.startswith("zh") else (", ", "{} ({})")
    crew = sep.join(pattern.format(w.name, grade_name(grades, w.grade_level)) for w in chosen)
    lines = [
        _("idle.summary_title"),
        tr("idle.summary_region", county=county.name(loc), city=city.name(loc)),
        tr("idle.summary_trade", trade=names["trade"], grade=names["grade"]),
        tr("idle.summary_workers", count=len(chosen), workers=crew),
        tr("idle.summary_price", price=format_money(price)),
    ]
    if guide is not None:
        pct = f"{guide_prices.price_deviation(price, guide):+}"
        key = "idle.summary_guide_far" if guide_prices.is_far_from_guide(price, guide) else None
        lines.append(tr(key or "idle.summary_guide", guide=format_money(guide), pct=pct))
    lines.append(tr("idle.summary_contact", name=data["name"], phone=data["phone"]))
    ring = ring_choice.ring_fields(dialog_manager, "ring")
    lines.append(ring["ring_line"])
    return {"summary": Safe("\n".join(lines)), **ring}


# --- windows -------------------------------------------------------------------------------


def _dialog() -> Dialog:
    back = nav_row(STEPS.back, back_when="can_back")
    return Dialog(
        REGION.window(back),
        step(S.trade, trade_getter, Tr("idle.ask_trade"), trade_keyboard(trade_chosen), back),
        step(S.grade, grade_getter, Tr("idle.ask_grade"), grade_keyboard(grade_chosen), back),
        step(
            S.workers,
            workers_getter,
            Tr("idle.pick_title"),
            Format("{pick_lines}"),
            PICKER.keyboard(),
            back,
        ),
        *PRICE.windows(back),
        *CONTACT.windows(back),
        step(
            S.summary,
            summary_getter,
            Format("{summary}"),
            Button(Tr("idle.confirm"), id="confirm", on_click=confirm),
            Row(
                Button(Tr("idle.edit_workers"), id="edit_workers", on_click=edit),
                Button(Tr("idle.edit_price"), id="edit_price", on_click=edit),
                Button(Tr("idle.edit_contact"), id="edit_contact", on_click=edit),
            ),
            Row(ring_choice.toggle_button("ring"), cancel_button()),
        ),
        getter=base_getter,
        on_start=_on_start,
    )


# --- entry points --------------------------------------------------------------------------


async def start(_message: Message, dialog_manager: DialogManager) -> None:
    await _open(dialog_manager, "", 0)


async def start_inline(
    query: CallbackQuery, callback_data: DeclareIdleCb, dialog_manager: DialogManager
) -> None:
    """📤 where a proposal found no fitting idle worker: for that trade, then back to it."""
    await query.answer()  # not a dialog's own button: nobody else answers it
    await _open(dialog_manager, callback_data.tr, callback_data.s)


async def start_released(
    query: CallbackQuery, callback_data: ReIdleCb, dialog_manager: DialogManager
) -> None:
    """📤 on a release notice: the workers released that day who may still be declared,
    ticked, their trade set (the notice stays; an old tap after they were declared or went
    busy says so)."""
    try:
        day = date.fromisoformat(callback_data.on)
        back = await dispatch.released_to_declare(
            uow_of(dialog_manager), account_of(dialog_manager).actor(), callback_data.d, day
        )
    except ValueError:
        await toast(query, _("common.stale"))
        return
    except DomainError as exc:
        await toast(query, alert_text(error_text(exc)), alert=True)
        return
    if not back.declarable:
        await toast(query, tr("reidle.none_left", id=back.deal_id), alert=True)
        return
    gone = back.released - len(back.declarable)
    note = tr("reidle.some_left", count=len(back.declarable), gone=gone) if gone > 0 else ""
    await toast(query, note)
    data = {
        "trade": back.trade_code,
        "grade": back.grade_level,
        "shortage": 0,
        "picked": list(back.declarable),
    }
    await dialog_manager.start(
        S.county, mode=StartMode.RESET_STACK, data=data, show_mode=ShowMode.SEND
    )


async def _open(manager: DialogManager, trade: str, shortage_id: int) -> None:
    trades = [t.trade_code for t in await _trades(manager)]
    if not trades:
        await manager.reset_stack(remove_keyboard=False)
        markup = InlineKeyboardMarkup(inline_keyboard=[[set_idle_button(trade)]])
        event = manager.event
        target = event.message if isinstance(event, CallbackQuery) else event
        if isinstance(target, Message):
            await target.answer(_("idle.nobody_idle"), reply_markup=markup)
        return
    data = {"trade": trade if trade in trades else None, "shortage": shortage_id}
    # from another screen's button: a new message, that screen stays readable
    await manager.start(S.county, mode=StartMode.RESET_STACK, data=data, show_mode=ShowMode.SEND)


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data.update(trade=None, grade=None, shortage=0)
    manager.dialog_data["ring"] = await ring_choice.company_ring(manager)
    if isinstance(start_data, dict):
        manager.dialog_data.update(start_data)
        # released workers to declare again: ticked already (the picker re-checks each)
        await PICKER.set_checked(manager, manager.dialog_data.pop("picked", None) or [])


def create_router() -> Router:
    """The dialog and the buttons that open it (dispatchers only)."""
    router = Router(name=__name__)
    allowed = HasRole(Role.DISPATCHER)
    router.message.register(start, MenuText(DECLARE_IDLE), allowed)
    router.callback_query.register(start_inline, DeclareIdleCb.filter(), allowed)
    router.callback_query.register(start_released, ReIdleCb.filter(), allowed)
    router.include_router(_dialog())
    return router


def posted_message(
    posting_id: int, headcount: int, matches: Sequence[matching.MatchView], shortage_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The posting and its best matches, each with 👁 view and 🤝 propose; opened from a
    shortage's proposal, a button back to proposing on that shortage comes first."""
    zh = locale().startswith("zh")
    lines = [tr("idle.posted", id=posting_id, count=headcount)]
    rows: list[list[InlineKeyboardButton]] = []
    if shortage_id:
        propose = ProposeCb(shortage_id=shortage_id, idle_id=posting_id).pack()
        text = _("idle.back_to_shortage").format(id=shortage_id)
        rows.append([InlineKeyboardButton(text=text, callback_data=propose)])
    if matches:
        lines.append(_("idle.matches_title"))
    else:
        lines.append(_("idle.no_matches"))
    for number, m in enumerate(matches, start=1):
        card = m.card
        lines.append(
            tr(
                "idle.match_line",
                n=number,
                internal=Safe(_("idle.internal_tag") if m.internal else ""),
                company=card.enterprise_name,
                project=card.project_name or "",
                county=card.county_name_zh if zh else card.county_name_en,
                trade=card.trade_name_zh if zh else card.trade_name_en,
                open=card.open_headcount,
                price=format_money(card.price),
                score=f"{m.score:.0f}",
            )
        )
        view = ViewPostingCb(kind="s", id=m.posting_id).pack()
        propose = ProposeCb(shortage_id=m.posting_id, idle_id=posting_id).pack()
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("idle.view_match").format(n=number), callback_data=view
                ),
                InlineKeyboardButton(
                    text=_("idle.propose_match").format(n=number), callback_data=propose
                ),
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
