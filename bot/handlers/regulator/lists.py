"""📑 需求 (open shortages by enterprise / project), 💰 成交 (deal records with filters) and
⭐ 评价 (worker ratings, lowest first): paginated lists, each with its Excel export."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator import deal_filters
from bot.handlers.regulator.common import Event, clip, home, locale, pct, price_month, show
from bot.handlers.regulator.deal_filters import CUSTOM_SPAN
from bot.i18n import N_, tr
from bot.keyboards.common import cancel_button
from bot.keyboards.regulator import (
    PREV,
    DealCb,
    DealPickCb,
    ExportCb,
    RateCb,
    ShortCb,
    button,
    compact_cursor,
    expand_cursor,
    export_button,
    markup,
    pager,
    rows,
)
from bot.render.errors import error_text
from core.db.uow import UnitOfWork
from core.domain.errors import ValidationError
from core.domain.ranges import MAX_RANGE_DAYS
from core.domain.timeutil import SHANGHAI, local_date
from core.services import deals, open_shortages, ratings, reference_choices, region_scope
from core.services.accounts import AccountView
from core.services.paging import decode_id_cursor
from core.services.regions import children, get_region

PAGE = 10
GROUPS = {"e": "enterprise", "p": "project"}
SPANS = ("y", "w", "m", "c")
SPAN_LABELS = {
    "y": N_("regulator.span.yesterday"),
    "w": N_("regulator.span.week"),
    "m": N_("regulator.span.month"),
    "c": N_("regulator.span.this_month"),
}


def _mark(chosen: bool, text: str) -> str:
    return f"✅ {text}" if chosen else text


def _page_no(cursor: str) -> int:
    return (decode_id_cursor(cursor) // PAGE + 1) if cursor else 1


# --- 需求: open shortages -------------------------------------------------------------------


async def _shortages(
    event: Event, uow: UnitOfWork, account: AccountView, code: str, group: str, cursor: str
) -> None:
    if group not in GROUPS:
        raise ValidationError("error.invalid")
    result = await open_shortages.open_shortages(
        uow,
        account.actor(),
        code,
        group=GROUPS[group],  # type: ignore[arg-type]
        cursor=cursor or None,
        limit=PAGE,
    )
    region = await get_region(uow, code)
    loc = locale()
    title = (
        N_("regulator.shortages.title_enterprise")
        if group == "e"
        else N_("regulator.shortages.title_project")
    )
    lines = [
        tr(title, region=region.name(loc)),
        tr(
            "regulator.shortages.totals",
            groups=result.total_groups,
            postings=result.total_postings,
            headcount=result.total_headcount,
            page=_page_no(cursor),
        ),
    ]
    page = result.page
    if not page.items:
        lines.append(_("regulator.shortages.empty"))
    first = (_page_no(cursor) - 1) * PAGE
    for index, item in enumerate(page.items, start=first + 1):
        trades = " · ".join(f"{t.name(loc)} {t.headcount}" for t in item.trades)
        if group == "e":
            head = tr(
                "regulator.shortages.line_enterprise",
                n=index,
                name=clip(item.name, 24),
                county=item.county_name(loc),
            )
        else:
            head = tr(
                "regulator.shortages.line_project",
                n=index,
                name=clip(item.name, 20),
                enterprise=clip(item.enterprise_name, 16),
                county=item.county_name(loc),
            )
        lines.append(head)
        lines.append(
            tr(
                "regulator.shortages.detail",
                postings=item.postings,
                headcount=item.open_headcount,
                since=item.oldest_at.astimezone(SHANGHAI).strftime("%m-%d"),
                days=item.days_open,
                trades=trades,
            )
        )
    toggle = [
        button(
            _mark(group == "e", _("regulator.shortages.by_enterprise")),
            ShortCb(code=code, group="e"),
        ),
        button(
            _mark(group == "p", _("regulator.shortages.by_project")),
            ShortCb(code=code, group="p"),
        ),
    ]
    prev = (
        ShortCb(code=code, group=group, cursor=page.prev_cursor)
        if page.prev_cursor is not None
        else None
    )
    nxt = (
        ShortCb(code=code, group=group, cursor=page.next_cursor)
        if page.next_cursor is not None
        else None
    )
    keyboard = markup(
        toggle, pager(prev, nxt), [export_button(ExportCb(table="o", code=code, a=group))]
    )
    await show(event, "\n".join(lines), keyboard)


async def shortages_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    await state.set_state(None)
    await _shortages(message, uow, account, home(account), "e", "")


async def shortages_tap(
    query: CallbackQuery, callback_data: ShortCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    await _shortages(query, uow, account, cb.code, cb.group, cb.cursor)


# --- 成交: deal records ---------------------------------------------------------------------


def span_dates(span: str, today: date) -> tuple[date, date]:
    """The inclusive Shanxi-day range of a preset."""
    if span == "y":
        yesterday = today - timedelta(days=1)
        return yesterday, yesterday
    if span == "w":
        return today - timedelta(days=6), today
    if span == "m":
        return today - timedelta(days=29), today
    if span == "c":
        return today.replace(day=1), today
    raise ValidationError("error.invalid")


async def _deals(
    event: Event, uow: UnitOfWork, account: AccountView, cb: DealCb, state: FSMContext
) -> None:
    actor = account.actor()
    region_scope.require_scope(actor, cb.area)  # the same refusal text on every screen
    # a typed date range, headcount and price bounds live in the FSM data (too long for a
    # button's 64 bytes); the button says span "r" for the typed range
    chosen = await deal_filters.current(state)
    if cb.span == CUSTOM_SPAN:
        if chosen.dates is None:
            raise ValidationError("error.invalid")
        start, end = chosen.dates
    else:
        start, end = span_dates(cb.span, local_date(uow.now()))
    result = await deals.deal_records(
        uow,
        actor,
        region_code=cb.area,
        date_from=start,
        date_to=end,
        trade_code=cb.trade or None,
        headcount_min=chosen.headcount[0] if chosen.headcount else None,
        headcount_max=chosen.headcount[1] if chosen.headcount else None,
        price_min=chosen.price[0] if chosen.price else None,
        price_max=chosen.price[1] if chosen.price else None,
        cursor=expand_cursor(cb.cursor.removeprefix(PREV)) or None,
        direction="prev" if cb.cursor.startswith(PREV) else "next",
        limit=PAGE,
    )
    loc = locale()
    area = await get_region(uow, cb.area)
    trades = {c.code: c.name(loc) for c in await reference_choices.trade_choices(uow)}
    if cb.trade and cb.trade not in trades:
        raise ValidationError("error.trade_unknown")
    trade = trades[cb.trade] if cb.trade else _("regulator.all")
    lines = [
        tr(
            "regulator.deals.title",
            region=area.name(loc),
            start=start.isoformat(),
            end=end.isoformat(),
            trade=trade,
        ),
        *deal_filters.describe(chosen),
        tr(
            "regulator.deals.totals",
            count=result.total_deals,
            headcount=result.total_headcount,
            person_days=result.total_person_days,
        ),
        tr("regulator.deals.person_days_note", days=deals.DAYS_PER_MONTH),
    ]
    page = result.page
    if not page.items:
        lines.append(_("regulator.deals.empty"))
    for record in page.items:
        lines.append(
            tr(
                "regulator.deals.line",
                at=record.accepted_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M"),
                enterprise=clip(record.enterprise_name, 20),
                trade=trades.get(record.trade_code, record.trade_code),
                headcount=record.headcount,
                person_days=record.person_days,
                price=price_month(record.price),
            )
        )
    spans = [
        button(
            _mark(span == cb.span, _(SPAN_LABELS[span])),
            DealCb(area=cb.area, span=span, trade=cb.trade),
        )
        for span in SPANS
    ]
    typed = [
        button(
            _mark(cb.span == CUSTOM_SPAN, _("regulator.deals.pick_dates")),
            DealPickCb(area=cb.area, span=cb.span, trade=cb.trade, what="d"),
        ),
        button(
            _mark(chosen.headcount is not None, _("regulator.deals.pick_headcount")),
            DealPickCb(area=cb.area, span=cb.span, trade=cb.trade, what="h"),
        ),
        button(
            _mark(chosen.price is not None, _("regulator.deals.pick_price")),
            DealPickCb(area=cb.area, span=cb.span, trade=cb.trade, what="p"),
        ),
    ]
    if chosen.headcount or chosen.price:
        typed.append(
            button(
                _("regulator.deals.clear_filters"),
                DealPickCb(area=cb.area, span=cb.span, trade=cb.trade, what="x"),
            )
        )
    filters = [
        button(
            tr("regulator.deals.trade_filter", trade=trade),
            DealPickCb(area=cb.area, span=cb.span, trade=cb.trade, what="t"),
        )
    ]
    if await children(uow, home(account)):
        filters.append(
            button(
                tr(
                    "regulator.deals.area_filter",
                    area=_("regulator.all") if cb.area == home(account) else area.name(loc),
                ),
                DealPickCb(area=cb.area, span=cb.span, trade=cb.trade, what="a"),
            )
        )
    prev = (
        DealCb(
            area=cb.area,
            span=cb.span,
            trade=cb.trade,
            cursor=PREV + compact_cursor(page.prev_cursor),
        )
        if page.prev_cursor
        else None
    )
    nxt = (
        DealCb(area=cb.area, span=cb.span, trade=cb.trade, cursor=compact_cursor(page.next_cursor))
        if page.next_cursor
        else None
    )
    # the workbook covers the preset spans and the trade (its button has no room for more)
    plain = cb.span != CUSTOM_SPAN and not chosen.headcount and not chosen.price
    keyboard = markup(
        spans[:2],
        spans[2:],
        typed[:3],
        typed[3:],
        filters,
        pager(prev, nxt),
        [export_button(ExportCb(table="d", code=cb.area, a=cb.span, b=cb.trade))] if plain else [],
    )
    await show(event, "\n".join(lines), keyboard)


async def deals_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    await state.set_state(None)
    await deal_filters.forget(state)  # the menu starts over: no typed filters
    await _deals(message, uow, account, DealCb(area=home(account)), state)


async def deals_tap(
    query: CallbackQuery,
    callback_data: DealCb,
    uow: UnitOfWork,
    account: AccountView,
    state: FSMContext,
) -> None:
    await _deals(query, uow, account, callback_data, state)


async def deals_pick(
    query: CallbackQuery,
    callback_data: DealPickCb,
    uow: UnitOfWork,
    account: AccountView,
    state: FSMContext,
) -> None:
    """The trade or area picker (each choice goes back to the list with that filter), or the
    question for a typed date range, headcount or price bound."""
    cb = callback_data
    region_scope.require_scope(account.actor(), cb.area)
    if cb.what in deal_filters.TYPED:
        await deal_filters.ask(query, state, cb)
        return
    if cb.what == "x":
        await deal_filters.clear_bounds(state)
        await _deals(
            query, uow, account, DealCb(area=cb.area, span=cb.span, trade=cb.trade), state
        )
        return
    loc = locale()
    choices = []
    if cb.what == "t":
        text = _("regulator.deals.pick_trade")
        choices.append(
            button(_mark(not cb.trade, _("regulator.all")), DealCb(area=cb.area, span=cb.span))
        )
        for trade in await reference_choices.trade_choices(uow):
            choices.append(
                button(
                    _mark(trade.code == cb.trade, trade.name(loc)),
                    DealCb(area=cb.area, span=cb.span, trade=trade.code),
                )
            )
    elif cb.what == "a":
        text = _("regulator.deals.pick_area")
        own = home(account)
        choices.append(
            button(
                _mark(cb.area == own, _("regulator.all")),
                DealCb(area=own, span=cb.span, trade=cb.trade),
            )
        )
        for region in await children(uow, own):
            choices.append(
                button(
                    _mark(region.code == cb.area, region.name(loc)),
                    DealCb(area=region.code, span=cb.span, trade=cb.trade),
                )
            )
    else:
        await query.answer(_("common.stale"))
        return
    back = button(_("regulator.back"), DealCb(area=cb.area, span=cb.span, trade=cb.trade))
    await show(query, text, markup(*rows(choices), [back]))


# --- 评价: worker ratings -------------------------------------------------------------------


async def _ratings(
    event: Event, uow: UnitOfWork, account: AccountView, code: str, cursor: str
) -> None:
    region_scope.require_scope(account.actor(), code)  # the same refusal text on every screen
    page = await ratings.worker_rating_stats(
        uow, account.actor(), region_code=code, cursor=cursor or None, limit=PAGE
    )
    region = await get_region(uow, code)
    loc = locale()
    trades = {c.code: c.name(loc) for c in await reference_choices.trade_choices(uow)}
    lines = [tr("regulator.ratings.title", region=region.name(loc), page=_page_no(cursor))]
    if not page.items:
        lines.append(_("regulator.ratings.empty"))
    first = (_page_no(cursor) - 1) * PAGE
    for index, s in enumerate(page.items, start=first + 1):
        lines.append(
            tr(
                "regulator.ratings.line",
                n=index,
                name=s.name,
                id_masked=s.id_masked,
                trade=trades.get(s.trade_code, s.trade_code),
                enterprise=clip(s.enterprise_name, 20),
            )
        )
        lines.append(
            tr(
                "regulator.ratings.shares",
                avg=s.average,
                count=s.rating_count,
                unsatisfied=pct(s.unsatisfied_pct),
                fair=pct(s.fair_pct),
                satisfied=pct(s.satisfied_pct),
                very=pct(s.very_satisfied_pct),
            )
        )
    prev = RateCb(code=code, cursor=page.prev_cursor) if page.prev_cursor is not None else None
    nxt = RateCb(code=code, cursor=page.next_cursor) if page.next_cursor is not None else None
    keyboard = markup(pager(prev, nxt), [export_button(ExportCb(table="r", code=code))])
    await show(event, "\n".join(lines), keyboard)


async def ratings_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    await state.set_state(None)
    await _ratings(message, uow, account, home(account), "")


async def ratings_tap(
    query: CallbackQuery, callback_data: RateCb, uow: UnitOfWork, account: AccountView
) -> None:
    await _ratings(query, uow, account, callback_data.code, callback_data.cursor)


async def deal_filter_typed(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    """A typed date range, headcount or price bound: the list again, filtered; a value that
    does not read gets what was wrong and the same question."""
    step = await state.get_state()
    try:
        back = await deal_filters.store(state, step, message.text or "")
    except ValidationError as exc:
        await message.answer(
            "\n".join((error_text(exc), tr(deal_filters.question_of(step), max=MAX_RANGE_DAYS))),
            reply_markup=markup([cancel_button()]),
        )
        return
    cb = DealCb(area=back["area"] or home(account), span=back["span"], trade=back["trade"])
    await _deals(message, uow, account, cb, state)


async def deal_filter_expected(message: Message, state: FSMContext) -> None:
    """A sticker, photo or anything but text where a range is due."""
    step = await state.get_state()
    await message.answer(
        tr(deal_filters.question_of(step), max=MAX_RANGE_DAYS),
        reply_markup=markup([cancel_button()]),
    )
