"""Regressions on personal data: full phone numbers written where they should not be."""

from __future__ import annotations

from sqlalchemy import select

from core.db.models import AuditLog
from core.db.uow import Services
from core.domain.enums import Role
from core.services import accounts
from tests.factories import make_account


async def test_changing_ones_phone_keeps_only_masked_numbers_in_the_audit_log(
    services: Services,
) -> None:
    # the audit log is read more widely than the accounts: like the postings' contact phones,
    # the account's own number is audited masked (before and after)
    async with services.uow() as uow:
        account = await make_account(uow, role=Role.DISPATCHER, phone="13912345678")
        await uow.commit()
        account_id = account.id
    async with services.uow() as uow:
        view = await accounts.set_phone(uow, account_id, "+86 139-8765-4321")
    assert view.phone == "13987654321"  # the account itself keeps the number

    async with services.uow() as uow:
        before, after = (
            await uow.session.execute(
                select(AuditLog.before, AuditLog.after).where(AuditLog.action == "account.phone")
            )
        ).one()
    assert before == {"phone": "139****5678"}
    assert after == {"phone": "139****4321"}
