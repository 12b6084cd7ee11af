"""Inline keyboards of the "Post shortage" dialog and its callback data (prefix "sh")."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import ProposeCb
from bot.i18n import N_
from bot.keyboards.common import POST_SHORTAGE, cancel_button
from bot.render.postings import locale, money
from core.domain.money import format_money
from core.domain.values import MAX_MONTHLY_PRICE, MIN_MONTHLY_PRICE
from core.services.guide_prices import is_far_from_guide
from core.services.matching import MatchView
from core.services.postings import GradeChoice, PostingProject, TradeChoice

HEADCOUNT_BUTTONS = (1, 2, 3, 4, 5, 6, 8, 10)
PRICES_WITHOUT_GUIDE = (4000, 5000, 6000, 7000, 8000, 9000)
PRICE_STEP = 500
PROJECT_BUTTON_LEN = 40  # long project names make unreadable buttons

# steps of the dialog, in order ("back" and "edit" name them)
STEPS = ("project", "trade", "grade", "headcount", "price", "contact")


class ShCb(CallbackData, prefix="sh"):
    """One tap in the dialog. `act` says what, `val` carries an id, a code or a number:
    start (val: project id or "") · proj (project id) · trade (code) · more / less (trade
    page) · grade (level) · n (headcount) · ntype · price (yuan) · ptype · keep · reenter ·
    me · other · confirm · edit · field (a step) · back (a step) · summary."""

    act: str
    val: str = ""


def _button(text: str, act: str, val: object = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ShCb(act=act, val=str(val)).pack())


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def _markup(
    rows: list[list[InlineKeyboardButton]], back: str | None = None
) -> InlineKeyboardMarkup:
    last = [_button(_("shortage.back"), "back", back)] if back else []
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [*last, cancel_button()]])


def start_button(project_id: int | None = None) -> InlineKeyboardButton:
    """ "📝 Post shortage" as an inline button (for other screens, e.g. a project card)."""
    return _button(_(POST_SHORTAGE), "start", project_id or "")


def projects_keyboard(projects: Sequence[PostingProject]) -> InlineKeyboardMarkup:
    buttons = [_button(p.name[:PROJECT_BUTTON_LEN], "proj", p.id) for p in projects]
    return _markup(_rows(buttons, 1))


def trades_keyboard(
    trades: Sequence[TradeChoice], *, more: bool, back: str | None
) -> InlineKeyboardMarkup:
    """The guided trades first; "more…" opens the rest (and "main trades" goes back)."""
    loc = locale()
    shown = [t for t in trades if t.guided != more]
    rows = _rows([_button(t.name(loc), "trade", t.code) for t in shown], 3)
    if any(not t.guided for t in trades):
        toggle = _button(_("shortage.fewer_trades"), "less") if more else None
        rows.append([toggle or _button(_("shortage.more_trades"), "more")])
    return _markup(rows, back)


def grades_keyboard(grades: Sequence[GradeChoice], *, back: str | None) -> InlineKeyboardMarkup:
    loc = locale()
    return _markup(_rows([_button(g.name(loc), "grade", g.level) for g in grades], 3), back)


def headcount_keyboard(*, back: str | None, act: str = "n") -> InlineKeyboardMarkup:
    buttons = [_button(str(n), act, n) for n in HEADCOUNT_BUTTONS]
    buttons.append(_button(_("shortage.other_number"), "ntype"))
    return _markup(_rows(buttons, 3), back)


def typing_keyboard(back: str) -> InlineKeyboardMarkup:
    """While a number or a name is typed: only Back and Cancel."""
    return _markup([], back)


def price_options(guide: Decimal | None) -> list[Decimal]:
    """Round prices around the guide (none more than the warning limit off it), or common
    ones when the city has no guide price for this trade and grade."""
    if guide is None:
        return [Decimal(p) for p in PRICES_WITHOUT_GUIDE]
    base = (guide / PRICE_STEP).to_integral_value() * PRICE_STEP
    options = []
    for step in (-1, 0, 1, 2):
        value = Decimal(base + step * PRICE_STEP)
        if (
            value != guide
            and MIN_MONTHLY_PRICE <= value <= MAX_MONTHLY_PRICE
            and not is_far_from_guide(value, guide)
        ):
            options.append(value)
    return options


def price_keyboard(guide: Decimal | None, *, back: str | None) -> InlineKeyboardMarkup:
    buttons = []
    if guide is not None:
        buttons.append(
            InlineKeyboardButton(
                text=_("shortage.guide_button").format(price=money(guide)),
                callback_data=ShCb(act="price", val=str(guide)).pack(),
            )
        )
    rows = [buttons] if buttons else []
    rows += _rows([_button(format_money(p), "price", p) for p in price_options(guide)], 3)
    rows.append([_button(_("shortage.other_price"), "ptype")])
    return _markup(rows, back)


def price_warning_keyboard() -> InlineKeyboardMarkup:
    return _markup(
        [[_button(_("shortage.keep_price"), "keep"), _button(_("shortage.reenter"), "reenter")]]
    )


def contact_keyboard(*, prefilled: bool, back: str | None) -> InlineKeyboardMarkup:
    rows = [[_button(_("shortage.use_contact"), "me")]] if prefilled else []
    rows.append([_button(_("shortage.other_contact"), "other")])
    return _markup(rows, back)


def summary_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(_("shortage.confirm"), "confirm"), _button(_("shortage.edit"), "edit")],
            [cancel_button()],
        ]
    )


FIELD_KEYS = {
    "project": N_("shortage.field.project"),
    "trade": N_("shortage.field.trade"),
    "grade": N_("shortage.field.grade"),
    "headcount": N_("shortage.field.headcount"),
    "price": N_("shortage.field.price"),
    "contact": N_("shortage.field.contact"),
}


def edit_keyboard(*, with_project: bool) -> InlineKeyboardMarkup:
    fields = [f for f in STEPS if with_project or f != "project"]
    buttons = [_button(_(FIELD_KEYS[f]), "field", f) for f in fields]
    rows = _rows(buttons, 3)
    rows.append([_button(_("shortage.back"), "summary"), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def propose_buttons(
    matches: Sequence[MatchView], *, shortage_id: int | None = None, idle_id: int | None = None
) -> list[list[InlineKeyboardButton]]:
    """One "Propose n" button per match (the deals feature handles the tap)."""
    buttons = []
    for n, m in enumerate(matches, 1):
        sid = shortage_id if shortage_id is not None else m.posting_id
        iid = idle_id if idle_id is not None else m.posting_id
        buttons.append(
            InlineKeyboardButton(
                text=_("posting.propose").format(n=n),
                callback_data=ProposeCb(shortage_id=sid, idle_id=iid).pack(),
            )
        )
    return _rows(buttons, 3)
