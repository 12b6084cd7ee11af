"""The regulator's inline keyboards and their CallbackData factories.

Callback data carries region codes, posting / worker ids and short filter codes only (64-byte
limit). The client can send anything: every handler passes them to core services that check the
sender's region scope again, so a forged code from another city is refused there.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import cancel_button

PER_ROW = 3  # region, trade and grade buttons per row: big enough for a thumb


# --- callback data --------------------------------------------------------------------------


class SumCb(CallbackData, prefix="rgs"):
    """汇总 of a region (drill-down: a sub-region's code)."""

    code: str


class TopCb(CallbackData, prefix="rgn"):
    """The top-50 enterprises by credit in a region, page 0..4 of ten."""

    code: str
    page: int = 0


class StatCb(CallbackData, prefix="rgt"):
    """统计: trade × grade in a region."""

    code: str


class ShortCb(CallbackData, prefix="rgo"):
    """需求: open shortages grouped by enterprise ("e") or project ("p"), an offset cursor."""

    code: str
    group: str = "e"
    cursor: str = ""


class SilentCb(CallbackData, prefix="rgq"):
    """Projects of a region silent for 30 days (采集上报率), an offset cursor."""

    code: str
    cursor: str = ""


class DealCb(CallbackData, prefix="rgd"):
    """成交: deal records of `area` (home region or one sub-region) in a date span
    (y yesterday, w 7 days, m 30 days, c this calendar month), a trade ("" all). The cursor
    is core's keyset cursor in its compact form (`compact_cursor`); one starting with PREV
    pages towards newer records. At most 64 bytes even with a 30-character trade code (the
    column's width) and a deal id of 2**31 - 1."""

    area: str
    span: str = "w"
    trade: str = ""
    cursor: str = ""


PREV = "<"  # in neither the base64url alphabet of core cursors nor base 36


class DealPickCb(CallbackData, prefix="rgf"):
    """A filter of the deal records: pick "t" trade or "a" area (sub-region); type "d" a date
    range, "h" a headcount or "p" a price range; "x" clears the headcount and price bounds."""

    area: str
    span: str
    trade: str
    what: str


class RateCb(CallbackData, prefix="rgr"):
    """评价: worker ratings in a region, lowest first, an offset cursor."""

    code: str
    cursor: str = ""


class GuideCb(CallbackData, prefix="rgp"):
    """指导价: "v" view a city, "c" choose a city, "s" set: pick a trade, "t" trade picked,
    "g" grade picked (type the price), "ok" confirm the typed price; "ft" / "fg" the city's
    prices of one trade / grade (picker while empty), "h" a price's history, "d" delete the
    published price `id` (asks), "dx" delete it."""

    act: str
    city: str = ""
    trade: str = ""
    grade: int = 0
    id: int = 0


class GradeCb(CallbackData, prefix="rgg"):
    """评级: a worker's card (grade 0), a new grade to confirm, or `ok` 1 to apply it."""

    worker: int
    grade: int = 0
    ok: int = 0


class GradeListCb(CallbackData, prefix="rgw"):
    """评级 by browsing and by workbook: "l" the list (an offset cursor), "f" open the picker
    of filter `v` (t trade, g grade, s gender, a age, e education), "t"/"g"/"s"/"a"/"e" set
    that filter to `v` ("" any), "x" export the workbook, "u" ask for the returned one, "ok"
    apply the one previewed. The filters themselves wait in the FSM data."""

    act: str
    v: str = ""
    cursor: str = ""


class EscCb(CallbackData, prefix="rge"):
    """协调: escalated postings of a kind ("s" shortage, "i" idle) in a region."""

    kind: str
    code: str
    cursor: str = ""
    back: int = 0


class EscViewCb(CallbackData, prefix="rgv"):
    """One escalated posting with its suggested matches."""

    kind: str
    id: int


class BrokerCb(CallbackData, prefix="rgb"):
    """Suggest this pair to both companies (`ok` 0: ask to confirm first)."""

    shortage: int
    idle: int
    ok: int = 0


class ExportCb(CallbackData, prefix="rgx"):
    """📥 Excel of a table: s summary, n top enterprises, t statistics, o open shortages (a:
    group), d deal records (a: span, b: trade), r ratings, p guide prices (code: the city)."""

    table: str
    code: str
    a: str = ""
    b: str = ""


# --- builders -------------------------------------------------------------------------------


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int = PER_ROW
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def pager(prev: CallbackData | None, next_: CallbackData | None) -> list[InlineKeyboardButton]:
    """◀ and ▶ where there is a page that way (the page number is in the text)."""
    row = []
    if prev is not None:
        row.append(button(_("regulator.page_prev"), prev))
    if next_ is not None:
        row.append(button(_("regulator.page_next"), next_))
    return row


def export_button(data: ExportCb) -> InlineKeyboardButton:
    return button(_("regulator.export"), data)


def markup(*button_rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[r for r in button_rows if r])


def with_cancel(*button_rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return markup(*button_rows, [cancel_button()])
