"""Rules of the market, one function each: pairing, who may be declared idle, the start-date
window, and who speaks for which side of a deal."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain.actor import Actor
from core.domain.enums import Role, Side
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import (
    MAX_START_DAYS,
    PostingTerms,
    WorkerTerms,
    can_pair,
    check_pair,
    check_start_date,
    deal_worker_refusal,
    declare_idle_refusal,
    grade_meets,
    is_open_for_deals,
    may_declare_idle,
    may_propose_on,
    pairing_refusal,
    parse_start_date,
    proposing_side,
    sides_of,
    start_date_window,
)

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)
LATER = NOW + timedelta(days=10)

SHORTAGE = PostingTerms(
    enterprise_id=1,
    trade_code="plasterer",
    grade_level=3,  # 三级 or better wanted
    ring="market",
    status="open",
    expires_at=LATER,
    open_headcount=4,
)
IDLE = PostingTerms(
    enterprise_id=2,
    trade_code="plasterer",
    grade_level=2,  # 二级 on offer
    ring="market",
    status="partly_filled",
    expires_at=LATER,
    open_headcount=3,
)


@pytest.mark.parametrize(
    ("offered", "required", "meets"),
    [(1, 3, True), (3, 3, True), (4, 3, False), (5, 1, False), (1, 1, True)],
)
def test_grade_one_is_the_highest(offered: int, required: int, meets: bool) -> None:
    assert grade_meets(offered, required) is meets


@pytest.mark.parametrize(
    ("change", "open_"),
    [
        ({}, True),
        ({"status": "partly_filled"}, True),
        ({"status": "filled"}, False),
        ({"status": "cancelled"}, False),
        ({"status": "expired"}, False),
        ({"expires_at": NOW}, False),  # expiring this instant is expired
        ({"open_headcount": 0}, False),
    ],
)
def test_a_posting_is_open_for_deals_while_live_unexpired_and_not_full(
    change: dict[str, object], open_: bool
) -> None:
    assert is_open_for_deals(replace(SHORTAGE, **change), NOW) is open_  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("shortage_change", "idle_change", "error", "key"),
    [
        ({}, {}, None, None),
        ({}, {"grade_level": 3}, None, None),  # exactly the grade asked
        ({}, {"grade_level": 4}, ValidationError, "error.posting_grade_too_low"),
        ({}, {"trade_code": "rebar"}, ValidationError, "error.trade_mismatch"),
        ({"status": "filled"}, {}, Conflict, "error.posting_closed"),
        ({}, {"expires_at": NOW - timedelta(seconds=1)}, Conflict, "error.posting_closed"),
        ({}, {"open_headcount": 0}, Conflict, "error.posting_closed"),
        # a posting kept inside its company is invisible to another one
        ({"ring": "internal"}, {}, NotFound, "error.posting_not_found"),
        ({}, {"ring": "internal"}, NotFound, "error.posting_not_found"),
        ({"ring": "internal"}, {"enterprise_id": 1}, None, None),  # …and pairs inside it
        ({"ring": "escalated"}, {}, None, None),
        # closed wins over every other reason: nothing else is worth saying about it
        ({"status": "cancelled"}, {"trade_code": "rebar"}, Conflict, "error.posting_closed"),
    ],
)
def test_a_shortage_and_an_idle_posting_pair_by_one_rule(
    shortage_change: dict[str, object],
    idle_change: dict[str, object],
    error: type[Exception] | None,
    key: str | None,
) -> None:
    shortage = replace(SHORTAGE, **shortage_change)  # type: ignore[arg-type]
    idle = replace(IDLE, **idle_change)  # type: ignore[arg-type]
    refusal = pairing_refusal(shortage, idle, NOW)
    assert can_pair(shortage, idle, NOW) is (error is None)
    if error is None:
        assert refusal is None
        check_pair(shortage, idle, NOW)
        return
    assert type(refusal) is error
    assert refusal.key == key
    with pytest.raises(error) as raised:
        check_pair(shortage, idle, NOW)
    assert raised.value.key == key


WORKER = WorkerTerms(
    id=7,
    name="王海东",
    enterprise_id=1,
    status="idle",
    trade_code="plasterer",
    grade_level=2,
    on_offer=False,
)


@pytest.mark.parametrize(
    ("change", "error", "key"),
    [
        ({}, None, None),
        ({"grade_level": 3}, None, None),  # the grade declared
        ({"grade_level": 4}, ValidationError, "error.worker_grade_too_low"),
        ({"enterprise_id": 9}, ValidationError, "error.worker_not_in_enterprise"),
        ({"status": "busy"}, Conflict, "error.worker_not_idle"),
        ({"trade_code": "rebar"}, ValidationError, "error.worker_trade_mismatch"),
        ({"on_offer": True}, Conflict, "error.worker_already_posted"),
    ],
)
def test_who_may_be_declared_idle(
    change: dict[str, object], error: type[Exception] | None, key: str | None
) -> None:
    worker = replace(WORKER, **change)  # type: ignore[arg-type]
    terms = {"enterprise_id": 1, "trade_code": "plasterer", "grade_level": 3}
    refusal = declare_idle_refusal(worker, **terms)  # type: ignore[arg-type]
    assert may_declare_idle(worker, **terms) is (error is None)  # type: ignore[arg-type]
    if error is None:
        assert refusal is None
    else:
        assert type(refusal) is error
        assert refusal.key == key


def test_a_refused_worker_is_named_in_the_message() -> None:
    refusal = declare_idle_refusal(
        replace(WORKER, status="busy"), enterprise_id=1, trade_code="plasterer", grade_level=3
    )
    assert refusal is not None
    assert refusal.params == {"worker_id": 7, "name": "王海东"}


@pytest.mark.parametrize(
    ("change", "posting", "error", "key"),
    [
        ({}, None, None, None),  # no idle posting: any fitting worker of the company
        ({}, frozenset({7}), None, None),
        ({"on_offer": True}, frozenset({7}), None, None),  # on offer in this very posting
        ({}, frozenset({8}), ValidationError, "error.worker_not_in_posting"),
        ({"enterprise_id": 9}, None, ValidationError, "error.worker_not_yours"),
        ({"status": "busy"}, None, Conflict, "error.worker_taken"),
        ({"trade_code": "rebar"}, None, ValidationError, "error.trade_mismatch"),
        ({"grade_level": 4}, None, ValidationError, "error.grade_too_low"),
    ],
)
def test_who_may_be_named_in_a_deal(
    change: dict[str, object],
    posting: frozenset[int] | None,
    error: type[Exception] | None,
    key: str | None,
) -> None:
    refusal = deal_worker_refusal(
        replace(WORKER, **change),  # type: ignore[arg-type]
        idle_enterprise_id=1,
        trade_code="plasterer",
        min_grade=3,
        posting_worker_ids=posting,
    )
    if error is None:
        assert refusal is None
    else:
        assert type(refusal) is error
        assert refusal.key == key


def test_the_start_window_is_today_to_ninety_days_on() -> None:
    assert start_date_window(TODAY) == (TODAY, date(2026, 6, 2))
    assert MAX_START_DAYS == 90


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        (TODAY, True),
        (TODAY + timedelta(days=MAX_START_DAYS), True),
        (TODAY + timedelta(days=MAX_START_DAYS + 1), False),
        (TODAY - timedelta(days=1), False),
        ("2026-03-05", False),  # not a date object: the API parses first
        (datetime(2026, 3, 5, tzinfo=UTC), False),  # a deal starts on a day, not an instant
        (None, False),
    ],
)
def test_start_dates_outside_the_window_are_refused(start: object, ok: bool) -> None:
    if ok:
        assert check_start_date(start, TODAY) == start
        return
    with pytest.raises(ValidationError) as err:
        check_start_date(start, TODAY)
    assert (err.value.key, err.value.params) == ("error.start_date", {"max_days": 90})


@pytest.mark.parametrize(
    ("typed", "start"),
    [
        ("3-15", date(2026, 3, 15)),
        ("03-15", date(2026, 3, 15)),
        ("3/15", date(2026, 3, 15)),
        ("3.15", date(2026, 3, 15)),
        ("3月15日", date(2026, 3, 15)),
        ("2026-03-15", date(2026, 3, 15)),
        ("2026年3月15日", date(2026, 3, 15)),
        ("３－１５", date(2026, 3, 15)),  # full-width, from a Chinese keyboard
        (" 3-4 ", TODAY),
        ("5-31", date(2026, 5, 31)),
    ],
)
def test_start_dates_are_read_as_people_type_them(typed: str, start: date) -> None:
    assert parse_start_date(typed, TODAY) == start


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("明天吧", "error.start_date_format"),
        ("2026-13-45", "error.start_date_format"),
        ("2-30", "error.start_date_format"),
        ("", "error.start_date_format"),
        ("2026-03-01", "error.start_date"),  # the past
        ("3-3", "error.start_date"),  # passed this year, and next year's is too far ahead
        ("12-31", "error.start_date"),  # too far ahead
    ],
)
def test_unreadable_or_out_of_window_start_dates_are_refused(typed: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_start_date(typed, TODAY)
    assert err.value.key == key


FOREMAN = Actor(10, Role.FOREMAN, enterprise_id=1, project_ids=frozenset({100}))
DISPATCHER_1 = Actor(11, Role.DISPATCHER, enterprise_id=1)
DISPATCHER_2 = Actor(12, Role.DISPATCHER, enterprise_id=2)
OTHER_FOREMAN = Actor(13, Role.FOREMAN, enterprise_id=1, project_ids=frozenset({101}))
ADMIN = Actor(14, Role.ADMIN)
REGULATOR = Actor(15, Role.REGULATOR, region_code="140100")


@pytest.mark.parametrize(
    ("actor", "idle_enterprise", "sides"),
    [
        (FOREMAN, 2, {Side.SHORTAGE}),  # the project's foreman
        (OTHER_FOREMAN, 2, set()),  # a foreman of another project
        (FOREMAN, 1, {Side.SHORTAGE}),  # a foreman never speaks for workers
        (DISPATCHER_1, 2, {Side.SHORTAGE}),  # the project's company's dispatcher
        (DISPATCHER_2, 2, {Side.IDLE}),  # the workers' company's dispatcher
        (DISPATCHER_1, 1, {Side.SHORTAGE, Side.IDLE}),  # internal dispatch
        (DISPATCHER_2, None, set()),  # no workers named yet: nothing to speak for
        (ADMIN, 2, {Side.SHORTAGE, Side.IDLE}),
        (REGULATOR, 2, set()),  # a bureau watches, it does not sign
    ],
)
def test_who_speaks_for_which_side(
    actor: Actor, idle_enterprise: int | None, sides: set[Side]
) -> None:
    found = sides_of(
        actor,
        shortage_project_id=100,
        shortage_enterprise_id=1,
        idle_enterprise_id=idle_enterprise,
    )
    assert found == frozenset(sides)


@pytest.mark.parametrize(
    ("sides", "idle_posting", "side"),
    [
        ({Side.SHORTAGE}, True, Side.SHORTAGE),  # asks the idle posting for its workers
        ({Side.IDLE}, True, Side.IDLE),  # offers the posting's workers
        ({Side.IDLE}, False, Side.IDLE),  # offers named workers
        ({Side.SHORTAGE, Side.IDLE}, True, Side.SHORTAGE),
        ({Side.SHORTAGE, Side.IDLE}, False, Side.IDLE),
    ],
)
def test_the_side_a_proposal_comes_from(sides: set[Side], idle_posting: bool, side: Side) -> None:
    assert proposing_side(frozenset(sides), idle_posting=idle_posting) is side


def test_nobody_proposes_for_no_side_and_a_shortage_needs_an_idle_posting_to_ask() -> None:
    with pytest.raises(PermissionDenied):
        proposing_side(frozenset(), idle_posting=True)
    with pytest.raises(ValidationError) as err:
        proposing_side(frozenset({Side.SHORTAGE}), idle_posting=False)
    assert err.value.key == "error.idle_posting_required"


@pytest.mark.parametrize(
    ("role", "kind", "may"),
    [
        (Role.FOREMAN, "idle", True),  # asks for workers for his project
        (Role.DISPATCHER, "idle", True),
        (Role.FOREMAN, "shortage", False),  # has no workers to offer
        (Role.DISPATCHER, "shortage", True),
        (Role.REGULATOR, "idle", False),
        (Role.REGULATOR, "shortage", False),
    ],
)
def test_who_is_offered_the_propose_button(role: Role, kind: str, may: bool) -> None:
    assert may_propose_on(role, kind) is may
