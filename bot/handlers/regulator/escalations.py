"""🧭 协调: shortages and idle postings escalated to the bureau (the third ring), each with its
suggested matches inside the region; "Broker" sends both companies a suggestion (outbox)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import (
    Ctx,
    Reply,
    clip,
    locale,
    mark,
    paging,
    price_month,
    screen,
)
from bot.i18n import N_, tr
from bot.keyboards.common import ESCALATIONS
from bot.keyboards.regulator import (
    BrokerCb,
    EscCb,
    EscViewCb,
    button,
    markup,
    with_cancel,
)
from core.domain.errors import ValidationError
from core.services import brokering
from core.services.regions import get_region
from core.services.search import PostingCard

PAGE = 5
KINDS = {"s": "shortage", "i": "idle"}


def _grade(card: PostingCard) -> str:
    """一级 / 三级及以上 style: a shortage asks for a grade or better."""
    if card.kind == "shortage":
        return tr("regulator.esc.grade_min", level=card.grade_level)
    return tr("regulator.esc.grade", level=card.grade_level)


def card_line(card: PostingCard, loc: str) -> str:
    """One posting in two short lines: who and where, then what, how many, what price."""
    zh = loc.startswith("zh")
    trade = card.trade_name_zh if zh else card.trade_name_en
    county = card.county_name_zh if zh else card.county_name_en
    who = (
        tr(
            "regulator.esc.who_shortage",
            id=card.id,
            enterprise=clip(card.enterprise_name, 20),
            project=clip(card.project_name or "", 20),
            county=county,
        )
        if card.kind == "shortage"
        else tr(
            "regulator.esc.who_idle",
            id=card.id,
            enterprise=clip(card.enterprise_name, 20),
            county=county,
        )
    )
    what = tr(
        N_("regulator.esc.what_shortage")
        if card.kind == "shortage"
        else N_("regulator.esc.what_idle"),
        trade=trade,
        grade=_grade(card),
        headcount=card.open_headcount,
        price=price_month(card.price),
    )
    return f"{who}\n{what}"


@screen(EscCb, ESCALATIONS, lambda c: EscCb(kind="s", code=c.home))
async def escalated(c: Ctx, cb: EscCb) -> Reply:
    if cb.kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    page = await brokering.escalated_postings(
        c.uow,
        c.actor,
        cb.code,
        KINDS[cb.kind],
        cursor=cb.cursor or None,
        direction="prev" if cb.back else "next",
        limit=PAGE,
    )
    region = await get_region(c.uow, cb.code)
    loc = locale()
    title = (
        N_("regulator.esc.title_shortage") if cb.kind == "s" else N_("regulator.esc.title_idle")
    )
    lines = [tr(title, region=region.name(loc))]
    if not page.items:
        lines.append(_("regulator.esc.empty"))
    lines += [card_line(card, loc) for card in page.items]
    opens = [
        [button(tr("regulator.esc.open", id=card.id), EscViewCb(kind=cb.kind, id=card.id))]
        for card in page.items
    ]
    toggle = [
        button(mark(cb.kind == "s", _("regulator.esc.shortages")), EscCb(kind="s", code=cb.code)),
        button(mark(cb.kind == "i", _("regulator.esc.idle")), EscCb(kind="i", code=cb.code)),
    ]
    pages = paging(
        page,
        lambda at: EscCb(kind=cb.kind, code=cb.code, cursor=at),
        lambda at: EscCb(kind=cb.kind, code=cb.code, cursor=at, back=1),
    )
    return "\n\n".join(lines), markup(toggle, *opens, pages)


@screen(EscViewCb)
async def posting(c: Ctx, cb: EscViewCb) -> Reply:
    """One escalated posting with its suggested matches, each with a Broker button."""
    if cb.kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    detail = await brokering.escalation_detail(c.uow, c.actor, KINDS[cb.kind], cb.id)
    loc = locale()
    shown = detail.posting
    contact = {"name": shown.contact_name, "phone": shown.contact_phone_masked}
    lines = [
        card_line(shown, loc),
        tr("regulator.esc.contact", **contact),
        "",
        _("regulator.esc.matches") if detail.matches else _("regulator.esc.no_matches"),
    ]
    buttons = []
    for n, match in enumerate(detail.matches, start=1):
        lines.append(f"{n}. {card_line(match.card, loc)}")
        lines.append(tr("regulator.esc.score", score=f"{match.score:.0f}"))
        if shown.kind == "shortage":
            pair = BrokerCb(shortage=shown.id, idle=match.posting_id)
        else:
            pair = BrokerCb(shortage=match.posting_id, idle=shown.id)
        buttons.append([button(tr("regulator.esc.broker", n=n), pair)])
    back = [button(_("regulator.back"), EscCb(kind=cb.kind, code=c.home))]
    return "\n".join(lines), markup(*buttons, back)


@screen(BrokerCb)
async def broker(c: Ctx, cb: BrokerCb) -> Reply:
    """Suggest the pair to both companies: asks first (ok 0), then queues both messages."""
    back = button(_("regulator.back"), EscViewCb(kind="s", id=cb.shortage))
    if not cb.ok:
        shortage, idle = await brokering.pair_cards(c.uow, c.actor, cb.shortage, cb.idle)
        cards = (card_line(shortage, locale()), card_line(idle, locale()))
        ok = BrokerCb(shortage=cb.shortage, idle=cb.idle, ok=1)
        text = "\n\n".join((_("regulator.broker.ask"), *cards))
        return text, with_cancel([button(_("regulator.confirm"), ok), back])
    result = await brokering.broker_pair(c.uow, c.actor, cb.shortage, cb.idle)
    text = tr(
        "regulator.broker.sent",
        shortage=result.shortage_id,
        idle=result.idle_id,
        n=len(result.recipient_account_ids),
    )
    return text, markup([back])
