"""GET /api/v1/dispatches: who was dispatched where (数据对接), masked ID numbers by default,
full ones only for a province key with the realname_export scope (every read audited), in JSON
and CSV, each key inside its own region."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import AuditLog, Deal, DealWorker, Enterprise
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.errors import ValidationError
from core.services.apikeys import create_api_key
from tests.factories import make_worker
from tests.webhooks.conftest import Web, World, bearer

RANGE = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
async def dispatched(services: Services, world: World) -> dict[str, Any]:
    """Two of B's workers went to A's 太原 project, one of A's to B's 晋中 project."""
    async with services.uow() as uow:
        a = await uow.session.get(Enterprise, world.ent_a)
        b = await uow.session.get(Enterprise, world.ent_b)
        assert a is not None
        assert b is not None
        to_taiyuan = [await make_worker(uow, b, name=n) for n in ("孙小华", "周文")]
        to_jinzhong = await make_worker(uow, a, name="赵伟")
        deals = {d.shortage_id: d.id for d in (await uow.session.scalars(select(Deal))).all()}
        for worker in to_taiyuan:
            uow.session.add(DealWorker(deal_id=deals[world.market_a], worker_id=worker.id))
        uow.session.add(DealWorker(deal_id=deals[world.market_b], worker_id=to_jinzhong.id))
        numbers = {w.name: uow.cipher.decrypt(w.id_cipher) for w in (*to_taiyuan, to_jinzhong)}
        await uow.commit()
    async with services.uow() as uow:
        _view, realname = await create_api_key(
            uow, Actor.system(), label="省实名制平台", region_code="14", scopes={"realname_export"}
        )
    return {"numbers": numbers, "realname": realname}


async def _get(web: Web, key: str, **params: str) -> Any:
    return await web.client.get(
        "/api/v1/dispatches", params={**RANGE, **params}, headers=bearer(key)
    )


async def test_a_city_key_sees_its_own_dispatches_with_masked_id_numbers(
    web: Web, world: World, dispatched: dict[str, Any]
) -> None:
    response = await _get(web, world.keys["reg_1401"])
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["worker_name"], i["project_name"], i["county_code"]) for i in items] == [
        ("孙小华", "太原南站", "140105"),
        ("周文", "太原南站", "140105"),
    ]
    first = items[0]
    assert first["start_date"] == "2026-03-05"
    assert first["price"] == "5200.00"
    assert (first["from_enterprise"], first["to_enterprise"]) == ("晋中建设集团", "太原建工劳务")
    assert first["id_number"] != dispatched["numbers"]["孙小华"]
    assert "*" in first["id_number"]
    jinzhong = (await _get(web, world.keys["reg_1407"])).json()["items"]
    assert [i["worker_name"] for i in jinzhong] == ["赵伟"]
    company = (await _get(web, world.keys["ent_a"])).json()["items"]
    assert {i["worker_name"] for i in company} == {"孙小华", "周文", "赵伟"}  # either side


async def test_only_a_realname_export_key_gets_full_id_numbers_and_each_read_is_audited(
    web: Web, services: Services, world: World, dispatched: dict[str, Any]
) -> None:
    plain = (await _get(web, world.keys["reg_14"])).json()["items"]
    assert all("*" in i["id_number"] for i in plain)
    assert len(plain) == 3
    async with services.uow() as uow:
        assert (
            await uow.session.scalars(select(AuditLog).where(AuditLog.action == "realname.export"))
        ).all() == []
    full = (await _get(web, dispatched["realname"], limit="2")).json()
    assert [i["id_number"] for i in full["items"]] == [
        dispatched["numbers"]["孙小华"],
        dispatched["numbers"]["周文"],
    ]
    rest = (await _get(web, dispatched["realname"], cursor=full["next_cursor"])).json()
    assert [i["id_number"] for i in rest["items"]] == [dispatched["numbers"]["赵伟"]]
    async with services.uow() as uow:
        audits = (
            await uow.session.scalars(
                select(AuditLog).where(AuditLog.action == "realname.export").order_by(AuditLog.id)
            )
        ).all()
        assert [(a.entity, a.after["rows"] if a.after else None) for a in audits] == [
            ("api_key", 2),
            ("api_key", 1),
        ]


async def test_csv_carries_the_same_rows_for_excel(
    web: Web, world: World, dispatched: dict[str, Any]
) -> None:
    response = await _get(web, world.keys["reg_1401"], format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffdeal_id,start_date,accepted_at,worker_id,worker_name,id_number")
    lines = text.strip().splitlines()
    assert len(lines) == 3
    assert "孙小华" in lines[1]
    assert "太原南站" in lines[1]
    assert dispatched["numbers"]["孙小华"] not in text


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"date_from": "2026-03-31", "date_to": "2026-03-01"}, 422, "error.date_range"),
        ({"date_from": "2025-01-01", "date_to": "2026-03-01"}, 422, "error.date_range_too_long"),
        ({"cursor": "²"}, 422, "error.bad_cursor"),
    ],
)
async def test_bad_ranges_and_cursors_get_the_json_error(
    web: Web, world: World, params: dict[str, str], status: int, error: str
) -> None:
    response = await _get(web, world.keys["reg_1401"], **params)
    assert (response.status_code, response.json()["error"]) == (status, error)


async def test_realname_export_is_for_the_province_bureau_only(services: Services) -> None:
    async with services.uow() as uow:
        for region in ("1401", "140105"):
            with pytest.raises(ValidationError) as err:
                await create_api_key(
                    uow, Actor.system(), label="x", region_code=region, scopes={"realname_export"}
                )
            assert err.value.key == "error.api_key_realname_province"
        with pytest.raises(ValidationError):
            await create_api_key(uow, Actor.system(), label="x", region_code="14", scopes={"all"})
