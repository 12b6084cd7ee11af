"""A worker asks to be forgotten: personal data goes, the statistics keep their numbers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db.models import AuditLog, IdlePosting, IdlePostingWorker, Worker
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import NotFound, PermissionDenied
from core.services.privacy import forget_worker
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_id_number,
    make_idle_posting,
    make_worker,
)


async def test_forgetting_erases_identity_keeps_ratings_and_frees_the_id_number(
    services: Services,
) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        worker = await make_worker(uow, ent, name="王海东", rating_sum=9, rating_count=2)
        mate = await make_worker(uow, ent, name="李文光")
        posting = await make_idle_posting(uow, ent, [worker, mate])
        id_number = uow.cipher.decrypt(worker.id_cipher)
        await uow.commit()

    async with services.uow() as uow:
        done = await forget_worker(uow, Actor.system(), id_number.lower())
    assert (done.worker_id, done.ratings_kept) == (worker.id, 2)

    async with services.uow() as uow:
        row = await uow.session.get(Worker, worker.id)
        assert row is not None
        assert (row.name, row.phone, row.id_cipher, row.education) == ("已删除", None, b"", None)
        assert id_number[-4:] not in row.id_masked
        assert (row.rating_sum, row.rating_count, row.trade_code) == (9, 2, "plasterer")
        # no longer offered: out of the idle posting, which shrank to the other worker
        listed = await uow.session.scalars(
            select(IdlePostingWorker.worker_id).where(IdlePostingWorker.posting_id == posting.id)
        )
        assert list(listed) == [mate.id]
        shrunk = await uow.session.get(IdlePosting, posting.id)
        assert shrunk is not None
        assert shrunk.headcount == 1
        audit = await uow.session.scalar(
            select(AuditLog).where(AuditLog.action == "worker.forget")
        )
        assert audit is not None
        assert audit.after == {"forgotten": True}
        assert id_number not in str(audit.before) + str(audit.after)
        # the ID number can be registered again as a new person
        found = await uow.session.scalar(
            select(func.count())
            .select_from(Worker)
            .where(Worker.id_hash == uow.cipher.lookup_hash(id_number))
        )
        assert found == 0


async def test_only_the_workers_company_or_an_admin_may_ask(services: Services) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        other = await make_enterprise(uow)
        worker = await make_worker(uow, ent)
        stranger = await make_account(uow, role=Role.DISPATCHER, enterprise=other)
        regulator = await make_account(uow, role=Role.REGULATOR, region_code="140000")
        id_number = uow.cipher.decrypt(worker.id_cipher)
        await uow.commit()
    for account in (stranger, regulator):
        async with services.uow() as uow:
            with pytest.raises(PermissionDenied):
                await forget_worker(uow, actor_of(account), id_number)
    async with services.uow() as uow:
        with pytest.raises(NotFound):
            await forget_worker(uow, Actor.system(), make_id_number("140105", seq=999))
        row = await uow.session.get(Worker, worker.id)
        assert row is not None
        assert row.name == "王海东"
