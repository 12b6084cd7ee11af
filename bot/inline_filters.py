"""Synchronous filters run inline instead of in a thread.

aiogram runs every non-async callable of a router, magic filters included (`F.data == …`,
`F.text.startswith(…)`), through `asyncio.to_thread`: a thread hand-over and an event-loop
wake-up for each filter checked, dozens per update as an update walks our routers. Profiling
the webhook (bench/webhook_throughput.py --py-spy) showed those hand-overs as one of the
largest costs per update. Our filters are cheap pure checks on the update, so after the
routers are assembled each synchronous filter is wrapped in a coroutine function that calls
it directly; handlers are left alone (ours are all `async def`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def _inline(check: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(check)
    async def run_inline(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return run_inline


def _filters(router: Router) -> Iterator[FilterObject]:
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in observer.handlers:
                yield from handler.filters or ()


def run_sync_filters_inline(router: Router) -> int:
    """Make every synchronous filter under `router` (included routers too) run in the event
    loop's thread. Returns how many were changed."""
    changed = 0
    for filter_object in _filters(router):
        if not filter_object.awaitable:
            # the keyword arguments a filter gets were worked out from its own signature
            # (filter_object.params) and stay so; only the way it is called changes
            filter_object.callback = _inline(filter_object.callback)
            filter_object.awaitable = True
            changed += 1
    return changed
