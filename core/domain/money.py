"""The one way an amount of money is shown, so a price reads the same on every card, button,
digest and report."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NO_AMOUNT = "—"
_FEN = Decimal("0.01")
_YUAN = Decimal(1)


def format_money(value: Decimal | int | None, *, whole: bool = False, symbol: bool = True) -> str:
    """¥5,500 or ¥5,500.50 (fen only when there are any); `whole` rounds half-up to yuan, for
    averages; `symbol=False` for templates that carry their own unit ("{price} 元/月")."""
    if value is None:
        return NO_AMOUNT
    amount = Decimal(value).quantize(_YUAN if whole else _FEN, rounding=ROUND_HALF_UP)
    text = f"{int(amount):,}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"¥{text}" if symbol else text
