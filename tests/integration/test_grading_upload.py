"""🎖 评级 by browsing and by the bureau's workbook: filters, the exported list sent back with a
"new grade" column, every refused row with why, and all changes applied at once, audited."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select, update

from core.db.models import AuditLog, Worker
from core.db.uow import Services
from core.domain.errors import PermissionDenied, ValidationError
from core.services.grading_upload import (
    MAX_ROWS,
    apply_grading_upload,
    grading_rows,
    read_grading_upload,
)
from core.services.worker_grading import WorkerFilter, browse_workers, education_choices
from tests.integration.regulator_world import RegWorld, build_reg_world


@pytest.fixture
async def world(services: Services) -> RegWorld:
    return await build_reg_world(services)


def workbook(rows: list[list[object]], header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(
        header
        or ["编号", "姓名", "性别", "出生日期", "身份证号（隐藏）", "工种", "现等级", "新等级"]
    )
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_browsing_filters_by_trade_grade_gender_age_and_education(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        await uow.session.execute(
            update(Worker).where(Worker.id == world.wang_id).values(education="高中")
        )
        await uow.commit()
    async with services.uow() as uow:
        everyone = await browse_workers(uow, world.taiyuan, WorkerFilter())
        rebar = await browse_workers(uow, world.taiyuan, WorkerFilter(trade_code="rebar"))
        educated = await browse_workers(uow, world.taiyuan, WorkerFilter(education="高中"))
        paged = await browse_workers(uow, world.taiyuan, WorkerFilter(), limit=4)
        rest = await browse_workers(
            uow, world.taiyuan, WorkerFilter(), cursor=paged.page.next_cursor, limit=4
        )
        choices = await education_choices(uow, world.taiyuan)
        by_age = {}
        for low, high in ((40, 49), (0, 39), (46, 120)):
            found = await browse_workers(
                uow, world.taiyuan, WorkerFilter(age_min=low, age_max=high)
            )
            by_age[(low, high)] = sorted(c.birth_date for c in found.page.items)
        county = await browse_workers(uow, world.xiaodian, WorkerFilter())
        women = await browse_workers(uow, world.taiyuan, WorkerFilter(gender="F", grade_level=2))
    assert everyone.total == 6  # 太原's six; 晋中's three never
    assert {c.name for c in everyone.page.items} >= {"王海东", "赵伟"}
    assert "孙小华" not in {c.name for c in everyone.page.items}
    assert {c.name for c in rebar.page.items} == {"赵伟", "钱多多"}
    assert [c.name for c in educated.page.items] == ["王海东"]
    assert choices[0] == "初中"
    assert len(paged.page.items) == 4
    assert len(rest.page.items) == 2
    born = sorted(c.birth_date for c in everyone.page.items)
    today = date(2026, 3, 4)
    for (low, high), dates in by_age.items():
        ages = [today.year - d.year - ((today.month, today.day) < (d.month, d.day)) for d in dates]
        assert all(low <= a <= high for a in ages)
    assert sum(len(v) for k, v in by_age.items() if k != (46, 120)) == len(born)
    assert {c.name for c in county.page.items} == {"赵伟", "钱多多"}  # 小店区's company only
    assert all(c.gender == "F" and c.grade_level == 2 for c in women.page.items)


async def test_the_returned_workbook_shows_changes_and_every_refused_row_with_why(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        header, rows = await grading_rows(uow, world.taiyuan, WorkerFilter(), "zh")
        ids = {row[1]: row[0] for row in rows}
    assert header[0] == "编号"
    assert header[-1] == "新等级"
    assert len(rows) == 6
    assert all(row[-1] is None and "*" in row[4] for row in rows)  # masked ID numbers only
    data = workbook(
        [
            [ids["王海东"], "王海东", "男", None, None, "抹灰工", 2, 1],  # a change
            [ids["赵伟"], "赵伟", "", None, None, "钢筋工", 1, 1],  # the grade it has
            [ids["钱多多"], "钱多多", "", None, None, "钢筋工", 1, None],  # left blank
            [ids["李文光"], "李文光", "", None, None, "抹灰工", 2, 7],  # out of range
            ["abc", "?", "", None, None, "", 2, 3],  # not a number
            [world.sun_id, "孙小华", "", None, None, "抹灰工", 2, 3],  # 晋中's worker
            [ids["王海东"], "王海东", "", None, None, "抹灰工", 2, 3],  # twice
            [999_999, "无名", "", None, None, "", 2, 3],  # no such worker
            [],
            [float(ids["张红飞"]), "张红飞", "", None, None, "抹灰工", 2, "3"],  # 3.0 and "3"
        ]
    )
    async with services.uow() as uow:
        upload = await read_grading_upload(uow, world.taiyuan, data)
    assert upload.rows == 9
    assert upload.unchanged == 2
    assert [(c.row, c.name, c.old_grade, c.new_grade) for c in upload.changes] == [
        (2, "王海东", 2, 1),
        (11, "张红飞", 2, 3),
    ]
    assert [(r.row, r.reason) for r in upload.refused] == [
        (5, "error.grading_row_grade"),
        (6, "error.grading_row_id"),
        (7, "error.grading_row_scope"),
        (8, "error.grading_row_duplicate"),
        (9, "error.grading_row_scope"),
    ]
    async with services.uow() as uow:
        assert await apply_grading_upload(uow, world.taiyuan, upload) == 2
    async with services.uow() as uow:
        grades = dict((await uow.session.execute(select(Worker.name, Worker.grade_level))).all())
        audits = (await uow.session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
        assert (grades["王海东"], grades["张红飞"], grades["孙小华"], grades["李文光"]) == (
            1,
            3,
            2,
            2,
        )
        assert [(a.action, a.entity_id, a.before, a.after) for a in audits] == [
            (
                "worker.grade",
                str(ids["王海东"]),
                {"grade_level": 2},
                {"grade_level": 1, "source": "workbook"},
            ),
            (
                "worker.grade",
                str(ids["张红飞"]),
                {"grade_level": 2},
                {"grade_level": 3, "source": "workbook"},
            ),
        ]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"PK\x03\x04 not really a workbook", "error.grading_not_xlsx"),
        ("编号,新等级\n1,2\n".encode(), "error.grading_not_xlsx"),
        (workbook([[1, 2]], header=["工号", "等级"]), "error.grading_columns"),
        (workbook([]) and None, "error.grading_too_many"),
    ],
)
async def test_a_workbook_that_cannot_be_read_is_refused_whole(
    services: Services, world: RegWorld, data: bytes | None, key: str
) -> None:
    if data is None:
        data = workbook([[n, "x", "", None, None, "", 2, 3] for n in range(1, MAX_ROWS + 2)])
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await read_grading_upload(uow, world.taiyuan, data)
    assert err.value.key == key


async def test_grading_by_workbook_and_browsing_is_for_regulators_only(
    services: Services, world: RegWorld
) -> None:
    from core.domain.actor import Actor
    from core.domain.enums import Role

    dispatcher = Actor(
        account_id=world.wujian_dispatcher, role=Role.DISPATCHER, enterprise_id=world.wujian_id
    )
    async with services.uow() as uow:
        for call in (
            browse_workers(uow, dispatcher, WorkerFilter()),
            read_grading_upload(uow, dispatcher, workbook([])),
            grading_rows(uow, dispatcher, WorkerFilter(), "zh"),
        ):
            with pytest.raises(PermissionDenied):
                await call
