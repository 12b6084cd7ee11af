"""🤝 A deal's terms, as one dialog in three modes.

- propose (🤝 on a card, a match or a posted idle declaration): which of my live shortages
  (when asking an idle posting) → headcount ("派几人" to the side that sends, "需要几人" to the
  one that needs) → which workers (the idle side) → monthly price → start → summary → send.
- counter (💬 on an offer): price (the offer on the table first) → summary, where headcount,
  workers (the idle side of a deal that names them) and start can change too.
- accept (✅ by the idle side of an ask that names nobody): who goes, one tap accepts.

Opened from a notification or a card, the dialog is a new message below it: the notification
stays readable and its buttons stay live. Nothing is written before Send; dialog data holds
ids, numbers and ISO dates only. Rules (who proposes for which side, which postings pair,
which workers a deal may name, the start-date window) are core's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode
from aiogram_dialog.widgets.kbd import Button, Row, SwitchTo
from aiogram_dialog.widgets.text import Format

from bot.callbacks import DeclareIdleCb
from bot.callbacks_deals import ProposeCb, ViewPostingCb
from bot.dialogs.widgets import (
    HEADCOUNT_BUTTONS,
    PASSTHROUGH,
    TYPING,
    PagedList,
    Passthrough,
    Tr,
    WorkerPicker,
    account_of,
    choice,
    read,
    set_idle_button,
    start_below,
    start_typing,
    step,
    step_getter,
    tap,
    toast,
    uow_of,
    with_cancel,
)
from bot.filters import HasRole
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import DECLARE_IDLE, inline_rows
from bot.keyboards.deals import deal_actions_keyboard, short
from bot.render.messages import edit_or_send
from bot.render.postings import locale
from bot.renderers.deals import deal_text, worker_line
from bot.renderers.match import grade_names, price_text, trade_name
from core.domain.enums import DealStatus, Role, Side
from core.domain.errors import Conflict
from core.domain.money import format_money
from core.domain.rules import check_start_date, parse_start_date
from core.domain.timeutil import local_date
from core.domain.values import parse_headcount, parse_price
from core.services import deals, guide_prices, postings
from core.services.deal_setup import eligible_workers, my_shortages, propose_side_of
from core.services.deals import DealView, ProposeDeal
from core.services.paging import Direction, Page
from core.services.search import PostingCard, get_posting_card
from core.services.workers import WorkerSlice, WorkerView

PICKED = "deal_workers"


class DealFlow(StatesGroup):
    shortage = State()  # which of my live shortages
    headcount = State()
    workers = State()  # the idle side's multi-select
    price = State()
    start = State()
    summary = State()


S = DealFlow


# --- what the dialog reads ---------------------------------------------------------------------


def _data(manager: DialogManager) -> dict[str, Any]:
    return manager.dialog_data


def _idle_side(manager: DialogManager) -> bool:
    return _data(manager).get("side") == Side.IDLE.value


def _picks_workers(manager: DialogManager) -> bool:
    data = _data(manager)
    return _idle_side(manager) and (data.get("mode") in ("propose", "accept") or data["named"])


async def _cards(manager: DialogManager) -> tuple[PostingCard, PostingCard | None]:
    uow, actor, data = uow_of(manager), account_of(manager).actor(), _data(manager)
    shortage = await get_posting_card(uow, actor, "shortage", int(data["s"]))
    idle = await get_posting_card(uow, actor, "idle", int(data["i"])) if data["i"] else None
    return shortage, idle


async def _pool(manager: DialogManager) -> list[WorkerView]:
    shortage, _idle = await _cards(manager)
    return await eligible_workers(
        uow_of(manager),
        account_of(manager).actor(),
        shortage.trade_code,
        shortage.grade_level,
        int(_data(manager)["i"]),
    )


def _today(manager: DialogManager) -> date:
    return local_date(uow_of(manager).now())


# --- the steps -----------------------------------------------------------------------------------


async def _after_terms_step(manager: DialogManager) -> None:
    """Counter and edits go back to the summary; a proposal goes on in order."""
    data = _data(manager)
    data["typing"] = False
    state = manager.current_context().state
    if data.get("editing") or data["mode"] == "counter":
        await manager.switch_to(S.summary)
    elif state is S.headcount:
        await manager.switch_to(S.workers if _picks_workers(manager) else S.price)
    elif state is S.workers:
        await manager.switch_to(S.price)
    elif state is S.price:
        await manager.switch_to(S.start)
    else:
        await manager.switch_to(S.summary)


async def shortage_picked(
    callback: CallbackQuery, _widget: Any, manager: DialogManager, shortage_id: int
) -> None:
    uow, actor = uow_of(manager), account_of(manager).actor()
    idle = await get_posting_card(uow, actor, "idle", int(_data(manager)["i"]))
    if not any(c.id == shortage_id for c in await my_shortages(uow, actor, idle)):
        await toast(callback, _("common.stale"))
        return
    _data(manager)["s"] = shortage_id
    shortage, _idle = await _cards(manager)
    _data(manager)["open"] = min(shortage.open_headcount, idle.open_headcount)
    await manager.switch_to(S.headcount)


async def headcount_saved(manager: DialogManager, count: int) -> None:
    data = _data(manager)
    if _picks_workers(manager):
        picked = PICKER.checked(manager)
        if data.get("hc") != count:
            picked = picked[:count]
        pool = await _pool(manager)
        if not picked and len(pool) == count:
            picked = [w.id for w in pool]  # exactly the needed number: nothing to tick
        await PICKER.set_checked(manager, picked)
        data["hc"] = count
        if len(picked) != count or data.get("editing"):  # from the summary: who, too
            await manager.switch_to(S.workers)
            return
    data["hc"] = count
    await _after_terms_step(manager)


def _headcount(raw: Any, manager: DialogManager) -> int:
    return parse_headcount(raw, maximum=max(int(_data(manager)["open"]), 1))


class DealPicker(WorkerPicker):
    """Exactly the deal's headcount: ☑️ fills up to it, a tick beyond it is refused."""

    async def all_or_none(
        self, _callback: CallbackQuery, _button: Any, manager: DialogManager
    ) -> None:
        need = int(_data(manager)["hc"])
        chosen = self.checked(manager)
        if len(chosen) >= need:
            await self.set_checked(manager, [])
            return
        rest = [w for w in await self._everyone(manager) if w not in chosen]
        await self.set_checked(manager, chosen + rest[: need - len(chosen)])

    async def _guard(self, callback: CallbackQuery, manager: DialogManager, item: str) -> bool:
        need = int(_data(manager)["hc"])
        if len(self.checked(manager)) >= need:
            await toast(callback, tr("deals.workers_enough", need=need))
            return False
        return await super()._guard(callback, manager, item)

    async def finish(self, callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
        need = int(_data(manager)["hc"])
        if len(self.checked(manager)) != need:
            await toast(callback, tr("deals.workers_pick_more", need=need))
            return
        await super().finish(callback, button, manager)


async def _pool_page(manager: DialogManager, offset: int, limit: int) -> WorkerSlice:
    pool = await _pool(manager)
    return WorkerSlice(items=tuple(pool[offset : offset + limit]), total=len(pool), offset=offset)


async def _pick_refusal(manager: DialogManager, worker_id: int) -> str | None:
    if worker_id not in {w.id for w in await _pool(manager)}:
        return "common.stale"
    return None


async def workers_done(manager: DialogManager, ids: Sequence[int]) -> None:
    data = _data(manager)
    if data["mode"] == "accept":
        view = await deals.accept_deal(
            uow_of(manager),
            account_of(manager).actor(),
            int(data["deal"]),
            expected_version=int(data["ver"]),
            worker_ids=list(ids),
        )
        await _finish(manager, view, _("deals.accepted_toast"))
        return
    await _after_terms_step(manager)


PICKER = DealPicker(PICKED, _pool_page, _pick_refusal, workers_done)


async def _price_saved(manager: DialogManager, price: Decimal) -> None:
    _data(manager)["price"] = str(price)
    await _after_terms_step(manager)


async def _start_saved(manager: DialogManager, day: date) -> None:
    _data(manager)["start"] = day.isoformat()
    await _after_terms_step(manager)


def _price(raw: str, _manager: DialogManager) -> Decimal:
    return parse_price(raw)


def _start_in(days: int, manager: DialogManager) -> date:
    today = _today(manager)
    return check_start_date(today + timedelta(days=days), today)


async def edit(_callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
    _data(manager)["editing"] = True
    # the idle side changes how many it sends, then who: the headcount step leads on to them
    steps = {"eh": S.headcount, "ew": S.headcount, "ep": S.price, "ed": S.start}
    await manager.switch_to(steps[button.widget_id])


async def send(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    data, uow, actor = _data(manager), uow_of(manager), account_of(manager).actor()
    start, price, picked = date.fromisoformat(data["start"]), Decimal(data["price"]), None
    if _picks_workers(manager):
        picked = tuple(PICKER.checked(manager))
    if data["mode"] == "propose":
        view = await deals.propose_deal(
            uow,
            actor,
            ProposeDeal(
                shortage_id=int(data["s"]),
                idle_posting_id=int(data["i"]) or None,
                start_date=start,
                price=price,
                headcount=int(data["hc"]),
                worker_ids=picked or (),
                side=Side(data["side"]),
            ),
        )
        said = _("deals.offer_sent")
    else:
        changed = picked is not None and sorted(picked) != sorted(data["orig_w"])
        view = await deals.counter_deal(
            uow,
            actor,
            int(data["deal"]),
            price=price,
            headcount=int(data["hc"]),
            start_date=start,
            worker_ids=picked if changed else None,
            expected_version=int(data["ver"]),
        )
        said = _("deals.counter_sent")
    await _finish(manager, view, said)


async def _finish(manager: DialogManager, view: DealView, headline: str) -> None:
    """The dialog's message becomes the deal as it is now; nothing of the dialog stays."""
    grades = await grade_names(uow_of(manager), locale())
    event = manager.event
    assert isinstance(event, CallbackQuery)
    await toast(event, headline)
    text = deal_text(view, tr, locale(), grades, headline=headline)
    await edit_or_send(event, text, deal_actions_keyboard(view, tr))
    await manager.done(show_mode=ShowMode.NO_UPDATE)


# --- getters -------------------------------------------------------------------------------------


async def shortage_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow, actor = uow_of(dialog_manager), account_of(dialog_manager).actor()
    idle = await get_posting_card(uow, actor, "idle", int(_data(dialog_manager)["i"]))
    mine = await my_shortages(uow, actor, idle)
    return {
        "shortages": [
            (
                c.id,
                f"#{c.id} {short(c.project_name or c.enterprise_name)} ×{c.open_headcount}"
                f" · {format_money(c.price)}",
            )
            for c in mine
        ]
    }


async def headcount_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = _data(dialog_manager)
    shortage, _idle = await _cards(dialog_manager)
    grades = await grade_names(uow_of(dialog_manager), locale())
    what = f"{trade_name(shortage, locale())} · {grades.get(shortage.grade_level, '')}"
    open_count = int(data["open"])
    if open_count <= len(HEADCOUNT_BUTTONS):
        values = list(range(1, open_count + 1))
    else:
        values = [n for n in HEADCOUNT_BUTTONS if n <= open_count]
    key = (
        N_("deals.ask_send_headcount") if _idle_side(dialog_manager) else N_("deals.ask_headcount")
    )
    if data.get("typing"):
        key = N_("deals.type_headcount")
    question = tr(key, open=open_count)
    return {
        "headcount_text": Safe(f"{what.strip(' ·')}\n{question}"),
        "counts": [(n, str(n)) for n in values],
        "more_counts": open_count > len(values),
    }


async def workers_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    picker = await PICKER.getter(dialog_manager, **kwargs)
    need, chosen = int(_data(dialog_manager)["hc"]), len(PICKER.checked(dialog_manager))
    title = tr("deals.ask_workers", need=need, chosen=chosen)
    accepting = _data(dialog_manager)["mode"] == "accept"
    return {
        **picker,
        "workers_text": Safe(f"{title}\n{picker['pick_lines']}"),
        "pick_all": tr("deals.btn_select_all", need=need) if chosen < need else picker["pick_all"],
        "pick_done": _("deals.btn_accept_with_workers") if accepting else _("deals.btn_done"),
    }


async def price_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data = _data(dialog_manager)
    shortage, idle = await _cards(dialog_manager)
    guide = await guide_prices.current_guide_price(
        uow_of(dialog_manager), shortage.city_code, shortage.trade_code, shortage.grade_level
    )
    mine_card, theirs_card = (idle, shortage) if _idle_side(dialog_manager) else (shortage, idle)
    theirs = theirs_card.price if theirs_card is not None else None
    if data.get("table"):
        theirs = Decimal(data["table"])  # counter: the offer on the table
    mine = mine_card.price if mine_card is not None else None
    lines, options = [_("deals.ask_price")], []
    for key, button, value in (
        (N_("deals.price_theirs"), N_("deals.btn_price_theirs"), theirs),
        (N_("deals.price_mine"), N_("deals.btn_price_mine"), mine),
        (N_("deals.price_guide"), N_("deals.btn_price_guide"), guide),
    ):
        if value is not None:
            lines.append(tr(key, price=Safe(price_text(tr, value))))
            options.append((str(value), tr(button, price=format_money(value))))
    lines.append(_("deals.price_type_hint"))
    unique: dict[Decimal, tuple[str, str]] = {}
    for value_, label in options:
        unique.setdefault(Decimal(value_), (value_, label))
    return {"price_text": Safe("\n".join(lines)), "price_options": list(unique.values())}


async def start_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    today = _today(dialog_manager)
    to_monday = 7 - today.weekday()  # on a Monday: the one after

    def day(n: int) -> str:
        return (today + timedelta(days=n)).strftime("%m-%d")

    return {
        "days": [
            (1, tr("deals.btn_tomorrow", day=day(1))),
            (3, tr("deals.btn_in_3_days", day=day(3))),
            (to_monday, tr("deals.btn_next_monday", day=day(to_monday))),
        ]
    }


async def summary_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    data, uow = _data(dialog_manager), uow_of(dialog_manager)
    actor, loc = account_of(dialog_manager).actor(), locale()
    grades = await grade_names(uow, loc)
    shortage, idle = await _cards(dialog_manager)
    guide = await guide_prices.current_guide_price(
        uow, shortage.city_code, shortage.trade_code, shortage.grade_level
    )
    price = Decimal(data["price"])
    terms = tr(
        "deals.terms",
        headcount=data["hc"],
        price=Safe(price_text(tr, price)),
        start=data["start"],
    )
    if data["mode"] == "counter":
        view = await deals.get_deal(uow, actor, int(data["deal"]))
        now = tr(
            "deals.terms",
            headcount=view.headcount,
            price=Safe(price_text(tr, view.price)),
            start=view.start_date.isoformat(),
        )
        lines = [
            tr("deals.summary_counter_title", id=view.id),
            tr("deals.summary_now", terms=Safe(now)),
            tr("deals.summary_yours", terms=Safe(terms)),
        ]
        send_text = _("deals.btn_send_counter")
    else:
        grade = tr("search.grade_min", grade=grades.get(shortage.grade_level, ""))
        lines = [
            _("deals.summary_title"),
            tr(
                "deals.card_receiver",
                project=shortage.project_name or "",
                name=shortage.enterprise_name,
            ),
            tr("deals.card_supplier", name=idle.enterprise_name)
            if idle is not None
            else _("deals.supplier_you"),
            tr("deals.summary_trade", trade=trade_name(shortage, loc), grade=grade),
            terms,
        ]
        send_text = _("deals.btn_send_offer")
    if guide is not None:
        lines.append(tr("deals.price_guide", price=Safe(price_text(tr, guide))))
        if guide_prices.is_far_from_guide(price, guide):
            lines.append(_("deals.price_far_from_guide"))
    picked = set(PICKER.checked(dialog_manager)) if _picks_workers(dialog_manager) else set()
    chosen = [w for w in await _pool(dialog_manager) if w.id in picked] if picked else []
    if chosen:
        lines += ["", _("deals.workers")]
        lines += [
            worker_line(
                tr,
                w.name,
                w.id_masked,
                grades.get(w.grade_level, str(w.grade_level)),
                w.avg_rating,
                w.rating_count,
            )
            for w in chosen
        ]
    # the receiving side may not change how many a deal that names workers sends
    fixed = data["mode"] == "counter" and data["named"] and not _idle_side(dialog_manager)
    return {
        "summary": Safe("\n".join(lines)),
        "send_text": send_text,
        "edit_headcount": not fixed and not _picks_workers(dialog_manager),
        "edit_workers": not fixed and _picks_workers(dialog_manager),
    }


# --- windows -------------------------------------------------------------------------------------


def _dialog() -> Dialog:
    nav = with_cancel()
    return Dialog(
        step(
            S.shortage,
            shortage_getter,
            Tr("deals.pick_shortage"),
            choice("shortage", "shortages", shortage_picked, width=1, type_factory=int),
            nav,
        ),
        step(
            S.headcount,
            headcount_getter,
            Format("{headcount_text}"),
            choice("count", "counts", tap(_headcount, headcount_saved), width=4, type_factory=int),
            Button(Tr("deals.btn_other_number"), id="ntype", on_click=start_typing,
                   when=F["more_counts"] & ~TYPING),
            nav,
            on_text=read(_headcount, headcount_saved),
            need=N_("deals.hint_headcount"),
        ),
        step(S.workers, workers_getter, Format("{workers_text}"), PICKER.keyboard(), nav),
        step(
            S.price,
            price_getter,
            Format("{price_text}"),
            choice("price", "price_options", tap(_price, _price_saved), width=2),
            nav,
            on_text=read(_price, _price_saved),
            need=N_("deals.hint_price"),
        ),
        step(
            S.start,
            start_getter,
            Tr("deals.ask_start"),
            choice("day", "days", tap(_start_in, _start_saved), width=1, type_factory=int),
            nav,
            on_text=read(lambda text, m: parse_start_date(text, _today(m)), _start_saved),
            need=N_("deals.hint_start"),
        ),
        step(
            S.summary,
            summary_getter,
            Format("{summary}"),
            Button(Format("{send_text}"), id="ok", on_click=send),
            Row(
                Button(Tr("deals.btn_edit_headcount"), id="eh", on_click=edit,
                       when="edit_headcount"),
                Button(Tr("deals.btn_edit_workers"), id="ew", on_click=edit, when="edit_workers"),
                Button(Tr("deals.btn_edit_price"), id="ep", on_click=edit),
                Button(Tr("deals.btn_edit_start"), id="ed", on_click=edit),
            ),
            nav,
        ),
        getter=step_getter,
        on_start=_on_start,
    )  # fmt: skip


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data.update(
        mode="propose", side="", s=0, i=0, deal=0, ver=0, open=0, hc=0, named=False,
        orig_w=[], price="", table="", start="", editing=False,
    )  # fmt: skip
    if isinstance(start_data, dict):
        manager.dialog_data.update(start_data)
        picked = start_data.get("picked")
        if picked:
            await PICKER.set_checked(manager, [int(w) for w in picked])


async def _say_below(
    query: CallbackQuery, manager: DialogManager, text: str, markup: Any = None
) -> None:
    """No deal to set up: an earlier deal dialog is over too; a search stays open."""
    if manager.has_context() and manager.current_context().state.group is DealFlow:
        await manager.reset_stack()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


# --- entry points ----------------------------------------------------------------------------


async def propose_tapped(
    query: CallbackQuery, callback_data: ProposeCb, dialog_manager: DialogManager
) -> None:
    uow, account = uow_of(dialog_manager), account_of(dialog_manager)
    actor = account.actor()
    s_id, i_id = callback_data.shortage_id, callback_data.idle_id
    if s_id < 0 or i_id < 0 or (s_id == 0 and i_id == 0):
        await query.answer(_("common.stale"))
        return
    shortage = await get_posting_card(uow, actor, "shortage", s_id) if s_id else None
    idle = await get_posting_card(uow, actor, "idle", i_id) if i_id else None
    side = propose_side_of(actor, shortage, idle, uow.now())
    data: dict[str, Any] = {"mode": "propose", "side": side.value, "s": s_id, "i": i_id}
    await query.answer()
    if shortage is None:
        assert idle is not None
        mine = await my_shortages(uow, actor, idle)
        if not mine:
            await _say_below(query, dialog_manager, _("deals.no_matching_shortage"))
            return
        if len(mine) > 1:
            await start_below(dialog_manager, S.shortage, data)
            return
        shortage = mine[0]
        data["s"] = shortage.id
    limits = [c.open_headcount for c in (shortage, idle) if c is not None]
    data["open"] = min(limits)
    if side is Side.IDLE:
        pool = await eligible_workers(uow, actor, shortage.trade_code, shortage.grade_level, i_id)
        data["open"] = min(data["open"], len(pool))
        if not pool:
            await _say_below(
                query,
                dialog_manager,
                _("deals.no_idle_workers"),
                _no_workers_keyboard(shortage, i_id),
            )
            return
    if data["open"] <= 0:
        raise Conflict("error.posting_closed")
    await start_below(dialog_manager, S.headcount, data)


def _no_workers_keyboard(shortage: PostingCard, via: int) -> InlineKeyboardMarkup:
    """Not a dead end: set busy workers of the trade idle, or declare idle workers and come
    back (the posted message leads back here), or back to the card."""
    declare = DeclareIdleCb(s=shortage.id, tr=shortage.trade_code).pack()
    card = ViewPostingCb(kind="s", id=shortage.id, via=via).pack()
    return inline_rows(
        [
            set_idle_button(shortage.trade_code),
            InlineKeyboardButton(text=_(DECLARE_IDLE), callback_data=declare),
            InlineKeyboardButton(text=_("search.btn_back"), callback_data=card),
        ]
    )


async def start_counter(manager: DialogManager, view: DealView) -> None:
    """💬 on an offer: the price first, then the summary."""
    side = view.awaiting_side
    assert side is not None
    uow, actor = uow_of(manager), account_of(manager).actor()
    shortage = await get_posting_card(uow, actor, "shortage", view.shortage_id)
    idle_id = view.idle_posting_id or 0
    idle = await get_posting_card(uow, actor, "idle", idle_id) if idle_id else None
    limits = [c.open_headcount for c in (shortage, idle) if c is not None]
    ids = [w.id for w in view.workers]
    data = {
        "mode": "counter", "side": side.value, "s": view.shortage_id, "i": idle_id,
        "deal": view.id, "ver": view.version, "hc": view.headcount, "named": bool(ids),
        "orig_w": ids, "picked": ids, "price": str(view.price), "table": str(view.price),
        "start": view.start_date.isoformat(),
        # the deal's own headcount may stay whatever the postings' open counts say now
        "open": max(min(limits), view.headcount),
    }  # fmt: skip
    await start_below(manager, S.price, data)


async def start_accept_with_workers(manager: DialogManager, view: DealView) -> None:
    """The idle side accepts an ask that names nobody: it picks who goes (the first fitting
    ones are ticked already)."""
    idle_id = view.idle_posting_id or 0
    pool = await eligible_workers(
        uow_of(manager), account_of(manager).actor(), view.trade_code, view.min_grade, idle_id
    )
    if len(pool) < view.headcount:
        raise Conflict("error.not_enough_workers", available=len(pool))
    data = {
        "mode": "accept", "side": Side.IDLE.value, "s": view.shortage_id, "i": idle_id,
        "deal": view.id, "ver": view.version, "hc": view.headcount, "open": view.headcount,
        "picked": [w.id for w in pool[: view.headcount]],
    }  # fmt: skip
    await start_below(manager, S.workers, data)


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.FOREMAN, Role.DISPATCHER)
    router.callback_query.register(propose_tapped, ProposeCb.filter(), allowed)
    router.include_routers(_dialog(), _list_dialog())
    return router


# --- 🤝 我的交易: my offers and deals, those awaiting me first ------------------------------

LIST_PENDING = 20
LIST_ACCEPTED = 10


class DealList(StatesGroup):
    list = State()
    card = State()


@dataclass(frozen=True)
class _Row:
    id: int
    label: str


async def _rows(manager: DialogManager) -> list[_Row]:
    """🔔 my turn, ⏳ the other side's, ✅ accepted (the newest of each)."""
    uow, actor, loc = uow_of(manager), account_of(manager).actor(), locale()
    pending = await deals.list_deals(uow, actor, status=DealStatus.PENDING, limit=LIST_PENDING)
    accepted = await deals.list_deals(uow, actor, status=DealStatus.ACCEPTED, limit=LIST_ACCEPTED)
    trades = {t.code: t.name(loc) for t in await postings.list_trades(uow)}
    mine = [d for d in pending.items if d.my_turn]
    theirs = [d for d in pending.items if not d.my_turn]
    manager.dialog_data["counts"] = [len(mine), len(theirs), len(accepted.items)]
    return [
        _Row(d.id, f"{icon} #{d.id} {trades.get(d.trade_code, d.trade_name_zh)} ×{d.headcount}"
                   f" · {format_money(d.price)}")
        for icon, group in (("🔔", mine), ("⏳", theirs), ("✅", accepted.items))
        for d in group
    ]  # fmt: skip


async def _rows_page(
    manager: DialogManager, cursor: str | None, _direction: Direction, size: int
) -> Page[_Row]:
    # the cursors are offsets into the short list (at most LIST_PENDING + LIST_ACCEPTED)
    rows, start = await _rows(manager), int(cursor or 0)
    return Page(
        items=tuple(rows[start : start + size]),
        next_cursor=str(start + size) if start + size < len(rows) else None,
        prev_cursor=str(max(start - size, 0)) if start > 0 else None,
    )


async def _rows_count(manager: DialogManager) -> int:
    return len(await _rows(manager))


async def _open_deal(_callback: CallbackQuery, manager: DialogManager, deal_id: int) -> None:
    manager.dialog_data["deal"] = deal_id  # get_deal refuses anyone not a party
    await manager.switch_to(DealList.card)


DEALS = PagedList(
    "deals", load=_rows_page, count=_rows_count, label=lambda _n, r: r.label, on_pick=_open_deal
)


async def list_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    page = await DEALS.page(dialog_manager)
    mine, theirs, accepted = dialog_manager.dialog_data["counts"]
    if not (mine or theirs or accepted):
        text = _("deals.list_empty")
    else:
        text = "\n".join(
            (
                _("deals.list_title"),
                tr("deals.list_awaiting_me", n=mine),
                tr("deals.list_awaiting_them", n=theirs),
                tr("deals.list_accepted", n=accepted),
            )
        )
    return {"list_text": text, **DEALS.data(dialog_manager, page)}


async def card_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow = uow_of(dialog_manager)
    view = await deals.get_deal(
        uow, account_of(dialog_manager).actor(), int(_data(dialog_manager)["deal"])
    )
    grades = await grade_names(uow, locale())
    markup = deal_actions_keyboard(view, tr)
    return {
        "card": Safe(deal_text(view, tr, locale(), grades)),
        "actions": markup.inline_keyboard if markup is not None else [],
    }


async def _recount(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    DEALS.recount(manager)  # a deal may have moved on meanwhile


def _list_dialog() -> Dialog:
    return Dialog(
        step(DealList.list, list_getter, Format("{list_text}"), DEALS.keyboard()),
        step(
            DealList.card,
            card_getter,
            Format("{card}"),
            Passthrough("actions"),  # accept / counter / decline / withdraw: bot/handlers/deals
            SwitchTo(Tr("deals.btn_list"), id="list", state=DealList.list, on_click=_recount),
            markup_factory=PASSTHROUGH,
        ),
    )


async def open_list(_message: Message, dialog_manager: DialogManager) -> None:
    await dialog_manager.start(DealList.list, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
