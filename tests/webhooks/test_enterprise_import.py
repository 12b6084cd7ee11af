"""PUT /api/v1/enterprises:bulk: a regulator key registers companies inside its region, bad
rows reported one by one (the same report as the worker import), JSON and CSV, idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db.models import Enterprise
from core.db.uow import Services
from tests.factories import make_uscc
from tests.webhooks.conftest import Web, World, bearer
from tests.webhooks.test_bulk_import import as_csv, triples

ENTERPRISES = "/api/v1/enterprises:bulk"
CODE_1 = make_uscc("140105", 1)
CODE_2 = make_uscc("110105", 2)  # registered in Beijing
CODE_3 = make_uscc("140702", 3)
BAD_CHECK = CODE_1[:-1] + ("0" if CODE_1[-1] != "0" else "1")


def mixed_rows() -> list[dict[str, Any]]:
    return [
        # 1: good, Shanxi-registered
        {"uscc": CODE_1, "name": "山西晋工劳务有限公司", "kind": "labor",
         "county_code": "140105", "address": "小店区长风街1号"},
        # 2: good, registered in another province, working in 太原
        {"uscc": CODE_2, "name": "北京建工太原分公司", "kind": "general", "county_code": "140106"},
        # 3: wrong check character
        {"uscc": BAD_CHECK, "name": "错码公司", "kind": "labor", "county_code": "140105"},
        # 4: a county of 晋中: outside the 太原 key's region
        {"uscc": CODE_3, "name": "晋中劳务", "kind": "labor", "county_code": "140702"},
        # 5: a city, not a county
        {"uscc": make_uscc("140100", 5), "name": "市级公司", "kind": "labor",
         "county_code": "140100"},
        # 6: unknown kind
        {"uscc": make_uscc("140105", 6), "name": "怪类公司", "kind": "builder",
         "county_code": "140105"},
        # 7: the same USCC as row 1
        {"uscc": CODE_1, "name": "山西晋工劳务二公司", "kind": "labor", "county_code": "140105"},
        # 8: a name of one character
        {"uscc": make_uscc("140105", 8), "name": "晋", "kind": "labor", "county_code": "140105"},
        # 9: the name of a company already registered (the fixture's 太原建工劳务)
        {"uscc": make_uscc("140105", 9), "name": "太原建工劳务", "kind": "labor",
         "county_code": "140105"},
    ]  # fmt: skip


EXPECTED_REJECTED = [
    (3, "uscc", "error.bad_uscc"),
    (4, "county_code", "error.out_of_scope"),
    (5, "county_code", "error.not_a_county"),
    (6, "kind", "error.bad_enterprise_kind"),
    (7, "uscc", "error.duplicate_row"),
    (8, "name", "error.enterprise_name_short"),
    (9, "name", "error.enterprise_name_taken"),
]


async def registered(services: Services) -> dict[str, tuple[Any, ...]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(
                Enterprise.uscc,
                Enterprise.name,
                Enterprise.type,
                Enterprise.county_code,
                Enterprise.city_code,
                Enterprise.address,
                Enterprise.out_of_province,
                Enterprise.status,
            ).where(Enterprise.uscc.is_not(None))
        )
        return {row[0]: tuple(row[1:]) for row in rows}


async def test_a_regulator_key_registers_the_good_rows_and_explains_the_bad(
    web: Web, services: Services, world: World
) -> None:
    key = bearer(world.keys["reg_1401"])
    response = await web.client.put(ENTERPRISES, headers=key, json={"rows": mixed_rows()})

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (2, 0, 0)
    assert triples(report) == EXPECTED_REJECTED
    assert report["rejected"][4]["params"] == {"first_row": 1}
    assert await registered(services) == {
        CODE_1: ("山西晋工劳务有限公司", "labor_service", "140105", "140100", "小店区长风街1号",
                 False, "active"),
        CODE_2: ("北京建工太原分公司", "general_contractor", "140106", "140100", "", True,
                 "active"),
    }  # fmt: skip

    # the same rows again: nothing changes; CSV with a renamed company updates it by USCC
    again = (await web.client.put(ENTERPRISES, headers=key, json={"rows": mixed_rows()})).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert triples(again) == EXPECTED_REJECTED
    renamed = [{"uscc": CODE_1, "name": "山西晋工劳务集团", "kind": "specialty",
                "county_code": "140105"}]  # fmt: skip
    csv_key = {**key, "Content-Type": "text/csv"}
    updated = await web.client.put(ENTERPRISES, headers=csv_key, content=as_csv(renamed))
    assert updated.status_code == 200, updated.text
    assert (updated.json()["created"], updated.json()["updated"]) == (0, 1)
    stored = await registered(services)
    assert stored[CODE_1][:2] == ("山西晋工劳务集团", "subcontractor")
    assert stored[CODE_1][4] == "小店区长风街1号"  # an absent column keeps what is stored


async def test_out_of_scope_keys_are_refused(web: Web, services: Services, world: World) -> None:
    row = {"uscc": CODE_3, "name": "晋中劳务", "kind": "labor", "county_code": "140702"}
    wholly = await web.client.put(
        ENTERPRISES, headers=bearer(world.keys["reg_1401"]), json={"rows": [row]}
    )
    assert (wholly.status_code, wholly.json()["error"]) == (403, "error.out_of_scope")

    company_key = await web.client.put(
        ENTERPRISES, headers=bearer(world.keys["ent_a"]), json={"rows": [row]}
    )
    assert (company_key.status_code, company_key.json()["error"]) == (403, "error.forbidden")
    assert await registered(services) == {}

    # a company of 晋中 cannot be moved into 太原's books by the 太原 key, nor renamed by it
    ok = await web.client.put(
        ENTERPRISES, headers=bearer(world.keys["reg_1407"]), json={"rows": [row]}
    )
    assert ok.json()["created"] == 1
    moved = await web.client.put(
        ENTERPRISES,
        headers=bearer(world.keys["reg_1401"]),
        json={"rows": [{**row, "county_code": "140105"}]},
    )
    assert (moved.status_code, moved.json()["error"]) == (403, "error.out_of_scope")
    assert (await registered(services))[CODE_3][2] == "140702"
