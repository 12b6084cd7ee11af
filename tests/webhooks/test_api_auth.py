"""/api/v1: every route wants a valid key (401), stays inside the key's scope (403), and a key
over its rate gets 429 with Retry-After."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import ApiKey, Enterprise, Project
from core.db.uow import Services
from core.pii import token_hash
from tests.factories import make_project
from tests.webhooks.conftest import TODAY, Web, World, bearer, open_web, web_settings_of

DEALS = f"/api/v1/deals?date_from={TODAY}&date_to={TODAY}"
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/v1/regions/1401/summary", {}),
    ("GET", "/api/v1/postings?kind=shortage", {}),
    ("GET", DEALS, {}),
    ("GET", "/api/v1/guide-prices", {}),
    ("PUT", "/api/v1/workers:bulk", {"json": {"rows": []}}),
    ("PUT", "/api/v1/projects:bulk", {"json": {"rows": []}}),
    ("POST", "/api/v1/postings:parse", {"json": {"text": "缺木工3人 小店区"}}),
    ("PUT", "/api/v1/enterprises:bulk", {"json": {"rows": []}}),
]
ROUTE_IDS = [f"{m} {p.split('?')[0]}" for m, p, _ in ROUTES]


async def call(web: Web, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
    return await web.client.request(method, path, headers=headers, **kw)


@pytest.mark.parametrize(("method", "path", "kw"), ROUTES, ids=ROUTE_IDS)
async def test_every_route_refuses_a_missing_wrong_or_revoked_key(
    web: Web, world: World, method: str, path: str, kw: dict[str, Any]
) -> None:
    real = world.keys["ent_a"]
    prefix = real.split("_")[1]
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {real}"},
        bearer("jg_0123abcd_not-a-key"),
        bearer(f"jg_{prefix}_{'x' * 43}"),  # a real prefix with a wrong secret
        bearer(real + "x"),
        {"X-API-Key": "garbage"},
        bearer(world.keys["revoked"]),
    ):
        response = await call(web, method, path, headers, **kw)
        assert response.status_code == 401, headers
        assert response.json() == {"error": "error.api_key_invalid", "params": {}}
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "kw"), ROUTES, ids=ROUTE_IDS)
async def test_every_route_serves_a_key_in_scope_by_bearer_or_x_api_key(
    web: Web, world: World, method: str, path: str, kw: dict[str, Any]
) -> None:
    # the province key reads everything; imports for a regulator need rows naming enterprises
    key = world.keys["reg_14"]
    for headers in (bearer(key), {"X-API-Key": key}):
        response = await call(web, method, path, headers, **kw)
        assert response.status_code == 200, response.text


async def test_only_the_hash_of_a_key_is_stored(services: Services, world: World) -> None:
    async with services.uow() as uow:
        hashes = set(await uow.session.scalars(select(ApiKey.key_hash)))
    plaintexts = set(world.keys.values())
    assert hashes == {token_hash(k) for k in plaintexts}
    assert not any(k.split("_", 2)[2] in h for k in plaintexts for h in hashes)


async def test_a_regulator_reads_its_region_and_below_but_not_a_neighbouring_city(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["reg_1401"])
    own = await web.client.get("/api/v1/regions/1401/summary", headers=key)
    county = await web.client.get("/api/v1/regions/140105/summary", headers=key)
    other = await web.client.get("/api/v1/regions/1407/summary", headers=key)
    province = await web.client.get("/api/v1/regions/14/summary", headers=key)

    assert (own.status_code, county.status_code) == (200, 200)
    assert own.json()["region"]["code"] == "140100"
    assert own.json()["total"]["shortage_postings"] == 1  # A's posting in 小店区
    assert (other.status_code, province.status_code) == (403, 403)
    assert other.json()["error"] == "error.out_of_scope"


async def test_an_enterprise_key_gets_no_regional_summary_and_no_deal_records(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["ent_a"])
    summary = await web.client.get("/api/v1/regions/1401/summary", headers=key)
    records = await web.client.get(DEALS, headers=key)

    assert (summary.status_code, records.status_code) == (403, 403)
    assert summary.json()["error"] == "error.forbidden"


async def test_a_regulator_searches_postings_only_inside_its_region(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["reg_1401"])
    mine = await web.client.get("/api/v1/postings?kind=shortage", headers=key)
    filtered = await web.client.get("/api/v1/postings?kind=shortage&region=140105", headers=key)
    outside = await web.client.get("/api/v1/postings?kind=shortage&region=1407", headers=key)

    assert [p["id"] for p in mine.json()["items"]] == [world.market_a]
    assert [p["id"] for p in filtered.json()["items"]] == [world.market_a]
    assert outside.status_code == 403
    assert outside.json()["error"] == "error.out_of_scope"


async def test_an_enterprise_sees_market_postings_and_its_own_with_phones_masked(
    web: Web, world: World
) -> None:
    as_a = await web.client.get(
        "/api/v1/postings?kind=shortage", headers=bearer(world.keys["ent_a"])
    )
    as_b = await web.client.get(
        "/api/v1/postings?kind=shortage", headers=bearer(world.keys["ent_b"])
    )

    assert [p["id"] for p in as_a.json()["items"]] == [world.market_a, world.market_b]
    assert {p["id"] for p in as_b.json()["items"]} == {
        world.market_a,
        world.internal_b,
        world.market_b,
    }
    assert "13912345678" not in as_a.text
    assert "13700001111" not in as_b.text
    assert as_a.json()["items"][0]["contact_phone_masked"] == "139****5678"


async def test_deal_records_stay_inside_the_regulators_region(web: Web, world: World) -> None:
    key = bearer(world.keys["reg_1401"])
    own = await web.client.get(DEALS, headers=key)
    named = await web.client.get(DEALS + "&region=140100", headers=key)
    other = await web.client.get(DEALS + "&region=1407", headers=key)
    other_county = await web.client.get(DEALS + "&county=140702", headers=key)

    assert own.status_code == 200
    assert [r["enterprise_name"] for r in own.json()["items"]] == ["太原建工劳务"]
    assert own.json()["total_headcount"] == 2
    assert named.json() == own.json()
    assert (other.status_code, other_county.status_code) == (403, 403)


async def test_guide_prices_are_public_to_any_key(web: Web, world: World) -> None:
    for name in ("ent_b", "reg_1407"):
        response = await web.client.get(
            "/api/v1/guide-prices?city=1401", headers=bearer(world.keys[name])
        )
        assert response.status_code == 200
        assert response.json()["items"] == [
            {
                "city_code": "140100",
                "city_name_zh": "太原市",
                "trade_code": "plasterer",
                "trade_name_zh": "抹灰工",
                "grade_level": 2,
                "grade_name_zh": "二级",
                "price": "4000.00",
                "effective_date": "2026-01-01",
            }
        ]


async def test_an_enterprise_key_cannot_import_into_another_enterprises_project(
    web: Web, services: Services, world: World
) -> None:
    response = await web.client.put(
        "/api/v1/projects:bulk",
        headers=bearer(world.keys["ent_a"]),
        json={
            "rows": [
                {"code": world.project_b, "name": "抢来的项目", "county_code": "140105"},
                {
                    "code": "NEW-A-1",
                    "name": "新项目",
                    "county_code": "140105",
                    "enterprise_id": world.ent_b,
                },
            ]
        },
    )

    # every row outside the key's scope: the request as a whole is refused
    assert response.status_code == 403
    assert response.json() == {"error": "error.out_of_scope", "params": {"rows": 2}}
    async with services.uow() as uow:
        project = await uow.session.scalar(select(Project).where(Project.code == world.project_b))
        assert project is not None
        assert project.name == "榆次新城"
        assert await uow.session.scalar(select(Project).where(Project.code == "NEW-A-1")) is None


async def test_a_regulator_imports_only_for_enterprises_in_its_region(
    web: Web, world: World
) -> None:
    response = await web.client.put(
        "/api/v1/projects:bulk",
        headers=bearer(world.keys["reg_1401"]),
        json={
            "rows": [
                {
                    "code": "TY-1",
                    "name": "太原项目",
                    "county_code": "140105",
                    "enterprise_id": world.ent_a,
                },
                {
                    "code": "JZ-1",
                    "name": "晋中项目",
                    "county_code": "140702",
                    "enterprise_id": world.ent_b,
                },
                {"code": "XX-1", "name": "无主项目", "county_code": "140105"},
            ]
        },
    )

    report = response.json()
    assert report["created"] == 1
    assert [(e["row"], e["error"]) for e in report["rejected"]] == [
        (2, "error.out_of_scope"),
        (3, "error.enterprise_required"),
    ]


async def test_a_regulator_key_cannot_put_a_project_into_another_region(
    web: Web, services: Services, world: World
) -> None:
    """Defect 6: the 1401 key created a project of a 1401 enterprise in county 141002."""
    ent_a_row = {"enterprise_id": world.ent_a}
    mixed = await web.client.put(
        "/api/v1/projects:bulk",
        headers=bearer(world.keys["reg_1401"]),
        json={
            "rows": [
                {"code": "TY-2", "name": "太原项目", "county_code": "140105", **ent_a_row},
                {"code": "LF-1", "name": "临汾项目", "county_code": "141002", **ent_a_row},
                # moving A's existing 太原 project out of the region is the same thing
                {"code": world.project_a, "name": "搬走", "county_code": "141002", **ent_a_row},
            ]
        },
    )
    wholly = await web.client.put(
        "/api/v1/projects:bulk",
        headers=bearer(world.keys["reg_1401"]),
        json={"rows": [{"code": "LF-2", "name": "临汾", "county_code": "141002", **ent_a_row}]},
    )

    assert mixed.status_code == 200
    assert mixed.json()["created"] == 1
    assert [(e["row"], e["field"], e["error"]) for e in mixed.json()["rejected"]] == [
        (2, "county_code", "error.out_of_scope"),
        (3, "county_code", "error.out_of_scope"),
    ]
    assert (wholly.status_code, wholly.json()["error"]) == (403, "error.out_of_scope")
    async with services.uow() as uow:
        counties = dict(
            (await uow.session.execute(select(Project.code, Project.county_code))).all()
        )
    assert counties[world.project_a] == "140105"
    assert "LF-1" not in counties
    assert "LF-2" not in counties
    assert counties["TY-2"] == "140105"


async def test_a_regulator_key_cannot_place_workers_on_a_project_outside_its_region(
    web: Web, services: Services, world: World
) -> None:
    async with services.uow() as uow:
        enterprise = await uow.session.get(Enterprise, world.ent_a)
        assert enterprise is not None
        elsewhere = (await make_project(uow, enterprise, county_code="141002")).code
        await uow.commit()
    worker = {
        "enterprise_id": world.ent_a,
        "name": "王海燕",
        "trade": "抹灰工",
        "grade": "二级",
    }
    response = await web.client.put(
        "/api/v1/workers:bulk",
        headers=bearer(world.keys["reg_1401"]),
        json={
            "rows": [
                {**worker, "id_number": "11010519491231002X", "project_code": world.project_a},
                {**worker, "id_number": "440524188001010014", "project_code": elsewhere},
            ]
        },
    )

    assert response.status_code == 200
    assert response.json()["created"] == 1
    assert [(e["row"], e["field"], e["error"]) for e in response.json()["rejected"]] == [
        (2, "project_code", "error.out_of_scope"),
    ]


async def test_a_key_over_its_rate_gets_429_with_retry_after(
    services: Services, test_settings: Any, world: World
) -> None:
    settings = web_settings_of(test_settings, api_rate_per_second=0.01, api_rate_burst=3)
    async for web in open_web(services, settings):
        key = bearer(world.keys["ent_a"])
        codes = [
            (await web.client.get("/api/v1/guide-prices", headers=key)).status_code
            for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        limited = await web.client.get("/api/v1/guide-prices", headers=key)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"] == "error.rate_limited"
        # another key has its own bucket
        other = await web.client.get("/api/v1/guide-prices", headers=bearer(world.keys["ent_b"]))
        assert other.status_code == 200


async def test_cors_is_closed_unless_origins_are_configured(
    web: Web, services: Services, test_settings: Any, world: World
) -> None:
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = await web.client.options("/api/v1/guide-prices", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers

    settings = web_settings_of(test_settings, api_cors_origins=["https://gov.example"])
    async for opened in open_web(services, settings):
        allowed = await opened.client.options(
            "/api/v1/guide-prices", headers={**preflight, "Origin": "https://gov.example"}
        )
        refused = await opened.client.options("/api/v1/guide-prices", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://gov.example"
        assert "access-control-allow-origin" not in refused.headers


async def test_a_missing_key_is_reported_before_bad_parameters_and_errors_are_json(
    web: Web, world: World
) -> None:
    no_key = await web.client.get("/api/v1/postings?kind=nonsense&limit=0")
    bad_params = await web.client.get(
        "/api/v1/postings?kind=nonsense&limit=0", headers=bearer(world.keys["ent_a"])
    )
    unknown = await web.client.get("/api/v1/nothing", headers=bearer(world.keys["ent_a"]))
    wrong_method = await web.client.delete("/api/v1/guide-prices")

    assert no_key.status_code == 401
    assert bad_params.status_code == 422
    assert bad_params.json()["error"] == "error.request_invalid"
    assert {tuple(e["loc"]) for e in bad_params.json()["params"]["errors"]} == {
        ("query", "kind"),
        ("query", "limit"),
    }
    assert (unknown.status_code, unknown.json()["error"]) == (404, "error.http_404")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "error.http_405")


async def test_a_forged_cursor_or_an_absurd_date_is_a_422_not_a_crash(
    web: Web, world: World
) -> None:
    import base64

    key = bearer(world.keys["reg_14"])
    forged = base64.urlsafe_b64encode(b"1772589600000000|99999999999999999999").decode()
    for path in (
        f"/api/v1/postings?kind=idle&cursor={forged}",
        "/api/v1/postings?kind=idle&cursor=%%%%",
        f"/api/v1/deals?date_from=0001-01-01&date_to={TODAY}",
        f"/api/v1/deals?date_from={TODAY}&date_to=9999-12-31",
        f"/api/v1/deals?date_from={TODAY}&date_to=2026-01-01",
        "/api/v1/postings?kind=idle&price_min=NaN",
        "/api/v1/postings?kind=idle&price_min=5000&price_max=100",
    ):
        response = await web.client.get(path, headers=key)
        assert response.status_code == 422, (path, response.text)


async def test_postings_page_with_the_same_cursors_as_the_bots_search(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["reg_14"])
    first = (await web.client.get("/api/v1/postings?kind=shortage&limit=2", headers=key)).json()
    second = (
        await web.client.get(
            f"/api/v1/postings?kind=shortage&limit=2&cursor={first['next_cursor']}", headers=key
        )
    ).json()
    back = (
        await web.client.get(
            "/api/v1/postings?kind=shortage&limit=2&direction=prev"
            f"&cursor={second['prev_cursor']}",
            headers=key,
        )
    ).json()
    internal = (
        await web.client.get("/api/v1/postings?kind=shortage&ring=internal", headers=key)
    ).json()

    assert [p["id"] for p in first["items"]] == [world.internal_b, world.market_a]
    assert first["prev_cursor"] is None
    assert [p["id"] for p in second["items"]] == [world.market_b]
    assert second["next_cursor"] is None
    assert back["items"] == first["items"]
    assert [p["id"] for p in internal["items"]] == [world.internal_b]
    assert first["items"][0]["price"] == "5500.00"
