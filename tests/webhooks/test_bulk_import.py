"""PUT /api/v1/workers:bulk and /projects:bulk: good rows kept, bad rows reported one by one,
JSON and CSV, idempotent, 10,000 rows per request, and no full ID number in any answer."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import Project, Team, Worker
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.services.imports import MAX_ROWS, import_workers
from tests.factories import make_id_number
from tests.webhooks.conftest import Web, World, bearer

WORKERS = "/api/v1/workers:bulk"
PROJECTS = "/api/v1/projects:bulk"

GOOD_1 = make_id_number("140105", date(1985, 5, 17), 11)  # male
GOOD_2 = make_id_number("140702", date(1990, 2, 3), 22)  # female
GOOD_3 = make_id_number("140105", date(1979, 12, 30), 33)
BAD_CHECKSUM = GOOD_1[:-1] + ("0" if GOOD_1[-1] != "0" else "1")


def mixed_rows(project_code: str) -> list[dict[str, Any]]:
    return [
        # 1: good, by Chinese trade and grade names, registered on a project team
        {"id_number": GOOD_1, "name": "王海东", "trade": "抹灰工", "grade": "二级",
         "phone": "+86 139-1234-5678", "project_code": project_code, "team": "抹灰一班"},
        # 2: bad checksum
        {"id_number": BAD_CHECKSUM, "name": "李四", "trade": "plasterer", "grade": 3},
        # 3: good, trade code, numeric grade, lower-case x is fine too
        {"id_number": GOOD_2, "name": "赵丽", "trade": "rebar", "grade": 1, "gender": "女"},
        # 4: unknown trade
        {"id_number": GOOD_3, "name": "孙五", "trade": "宇航员", "grade": 2},
        # 5: bad phone (the seed's "11")
        {"id_number": GOOD_3, "name": "孙五", "trade": "木工", "grade": 2, "phone": "11"},
        # 6: the same ID as row 1 under another name (the seed's data-quality case)
        {"id_number": GOOD_1, "name": "王海冬", "trade": "抹灰工", "grade": 2},
        # 7: grade out of range
        {"id_number": GOOD_3, "name": "孙五", "trade": "木工", "grade": "六级"},
        # 8: 17 digits
        {"id_number": GOOD_3[:17], "name": "孙五", "trade": "木工", "grade": 2},
        # 9: gender contradicts the ID number
        {"id_number": GOOD_3, "name": "孙五", "trade": "木工", "grade": 2, "gender": "女"},
        # 10: a project of another company
        {"id_number": GOOD_3, "name": "孙五", "trade": "木工", "grade": 2,
         "project_code": "NOT-MINE"},
        # 11: name is a number
        {"id_number": GOOD_3, "name": "11", "trade": "木工", "grade": 2},
    ]  # fmt: skip


EXPECTED_REJECTED = [
    (2, "id_number", "error.id_checksum"),
    (4, "trade", "error.unknown_trade"),
    (5, "phone", "error.phone"),
    (6, "id_number", "error.id_name_mismatch"),
    (7, "grade", "error.unknown_grade"),
    (8, "id_number", "error.id_length"),
    (9, "gender", "error.id_gender_mismatch"),
    (10, "project_code", "error.project_not_found"),
    (11, "name", "error.bad_name"),
]


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def triples(report: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(e["row"], e["field"], e["error"]) for e in report["rejected"]]


async def workers_in_db(services: Services) -> dict[str, tuple[Any, ...]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(
                Worker.id_hash,
                Worker.name,
                Worker.trade_code,
                Worker.grade_level,
                Worker.phone,
                Worker.gender,
                Worker.id_masked,
                Worker.status,
                Team.name,
            ).outerjoin(Team, Team.id == Worker.team_id)
        )
        return {row[0]: tuple(row[1:]) for row in rows}


async def test_a_mix_of_good_and_bad_worker_rows_keeps_the_good_and_explains_the_bad(
    web: Web, services: Services, world: World
) -> None:
    response = await web.client.put(
        WORKERS, headers=bearer(world.keys["ent_a"]), json={"rows": mixed_rows(world.project_a)}
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (2, 0, 0)
    assert triples(report) == EXPECTED_REJECTED
    assert report["rejected"][3]["params"] == {"first_row": 1}
    # no full ID number leaves the server, not even a rejected one
    for id_number in (GOOD_1, GOOD_2, GOOD_3, BAD_CHECKSUM):
        assert id_number not in response.text

    h = services.cipher.lookup_hash
    stored = await workers_in_db(services)
    assert stored == {
        h(GOOD_1): ("王海东", "plasterer", 2, "13912345678", "M",
                    GOOD_1[:6] + "********" + GOOD_1[-4:], "busy", "抹灰一班"),
        h(GOOD_2): ("赵丽", "rebar", 1, None, "F",
                    GOOD_2[:6] + "********" + GOOD_2[-4:], "idle", None),
    }  # fmt: skip


async def test_importing_the_same_rows_again_changes_nothing(
    web: Web, services: Services, world: World
) -> None:
    key = bearer(world.keys["ent_a"])
    rows = mixed_rows(world.project_a)
    await web.client.put(WORKERS, headers=key, json={"rows": rows})
    before = await workers_in_db(services)

    again = (await web.client.put(WORKERS, headers=key, json={"rows": rows})).json()

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert triples(again) == EXPECTED_REJECTED
    assert await workers_in_db(services) == before
    async with services.uow() as uow:  # the team was made once
        teams = await uow.session.scalar(select(func.count()).select_from(Team))
    assert teams == 1


async def test_csv_with_a_header_row_imports_like_json_and_updates_by_id_number(
    web: Web, services: Services, world: World
) -> None:
    key = {**bearer(world.keys["ent_a"]), "Content-Type": "text/csv; charset=utf-8"}
    first = await web.client.put(WORKERS, headers=key, content=as_csv(mixed_rows(world.project_a)))
    assert first.status_code == 200, first.text
    assert (first.json()["created"], triples(first.json())) == (2, EXPECTED_REJECTED)

    changed = [
        {
            "id_number": GOOD_1,
            "name": "王海东",
            "trade": "plasterer",
            "grade": "一级",
            "phone": "",
        },
        {
            "id_number": GOOD_2.lower(),
            "name": "赵丽",
            "trade": "Rebar worker",
            "grade": "1",
            "phone": "",
        },
    ]
    second = (await web.client.put(WORKERS, headers=key, content=as_csv(changed))).json()

    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 1)
    h = services.cipher.lookup_hash
    stored = await workers_in_db(services)
    # grade raised, phone cleared by the empty cell; the team stays (no project column)
    assert stored[h(GOOD_1)][2:4] == (1, None)
    assert stored[h(GOOD_1)][-1] == "抹灰一班"


async def test_a_worker_of_another_company_is_not_taken_over(web: Web, world: World) -> None:
    row = {"id_number": GOOD_1, "name": "王海东", "trade": "抹灰工", "grade": 2}
    await web.client.put(WORKERS, headers=bearer(world.keys["ent_a"]), json={"rows": [row]})

    response = await web.client.put(
        WORKERS, headers=bearer(world.keys["ent_b"]), json={"rows": [row]}
    )

    assert triples(response.json()) == [(1, "id_number", "error.worker_other_enterprise")]


async def test_projects_are_upserted_by_code_and_bad_rows_reported(
    web: Web, services: Services, world: World
) -> None:
    key = bearer(world.keys["ent_a"])
    rows = [
        {
            "code": "TY-2026-001",
            "name": "太原南站二期",
            "county_code": "140105",
            "address": "站前街1号",
        },
        {"code": "TY-2026-002", "name": "迎泽公寓", "county_code": "140106", "status": "在建"},
        {"code": "TY-2026-003", "name": "某项目", "county_code": "140100"},  # a city, not a county
        {"code": "TY-2026-004", "name": "某项目", "county_code": "149999"},
        {"code": "", "name": "无编号"},
        {"code": "TY-2026-001", "name": "重复", "county_code": "140105"},
        {"code": "TY-2026-005", "name": "竣工项目", "county_code": "140105", "status": "paused"},
        {"code": world.project_a, "name": "太原南站（更名）", "county_code": "140105"},
    ]
    first = (await web.client.put(PROJECTS, headers=key, json={"rows": rows})).json()

    assert (first["created"], first["updated"], first["unchanged"]) == (2, 1, 0)
    assert triples(first) == [
        (3, "county_code", "error.unknown_region"),
        (4, "county_code", "error.unknown_region"),
        (5, "code", "error.text_required"),
        (6, "code", "error.duplicate_row"),
        (7, "status", "error.bad_status"),
    ]
    second = (await web.client.put(PROJECTS, headers=key, json={"rows": rows})).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)

    async with services.uow() as uow:
        got = {
            p.code: (p.name, p.county_code, p.city_code, p.address, p.status, p.enterprise_id)
            for p in await uow.session.scalars(select(Project).where(Project.code.like("TY-%")))
        }
        renamed = await uow.session.scalar(
            select(Project.name).where(Project.code == world.project_a)
        )
    assert got == {
        "TY-2026-001": ("太原南站二期", "140105", "140100", "站前街1号", "active", world.ent_a),
        "TY-2026-002": ("迎泽公寓", "140106", "140100", "", "active", world.ent_a),
    }
    assert renamed == "太原南站(更名)"  # free text is NFKC-normalized


async def test_bodies_that_are_not_rows_are_refused_with_the_right_status(
    web: Web, world: World
) -> None:
    key = bearer(world.keys["ent_a"])
    cases = [
        ({"content": b"{oops", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": {"rows": "many"}}, 422),
        ({"json": [1, 2]}, 422),
        ({"content": b"\xff\xfe\x00", "headers": {"Content-Type": "text/csv"}}, 400),
        ({"content": b"", "headers": {"Content-Type": "text/csv"}}, 400),
        ({"content": b"<rows/>", "headers": {"Content-Type": "application/xml"}}, 415),
        ({"json": {"rows": [{}] * (MAX_ROWS + 1)}}, 413),
        ({"json": {"rows": [1, "x", None]}}, 200),  # rows that are no objects: reported
    ]
    for kw, status in cases:
        headers = {**key, **kw.pop("headers", {})}
        response = await web.client.put(WORKERS, headers=headers, **kw)
        assert response.status_code == status, (kw, response.text)
        assert "error" in response.json() or status == 200

    csv_rows = b"id_number,name\n" + b"x,y\n" * (MAX_ROWS + 1)
    too_many = await web.client.put(
        WORKERS, headers={**key, "Content-Type": "text/csv"}, content=csv_rows
    )
    assert too_many.status_code == 413
    assert too_many.json() == {"error": "error.too_many_rows", "params": {"max": MAX_ROWS}}


async def test_a_body_over_the_size_limit_gets_413_before_it_is_parsed(
    web: Web, world: World
) -> None:
    limit = web.app.state.settings.api_max_body_bytes
    huge = b'{"rows": [' + b" " * (limit + 1) + b"]}"
    response = await web.client.put(
        WORKERS,
        headers={**bearer(world.keys["ent_a"]), "Content-Type": "application/json"},
        content=huge,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "error.body_too_large"

    async def chunks() -> Any:  # no Content-Length: the streamed bytes are counted
        yield b'{"rows": ['
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536
        yield b"]}"

    streamed = await web.client.put(
        WORKERS,
        headers={**bearer(world.keys["ent_a"]), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert streamed.status_code == 413


def many_rows(n: int, county: str = "140105") -> list[dict[str, Any]]:
    trades = ["抹灰工", "rebar", "木工", "scaffolder", "mason"]
    start = date(1970, 1, 1)
    return [
        {
            "id_number": make_id_number(county, start + timedelta(days=i // 500), i % 500 + 1),
            "name": "工人" + "甲乙丙丁戊己庚辛"[i % 8] + "一二三四五"[i // 8 % 5],
            "trade": trades[i % 5],
            "grade": i % 5 + 1,
            "phone": f"139{i:08d}",
        }
        for i in range(n)
    ]


async def test_ten_thousand_workers_are_imported_in_one_request(
    web: Web, services: Services, world: World
) -> None:
    """The row limit in one request, on both databases (how fast: a benchmark's business)."""
    rows = many_rows(MAX_ROWS)
    key = bearer(world.keys["ent_a"])
    response = await web.client.put(WORKERS, headers=key, json={"rows": rows}, timeout=300)

    assert response.status_code == 200
    assert response.json()["created"] == MAX_ROWS
    assert response.json()["rejected"] == []

    again = (await web.client.put(WORKERS, headers=key, json={"rows": rows}, timeout=300)).json()
    assert again["unchanged"] == MAX_ROWS
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Worker)) == MAX_ROWS


async def test_only_enterprises_regulators_and_admins_may_import(
    services: Services, world: World
) -> None:
    foreman = Actor(account_id=None, role=Role.FOREMAN, enterprise_id=world.ent_a)
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied) as raised:
            await import_workers(uow, foreman, [])
    assert raised.value.key == "error.forbidden"


async def test_two_simultaneous_imports_of_the_same_workers_store_each_worker_once(
    web: Web, services: Services, world: World
) -> None:
    rows = many_rows(300)
    key = bearer(world.keys["ent_a"])

    first, second = await asyncio.gather(
        web.client.put(WORKERS, headers=key, json={"rows": rows}),
        web.client.put(WORKERS, headers=key, json={"rows": rows}),
    )

    # PostgreSQL: the loser's INSERT meets the winner's rows → 409, retry later;
    # SQLite: writers are serialized, the second sees the rows and leaves them unchanged
    assert sorted([first.status_code, second.status_code])[0] == 200
    assert {first.status_code, second.status_code} <= {200, 409}
    created = [r.json()["created"] for r in (first, second) if r.status_code == 200]
    assert sorted(created)[-1] == 300
    if second.status_code == 409 or first.status_code == 409:
        loser = first if first.status_code == 409 else second
        assert loser.json() == {"error": "error.import_conflict", "params": {}}
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Worker)) == 300
