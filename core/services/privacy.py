"""A worker's right to deletion (PIPL art. 47): personal data goes, aggregates stay.

After `forget_worker` the row keeps only what the statistics need — enterprise, trade, grade,
gender, ratings given to them and the deals they were part of — and nothing that identifies the
person: no name, phone, birth date, education, and the ID number's cipher, hash and mask are
replaced, so the same ID number can later be registered afresh as a new person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from core.db.models import Worker
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role, WorkerStatus
from core.domain.errors import NotFound, PermissionDenied
from core.domain.values import IdNumber
from core.services.workers import _take_out_of_idle_postings

FORGOTTEN_NAME = "已删除"
FORGOTTEN_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class ForgottenWorker:
    worker_id: int
    enterprise_id: int
    ratings_kept: int


async def forget_worker(uow: UnitOfWork, actor: Actor, id_number: str) -> ForgottenWorker:
    """Erase a worker's personal data on request; their ratings and deals stay as aggregates."""
    if actor.role not in (Role.ADMIN, Role.DISPATCHER):
        raise PermissionDenied("error.forbidden")
    number = IdNumber.parse(id_number)
    worker = await uow.session.scalar(
        select(Worker)
        .where(Worker.id_hash == uow.cipher.lookup_hash(number.value))
        .with_for_update()
    )
    if worker is None:
        raise NotFound("error.worker_not_found")
    if not actor.can_act_for_enterprise(worker.enterprise_id):
        raise PermissionDenied("error.forbidden")
    if worker.status == WorkerStatus.IDLE.value:
        await _take_out_of_idle_postings(uow, actor, worker)
    now = uow.now()
    worker.name = FORGOTTEN_NAME
    worker.phone = None
    worker.education = None
    worker.birth_date = FORGOTTEN_BIRTH
    worker.id_cipher = b""
    worker.id_hash = f"forgotten:{worker.id}"
    worker.id_masked = "******************"
    worker.status = WorkerStatus.BUSY.value  # never offered again
    worker.team_id = None
    worker.updated_at = now
    worker.status_changed_at = now
    # the audit row itself must not keep what was erased
    uow.audit(
        actor_account_id=actor.account_id,
        action="worker.forget",
        entity="worker",
        entity_id=worker.id,
        before=None,
        after={"forgotten": True},
    )
    result = ForgottenWorker(worker.id, worker.enterprise_id, worker.rating_count)
    await uow.commit()
    return result
