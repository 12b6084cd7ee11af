"""申请入驻 (core/services/enterprise_applications.py): filing, who reviews, approval making the
applicant the company's admin dispatcher, rejection with a reason, and every refusal."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import Account, Enterprise, EnterpriseApplication
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.services.enterprise_applications import (
    ApplyCommand,
    approve_application,
    reject_application,
    reviewers_of,
    submit_application,
)
from tests.factories import actor_of, make_account, make_enterprise, make_uscc

APPLICANT = 7001


def apply_cmd(**overrides: Any) -> ApplyCommand:
    base = ApplyCommand(
        telegram_user_id=APPLICANT,
        chat_id=APPLICANT,
        language_code="zh-hans",
        name="山西晋工劳务有限公司",
        uscc=make_uscc("140105", 1),
        kind="labor",
        county_code="140105",
        contact="李明 138-0013-8000",
    )
    return replace(base, **overrides)


async def apply(services: Services, **overrides: Any) -> Any:
    async with services.uow() as uow:
        view = await submit_application(uow, apply_cmd(**overrides))
        await uow.commit()
        return view


async def regulator(services: Services, region: str, tg: int) -> Actor:
    async with services.uow() as uow:
        account = await make_account(
            uow, role=Role.REGULATOR, region_code=region, telegram_user_id=tg, name="王监管"
        )
        await uow.commit()
        return actor_of(account)


async def count(services: Services, model: Any) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_county_regulator_approves_and_the_applicant_becomes_admin(
    services: Services,
) -> None:
    county = await regulator(services, "140105", 8001)
    filed = await apply(services)
    assert (filed.status, filed.contact_name, filed.contact_phone) == (
        "pending",
        "李明",
        "13800138000",
    )
    async with services.uow() as uow:
        approved = await approve_application(uow, county, filed.id)
        await uow.commit()
    async with services.uow() as uow:
        ent = await uow.session.get(Enterprise, approved.enterprise_id)
        admin = await uow.session.get(Account, approved.account_id)
        assert ent is not None
        assert admin is not None
        assert (ent.name, ent.uscc, ent.type, ent.county_code) == (
            "山西晋工劳务有限公司",
            make_uscc("140105", 1),
            "labor_service",
            "140105",
        )
        assert (admin.role, admin.is_admin, admin.enterprise_id) == ("dispatcher", True, ent.id)
        assert (admin.telegram_user_id, admin.phone, admin.locale) == (
            APPLICANT,
            "13800138000",
            "zh",
        )
    # approving twice changes nothing and says so
    async with services.uow() as uow:
        with pytest.raises(Conflict) as caught:
            await approve_application(uow, county, filed.id)
        assert caught.value.key == "error.application_approved"
    assert await count(services, Enterprise) == 1
    assert await count(services, Account) == 2


async def test_reviewers_are_the_county_regulators_else_the_city_ones(
    services: Services,
) -> None:
    city = await regulator(services, "140100", 8002)
    async with services.uow() as uow:
        assert await reviewers_of(uow, "140105") == [city.account_id]
    county = await regulator(services, "140105", 8003)
    await regulator(services, "140702", 8004)
    async with services.uow() as uow:
        assert await reviewers_of(uow, "140105") == [county.account_id]
        assert await reviewers_of(uow, "140106") == [city.account_id]


async def test_a_regulator_of_another_region_can_neither_approve_nor_reject(
    services: Services,
) -> None:
    jinzhong = await regulator(services, "140700", 8005)
    filed = await apply(services)
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied) as caught:
            await approve_application(uow, jinzhong, filed.id)
        assert caught.value.key == "error.out_of_scope"
        with pytest.raises(PermissionDenied):
            await reject_application(uow, jinzhong, filed.id, "资料不全")
        dispatcher = Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=1)
        with pytest.raises(PermissionDenied):
            await approve_application(uow, dispatcher, filed.id)
        with pytest.raises(NotFound):
            await approve_application(uow, jinzhong, 999)
    assert await count(services, Enterprise) == 0


async def test_rejection_keeps_the_reason_and_frees_the_applicant_to_apply_again(
    services: Services,
) -> None:
    county = await regulator(services, "140105", 8006)
    filed = await apply(services)
    async with services.uow() as uow:
        with pytest.raises(ValidationError):
            await reject_application(uow, county, filed.id, "   ")
        rejected = await reject_application(uow, county, filed.id, " 营业执照照片不清晰 ")
        await uow.commit()
    assert (rejected.status, rejected.reason) == ("rejected", "营业执照照片不清晰")
    async with services.uow() as uow:
        with pytest.raises(Conflict) as caught:
            await approve_application(uow, county, filed.id)
        assert caught.value.key == "error.application_rejected"
    again = await apply(services)
    assert again.id != filed.id
    assert await count(services, Enterprise) == 0


async def test_refusals_when_filing(services: Services) -> None:
    await apply(services)
    with pytest.raises(Conflict) as caught:  # a second pending application of the same user
        await apply(services, uscc=make_uscc("140105", 2), name="另一家公司")
    assert caught.value.key == "error.application_pending"
    with pytest.raises(Conflict) as caught:  # the same USCC by somebody else
        await apply(services, telegram_user_id=7002, chat_id=7002, name="另一家公司")
    assert caught.value.key == "error.uscc_applied"
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        ent.uscc = make_uscc("140105", 3)
        await make_account(uow, role=Role.DISPATCHER, enterprise=ent, telegram_user_id=7003)
        await uow.commit()
    with pytest.raises(Conflict) as caught:  # a registered company
        await apply(services, telegram_user_id=7004, chat_id=7004, uscc=make_uscc("140105", 3))
    assert caught.value.key == "error.uscc_taken"
    with pytest.raises(Conflict) as caught:  # somebody already bound by an invite
        await apply(services, telegram_user_id=7003, chat_id=7003, uscc=make_uscc("140105", 4))
    assert caught.value.key == "error.already_bound"
    assert await count(services, EnterpriseApplication) == 1


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"uscc": "91140105MA00000010"}, "error.bad_uscc"),
        ({"kind": "builder"}, "error.bad_enterprise_kind"),
        ({"county_code": "140100"}, "error.not_a_county"),
        ({"county_code": "110105"}, "error.unknown_region"),
        ({"name": "晋"}, "error.enterprise_name_short"),
        ({"name": "晋" * 200}, "error.text_too_long"),
        ({"contact": "李明"}, "error.contact_needs_phone"),
        ({"contact": "13800138000"}, "error.contact_needs_name"),
    ],
)  # fmt: skip
async def test_bad_answers_are_refused_and_nothing_is_filed(
    services: Services, overrides: dict[str, Any], key: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await apply(services, telegram_user_id=7010, chat_id=7010, **overrides)
    assert caught.value.key == key
    assert await count(services, EnterpriseApplication) == 0


async def test_a_company_registered_meanwhile_cannot_be_approved_twice_over(
    services: Services,
) -> None:
    """The CLI registered the same USCC after the application: approval is refused, and the
    application stays pending, its applicant without rights."""
    county = await regulator(services, "140105", 8007)
    filed = await apply(services)
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="先登记的公司")
        ent.uscc = make_uscc("140105", 1)
        await uow.commit()
    async with services.uow() as uow:
        with pytest.raises(Conflict) as caught:
            await approve_application(uow, county, filed.id)
        assert caught.value.key == "error.uscc_taken"
    async with services.uow() as uow:
        row = await uow.session.get(EnterpriseApplication, filed.id)
        assert row is not None
        assert row.status == "pending"
    async with services.uow() as uow:
        roles = sorted(await uow.session.scalars(select(Account.role)))
    assert roles == ["applicant", "regulator"]  # the applicant is still only an applicant
