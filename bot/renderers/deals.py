"""Deal texts (shared with bot/handlers/deals.py) and the renderers of the deal outbox kinds.

Kinds (queued by core.services.deals, payload {"deal_id", "event_id"}):
- "deal_offer", "deal_counter": the counterpart gets the terms with the history and
  Accept / Counter / Decline (the buttons carry the deal's version: a newer counter makes them
  stale);
- "deal_accepted": both sides, with the other side's contact name and full phone (parties of
  an accepted deal may see it) and the registered workers;
- "deal_declined", "deal_cancelled": the side that made the offer; "deal_expired": both.

The deal is read at send time as the recipient sees it (core.services.deals.get_deal with the
recipient's rights), so a message delivered late shows the current state and only live buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from aiogram import html

from bot.i18n import N_, Safe
from bot.keyboards.deals import deal_actions_keyboard
from bot.notifier import OutgoingMessage, Renderers, Translate
from bot.renderers.match import grade_names, is_zh, local_time, price_text
from core.db.uow import UnitOfWork
from core.domain.enums import DealAction, DealStatus, Side
from core.domain.errors import DomainError
from core.services import accounts
from core.services.deals import DealView, get_deal
from core.services.outbox import OutboxItem

ACTION_KEYS = {
    DealAction.PROPOSE: N_("deals.act_propose"),
    DealAction.COUNTER: N_("deals.act_counter"),
    DealAction.ACCEPT: N_("deals.act_accept"),
    DealAction.DECLINE: N_("deals.act_decline"),
    DealAction.CANCEL: N_("deals.act_cancel"),
    DealAction.EXPIRE: N_("deals.act_expire"),
}
RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers
HEADLINES = {
    "deal_offer": N_("deals.head_offer"),
    "deal_counter": N_("deals.head_counter"),
    "deal_accepted": N_("deals.head_accepted"),
    "deal_declined": N_("deals.head_declined"),
    "deal_cancelled": N_("deals.head_cancelled"),
    "deal_expired": N_("deals.head_expired"),
}


def side_name(view: DealView, side: Side) -> str:
    """The project for the shortage side, the supplying company for the idle side."""
    if side is Side.SHORTAGE:
        return view.project_name or view.shortage_enterprise_name
    return view.idle_enterprise_name


def who_text(T: Translate, view: DealView, side: Side | None) -> str:
    if side is None:
        return ""
    if view.my_sides == frozenset({side}):
        return T("deals.you")
    return html.quote(side_name(view, side))


def trade_of(view: DealView, locale: str) -> str:
    return view.trade_name_zh if is_zh(locale) else view.trade_name_en


def status_text(T: Translate, view: DealView) -> str:
    if view.status is DealStatus.PENDING:
        if view.my_turn:
            return T("deals.status_your_turn", until=local_time(view.expires_at))
        return T("deals.status_their_turn", until=local_time(view.expires_at))
    if view.status is DealStatus.ACCEPTED:
        at = view.accepted_at or view.expires_at
        return T("deals.status_accepted", at=local_time(at))
    return {
        DealStatus.DECLINED: T("deals.status_declined"),
        DealStatus.EXPIRED: T("deals.status_expired"),
        DealStatus.CANCELLED: T("deals.status_cancelled"),
    }[view.status]


def terms_text(T: Translate, headcount: int, price_line: str, start: str) -> str:
    return T("deals.terms", headcount=headcount, price=Safe(price_line), start=start)


def worker_line(
    T: Translate, name: str, id_masked: str, grade: str, avg: object, count: int
) -> str:
    rating = T("deals.rating", avg=str(avg), n=count) if avg is not None else T("deals.unrated")
    return T("deals.worker_line", name=name, id=id_masked, grade=grade, rating=Safe(rating))


def _my_posted_price(view: DealView) -> Decimal | None:
    """The price the viewer's own posting asked (a party of one side only)."""
    if view.my_sides == frozenset({Side.SHORTAGE}):
        return view.shortage_price
    if view.my_sides == frozenset({Side.IDLE}):
        return view.idle_price
    return None


def deal_text(
    view: DealView,
    T: Translate,
    locale: str,
    grades: Mapping[int, str],
    *,
    headline: str | None = None,
) -> str:
    """The deal as one of its parties sees it, short enough for a phone: what and who, the
    terms with the viewer's own asking price beside them, the status, the contacts once agreed,
    the workers, and the history only when there was more than the first offer."""
    grade = grades.get(view.min_grade, str(view.min_grade))
    lines: list[str] = []
    if headline:
        lines.append(f"<b>{headline}</b>")
    if headline and f"#{view.id}" in headline:  # the number once is enough
        lines.append(T("deals.card_what", trade=trade_of(view, locale), grade=grade))
    else:
        lines.append(T("deals.card_title", id=view.id, trade=trade_of(view, locale), grade=grade))
    lines += [
        T("deals.card_receiver", project=view.project_name, name=view.shortage_enterprise_name),
        T("deals.card_supplier", name=view.idle_enterprise_name),
        terms_text(T, view.headcount, price_text(T, view.price), view.start_date.isoformat()),
    ]
    mine = _my_posted_price(view)
    if mine is not None and mine != view.price:
        lines.append(T("deals.my_posted_price", price=Safe(price_text(T, mine))))
    lines.append(status_text(T, view))
    if view.contacts is not None:  # what the parties need now comes first
        shown = [side for side in (Side.SHORTAGE, Side.IDLE) if side not in view.my_sides]
        for side in shown or [Side.SHORTAGE, Side.IDLE]:
            contact = view.contacts.shortage if side is Side.SHORTAGE else view.contacts.idle
            lines.append(
                T(
                    "deals.contact_line",
                    side=side_name(view, side),
                    name=contact.name,
                    phone=contact.phone or "—",
                )
            )
    if view.workers:
        names = [
            T(
                "deals.worker_short",
                name=w.name,
                grade=grades.get(w.grade_level, str(w.grade_level)),
            )
            for w in view.workers
        ]
        separator = "、" if locale.startswith("zh") else ", "
        lines.append(T("deals.workers_inline", names=separator.join(names)))
    if len(view.history) > 1:  # a lone first offer is the terms above
        lines += ["", T("deals.history")]
    for event in view.history if len(view.history) > 1 else ():
        when = local_time(event.at)
        who = Safe(who_text(T, view, event.side))
        action = Safe(T(ACTION_KEYS[event.action]))
        if event.action in (DealAction.PROPOSE, DealAction.COUNTER):
            terms = terms_text(
                T, event.headcount, price_text(T, event.price), event.start_date.isoformat()
            )
            lines.append(
                T("deals.history_terms", at=when, who=who, action=action, terms=Safe(terms))
            )
        elif event.side is None:  # expiry: nobody acted
            lines.append(T("deals.history_plain", at=when, action=action))
        else:
            lines.append(T("deals.history_event", at=when, who=who, action=action))
    return "\n".join(lines)


# --- outbox renderers -------------------------------------------------------------------------


async def _render(item: OutboxItem, uow: UnitOfWork, t: Translate) -> list[OutgoingMessage]:
    deal_id = int(item.payload.get("deal_id", 0))
    try:
        account = await accounts.get_account(uow, item.account_id)
        view = await get_deal(uow, account.actor(), deal_id)
    except DomainError:
        return []  # the deal is gone, or the recipient no longer answers for its side
    locale = item.locale
    grades = await grade_names(uow, locale)
    headline = t(HEADLINES[item.kind], id=view.id)
    text = deal_text(view, t, locale, grades, headline=headline)
    return [OutgoingMessage(text=text, reply_markup=deal_actions_keyboard(view, t))]


for _kind in HEADLINES:
    RENDERERS.register(_kind)(_render)
