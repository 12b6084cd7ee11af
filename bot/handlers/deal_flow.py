"""The propose / counter / accept dialogs of 🤝 Deals (registered by bot/handlers/deals.py).

Propose: the proposer's side decides the steps.
- Shortage side (a foreman or dispatcher of the short project): which of my live shortages
  (when asking an idle posting from search) → headcount → monthly price → start → summary.
- Idle side (a labour company's dispatcher): headcount → WHICH workers (multi-select of the
  company's idle workers of the trade at or above the grade) → price → start → summary.
Counter: price (prefilled with the offer on the table) → summary, where headcount (and the
workers, for the idle side of a deal that names them) and the start date can change too.
Accept by the idle side of an ask that names nobody: pick who goes (the first fitting ones
are ticked), one tap accepts.

Nothing is written before "Send"; every free-text step validates and re-asks in place. The
dialog keeps ids, numbers and ISO dates in FSM data under "deal"; nothing personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import DeclareIdleCb
from bot.callbacks_deals import DealFlowCb, ProposeCb, ViewPostingCb
from bot.handlers.common import show_menu
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import DECLARE_IDLE, inline_cancel_keyboard
from bot.keyboards.deals import (
    WORKERS_PER_PAGE,
    deal_actions_keyboard,
    headcount_keyboard,
    pick_shortage_keyboard,
    price_keyboard,
    short,
    start_keyboard,
    summary_keyboard,
    workers_keyboard,
)
from bot.keyboards.workers import WorkersCb
from bot.middlewares.db import end_read
from bot.render.errors import error_text
from bot.render.messages import drop_inline_keyboard, edit_or_send
from bot.renderers.deals import deal_text, worker_line
from bot.renderers.match import grade_names, price_text, trade_name
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role, Side, WorkerStatus
from core.domain.errors import Conflict, PermissionDenied, ValidationError
from core.domain.money import format_money
from core.domain.rules import (
    can_pair,
    check_pair,
    check_start_date,
    deal_worker_refusal,
    is_open_for_deals,
    may_act_for_shortage,
    may_propose_on,
    parse_start_date,
    proposing_side,
    sides_of,
)
from core.domain.timeutil import local_date
from core.domain.values import fen_to_price, parse_headcount, parse_price, price_to_fen
from core.services import deals, guide_prices, postings, workers
from core.services.accounts import AccountView
from core.services.deals import DealView, ProposeDeal
from core.services.search import PostingCard, PostingQuery, get_posting_card, search_postings
from core.services.workers import WorkerView

FLOW_KEY = "deal"
MAX_POOL = 200  # workers offered in the picker
MAX_MY_SHORTAGES = 20


class DealFlow(StatesGroup):
    shortage = State()  # which of my live shortages (buttons)
    headcount = State()  # buttons, or a typed number
    workers = State()  # the idle side's multi-select
    price = State()  # buttons, or a typed price
    start = State()  # buttons, or a typed date
    summary = State()  # Send / Edit


@dataclass
class Flow:
    """The dialog's answers (FSM data "deal"): ids, numbers and ISO dates only."""

    mode: str  # "propose" | "counter" | "accept"
    side: str  # Side value the user acts for
    s: int = 0  # shortage id (0: not picked yet)
    i: int = 0  # idle posting id (0: none)
    deal: int = 0  # counter / accept: the deal and the version it was opened at
    ver: int = 0
    open: int = 0  # headcount limit
    hc: int = 0
    w: list[int] | None = None  # chosen workers
    named: bool = False  # counter: the deal names workers
    orig_w: list[int] | None = None
    price: str = ""
    table: str = ""  # counter: the price on the table when the dialog began
    start: str = ""
    edit: bool = False  # a field changed from the summary: go back there after it
    wo: int = 0  # worker picker page offset
    fill: bool = False  # "select all" tapped: fill the choice up to the headcount

    @property
    def idle_side(self) -> bool:
        return self.side == Side.IDLE.value

    @property
    def picks_workers(self) -> bool:
        return self.idle_side and (self.mode in ("propose", "accept") or self.named)

    def dump(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def load_flow(state: FSMContext) -> Flow | None:
    raw = (await state.get_data()).get(FLOW_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        return Flow(**raw)
    except TypeError:
        return None


async def save_flow(state: FSMContext, flow: Flow) -> None:
    await state.update_data({FLOW_KEY: flow.dump()})


async def end_flow(state: FSMContext) -> None:
    data = await state.get_data()
    data.pop(FLOW_KEY, None)
    await state.set_data(data)
    await state.set_state(None)


async def show(target: Message | CallbackQuery, text: str, markup: Any = None) -> None:
    """Edit the dialog's message after a tap; answer a typed message with a new one."""
    if isinstance(target, CallbackQuery):
        await edit_or_send(target, text, markup)
    else:
        await target.answer(text, reply_markup=markup)


def below(query: CallbackQuery) -> Message | CallbackQuery:
    """Where a flow opened from a notification or a card shows its first step: a new message
    below it, so the notification stays readable (later steps edit that new message)."""
    return query.message if isinstance(query.message, Message) else query


def today_of(uow: UnitOfWork) -> date:
    return local_date(uow.now())


# --- what the dialog reads --------------------------------------------------------------------


async def eligible_workers(
    uow: UnitOfWork, actor: Actor, trade: str, min_grade: int, idle_posting_id: int
) -> list[WorkerView]:
    """The company's idle workers the deal may name (in the idle posting when the deal has
    one), by id."""
    in_posting: frozenset[int] | None = None
    if idle_posting_id:
        in_posting = frozenset((await postings.get_idle(uow, actor, idle_posting_id)).worker_ids)
    found: list[WorkerView] = []
    cursor: str | None = None
    while len(found) < MAX_POOL:
        page = await workers.list_workers(
            uow, actor, status=WorkerStatus.IDLE, trade_code=trade, cursor=cursor, limit=50
        )
        found += [
            w
            for w in page.items
            if deal_worker_refusal(
                w.terms,
                idle_enterprise_id=w.enterprise_id,  # list_workers: the actor's company only
                trade_code=trade,
                min_grade=min_grade,
                posting_worker_ids=in_posting,
            )
            is None
        ]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return found[:MAX_POOL]


async def my_shortages(uow: UnitOfWork, actor: Actor, idle: PostingCard) -> list[PostingCard]:
    """My live shortages an idle posting can pair with, for which I speak."""
    queries: list[PostingQuery] = []
    if actor.role is Role.FOREMAN:
        queries = [
            PostingQuery(
                kind="shortage",
                trade_code=idle.trade_code,
                project_id=pid,
                limit=MAX_MY_SHORTAGES,
            )
            for pid in sorted(actor.project_ids)
        ]
    elif actor.enterprise_id is not None:
        queries = [
            PostingQuery(
                kind="shortage",
                trade_code=idle.trade_code,
                enterprise_id=actor.enterprise_id,
                limit=MAX_MY_SHORTAGES,
            )
        ]
    now = uow.now()
    found: list[PostingCard] = []
    for q in queries:
        page = await search_postings(uow, actor, q)
        found += [
            c
            for c in page.items
            if can_pair(c.terms, idle.terms, now)
            and c.project_id is not None
            and may_act_for_shortage(actor, project_id=c.project_id, enterprise_id=c.enterprise_id)
        ]
    return found[:MAX_MY_SHORTAGES]


@dataclass
class Sides:
    shortage: PostingCard | None
    idle: PostingCard | None


async def cards_of(uow: UnitOfWork, actor: Actor, flow: Flow) -> Sides:
    shortage = await get_posting_card(uow, actor, "shortage", flow.s) if flow.s else None
    idle = await get_posting_card(uow, actor, "idle", flow.i) if flow.i else None
    return Sides(shortage, idle)


def open_limit(sides: Sides) -> int:
    limits = [c.open_headcount for c in (sides.shortage, sides.idle) if c is not None]
    return min(limits) if limits else 0


# --- entry: 🤝 Propose -------------------------------------------------------------------------


async def propose_tapped(
    query: CallbackQuery,
    callback_data: ProposeCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    actor = account.actor()
    s_id, i_id = callback_data.shortage_id, callback_data.idle_id
    if s_id < 0 or i_id < 0 or (s_id == 0 and i_id == 0):
        await query.answer(_("common.stale"))
        return
    flow = Flow(mode="propose", side="", s=s_id, i=i_id)
    sides = await cards_of(uow, actor, flow)
    flow.side = propose_side_of(actor, sides, uow.now()).value
    wanted = sides.shortage

    if flow.side == Side.SHORTAGE.value and wanted is None:
        assert sides.idle is not None
        mine = await my_shortages(uow, actor, sides.idle)
        await end_read(uow)
        if not mine:
            await end_flow(state)  # an earlier dialog's step is over as well
            await query.answer()
            await show(below(query), _("deals.no_matching_shortage"))
            return
        if len(mine) > 1:
            await save_flow(state, flow)
            await state.set_state(DealFlow.shortage)
            await query.answer()
            choices = [
                (c.id, f"#{c.id} {short_name(c)} ×{c.open_headcount} · {format_money(c.price)}")
                for c in mine
            ]
            await show(below(query), _("deals.pick_shortage"), pick_shortage_keyboard(choices))
            return
        flow.s = mine[0].id
        sides.shortage = mine[0]
    await query.answer()
    await start_terms(below(query), uow, state, account, flow, sides)


def propose_side_of(actor: Actor, sides: Sides, now: datetime) -> Side:
    """The side a 🤝 tap proposes from, by the core's rules; raises why it may not."""
    shortage, idle = sides.shortage, sides.idle
    for card in (shortage, idle):
        if card is not None and not is_open_for_deals(card.terms, now):
            raise Conflict("error.posting_closed")
    if shortage is None:
        # 🤝 on an idle posting: one of my shortages asks for its workers (picked next)
        if idle is None or not may_propose_on(actor.role, "idle"):
            raise PermissionDenied("error.forbidden")
        return Side.SHORTAGE
    if idle is not None:
        check_pair(shortage.terms, idle.terms, now)
    # without an idle posting the workers are the dispatcher's own company's
    idle_enterprise_id = idle.enterprise_id if idle is not None else actor.enterprise_id
    assert shortage.project_id is not None  # a shortage always belongs to a project
    mine = sides_of(
        actor,
        shortage_project_id=shortage.project_id,
        shortage_enterprise_id=shortage.enterprise_id,
        idle_enterprise_id=idle_enterprise_id,
    )
    return proposing_side(mine, idle_posting=idle is not None)


def short_name(card: PostingCard) -> str:
    return short(card.project_name or card.enterprise_name)


async def start_terms(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    sides: Sides,
) -> None:
    """Both postings known: the headcount limit, then the first question."""
    flow.open = open_limit(sides)
    if flow.idle_side:
        assert sides.shortage is not None
        pool = await eligible_workers(
            uow, account.actor(), sides.shortage.trade_code, sides.shortage.grade_level, flow.i
        )
        flow.open = min(flow.open, len(pool))
        if not pool:
            await end_read(uow)
            await end_flow(state)
            # not a dead end: set busy workers of the trade idle, or declare idle workers and
            # come back (the posted message leads back here), or back to the card
            back = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("deals.btn_set_idle"),
                            callback_data=WorkersCb(st="b", tr=sides.shortage.trade_code).pack(),
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            text=_(DECLARE_IDLE),
                            callback_data=DeclareIdleCb(
                                s=sides.shortage.id, tr=sides.shortage.trade_code
                            ).pack(),
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            text=_("search.btn_back"),
                            callback_data=ViewPostingCb(
                                kind="s", id=sides.shortage.id, via=flow.i
                            ).pack(),
                        )
                    ],
                    *inline_cancel_keyboard().inline_keyboard,
                ]
            )
            await show(target, _("deals.no_idle_workers"), back)
            return
    if flow.open <= 0:
        raise Conflict("error.posting_closed")
    await ask_headcount(target, uow, state, flow, await what_is_asked(uow, sides))


async def what_is_asked(uow: UnitOfWork, sides: Sides) -> str:
    """ "钢筋工 · 三级": the shortage's trade and minimum grade, in the user's language."""
    if sides.shortage is None:
        return ""
    locale = get_i18n().current_locale
    grades = await grade_names(uow, locale)
    card = sides.shortage
    return f"{trade_name(card, locale)} · {grades.get(card.grade_level, '')}".strip(" ·")


# --- the steps --------------------------------------------------------------------------------


async def ask_headcount(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    flow: Flow,
    what: str = "",
) -> None:
    """How many: "派几人" to the side that sends workers, "需要几人" to the one that needs them,
    under what is asked for ("钢筋工 · 三级")."""
    await end_read(uow)
    await save_flow(state, flow)
    await state.set_state(DealFlow.headcount)
    key = "deals.ask_send_headcount" if flow.idle_side else "deals.ask_headcount"
    question = tr(key, open=flow.open)
    text = f"{html.quote(what)}\n{question}" if what else question
    await show(target, text, headcount_keyboard(tr, flow.open))


async def headcount_chosen(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    n: int,
) -> None:
    if flow.hc != n:
        flow.w = (flow.w or [])[:n] if flow.picks_workers else flow.w
    flow.hc = n
    if flow.picks_workers and len(flow.w or []) != n:
        await ask_workers(target, uow, state, account, flow)
    elif flow.edit or flow.mode == "counter":
        await ask_summary(target, uow, state, account, flow)
    else:
        await ask_price(target, uow, state, account, flow)


async def ask_workers(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
) -> None:
    sides = await cards_of(uow, account.actor(), flow)
    assert sides.shortage is not None
    pool = await eligible_workers(
        uow, account.actor(), sides.shortage.trade_code, sides.shortage.grade_level, flow.i
    )
    locale = get_i18n().current_locale
    grades = await grade_names(uow, locale)
    await end_read(uow)
    ids = {w.id for w in pool}
    flow.w = [wid for wid in (flow.w or []) if wid in ids][: flow.hc]
    if flow.fill or (not flow.w and len(pool) == flow.hc):
        # "select all", or exactly the needed number available: no one-by-one ticking
        flow.w += [w.id for w in pool if w.id not in flow.w][: flow.hc - len(flow.w)]
        flow.fill = False
    flow.wo = max(0, min(flow.wo, (len(pool) - 1) // WORKERS_PER_PAGE * WORKERS_PER_PAGE))
    page = pool[flow.wo : flow.wo + WORKERS_PER_PAGE]
    lines = [tr("deals.ask_workers", need=flow.hc, chosen=len(flow.w))]
    lines += [
        worker_line(
            tr,
            w.name,
            w.id_masked,
            grades.get(w.grade_level, str(w.grade_level)),
            w.avg_rating,
            w.rating_count,
        )
        for w in page
    ]
    buttons = [
        (w.id, f"{short(w.name, 10)} {grades.get(w.grade_level, '')} {rating_badge(w)}".strip())
        for w in page
    ]
    done = _("deals.btn_accept_with_workers") if flow.mode == "accept" else _("deals.btn_done")
    markup = workers_keyboard(
        buttons, set(flow.w), offset=flow.wo, total=len(pool), need=flow.hc, done_text=done
    )
    await save_flow(state, flow)
    await state.set_state(DealFlow.workers)
    await show(target, "\n".join(lines), markup)


def rating_badge(w: WorkerView) -> str:
    return f"⭐{w.avg_rating}" if w.avg_rating is not None else ""


async def price_context(
    uow: UnitOfWork, actor: Actor, flow: Flow
) -> tuple[Sides, Decimal | None, Decimal | None, Decimal | None]:
    """The cards, the other side's price, my posting's price, and the guide price."""
    sides = await cards_of(uow, actor, flow)
    assert sides.shortage is not None
    guide = await guide_prices.current_guide_price(
        uow, sides.shortage.city_code, sides.shortage.trade_code, sides.shortage.grade_level
    )
    mine_card, theirs_card = (
        (sides.idle, sides.shortage) if flow.idle_side else (sides.shortage, sides.idle)
    )
    theirs = theirs_card.price if theirs_card is not None else None
    mine = mine_card.price if mine_card is not None else None
    return sides, theirs, mine, guide


async def ask_price(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    error: str | None = None,
) -> None:
    _sides, theirs, mine, guide = await price_context(uow, account.actor(), flow)
    await end_read(uow)
    if flow.table:
        theirs = Decimal(flow.table)  # counter: the offer on the table
    lines = [error] if error else []
    lines.append(_("deals.ask_price"))
    options: list[tuple[str, int]] = []
    if theirs is not None:
        lines.append(tr("deals.price_theirs", price=Safe(price_text(tr, theirs))))
        options.append(
            (tr("deals.btn_price_theirs", price=format_money(theirs)), price_to_fen(theirs))
        )
    if mine is not None:
        lines.append(tr("deals.price_mine", price=Safe(price_text(tr, mine))))
        options.append((tr("deals.btn_price_mine", price=format_money(mine)), price_to_fen(mine)))
    if guide is not None:
        lines.append(tr("deals.price_guide", price=Safe(price_text(tr, guide))))
        options.append(
            (tr("deals.btn_price_guide", price=format_money(guide)), price_to_fen(guide))
        )
    lines.append(_("deals.price_type_hint"))
    unique: dict[int, str] = {}
    for label, fen in options:
        unique.setdefault(fen, label)
    await save_flow(state, flow)
    await state.set_state(DealFlow.price)
    markup = price_keyboard([(label, fen) for fen, label in unique.items()])
    await show(target, "\n".join(lines), markup)


async def price_chosen(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    price: Decimal,
) -> None:
    flow.price = str(price)
    if flow.edit or flow.mode == "counter":
        await ask_summary(target, uow, state, account, flow)
    else:
        await ask_start(target, uow, state, flow)


async def ask_start(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    flow: Flow,
    error: str | None = None,
) -> None:
    today = today_of(uow)
    await end_read(uow)
    await save_flow(state, flow)
    await state.set_state(DealFlow.start)
    text = "\n".join([*([error] if error else []), _("deals.ask_start")])
    await show(target, text, start_keyboard(tr, today))


async def start_chosen(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    day: date,
) -> None:
    flow.start = day.isoformat()
    await ask_summary(target, uow, state, account, flow)


async def ask_summary(
    target: Message | CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
) -> None:
    actor = account.actor()
    locale = get_i18n().current_locale
    grades = await grade_names(uow, locale)
    sides, _theirs, _mine, guide = await price_context(uow, actor, flow)
    assert sides.shortage is not None
    chosen: list[WorkerView] = []
    if flow.picks_workers and flow.w:
        pool = await eligible_workers(
            uow, actor, sides.shortage.trade_code, sides.shortage.grade_level, flow.i
        )
        chosen = [w for w in pool if w.id in set(flow.w)]
    view = await deals.get_deal(uow, actor, flow.deal) if flow.deal else None
    await end_read(uow)
    price = Decimal(flow.price)
    terms = tr(
        "deals.terms",
        headcount=flow.hc,
        price=Safe(price_text(tr, price)),
        start=flow.start,
    )
    trade = (
        sides.shortage.trade_name_zh if locale.startswith("zh") else sides.shortage.trade_name_en
    )
    grade = tr("search.grade_min", grade=grades.get(sides.shortage.grade_level, ""))
    if view is not None:
        lines = [
            tr("deals.summary_counter_title", id=view.id),
            tr(
                "deals.summary_now",
                terms=Safe(
                    tr(
                        "deals.terms",
                        headcount=view.headcount,
                        price=Safe(price_text(tr, view.price)),
                        start=view.start_date.isoformat(),
                    )
                ),
            ),
            tr("deals.summary_yours", terms=Safe(terms)),
        ]
        send = _("deals.btn_send_counter")
    else:
        supplier = sides.idle.enterprise_name if sides.idle is not None else None
        lines = [
            _("deals.summary_title"),
            tr(
                "deals.card_receiver",
                project=sides.shortage.project_name or "",
                name=sides.shortage.enterprise_name,
            ),
            tr("deals.card_supplier", name=supplier) if supplier else _("deals.supplier_you"),
            tr("deals.summary_trade", trade=trade, grade=grade),
            terms,
        ]
        send = _("deals.btn_send_offer")
    if guide is not None:
        lines.append(tr("deals.price_guide", price=Safe(price_text(tr, guide))))
        if guide_prices.is_far_from_guide(price, guide):
            lines.append(_("deals.price_far_from_guide"))
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
    flow.edit = True
    can_edit_headcount = not (flow.mode == "counter" and flow.named and not flow.idle_side)
    markup = summary_keyboard(
        tr,
        send_text=send,
        edit_headcount=can_edit_headcount and not flow.picks_workers,
        edit_workers=can_edit_headcount and flow.picks_workers,
    )
    await save_flow(state, flow)
    await state.set_state(DealFlow.summary)
    await show(target, "\n".join(lines), markup)


async def send(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView, flow: Flow
) -> None:
    actor = account.actor()
    start = date.fromisoformat(flow.start)
    if flow.mode == "propose":
        view = await deals.propose_deal(
            uow,
            actor,
            ProposeDeal(
                shortage_id=flow.s,
                idle_posting_id=flow.i or None,
                start_date=start,
                price=Decimal(flow.price),
                headcount=flow.hc,
                worker_ids=tuple(flow.w or ()) if flow.idle_side else (),
                side=Side(flow.side),
            ),
        )
        toast = _("deals.offer_sent")
    else:
        changed_workers = (
            flow.named and flow.idle_side and sorted(flow.w or []) != sorted(flow.orig_w or [])
        )
        view = await deals.counter_deal(
            uow,
            actor,
            flow.deal,
            price=Decimal(flow.price),
            headcount=flow.hc,
            start_date=start,
            worker_ids=tuple(flow.w or ()) if changed_workers else None,
            expected_version=flow.ver,
        )
        toast = _("deals.counter_sent")
    await end_flow(state)
    await query.answer(toast)
    await show_deal(query, uow, view, headline=toast)


# --- one callback handler for every dialog button ---------------------------------------------


async def flow_tapped(
    query: CallbackQuery,
    callback_data: DealFlowCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    flow = await load_flow(state)
    current = await state.get_state()
    a, v = callback_data.a, callback_data.v
    if flow is None or current is None:
        await query.answer(_("common.stale"))
        return
    if current == DealFlow.shortage.state and a == "s":
        await shortage_picked(query, uow, state, account, flow, v)
    elif current == DealFlow.headcount.state and a == "h":
        await headcount_tapped(query, uow, state, account, flow, v)
    elif current == DealFlow.workers.state and a in ("w", "wp", "wa", "wd"):
        await workers_tapped(query, uow, state, account, flow, a, v)
    elif current == DealFlow.price.state and a == "p":
        await price_tapped(query, uow, state, account, flow, v)
    elif current == DealFlow.start.state and a == "d":
        await start_tapped(query, uow, state, account, flow, v)
    elif current == DealFlow.summary.state and a in ("ok", "eh", "ep", "ed"):
        await summary_tapped(query, uow, state, account, flow, a)
    else:
        await query.answer(_("common.stale"))


async def headcount_tapped(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    v: int,
) -> None:
    """A headcount button: a number within the open places, or 0 to type one."""
    if v == 0:
        await query.answer()
        await drop_inline_keyboard(query)
        if query.bot is not None:
            await query.bot.send_message(
                query.from_user.id,
                tr("deals.type_headcount", open=flow.open),
                reply_markup=inline_cancel_keyboard(),
            )
    elif 1 <= v <= flow.open:
        await query.answer()
        await headcount_chosen(query, uow, state, account, flow, v)
    else:
        await query.answer(_("common.stale"))


async def price_tapped(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    v: int,
) -> None:
    """A suggested-price button, its price in fen."""
    try:
        price = parse_price(fen_to_price(v))
    except ValidationError:
        await query.answer(_("common.stale"))
        return
    await query.answer()
    await price_chosen(query, uow, state, account, flow, price)


async def start_tapped(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    v: int,
) -> None:
    """A start-date button, in days from today."""
    today = today_of(uow)
    try:
        day = check_start_date(today + timedelta(days=v), today)
    except ValidationError:
        await query.answer(_("common.stale"))
        return
    await query.answer()
    await start_chosen(query, uow, state, account, flow, day)


async def summary_tapped(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    a: str,
) -> None:
    """The summary's buttons: send it, or go back to change the headcount, price or start."""
    if a == "ok":
        await send(query, uow, state, account, flow)
        return
    await query.answer()
    if a == "eh":
        await ask_headcount(query, uow, state, flow)
    elif a == "ep":
        await ask_price(query, uow, state, account, flow)
    else:
        await ask_start(query, uow, state, flow)


async def shortage_picked(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    shortage_id: int,
) -> None:
    actor = account.actor()
    idle = await get_posting_card(uow, actor, "idle", flow.i)
    mine = await my_shortages(uow, actor, idle)
    chosen = next((c for c in mine if c.id == shortage_id), None)
    if chosen is None:
        await end_read(uow)
        await query.answer(_("common.stale"))
        return
    flow.s = chosen.id
    await query.answer()
    await start_terms(query, uow, state, account, flow, Sides(chosen, idle))


async def workers_tapped(
    query: CallbackQuery,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
    flow: Flow,
    a: str,
    v: int,
) -> None:
    chosen = list(flow.w or [])
    if a == "w":
        if v in chosen:
            chosen.remove(v)
        elif len(chosen) >= flow.hc:
            await query.answer(tr("deals.workers_enough", need=flow.hc))
            return
        else:
            chosen.append(v)  # ask_workers drops an id that is not in the pool
        flow.w = chosen
        await query.answer()
        await ask_workers(query, uow, state, account, flow)
    elif a == "wp":
        flow.wo = max(0, v)
        await query.answer()
        await ask_workers(query, uow, state, account, flow)
    elif a == "wa":
        flow.w, flow.fill = chosen, True  # ask_workers tops the choice up from the pool
        await query.answer()
        await ask_workers(query, uow, state, account, flow)
    elif len(chosen) != flow.hc:
        await query.answer(tr("deals.workers_pick_more", need=flow.hc))
    elif flow.mode == "accept":
        view = await deals.accept_deal(
            uow, account.actor(), flow.deal, expected_version=flow.ver, worker_ids=chosen
        )
        await end_flow(state)
        await query.answer(_("deals.accepted_toast"))
        await show_deal(query, uow, view, headline=_("deals.accepted_toast"))
    else:
        await query.answer()
        if flow.edit or flow.mode == "counter":
            await ask_summary(query, uow, state, account, flow)
        else:
            await ask_price(query, uow, state, account, flow)


# --- typed answers ----------------------------------------------------------------------------


async def headcount_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    flow = await load_flow(state)
    if flow is None:
        await state.set_state(None)
        await show_menu(message, account, _("common.stale"))
        return
    try:
        n = parse_headcount(message.text or "", maximum=max(flow.open, 1))
    except ValidationError as exc:
        await message.answer(
            error_text(exc) + "\n" + tr("deals.type_headcount", open=flow.open),
            reply_markup=inline_cancel_keyboard(),
        )
        return
    await headcount_chosen(message, uow, state, account, flow, n)


async def price_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    flow = await load_flow(state)
    if flow is None:
        await state.set_state(None)
        await show_menu(message, account, _("common.stale"))
        return
    try:
        price = parse_price(message.text or "")
    except ValidationError as exc:
        await ask_price(message, uow, state, account, flow, error=error_text(exc))
        return
    await price_chosen(message, uow, state, account, flow, price)


async def start_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    flow = await load_flow(state)
    if flow is None:
        await state.set_state(None)
        await show_menu(message, account, _("common.stale"))
        return
    try:
        day = parse_start_date(message.text, today_of(uow))
    except ValidationError as exc:
        await ask_start(message, uow, state, flow, error=error_text(exc))
        return
    await start_chosen(message, uow, state, account, flow, day)


HINTS = {
    DealFlow.headcount.state: N_("deals.hint_headcount"),
    DealFlow.price.state: N_("deals.hint_price"),
    DealFlow.start.state: N_("deals.hint_start"),
}


async def text_expected(message: Message, state: FSMContext) -> None:
    """A sticker or photo where a number, price or date is due; typing where buttons are."""
    key = HINTS.get(await state.get_state() or "", N_("deals.hint_buttons"))
    await message.answer(_(key), reply_markup=inline_cancel_keyboard())


async def show_deal(
    query: CallbackQuery,
    uow: UnitOfWork,
    view: DealView,
    *,
    headline: str | None = None,
    back: bool = False,
) -> None:
    locale = get_i18n().current_locale
    grades = await grade_names(uow, locale)
    await end_read(uow)
    text = deal_text(view, tr, locale, grades, headline=headline)
    await edit_or_send(query, text, deal_actions_keyboard(view, tr, back=back))
