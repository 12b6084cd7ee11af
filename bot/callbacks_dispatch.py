"""CallbackData of a dispatch's life: arrival, wages, release / extension. Opaque ids only;
every handler re-checks the sender's rights through the core services."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ArrivalCb(CallbackData, prefix="ar"):
    """Deal `d`: "y" assignment `s` arrived, "n" did not come, "all" everyone due arrived."""

    a: str
    d: int
    s: int = 0


class WageCb(CallbackData, prefix="wg"):
    """Wage period `p`. Receiving side: "paid", "part" (asks the amount), "unpaid". Labor side:
    "rcv" received, "rpart" part (asks the amount), "none" nothing, "wp1"/"wp0" workers paid
    or not."""

    a: str
    p: int


class DispatchCb(CallbackData, prefix="dp"):
    """Deal `d`: "o" open the dispatch card, "rel" release everyone today (only assignment `s`
    when given), "ext" extend by `m` months (0: until released), "day" type the last day
    (release or end date)."""

    a: str
    d: int
    m: int = 0
    s: int = 0


class ReplaceCb(CallbackData, prefix="rp"):
    """Send idle worker `w` instead of the no-show of assignment `s` on deal `d`."""

    d: int
    s: int
    w: int


class ReIdleCb(CallbackData, prefix="ri"):
    """📤 Declare idle again the workers released from deal `d` on day `on` (ISO date): the
    release notice's button; the idle dialog asks core who of them may still be declared."""

    d: int
    on: str
