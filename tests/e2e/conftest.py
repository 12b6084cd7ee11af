"""End-to-end fixtures: the real demo (seeded SQLite in tmp, emulator, bot, sender, scheduler)
in this test's event loop, and a sandbox client to act as its personas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.demo.app import RunningDemo, start_demo
from bot.renderers.digest import clear_cache
from bot.sender import SenderConfig
from core.ports import FixedClock
from sandbox import FloodLimit
from sandbox.client import SandboxClient

# throttling relaxed for speed: the flows, not the rate limits, are under test here
FAST_SENDER = SenderConfig(
    global_rate=1000.0, global_burst=50.0, chat_rate=1000.0, poll_interval=0.2, stop_grace=5.0
)
NO_FLOOD = FloodLimit(per_chat_per_second=None, global_per_second=None)
# 07:00 in Shanghai on a Wednesday: before the regulators' 08:00 digest time, so the
# scheduler queues no digest on its own and "send now" decides when it comes
START = datetime(2026, 3, 3, 23, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_digest_cache() -> Iterator[None]:
    # the digest renderers cache per (region, day) in the process; each test has its own DB
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def demo_clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def demo(tmp_path: Path, demo_clock: FixedClock) -> AsyncIterator[RunningDemo]:
    running = await start_demo(
        tmp_path / "demo",
        port=0,
        clock=demo_clock,
        sender_config=FAST_SENDER,
        flood=NO_FLOOD,
        polling_timeout=2,
    )
    yield running
    await running.stop()


@pytest.fixture
async def client(demo: RunningDemo) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(demo.url, timeout=15.0) as sandbox:
        yield sandbox
