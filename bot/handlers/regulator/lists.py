"""📑 需求 (open shortages by enterprise / project), 💰 成交 (deal records with filters) and
⭐ 评价 (worker ratings, lowest first): paginated lists, each with its Excel export."""

from __future__ import annotations

from typing import Literal

from aiogram import F
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator import deal_filters
from bot.handlers.regulator.common import (
    NOT_MENU,
    PAGE,
    Ctx,
    Reply,
    ask,
    clip,
    first_row,
    locale,
    mark,
    on_message,
    page_no,
    paging,
    pct,
    price_month,
    screen,
    show_screen,
    stale,
)
from bot.handlers.regulator.deal_filters import CUSTOM_SPAN, DEAL_STEPS
from bot.i18n import N_, tr
from bot.keyboards.common import DEAL_RECORDS, RATINGS, SHORTAGES, MenuText
from bot.keyboards.regulator import (
    PREV,
    DealCb,
    DealPickCb,
    ExportCb,
    RateCb,
    ShortCb,
    button,
    export_button,
    markup,
    rows,
)
from bot.render.errors import error_text
from core.domain.errors import ValidationError
from core.domain.ranges import preset_span
from core.domain.timeutil import SHANGHAI, local_date
from core.services import deals, open_shortages, ratings, region_scope
from core.services.paging import compact_cursor, expand_cursor
from core.services.regions import children, get_region

GROUPS: dict[str, Literal["enterprise", "project"]] = {"e": "enterprise", "p": "project"}
SPAN_LABELS = {
    "y": N_("regulator.span.yesterday"),
    "w": N_("regulator.span.week"),
    "m": N_("regulator.span.month"),
    "c": N_("regulator.span.this_month"),
}


# --- 需求: open shortages -------------------------------------------------------------------


@screen(ShortCb, SHORTAGES, lambda c: ShortCb(code=c.home))
async def shortages(c: Ctx, cb: ShortCb) -> Reply:
    if cb.group not in GROUPS:
        raise ValidationError("error.invalid")
    by_enterprise = cb.group == "e"
    result = await open_shortages.open_shortages(
        c.uow,
        c.actor,
        cb.code,
        group=GROUPS[cb.group],
        cursor=cb.cursor or None,
        limit=PAGE,
    )
    region = await get_region(c.uow, cb.code)
    loc = locale()
    title = (
        N_("regulator.shortages.title_enterprise")
        if by_enterprise
        else N_("regulator.shortages.title_project")
    )
    lines = [
        tr(title, region=region.name(loc)),
        tr(
            "regulator.shortages.totals",
            groups=result.total_groups,
            postings=result.total_postings,
            headcount=result.total_headcount,
            page=page_no(cb.cursor),
        ),
    ]
    page = result.page
    if not page.items:
        lines.append(_("regulator.shortages.empty"))
    for n, item in enumerate(page.items, start=first_row(cb.cursor) + 1):
        county = item.county_name(loc)
        if by_enterprise:
            name = clip(item.name, 24)
            lines.append(tr("regulator.shortages.line_enterprise", n=n, name=name, county=county))
        else:
            lines.append(
                tr(
                    "regulator.shortages.line_project",
                    n=n,
                    name=clip(item.name, 20),
                    enterprise=clip(item.enterprise_name, 16),
                    county=county,
                )
            )
        lines.append(
            tr(
                "regulator.shortages.detail",
                postings=item.postings,
                headcount=item.open_headcount,
                since=item.oldest_at.astimezone(SHANGHAI).strftime("%m-%d"),
                days=item.days_open,
                trades=" · ".join(f"{t.name(loc)} {t.headcount}" for t in item.trades),
            )
        )
    by_e = _("regulator.shortages.by_enterprise")
    by_p = _("regulator.shortages.by_project")
    toggle = [
        button(mark(by_enterprise, by_e), ShortCb(code=cb.code, group="e")),
        button(mark(not by_enterprise, by_p), ShortCb(code=cb.code, group="p")),
    ]
    keyboard = markup(
        toggle,
        paging(page, lambda at: ShortCb(code=cb.code, group=cb.group, cursor=at)),
        [export_button(ExportCb(table="o", code=cb.code, a=cb.group))],
    )
    return "\n".join(lines), keyboard


# --- 成交: deal records ---------------------------------------------------------------------


@screen(DealCb)
async def deals_screen(c: Ctx, cb: DealCb) -> Reply:
    region_scope.require_scope(c.actor, cb.area)  # the same refusal text on every screen
    # a typed date range, headcount and price bounds live in the FSM data (too long for a
    # button's 64 bytes); the button says span "r" for the typed range
    chosen = await deal_filters.current(c.state)
    if cb.span != CUSTOM_SPAN:
        start, end = preset_span(cb.span, local_date(c.uow.now()))
    elif chosen.dates is not None:
        start, end = chosen.dates
    else:
        raise ValidationError("error.invalid")
    low, high = chosen.headcount or (None, None)
    cheap, dear = chosen.price or (None, None)
    result = await deals.deal_records(
        c.uow,
        c.actor,
        region_code=cb.area,
        date_from=start,
        date_to=end,
        trade_code=cb.trade or None,
        headcount_min=low,
        headcount_max=high,
        price_min=cheap,
        price_max=dear,
        cursor=expand_cursor(cb.cursor.removeprefix(PREV)) or None,
        direction="prev" if cb.cursor.startswith(PREV) else "next",
        limit=PAGE,
    )
    loc = locale()
    area = await get_region(c.uow, cb.area)
    trades = await c.trades()
    if cb.trade and cb.trade not in trades:
        raise ValidationError("error.trade_unknown")
    trade = trades[cb.trade] if cb.trade else _("regulator.all")
    span = {"start": start.isoformat(), "end": end.isoformat()}
    lines = [
        tr("regulator.deals.title", region=area.name(loc), trade=trade, **span),
        *deal_filters.describe(chosen),
        tr(
            "regulator.deals.totals",
            count=result.total_deals,
            headcount=result.total_headcount,
            person_days=result.total_person_days,
        ),
        _("regulator.deals.person_days_note"),
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

    def pick(what: str, label: str) -> list[InlineKeyboardButton]:
        return [button(label, DealPickCb(area=cb.area, span=cb.span, trade=cb.trade, what=what))]

    def at(cursor: str) -> DealCb:
        return DealCb(area=cb.area, span=cb.span, trade=cb.trade, cursor=cursor)

    spans = [
        button(mark(span == cb.span, _(label)), DealCb(area=cb.area, span=span, trade=cb.trade))
        for span, label in SPAN_LABELS.items()
    ]
    typed = [
        *pick("d", mark(cb.span == CUSTOM_SPAN, _("regulator.deals.pick_dates"))),
        *pick("h", mark(chosen.headcount is not None, _("regulator.deals.pick_headcount"))),
        *pick("p", mark(chosen.price is not None, _("regulator.deals.pick_price"))),
    ]
    bounded = bool(chosen.headcount or chosen.price)
    clear = pick("x", _("regulator.deals.clear_filters")) if bounded else []
    filters = pick("t", tr("regulator.deals.trade_filter", trade=trade))
    if await children(c.uow, c.home):
        name = _("regulator.all") if cb.area == c.home else area.name(loc)
        filters += pick("a", tr("regulator.deals.area_filter", area=name))
    pages = paging(
        page, lambda cur: at(compact_cursor(cur)), lambda cur: at(PREV + compact_cursor(cur))
    )
    # the workbook covers the preset spans and the trade (its button has no room for more)
    plain = cb.span != CUSTOM_SPAN and not bounded
    export = ExportCb(table="d", code=cb.area, a=cb.span, b=cb.trade)
    keyboard = markup(
        spans[:2],
        spans[2:],
        typed,
        clear,
        filters,
        pages,
        [export_button(export)] if plain else [],
    )
    return "\n".join(lines), keyboard


@screen(DealPickCb)
async def deals_pick(c: Ctx, cb: DealPickCb) -> Reply | None:
    """The trade or area picker (each choice goes back to the list with that filter), or the
    question for a typed date range, headcount or price bound."""
    region_scope.require_scope(c.actor, cb.area)
    if cb.what in deal_filters.TYPED:
        return await deal_filters.ask(c.state, cb)
    back = DealCb(area=cb.area, span=cb.span, trade=cb.trade)
    if cb.what == "x":
        await deal_filters.clear_bounds(c.state)
        return await deals_screen(c, back)
    if cb.what == "t":
        text = _("regulator.deals.pick_trade")
        choices = [("", _("regulator.all")), *(await c.trades()).items()]
        buttons = [
            button(mark(code == cb.trade, name), DealCb(area=cb.area, span=cb.span, trade=code))
            for code, name in choices
        ]
    elif cb.what == "a":
        text = _("regulator.deals.pick_area")
        areas = [(c.home, _("regulator.all"))]
        areas += [(r.code, r.name(locale())) for r in await children(c.uow, c.home)]
        buttons = [
            button(mark(code == cb.area, name), DealCb(area=code, span=cb.span, trade=cb.trade))
            for code, name in areas
        ]
    else:
        return await stale(c)
    return text, markup(*rows(buttons), [button(_("regulator.back"), back)])


@on_message(MenuText(DEAL_RECORDS))
async def deals_menu(c: Ctx) -> None:
    """💰 成交 starts over: this week, every trade, no typed filters."""
    await c.state.set_state(None)
    await deal_filters.forget(c.state)
    await show_screen(c, deals_screen, DealCb(area=c.home))


@on_message(DEAL_STEPS, F.text, NOT_MENU)
async def deal_filter_typed(c: Ctx) -> None:
    """A typed date range, headcount or price bound: the list again, filtered; a value that
    does not read gets what was wrong and the same question."""
    step = await c.state.get_state()
    try:
        back = await deal_filters.store(c.state, step, c.message.text or "", c.home)
    except ValidationError as exc:
        await ask(c.message, error_text(exc), deal_filters.question_of(step))
        return
    await show_screen(c, deals_screen, back)


@on_message(DEAL_STEPS, NOT_MENU)
async def deal_filter_expected(c: Ctx) -> None:
    """A sticker, photo or anything but text where a range is due."""
    await ask(c.message, deal_filters.question_of(await c.state.get_state()))


# --- 评价: worker ratings -------------------------------------------------------------------


@screen(RateCb, RATINGS, lambda c: RateCb(code=c.home))
async def ratings_screen(c: Ctx, cb: RateCb) -> Reply:
    region_scope.require_scope(c.actor, cb.code)  # the same refusal text on every screen
    page = await ratings.worker_rating_stats(
        c.uow, c.actor, region_code=cb.code, cursor=cb.cursor or None, limit=PAGE
    )
    region = await get_region(c.uow, cb.code)
    trades = await c.trades()
    lines = [tr("regulator.ratings.title", region=region.name(locale()), page=page_no(cb.cursor))]
    if not page.items:
        lines.append(_("regulator.ratings.empty"))
    for n, s in enumerate(page.items, start=first_row(cb.cursor) + 1):
        lines.append(
            tr(
                "regulator.ratings.line",
                n=n,
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
    pages = paging(page, lambda at: RateCb(code=cb.code, cursor=at))
    return "\n".join(lines), markup(pages, [export_button(ExportCb(table="r", code=cb.code))])
