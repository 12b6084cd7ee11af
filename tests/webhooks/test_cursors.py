"""Paging cursors: whatever a client sends as a cursor gets a page or a 422 JSON error, never a
500; and every cursor the API hands out is accepted when sent back (issue 15, defects 1 and 4)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import hypothesis
import pytest
from hypothesis import Phase, given
from hypothesis import strategies as st

from core.db.models import Enterprise
from core.domain.errors import ValidationError
from core.services.paging import (
    decode_id_cursor,
    decode_ts_cursor,
    encode_id_cursor,
    encode_ts_cursor,
)
from tests.factories import make_project, make_shortage
from tests.webhooks.conftest import TODAY, Web, World, bearer

T = TypeVar("T")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _number_like() -> st.SearchStrategy[str]:
    """Texts that look like numbers to a careless parser: signs, huge values, Unicode digits."""
    return st.one_of(
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.text(alphabet="-+0123456789²³٣߀ ", max_size=25),
        st.text(max_size=12),
    )


def forged_cursors() -> st.SearchStrategy[str]:
    two_parts = st.tuples(_number_like(), _number_like()).map(lambda p: b64(f"{p[0]}|{p[1]}"))
    return st.one_of(
        two_parts,
        _number_like().map(b64),
        st.text(max_size=40).map(b64),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=%"),
        st.text(max_size=60),
    )


def samples(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` reproducible examples of a strategy, for a test that must await each of them."""
    drawn: list[T] = []

    @given(strategy)
    @hypothesis.settings(
        max_examples=count, derandomize=True, database=None, phases=[Phase.generate]
    )
    def collect(value: T) -> None:
        drawn.append(value)

    collect()
    return drawn


@given(forged_cursors())
@hypothesis.settings(max_examples=500, derandomize=True, database=None)
def test_a_forged_cursor_decodes_within_bounds_or_is_a_validation_error(cursor: str) -> None:
    for decode, check in (
        (decode_ts_cursor, lambda v: v[1] >= 0 and v[0].year < 2200),
        (decode_id_cursor, lambda v: 0 <= v < 2**31),
    ):
        decoder: Callable[[str], Any] = decode
        error: ValidationError | None = None
        try:
            value = decoder(cursor)
        except ValidationError as exc:
            error = exc
        if error is not None:
            assert error.key == "error.bad_cursor"
        else:
            assert check(value)


@pytest.mark.parametrize("text", ["--5|1", "²|1", "5|²", "-1|1", "1|-1", "1|2147483648", " 1|1"])
def test_the_cursors_of_the_fuzzing_report_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        decode_ts_cursor(b64(text))


def test_what_encode_makes_decode_takes_back() -> None:
    at, row_id = decode_ts_cursor(encode_ts_cursor(decode_ts_cursor(b64("0|0"))[0], 2**31 - 1))
    assert (at.year, row_id) == (1970, 2**31 - 1)
    assert decode_id_cursor(encode_id_cursor(7)) == 7


async def test_random_cursors_get_a_page_or_a_422_json_error_never_a_500(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["reg_14"])
    routes = (
        ("/api/v1/postings", {"kind": "shortage"}),
        ("/api/v1/deals", {"date_from": str(TODAY - timedelta(days=1)), "date_to": str(TODAY)}),
    )
    statuses: set[int] = set()
    for cursor in ["LS01fDE", b64("0|0"), *samples(forged_cursors(), 60)]:
        for path, params in routes:
            for direction in ("next", "prev"):
                response = await web.client.get(
                    path, params={**params, "cursor": cursor, "direction": direction}, headers=key
                )
                statuses.add(response.status_code)
                assert response.status_code in (200, 422), (cursor, response.text)
                body = response.json()
                if response.status_code == 422:
                    assert body["error"] in (
                        "error.bad_cursor",
                        "error.request_invalid",
                        "error.control_characters",
                    )
    assert statuses == {200, 422}


async def test_a_cursor_past_the_first_row_gives_a_prev_cursor_that_is_accepted(
    web: Web, world: World
) -> None:
    """Defect 4: the boundary "0|0" gave prev_cursor "0|-1", which the API then refused."""
    key = bearer(world.keys["reg_14"])
    page = await web.client.get(
        "/api/v1/postings", params={"kind": "shortage", "cursor": b64("0|0")}, headers=key
    )
    assert page.status_code == 200
    assert page.json()["items"] == []
    prev = page.json()["prev_cursor"]
    assert prev is not None
    assert decode_ts_cursor(prev)[1] == 0

    back = await web.client.get(
        "/api/v1/postings",
        params={"kind": "shortage", "cursor": prev, "direction": "prev"},
        headers=key,
    )
    assert back.status_code == 200
    assert {p["id"] for p in back.json()["items"]} == {
        world.market_a,
        world.market_b,
        world.internal_b,
    }


async def test_every_cursor_the_api_returns_is_accepted_both_ways(web: Web, world: World) -> None:
    # seven postings, two of them created in the same microsecond (the id breaks the tie)
    async with web.services.uow() as uow:
        project = await make_project(uow, await uow.session.get(Enterprise, world.ent_a))
        same_moment = uow.now() - timedelta(minutes=30)
        added = [
            (await make_shortage(uow, project, created_at=at)).id
            for at in (same_moment, same_moment, uow.now() - timedelta(days=3), uow.now())
        ]
        await uow.commit()
    key = bearer(world.keys["reg_14"])
    seen_ids: list[int] = []
    to_visit = [None]
    visited: set[tuple[str | None, str]] = set()
    while to_visit:
        cursor = to_visit.pop()
        for direction in ("next", "prev"):
            if (cursor, direction) in visited or (cursor is None and direction == "prev"):
                continue
            visited.add((cursor, direction))
            params = {"kind": "shortage", "limit": 1, "direction": direction}
            if cursor:
                params["cursor"] = cursor
            response = await web.client.get("/api/v1/postings", params=params, headers=key)
            assert response.status_code == 200, (cursor, direction, response.text)
            body = response.json()
            seen_ids.extend(p["id"] for p in body["items"])
            to_visit.extend(c for c in (body["next_cursor"], body["prev_cursor"]) if c)
    assert set(seen_ids) == {world.market_a, world.market_b, world.internal_b, *added}
