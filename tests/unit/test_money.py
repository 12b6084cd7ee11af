"""One money formatter: a price reads the same on every card, button, digest and report."""

from decimal import Decimal

import pytest

from core.domain.money import format_money


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("5500"), "¥5,500"),
        (Decimal("5500.00"), "¥5,500"),  # no ".00" for whole yuan
        (Decimal("5500.5"), "¥5,500.50"),  # fen always two digits when there are any
        (Decimal("5482.53"), "¥5,482.53"),
        (Decimal("100000"), "¥100,000"),
        (Decimal("100"), "¥100"),
        (5500, "¥5,500"),
        # half a fen rounds up, not to even (Python's format() alone would give 5,500.12)
        (Decimal("5500.125"), "¥5,500.13"),
        (Decimal("5500.995"), "¥5,501"),
        (None, "—"),
    ],
)
def test_money_is_shown_with_yuan_sign_thousands_and_fen_only_when_any(
    value: Decimal | int | None, shown: str
) -> None:
    assert format_money(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("5482.53"), "5,483"),
        (Decimal("5482.50"), "5,483"),  # half-up: averages never flip between runs
        (Decimal("4456.50"), "4,457"),  # format(…, ",.0f") gave 4,456 (half-even)
        (Decimal("5482.49"), "5,482"),
        (None, "—"),
    ],
)
def test_averages_round_half_up_to_whole_yuan(value: Decimal | None, shown: str) -> None:
    assert format_money(value, whole=True, symbol=False) == shown


def test_templates_with_their_own_unit_get_the_bare_amount() -> None:
    assert format_money(Decimal("5500"), symbol=False) == "5,500"
    assert format_money(Decimal("5500.5"), symbol=False) == "5,500.50"
