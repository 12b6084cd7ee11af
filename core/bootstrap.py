"""Composition of the core: engine, session factory, cipher. Called by main() / lifespans."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import Settings
from core.db.engine import create_engine, create_session_factory
from core.db.uow import Services
from core.pii import PersonalDataCipher
from core.ports import Clock, SystemClock


def build_services(
    settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
) -> tuple[AsyncEngine, Services]:
    engine = engine or create_engine(settings)
    services = Services(
        session_factory=create_session_factory(engine),
        settings=settings,
        cipher=PersonalDataCipher(settings.master_secret()),
        clock=clock or SystemClock(),
    )
    return engine, services
