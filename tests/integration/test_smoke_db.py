from sqlalchemy import func, select

from core.db.models import Region, Worker
from core.db.uow import Services
from tests.factories import make_enterprise, make_worker


async def test_reference_data_and_a_worker_round_trip(services: Services) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        worker = await make_worker(uow, ent)
        await uow.commit()
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Region)) > 5
        stored = await uow.session.get(Worker, worker.id)
        assert stored is not None
        assert stored.id_masked.startswith("140105")
        assert len(uow.cipher.decrypt(stored.id_cipher)) == 18
