"""Input the fuzzing run broke the API with (issue 15, defects 2 and 3): control characters in
any string are a 422 JSON error, an unexpected exception is a 500 with the documented JSON body,
and no SQL parameter reaches an error text (and so no log)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.models import Project
from core.services import guide_prices
from tests.webhooks.conftest import TODAY, Web, World, bearer

QUERIES = [
    ("/api/v1/postings", {"kind": "shortage", "trade": "\x00"}),
    ("/api/v1/postings", {"kind": "shortage", "trade": "plasterer\x00"}),
    ("/api/v1/deals", {"date_from": str(TODAY), "date_to": str(TODAY), "trade": "a\x1bb"}),
    ("/api/v1/guide-prices", {"trade": "\x00"}),
    ("/api/v1/guide-prices", {"trade": "rebar", "\x00": "x"}),
    ("/api/v1/regions/1401/summary", {"x": "\x7f"}),
]


@pytest.mark.parametrize(("path", "params"), QUERIES, ids=[f"{p} {q}" for p, q in QUERIES])
async def test_a_control_character_in_a_query_string_is_a_422_json_error(
    web: Web, world: World, path: str, params: dict[str, str]
) -> None:
    response = await web.client.get(path, params=params, headers=bearer(world.keys["reg_14"]))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "error.control_characters"
    assert response.json()["params"]["loc"][0] == "query"


async def test_without_a_key_a_nul_byte_still_gets_401_first(web: Web) -> None:
    response = await web.client.get("/api/v1/guide-prices", params={"trade": "\x00"})
    assert response.status_code == 401


async def test_a_nul_byte_in_an_import_row_refuses_the_request_and_writes_nothing(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["ent_a"])
    row = {"code": "P-NUL", "name": "太原\x00南站", "county_code": "140105"}
    as_json = await web.client.put("/api/v1/projects:bulk", json={"rows": [row]}, headers=key)
    as_csv = await web.client.put(
        "/api/v1/projects:bulk",
        content="code,name,county_code\nP-NUL,太原\x00南站,140105\n".encode(),
        headers={**key, "Content-Type": "text/csv"},
    )
    in_a_column_name = await web.client.put(
        "/api/v1/projects:bulk", json={"rows": [{**row, "name": "ok", "n\x00": 1}]}, headers=key
    )

    for response in (as_json, as_csv, in_a_column_name):
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "error.control_characters"
    assert as_json.json()["params"]["loc"] == ["body", "rows", 0, "name"]
    async with web.services.uow() as uow:
        stored = await uow.session.scalar(select(Project).where(Project.code == "P-NUL"))
    assert stored is None


async def test_a_line_break_inside_an_import_value_is_accepted_and_flattened(
    web: Web, world: World
) -> None:
    row = {"code": "P-ADDR", "name": "太原南站", "county_code": "140105", "address": "一号\n二号"}
    response = await web.client.put(
        "/api/v1/projects:bulk", json={"rows": [row]}, headers=bearer(world.keys["ent_a"])
    )
    assert response.status_code == 200, response.text
    async with web.services.uow() as uow:
        stored = await uow.session.scalar(select(Project.address).where(Project.code == "P-ADDR"))
    assert stored == "一号二号"  # free text is stored without control characters


@pytest.fixture
async def lenient_client(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the server's answer to an unexpected exception (as uvicorn would send
    it) instead of the exception itself."""
    transport = httpx.ASGITransport(app=web.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_an_unexpected_exception_is_a_500_with_the_documented_json_body(
    lenient_client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail 13912345678")

    monkeypatch.setattr(guide_prices, "list_guide_prices", broken)
    response = await lenient_client.get(
        "/api/v1/guide-prices", headers=bearer(world.keys["reg_14"])
    )

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "error.internal", "params": {}}
    assert "13912345678" not in response.text


async def test_an_http_error_outside_any_route_is_json_too(web: Web) -> None:
    response = await web.client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["error"] == "error.http_405"


async def test_a_failed_statement_does_not_carry_its_parameters(engine: AsyncEngine) -> None:
    """What reaches a log is the exception's text: the bound values stay out of it."""
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError) as failed:
            await conn.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": "VAL-42"})
    assert "VAL-42" not in str(failed.value)
    assert "hidden" in str(failed.value)
