"""Inline keyboards of "📋 My postings" and their callback data (prefixes "mpl", "mpc", "mpa",
"mpv"). Kinds are "s" (shortage) and "i" (idle posting); ids are opaque integers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import cancel_button
from bot.keyboards.shortage import HEADCOUNT_BUTTONS, price_options, propose_buttons, start_button
from bot.render.postings import money
from core.domain.money import format_money
from core.services.matching import MatchView
from core.services.paging import Page
from core.services.search import PostingCard

KIND_CODES = {"shortage": "s", "idle": "i"}
KINDS_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}


class MpListCb(CallbackData, prefix="mpl"):
    """A page of the list: kind, live (1) or closed (0), a keyset cursor and its direction."""

    k: str
    live: int = 1
    c: str = ""
    d: str = "n"


class MpCardCb(CallbackData, prefix="mpc"):
    k: str
    id: int


class MpActCb(CallbackData, prefix="mpa"):
    """An action on a card, with the version the card showed (a stale card changes nothing).
    act: hc (headcount) · pr (price) · fill / fill_ok · cancel / cancel_ok · esc / esc_ok ·
    match."""

    k: str
    id: int
    v: int
    act: str


class MpValCb(CallbackData, prefix="mpv"):
    """A value button while changing a posting: n (headcount), p (price), keep, reenter."""

    act: str
    val: str = ""


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def _b(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def list_keyboard(
    page: Page[PostingCard], *, kind: str, live: bool, both_kinds: bool, labels: Sequence[str]
) -> InlineKeyboardMarkup:
    """A button per posting (its short label), prev / next, and the live ↔ closed toggle;
    a dispatcher also switches between shortages and idle postings."""
    k = KIND_CODES[kind]
    rows = _rows(
        [_b(label, MpCardCb(k=k, id=c.id)) for c, label in zip(page.items, labels, strict=True)],
        1,
    )
    nav = []
    if page.prev_cursor:
        nav.append(_b(_("mp.prev"), MpListCb(k=k, live=int(live), c=page.prev_cursor, d="p")))
    if page.next_cursor:
        nav.append(_b(_("mp.next"), MpListCb(k=k, live=int(live), c=page.next_cursor, d="n")))
    if nav:
        rows.append(nav)
    toggles = [
        _b(_("mp.show_closed") if live else _("mp.show_live"), MpListCb(k=k, live=int(not live)))
    ]
    if both_kinds:
        other = "i" if k == "s" else "s"
        label = _("mp.tab_idle") if other == "i" else _("mp.tab_shortage")
        toggles.append(_b(label, MpListCb(k=other, live=int(live))))
    rows.append(toggles)
    if kind == "shortage":
        rows.append([start_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_keyboard(
    kind: str, posting_id: int, version: int, *, live: bool, escalated: bool
) -> InlineKeyboardMarkup:
    k = KIND_CODES[kind]

    def act(text: str, name: str) -> InlineKeyboardButton:
        return _b(text, MpActCb(k=k, id=posting_id, v=version, act=name))

    rows: list[list[InlineKeyboardButton]] = []
    if live:
        rows.append([act(_("mp.change_headcount"), "hc"), act(_("mp.change_price"), "pr")])
        closing = [act(_("mp.cancel_posting"), "cancel")]
        if kind == "shortage":
            closing.insert(0, act(_("mp.close_filled"), "fill"))
        rows.append(closing)
        more = [act(_("mp.matches"), "match")]
        if not escalated:
            more.append(act(_("mp.escalate"), "esc"))
        rows.append(more)
    rows.append([_b(_("mp.back_list"), MpListCb(k=k, live=int(live)))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(
    kind: str, posting_id: int, version: int, *, act: str, yes: str
) -> InlineKeyboardMarkup:
    """Yes (the action, with the card's version) or back to the card."""
    k = KIND_CODES[kind]
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _b(yes, MpActCb(k=k, id=posting_id, v=version, act=act)),
                _b(_("mp.back_card"), MpCardCb(k=k, id=posting_id)),
            ]
        ]
    )


def back_to_card(kind: str, posting_id: int) -> list[InlineKeyboardButton]:
    return [_b(_("mp.back_card"), MpCardCb(k=KIND_CODES[kind], id=posting_id))]


def matches_keyboard(
    kind: str, posting_id: int, matches: Sequence[MatchView]
) -> InlineKeyboardMarkup:
    if kind == "shortage":
        rows = propose_buttons(matches, shortage_id=posting_id)
    else:
        rows = propose_buttons(matches, idle_id=posting_id)
    return InlineKeyboardMarkup(inline_keyboard=[*rows, back_to_card(kind, posting_id)])


def headcount_edit_keyboard(kind: str, posting_id: int) -> InlineKeyboardMarkup:
    buttons = [_b(str(n), MpValCb(act="n", val=str(n))) for n in HEADCOUNT_BUTTONS]
    rows = _rows(buttons, 4)
    rows.append([*back_to_card(kind, posting_id), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def price_edit_keyboard(kind: str, posting_id: int, guide: Decimal | None) -> InlineKeyboardMarkup:
    rows = []
    if guide is not None:
        text = _("shortage.guide_button").format(price=money(guide))
        rows.append([_b(text, MpValCb(act="p", val=str(guide)))])
    options = [_b(format_money(p), MpValCb(act="p", val=str(p))) for p in price_options(guide)]
    rows += _rows(options, 3)
    rows.append([*back_to_card(kind, posting_id), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def price_warning_edit_keyboard(kind: str, posting_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _b(_("shortage.keep_price"), MpValCb(act="keep")),
                _b(_("shortage.reenter"), MpValCb(act="reenter")),
            ],
            [*back_to_card(kind, posting_id), cancel_button()],
        ]
    )
