"""信用等级 as a filter of GET /api/v1/postings (issue 12, "usable in search"): the posting
company's credit grade, and for idle postings the credit grade of the workers offered."""

from __future__ import annotations

from sqlalchemy import update

from core.db.models import Enterprise, Worker
from core.db.uow import Services
from tests.factories import make_idle_posting, make_worker
from tests.webhooks.conftest import Web, World, bearer


async def _idle_market(services: Services, world: World) -> dict[str, int]:
    """A (AA) offers a C and an A worker; B (grade B) offers a B worker, and a D worker alone."""
    async with services.uow() as uow:
        s = uow.session
        for enterprise_id, score, grade in ((world.ent_a, 85, "AA"), (world.ent_b, 62, "B")):
            await s.execute(
                update(Enterprise)
                .where(Enterprise.id == enterprise_id)
                .values(credit_score=score, credit_grade=grade)
            )
        a = await s.get(Enterprise, world.ent_a)
        b = await s.get(Enterprise, world.ent_b)
        assert a is not None
        assert b is not None
        graded: dict[str, Worker] = {}
        for enterprise, name, grade in (
            (a, "王海东", "C"), (a, "李文光", "A"), (b, "赵伟", "B"), (b, "孙小华", "D")
        ):  # fmt: skip
            worker = await make_worker(uow, enterprise, name=name)
            worker.credit_grade = grade
            graded[name] = worker
        a_good = await make_idle_posting(uow, a, [graded["王海东"], graded["李文光"]])
        b_fair = await make_idle_posting(uow, b, [graded["赵伟"]])
        b_poor = await make_idle_posting(uow, b, [graded["孙小华"]])
        await uow.commit()
        return {"a_good": a_good.id, "b_fair": b_fair.id, "b_poor": b_poor.id}


async def ids(web: Web, key: str, query: str) -> list[int]:
    response = await web.client.get(f"/api/v1/postings?{query}", headers=bearer(key))
    assert response.status_code == 200, response.text
    return sorted(p["id"] for p in response.json()["items"])


async def test_idle_postings_filter_by_the_credit_grade_of_the_workers_offered(
    web: Web, world: World, services: Services
) -> None:
    idle = await _idle_market(services, world)
    key = world.keys["reg_14"]
    everyone = sorted(idle.values())
    assert await ids(web, key, "kind=idle") == everyone
    assert await ids(web, key, "kind=idle&worker_credit_grade=D") == everyone
    # "A or better": only A's posting has one (李文光), beside its C worker
    assert await ids(web, key, "kind=idle&worker_credit_grade=A") == [idle["a_good"]]
    assert await ids(web, key, "kind=idle&worker_credit_grade=B") == sorted(
        [idle["a_good"], idle["b_fair"]]
    )


async def test_postings_filter_by_the_credit_grade_of_the_company(
    web: Web, world: World, services: Services
) -> None:
    idle = await _idle_market(services, world)
    key = world.keys["reg_14"]
    assert await ids(web, key, "kind=shortage&enterprise_credit_grade=A") == [world.market_a]
    assert await ids(web, key, "kind=shortage&enterprise_credit_grade=B") == sorted(
        [world.market_a, world.internal_b, world.market_b]
    )
    assert await ids(web, key, "kind=shortage&enterprise_credit_grade=AAA") == []
    assert await ids(web, key, "kind=idle&enterprise_credit_grade=AA") == [idle["a_good"]]
    # both at once: B's company grade is too low for its B worker's posting to pass
    query = "kind=idle&enterprise_credit_grade=A&worker_credit_grade=B"
    assert await ids(web, key, query) == [idle["a_good"]]


async def test_an_unknown_grade_or_a_worker_grade_on_shortages_is_a_422(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["reg_14"])
    for query in (
        "kind=idle&worker_credit_grade=E",
        "kind=idle&worker_credit_grade=AA",
        "kind=shortage&enterprise_credit_grade=D",
    ):
        response = await web.client.get(f"/api/v1/postings?{query}", headers=key)
        assert response.status_code == 422, query
    for query in ("kind=shortage&worker_credit_grade=A", "kind=shortage&worker_gender=F"):
        response = await web.client.get(f"/api/v1/postings?{query}", headers=key)
        assert response.status_code == 422, query
        assert response.json()["error"] == "error.worker_filter_idle_only", query
