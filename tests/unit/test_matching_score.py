"""The match score, rule by rule (see core/services/matching.py's docstring)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from core.services.matching import OUTSIDE_CITY_MAX, MatchFacts, quiet_until, score


def facts(**overrides: object) -> MatchFacts:
    values: dict[str, object] = dict(
        my_county="140105",
        my_city="140100",
        candidate_county="140105",
        candidate_city="140100",
        offered=Decimal(5000),
        asking=Decimal(5000),
        offered_guide=None,
        asking_guide=None,
        candidate_credit=100,
        avg_rating=5.0,
        my_open=4,
        candidate_open=4,
    )
    values.update(overrides)
    return MatchFacts(**values)  # type: ignore[arg-type]


def test_a_perfect_pair_scores_one_hundred() -> None:
    result = score(facts())
    assert (result.region, result.price, result.credit, result.rating, result.headcount) == (
        35,
        30,
        15,
        15,
        5,
    )
    assert result.total == 100


@pytest.mark.parametrize(
    ("county", "city", "points"),
    [
        ("140105", "140100", 35),  # same county
        ("140106", "140100", 20),  # same city, another county
        ("140702", "140700", 5),  # same province, another city
        ("130102", "130100", 0),  # another province
    ],
)
def test_region_gives_county_over_city_over_province(county: str, city: str, points: int) -> None:
    result = score(facts(candidate_county=county, candidate_city=city))
    assert result.region == points


@pytest.mark.parametrize(
    ("asking", "points"),
    [
        (Decimal(4000), 30),  # cheaper than offered
        (Decimal(5000), 30),  # exactly offered
        (Decimal(5750), 15),  # 15 % above: half
        (Decimal(6000), 10),  # 20 % above: a third
        (Decimal(6500), 0),  # 30 % above: nothing
        (Decimal(9000), 0),  # far above: still not negative
    ],
)
def test_price_falls_linearly_to_zero_at_a_thirty_percent_gap(
    asking: Decimal, points: int
) -> None:
    assert score(facts(asking=asking)).price == points


def test_a_side_more_than_thirty_percent_off_its_guide_loses_five_points() -> None:
    near = score(facts(offered_guide=Decimal(5000), asking_guide=Decimal(4000)))
    assert (near.price, near.guide_penalty) == (30, 0)  # 25 % off: tolerated
    one_off = score(facts(offered_guide=Decimal(5000), asking_guide=Decimal(3000)))
    assert (one_off.price, one_off.guide_penalty) == (25, 5)
    both_off = score(facts(offered_guide=Decimal(3000), asking_guide=Decimal(8000)))
    assert (both_off.price, both_off.guide_penalty) == (20, 10)


def test_exactly_thirty_percent_off_the_guide_is_not_penalised() -> None:
    result = score(facts(offered=Decimal(6500), asking=Decimal(6500), offered_guide=Decimal(5000)))
    assert result.price == 30


def test_guide_penalty_never_takes_the_price_part_below_zero() -> None:
    result = score(facts(asking=Decimal(9000), asking_guide=Decimal(5000)))
    assert result.price == 0
    assert result.guide_penalty == 0


def test_without_a_guide_price_nobody_is_penalised() -> None:
    assert score(facts(offered=Decimal(100), asking=Decimal(100))).price == 30


@pytest.mark.parametrize(("credit", "points"), [(100, 15), (80, 12), (0, 0), (150, 15), (-5, 0)])
def test_credit_is_a_share_of_fifteen(credit: int, points: float) -> None:
    assert score(facts(candidate_credit=credit)).credit == points


@pytest.mark.parametrize(("stars", "points"), [(5.0, 15), (4.5, 13.5), (1.0, 3), (None, 9)])
def test_rating_is_a_share_of_fifteen_and_unrated_is_neutral(
    stars: float | None, points: float
) -> None:
    assert score(facts(avg_rating=stars)).rating == points


@pytest.mark.parametrize(
    ("mine", "theirs", "points"), [(4, 4, 5), (4, 9, 5), (4, 2, 2.5), (3, 1, 1.67)]
)
def test_headcount_fit_is_full_when_the_candidate_covers_the_need(
    mine: int, theirs: int, points: float
) -> None:
    assert score(facts(my_open=mine, candidate_open=theirs)).headcount == points


def test_total_is_the_sum_of_the_rounded_parts() -> None:
    result = score(
        facts(
            candidate_county="140106",
            asking=Decimal(5750),
            candidate_credit=73,
            avg_rating=None,
            candidate_open=3,
        )
    )
    assert result.total == pytest.approx(20 + 15 + 10.95 + 9 + 3.75)


def test_nobody_outside_my_city_can_score_more_than_seventy() -> None:
    best_outside = score(facts(candidate_county="140702", candidate_city="140700"))
    assert best_outside.total == OUTSIDE_CITY_MAX == 70


# --- quiet hours ----------------------------------------------------------------------------

# 02:00 UTC is 10:00 in Shanghai
TEN_AM = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


def test_outside_quiet_hours_there_is_no_delay() -> None:
    assert quiet_until(TEN_AM, time(22, 0), time(7, 0)) is None
    assert quiet_until(TEN_AM, None, None) is None
    assert quiet_until(TEN_AM, time(12, 0), time(12, 0)) is None


def test_inside_a_daytime_quiet_period_delivery_waits_for_its_end() -> None:
    until = quiet_until(TEN_AM, time(9, 0), time(11, 30))
    assert until == datetime(2026, 3, 4, 3, 30, tzinfo=UTC)


def test_a_quiet_night_before_midnight_ends_the_next_morning() -> None:
    eleven_pm = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # 23:00 Shanghai
    assert quiet_until(eleven_pm, time(22, 0), time(7, 0)) == datetime(
        2026, 3, 4, 23, 0, tzinfo=UTC
    )  # 07:00 on the 5th in Shanghai


def test_a_quiet_night_after_midnight_ends_the_same_morning() -> None:
    three_am = datetime(2026, 3, 4, 19, 0, tzinfo=UTC)  # 03:00 on the 5th in Shanghai
    assert quiet_until(three_am, time(22, 0), time(7, 0)) == datetime(
        2026, 3, 4, 23, 0, tzinfo=UTC
    )


def test_the_matchers_quick_first_pass_stays_within_a_few_hundredths_of_the_score() -> None:
    import random

    from core.services.matching import _parts, _raw_total

    rng = random.Random(5)
    for _ in range(5000):
        args = (
            rng.choice((35.0, 20.0, 5.0, 0.0)),
            rng.randint(10_000, 10_000_000),
            rng.randint(10_000, 10_000_000),
            rng.choice((None, rng.randint(10_000, 10_000_000))),
            rng.choice((None, rng.randint(10_000, 10_000_000))),
            rng.randint(-10, 120),
            rng.choice((None, rng.uniform(0, 6))),
            rng.randint(0, 20),
            rng.randint(0, 20),
        )
        assert abs(_raw_total(*args) - _parts(*args)[-1]) <= 0.03
