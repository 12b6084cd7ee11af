"""Reference data read once per process: regions, trades and grades.

Migrations and `jingong seed` write these tables; nothing at runtime changes them, so a bot
step need not query them again (they were a third of a dialog step's statements). A process
started before the reference data changed must be restarted to see the change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.db.uow import UnitOfWork

T = TypeVar("T")


async def cached(uow: UnitOfWork, name: str, load: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """`load(uow)` the first time `name` is asked for in this process, the kept value after.
    The value must be immutable (tuples, frozen dataclasses)."""
    store: dict[str, Any] = uow.services.reference_cache
    if name not in store:
        store[name] = await load(uow)
    return store[name]  # type: ignore[no-any-return]
