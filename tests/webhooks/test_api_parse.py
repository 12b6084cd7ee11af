"""POST /api/v1/postings:parse: the drafts of a pasted post, nothing written."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db.models import IdlePosting, ShortagePosting
from core.db.uow import Services
from tests.webhooks.conftest import Web, World, bearer

PARSE = "/api/v1/postings:parse"


async def posting_count(services: Services) -> int:
    async with services.uow() as uow:
        shortages = await uow.session.scalar(select(func.count()).select_from(ShortagePosting))
        idle = await uow.session.scalar(select(func.count()).select_from(IdlePosting))
    return int(shortages or 0) + int(idle or 0)


async def test_a_post_with_two_trades_gives_two_drafts_and_writes_no_posting(
    web: Web, services: Services, world: World
) -> None:
    before = await posting_count(services)
    response = await web.client.post(
        PARSE,
        headers=bearer(world.keys["ent_a"]),
        json={"text": "缺钢筋工5人、木工3人，中级，小店区，一天三百八，联系张工 139-1234-5678"},
    )
    assert response.status_code == 200
    common = {
        "kind": "shortage",
        "grade": 4,
        "region": "140105",
        "price": {"amount": "380", "per": "day"},
        "contact_name": "张工",
        "phone": "13912345678",
    }
    assert response.json() == {
        "drafts": [
            {**common, "trade_code": "rebar", "trade": "钢筋工", "headcount": 5},
            {**common, "trade_code": "carpenter", "trade": "木工", "headcount": 3},
        ]
    }
    assert await posting_count(services) == before


async def test_a_regulator_key_may_parse_an_idle_post(web: Web, world: World) -> None:
    response = await web.client.post(
        PARSE,
        headers=bearer(world.keys["reg_1407"]),
        json={"text": "我公司有架子工6人赋闲，三级，可去晋中，6800一个月"},
    )
    assert response.status_code == 200
    [draft] = response.json()["drafts"]
    assert (draft["kind"], draft["trade"], draft["headcount"], draft["region"]) == (
        "idle",
        "架子工",
        6,
        "140700",
    )
    assert draft["price"] == {"amount": "6800", "per": "month"}


async def test_a_text_that_is_not_a_post_gives_no_drafts(web: Web, world: World) -> None:
    response = await web.client.post(
        PARSE, headers=bearer(world.keys["ent_b"]), json={"text": "明天几点开会？"}
    )
    assert response.status_code == 200
    assert response.json() == {"drafts": []}


async def test_an_empty_or_oversized_text_is_a_422(web: Web, world: World) -> None:
    for text in ("", "缺木工3人" * 1000):
        response = await web.client.post(
            PARSE, headers=bearer(world.keys["ent_a"]), json={"text": text}
        )
        assert response.status_code == 422, text
        assert response.json()["error"]
