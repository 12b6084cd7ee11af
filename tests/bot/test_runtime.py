"""The one runtime builder (bot.runtime) that `run`, `serve`, `scheduler` and `demo` share."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from bot.runtime import open_runtime
from bot.scheduler import LeaderLease
from core.config import Settings
from core.db.uow import Services
from core.services import digest_schedule
from tests.bot.harness import RecordingSession
from tests.factories import make_account

CORE_SERVICES = Path(__file__).resolve().parents[2] / "core" / "services"


def _kinds_core_queues() -> set[str]:
    """Every literal `kind="…"` core passes to a notify call, and the digests'."""
    kinds = {
        digest_schedule.KIND_TEXT,
        digest_schedule.KIND_CHART,
        digest_schedule.KIND_XLSX,
        digest_schedule.KIND_WEEKLY,
    }
    for path in CORE_SERVICES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and "notify" in _called_name(node):
                kinds.update(
                    keyword.value.value
                    for keyword in node.keywords
                    if keyword.arg == "kind"
                    and isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, str)
                )
    return kinds


def _called_name(call: ast.Call) -> str:
    """`uow.notify(…)` → "notify", `_notify_sides(…)` → "_notify_sides" (a query's kind= is not
    a notification's)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


async def test_the_runtime_sender_renders_every_kind_core_queues(
    services: Services, test_settings: Settings
) -> None:
    queued = _kinds_core_queues()
    assert {"match", "deal_offer", "rating_prompt", "escalation", "digest_text"} <= queued

    async with open_runtime(
        test_settings, services=services, bot_session=RecordingSession()
    ) as runtime:
        missing = queued - runtime.sender.renderers.kinds()

    assert missing == set()


async def test_a_queued_message_is_delivered_and_everything_stops_on_exit(
    services: Services, test_settings: Settings
) -> None:
    async with services.uow() as uow:
        account = await make_account(uow, telegram_user_id=5001, locale="en")
        await uow.notify(
            account_id=account.id, kind="text", payload={"key": "command.help", "params": {}}
        )
        await uow.commit()
    session = RecordingSession()

    async with open_runtime(test_settings, services=services, bot_session=session) as runtime:
        runtime.start_sender()
        scheduler = runtime.start_scheduler(stop_grace=5.0)
        for _ in range(200):  # the sender's first cycle runs at once
            if session.requests:
                break
            await asyncio.sleep(0.025)

    [sent] = [r for r in session.requests if r.method == "sendMessage"]
    assert sent.params["chat_id"] == 5001
    assert sent.text
    assert sent.text != "command.help"
    assert not scheduler.running
    # the lease was released on the way out: another process takes over at once
    assert await LeaderLease(services, holder="another-process").acquire()
