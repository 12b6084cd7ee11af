"""The enterprise registry (core/services/enterprises.py): every rule of a new company,
listing in scope, and suspension stopping a company's postings with nothing written."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import AuditLog, Enterprise, IdlePosting, ShortagePosting
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import EnterpriseStatus, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.services.enterprises import (
    RegisterEnterpriseCommand,
    get_enterprise,
    list_enterprises,
    register_enterprise,
    suspend_enterprise,
)
from core.services.postings import (
    DeclareIdleCommand,
    PostShortageCommand,
    declare_idle,
    post_shortage,
)
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_project,
    make_uscc,
    make_worker,
)

SYSTEM = Actor.system()
TAIYUAN_REGULATOR = Actor(account_id=None, role=Role.REGULATOR, region_code="140100")


def cmd(**overrides: Any) -> RegisterEnterpriseCommand:
    base = RegisterEnterpriseCommand(
        name="  山西晋工劳务有限公司 ",
        uscc=make_uscc("140105", 1),
        kind="labor",
        county_code="140105",
        address="太原市小店区长风街 1 号",
    )
    return replace(base, **overrides)


async def register(services: Services, actor: Actor = SYSTEM, **overrides: Any) -> Any:
    async with services.uow() as uow:
        view = await register_enterprise(uow, actor, cmd(**overrides))
        await uow.commit()
        return view


async def enterprise_count(services: Services) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count(Enterprise.id))) or 0)


async def test_a_shanxi_company_is_registered_with_its_normalised_fields(
    services: Services,
) -> None:
    view = await register(services, uscc=" " + make_uscc("140105", 1).lower() + " ")
    async with services.uow() as uow:
        row = await uow.session.get(Enterprise, view.id)
        assert row is not None
        assert row.name == "山西晋工劳务有限公司"
        assert row.uscc == make_uscc("140105", 1)
        assert row.type == "labor_service"
        assert (row.county_code, row.city_code) == ("140105", "140100")
        assert row.address == "太原市小店区长风街 1 号"
        assert row.out_of_province is False
        assert row.status == "active"
        assert row.suspended_reason is None
        audit = await uow.session.scalar(
            select(AuditLog).where(AuditLog.action == "enterprise.register")
        )
        assert audit is not None
        assert audit.entity_id == str(view.id)
    assert view.kind == "labor"


async def test_a_uscc_registered_outside_shanxi_marks_the_company(services: Services) -> None:
    view = await register(services, uscc=make_uscc("110105", 7), kind="general")
    assert view.out_of_province is True
    assert view.kind == "general"
    async with services.uow() as uow:
        row = await uow.session.get(Enterprise, view.id)
        assert row is not None
        assert row.out_of_province is True
        assert row.type == "general_contractor"


@pytest.mark.parametrize(
    ("overrides", "error", "key"),
    [
        ({"uscc": make_uscc()[:-1] + ("0" if make_uscc()[-1] != "0" else "1")}, ValidationError,
         "error.bad_uscc"),
        ({"uscc": "91140105MA00001"}, ValidationError, "error.bad_uscc"),
        ({"uscc": "91140105MA0000001I"}, ValidationError, "error.bad_uscc"),  # I is no USCC letter
        ({"uscc": ""}, ValidationError, "error.bad_uscc"),
        ({"kind": "builder"}, ValidationError, "error.bad_enterprise_kind"),
        ({"county_code": "140100"}, ValidationError, "error.not_a_county"),  # a city
        ({"county_code": "140199"}, NotFound, "error.unknown_region"),  # no such county
        ({"county_code": "110105"}, ValidationError, "error.unknown_region"),  # Beijing
        ({"county_code": "abc"}, ValidationError, "error.unknown_region"),
        ({"name": "   "}, ValidationError, "error.text_required"),
        ({"name": "晋"}, ValidationError, "error.enterprise_name_short"),
        ({"name": "晋" * 200}, ValidationError, "error.text_too_long"),
        ({"address": "址" * 201}, ValidationError, "error.text_too_long"),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_with_its_key_and_nothing_written(
    services: Services, overrides: dict[str, Any], error: type[Exception], key: str
) -> None:
    with pytest.raises(error) as caught:
        await register(services, **overrides)
    assert caught.value.key == key  # type: ignore[attr-defined]
    assert await enterprise_count(services) == 0


async def test_a_name_of_exactly_100_characters_is_accepted(services: Services) -> None:
    view = await register(services, name="晋" * 100)
    assert len(view.name) == 100


async def test_the_same_uscc_or_name_twice_is_a_conflict(services: Services) -> None:
    await register(services)
    with pytest.raises(Conflict) as caught:
        await register(services, name="另一家公司")
    assert caught.value.key == "error.uscc_taken"
    with pytest.raises(Conflict) as caught:
        await register(services, uscc=make_uscc("140105", 2))
    assert caught.value.key == "error.enterprise_name_taken"
    assert await enterprise_count(services) == 1


async def test_a_regulator_registers_and_sees_only_inside_its_region(services: Services) -> None:
    own = await register(services, TAIYUAN_REGULATOR)
    with pytest.raises(PermissionDenied) as caught:
        await register(
            services, TAIYUAN_REGULATOR, name="晋中公司", uscc=make_uscc("140702", 3),
            county_code="140702",
        )  # fmt: skip
    assert caught.value.key == "error.out_of_scope"
    other = await register(
        services, name="晋中公司", uscc=make_uscc("140702", 3), county_code="140702"
    )
    async with services.uow() as uow:
        assert [v.id for v in await list_enterprises(uow, TAIYUAN_REGULATOR)] == [own.id]
        assert [v.id for v in await list_enterprises(uow, SYSTEM, "1407")] == [other.id]
        assert len(await list_enterprises(uow, SYSTEM)) == 2
        with pytest.raises(NotFound):
            await get_enterprise(uow, TAIYUAN_REGULATOR, other.id)
        with pytest.raises(NotFound):
            await suspend_enterprise(uow, TAIYUAN_REGULATOR, other.id, "资质过期")
    foreman = Actor(account_id=None, role=Role.FOREMAN, enterprise_id=own.id)
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await register_enterprise(uow, foreman, cmd(uscc=make_uscc("140105", 9), name="甲"))


async def test_a_suspended_company_cannot_post_and_nothing_is_written(
    services: Services,
) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, county_code="140105")
        project = await make_project(uow, ent)
        foreman = await make_account(uow, role=Role.FOREMAN, enterprise=ent, projects=[project])
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=ent)
        worker = await make_worker(uow, ent, grade_level=3)
        await uow.commit()
        ids = (ent.id, project.id, worker.id)
        actors = (actor_of(foreman, [project.id]), actor_of(dispatcher))
    async with services.uow() as uow:
        view = await suspend_enterprise(uow, SYSTEM, ids[0], "  安全事故整改中 ")
        await uow.commit()
    assert view.status is EnterpriseStatus.SUSPENDED
    assert view.suspended_reason == "安全事故整改中"

    shortage = PostShortageCommand(
        project_id=ids[1], trade_code="plasterer", min_grade=3, headcount=2, price="5000",
        contact_name="张伟", contact_phone="13912345678",
    )  # fmt: skip
    idle = DeclareIdleCommand(
        county_code="140105", trade_code="plasterer", grade_level=3, worker_ids=[ids[2]],
        price=Decimal(5000), contact_name="李明", contact_phone="13700001111",
    )  # fmt: skip
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied) as caught:
            await post_shortage(uow, actors[0], shortage)
        assert caught.value.key == "error.enterprise_suspended"
        assert caught.value.params == {"reason": "安全事故整改中"}
        with pytest.raises(PermissionDenied) as caught:
            await declare_idle(uow, actors[1], idle)
        assert caught.value.key == "error.enterprise_suspended"
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count(ShortagePosting.id))) == 0
        assert await uow.session.scalar(select(func.count(IdlePosting.id))) == 0


async def test_suspension_needs_a_reason(services: Services) -> None:
    view = await register(services)
    async with services.uow() as uow:
        with pytest.raises(ValidationError):
            await suspend_enterprise(uow, SYSTEM, view.id, "  ")
        with pytest.raises(NotFound):
            await suspend_enterprise(uow, SYSTEM, 999, "原因")
