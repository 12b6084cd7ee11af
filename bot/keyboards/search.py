"""Inline keyboards of 🔍 Search: the filter screen, each filter's choices, result pages and
the posting card. Button texts are plain text (never passed through tr's HTML escaping)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import SearchCb, SearchPageCb, ViewPostingCb
from bot.keyboards.common import cancel_button

PER_ROW = 3


def sf(text: str, a: str, f: str = "", v: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=SearchCb(a=a, f=f, v=v).pack())


def rows_of(
    buttons: Sequence[InlineKeyboardButton], per_row: int = PER_ROW
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def filters_keyboard(*, can_toggle_kind: bool, kind: str) -> InlineKeyboardMarkup:
    """The filter screen: one button per filter, the kind toggle for dispatchers, Show.

    The same for everyone of a language: built once (a dozen pydantic buttons and packed
    callback data were a good part of the 🔍 tap) and shared, never modified."""
    return _filters_keyboard(get_i18n().current_locale, can_toggle_kind, kind)


@functools.lru_cache(maxsize=16)
def _filters_keyboard(_locale: str, can_toggle_kind: bool, kind: str) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if can_toggle_kind:
        if kind == "s":
            rows.append([sf(_("search.btn_switch_to_idle"), "set", "k", "i")])
        else:
            rows.append([sf(_("search.btn_switch_to_shortage"), "set", "k", "s")])
    rows += [
        [sf(_("search.btn_region"), "open", "r"), sf(_("search.btn_trade"), "open", "t")],
        [sf(_("search.btn_grade"), "open", "g"), sf(_("search.btn_price"), "open", "p")],
        [sf(_("search.btn_ring"), "open", "rg")],
        [sf(_("search.btn_go"), "go")],
        [cancel_button()],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def choices_keyboard(
    field: str,
    choices: Sequence[tuple[str, str]],
    *,
    any_text: str,
    any_value: str = "",
    action: str = "set",
    per_row: int = PER_ROW,
    extra: Sequence[InlineKeyboardButton] = (),
) -> InlineKeyboardMarkup:
    """(label, value) buttons that set `field` (or run `action` with the value), "any" first,
    then Back to the filter screen."""
    buttons = [
        sf(label, action, field if action == "set" else "", value) for label, value in choices
    ]
    rows = [[sf(any_text, "set", field, any_value)], *rows_of(buttons, per_row)]
    if extra:
        rows.append(list(extra))
    rows.append([sf(_("search.btn_back"), "show")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def results_keyboard(
    items: Sequence[tuple[str, str, int]],
    *,
    prev_cb: SearchPageCb | None,
    next_cb: SearchPageCb | None,
) -> InlineKeyboardMarkup:
    """(label, kind code, id) per result, then ◀ ▶ and the way back to the filters."""
    rows = [
        [
            InlineKeyboardButton(
                text=label, callback_data=ViewPostingCb(kind=kind, id=posting_id).pack()
            )
        ]
        for label, kind, posting_id in items
    ]
    nav = []
    if prev_cb is not None:
        nav.append(InlineKeyboardButton(text=_("search.btn_prev"), callback_data=prev_cb.pack()))
    if next_cb is not None:
        nav.append(InlineKeyboardButton(text=_("search.btn_next"), callback_data=next_cb.pack()))
    if nav:
        rows.append(nav)
    rows.append([sf(_("search.btn_filters"), "show"), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def card_keyboard(*, propose: str | None, back: str | None) -> InlineKeyboardMarkup | None:
    """🤝 Propose dispatch (packed ProposeCb) and ⬅ back to the results page it came from."""
    rows = []
    if propose is not None:
        rows.append([InlineKeyboardButton(text=_("search.btn_propose"), callback_data=propose)])
    if back is not None:
        rows.append([InlineKeyboardButton(text=_("search.btn_back_results"), callback_data=back)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
