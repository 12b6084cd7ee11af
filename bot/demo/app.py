"""`jingong demo` at run time: the seeded database, the sandbox, the real bot, sender, scheduler.

    demo = await start_demo(Path(".jingong/demo"), port=8080)
    print(demo.url)
    ...
    await demo.stop()

The bot is the production one, built by bot.runtime like every entry point: create_bot() with
aiogram's own HTTP session pointed at the emulator, create_dispatcher() with its middlewares and
SQL FSM storage, long polling with the
update types the routers use. The outbox sender delivers notifications and digests; the
scheduler (with its leader lease) queues digests and runs maintenance as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import TelegramObject
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.demo.world import DemoPersona, DemoWorld, prepare_world
from bot.scheduler import JingongScheduler
from bot.sender import OutboxSender, SenderConfig
from core.config import Settings
from core.db.uow import Services, UnitOfWork
from core.domain.enums import Role
from core.domain.timeutil import local_date
from core.ports import Clock
from sandbox import FloodLimit, PageAction, Persona, RunningSandbox, SandboxState, run_sandbox
from sandbox.robots import RobotState

log = logging.getLogger(__name__)

DEMO_TOKEN = "7000000000:JinGong-demo-sandbox"  # the emulator's bot; never a real token
DB_FILES = ("jingong.db", "jingong.db-wal", "jingong.db-shm")
DIGEST_ACTION = "digest_now"
# production rates, but notifications show up at once instead of after the 5 s poll. A short
# stop grace: at start-up the first digest tick has the sender render charts (CPU work in a
# thread, seconds each on a busy machine) that a stopping demo need not wait for; rows cut off
# stay claimed and go out on a later run once their claim lapses.
DEMO_SENDER = SenderConfig(concurrency=16, poll_interval=1.0, stop_grace=1.0)
STOP_TIMEOUT = 10.0


class PortInUse(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"{host}:{port} is already in use; pick another with --port")
        self.host = host
        self.port = port


@dataclass
class RunningDemo:
    """Everything `start_demo` started; `await stop()` ends it all, in order."""

    url: str
    data_dir: Path
    world: DemoWorld
    settings: Settings
    services: Services
    sandbox: RunningSandbox
    bot: Bot
    dispatcher: Dispatcher
    sender: OutboxSender
    scheduler: JingongScheduler | None
    started_in: float  # seconds from the call to ready
    _stack: AsyncExitStack = field(repr=False, default_factory=AsyncExitStack)
    _stopped: bool = False

    @property
    def personas(self) -> tuple[DemoPersona, ...]:
        return self.world.personas

    def persona(self, key: str) -> DemoPersona:
        return self.world.persona(key)

    async def stop(self) -> None:
        """Stop polling, the scheduler, the sender, the bot session, the sandbox; dispose."""
        if self._stopped:
            return
        self._stopped = True
        await self._stack.aclose()


def demo_settings(data_dir: Path, api_base: str = "http://127.0.0.1") -> Settings:
    """The demo's own settings: whatever the environment says about a database, Redis, a bot
    token or webhooks is ignored, so the demo can never touch a real deployment."""
    return Settings(
        data_dir=data_dir,
        database_url="",
        redis_url="",
        secret_key=SecretStr(""),  # a key file in the data dir
        bot_token=SecretStr(DEMO_TOKEN),
        telegram_api_base=api_base,
        webhook_secret=SecretStr(""),
        webhook_base_url="",
    )


def remove_database(data_dir: Path) -> bool:
    """--fresh: delete the demo database (the key file stays). True if there was one."""
    removed = False
    for name in DB_FILES:
        path = data_dir / name
        if path.exists():
            path.unlink()
            removed = True
    return removed


def _data_dir(path: Path, *, fresh: bool) -> Path:
    path = path.expanduser().resolve()
    if fresh:
        remove_database(path)
    return path


def check_port_free(host: str, port: int) -> None:
    """Fail early with a clear message: uvicorn would sys.exit() from inside the event loop."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(host, port) from exc


def _wake_after(sender: OutboxSender) -> Callable[..., Awaitable[Any]]:
    """Outer update middleware: an update may have queued notifications: send them now."""

    async def middleware(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            sender.wake()

    return middleware


PREVIEW_MARK = (
    "🔁 <i>预览：今日日报已发送过，这是重发的副本 · "
    "preview: today's digest was already sent, this is a copy</i>"
)


async def _queue_digest_preview(uow: UnitOfWork, persona: DemoPersona, day: date) -> None:
    """Today's digest for one regulator again, marked as a preview. Plain outbox rows with no
    dedup key and no DigestDelivery row: the once-per-(regulator, day) record stays untouched."""
    from core.reports.text import render_digest_text
    from core.services.digest_schedule import KIND_CHART, KIND_TEXT, KIND_XLSX
    from core.services.digests import build_digest

    assert persona.region_code is not None
    digest = await build_digest(uow, persona.actor(), persona.region_code, day)
    ref = {"region_code": persona.region_code, "day": day.isoformat(), "locale": "zh"}
    chunks = render_digest_text(digest, "zh")
    for i, chunk in enumerate(chunks):
        html = f"{PREVIEW_MARK}\n\n{chunk}" if i == 0 else chunk
        payload = {**ref, "html": html, "part": i + 1, "parts": len(chunks)}
        await uow.notify(account_id=persona.account_id, kind=KIND_TEXT, payload=payload)
    for kind in (KIND_CHART, KIND_XLSX):
        await uow.notify(account_id=persona.account_id, kind=kind, payload=dict(ref))
    await uow.commit()


def _digest_action(
    services: Services, sender: OutboxSender, personas: tuple[DemoPersona, ...]
) -> PageAction:
    """The regulator personas' "send the digest now" button on the page.

    The demo's scheduler queues today's digest at start-up once the digest time (08:00) has
    passed, so the real send_now would only ever answer "already sent". A newcomer pressing the
    button wants to see a digest: if today's was already delivered, the button re-sends it as a
    preview marked as such, outside the exactly-once delivery record (real regulators, who have
    no such button, still get exactly one per day)."""
    from core.services import digest_schedule

    regulators = {p.user_id: p for p in personas if p.role is Role.REGULATOR and p.region_code}

    async def run(user_id: int) -> str:
        persona = regulators[user_id]
        assert persona.region_code is not None
        async with services.uow() as uow:
            today = local_date(uow.now())
            results = await digest_schedule.send_now(uow, persona.region_code, day=today)
            mine = [r for r in results if r.account_id == persona.account_id]
            already = bool(mine and mine[0].already)
            if already:
                await _queue_digest_preview(uow, persona, today)
        sender.wake()
        if already:
            return (
                "今天的日报已发送过，已重发预览 · already sent today: a preview copy is on its way"
            )
        return "日报已生成，正在发送 · the digest is on its way"

    return PageAction(
        id=DIGEST_ACTION,
        label="立即发送日报 · Send today's digest now",
        run=run,
        user_ids=frozenset(regulators),
    )


DEMO_WECOM_KEY = "jingong-demo-taiyuan-group"  # the sandbox's fake WeCom robot, not a real key
DEMO_WECOM_PERSONA = "regulator_taiyuan"


async def _demo_wecom_group(
    services: Services, personas: tuple[DemoPersona, ...], robots: RobotState
) -> None:
    """The Taiyuan regulator's bureau group in WeCom, a fake robot in the sandbox: its digest
    copy shows at /wecom/ on the page's server."""
    from core.channels.service import add_channel, list_channels
    from core.channels.targets import ChannelKind
    from core.domain.actor import Actor

    url = robots.add_wecom(DEMO_WECOM_KEY)
    persona = next((p for p in personas if p.key == DEMO_WECOM_PERSONA), None)
    if persona is None:
        return
    async with services.uow() as uow:
        existing = await list_channels(uow, Actor.system(), persona.account_id)
        if any(channel.kind is ChannelKind.WECOM for channel in existing):
            return  # a reused demo database has it already
        await add_channel(
            uow, Actor.system(), account_id=persona.account_id, kind=ChannelKind.WECOM, value=url
        )


async def start_demo(
    data_dir: Path,
    *,
    port: int = 8080,
    host: str = "127.0.0.1",
    fresh: bool = False,
    clock: Clock | None = None,
    sender_config: SenderConfig | None = None,
    flood: FloodLimit | None = None,
    scheduler: bool = True,
    greet: bool = True,
    polling_timeout: int = 10,
) -> RunningDemo:
    """Seed (first run) or reuse the database, start the sandbox, the bot, the sender and the
    scheduler; return once the bot polls. Everything started is stopped if a step fails."""
    from bot.factory import set_bot_commands
    from bot.runtime import open_runtime
    from core.bootstrap import build_services

    started = time.perf_counter()
    check_port_free(host, port)
    data_dir = _data_dir(data_dir, fresh=fresh)
    stack = AsyncExitStack()
    try:
        settings = demo_settings(data_dir)
        engine: AsyncEngine
        engine, services = build_services(settings, clock=clock)
        stack.push_async_callback(engine.dispose)
        world = await prepare_world(engine, services)

        state = SandboxState(
            DEMO_TOKEN,
            bot_username=settings.bot_username,
            flood=flood,
            # the bot drops update ids it has seen (kept 48 h in the database): each run
            # numbers its updates above every earlier run's
            first_update_id=int(time.time() * 1000),
        )
        for persona in world.personas:
            user = state.add_persona(Persona(persona.name, persona.label, persona.user_id, "zh"))
            user.phone_number = persona.phone  # the share-contact form offers it
        robots = RobotState()
        await _demo_wecom_group(services, world.personas, robots)
        sandbox = await run_sandbox(state, host, port, robots=robots)
        stack.push_async_callback(sandbox.stop)
        settings = settings.model_copy(
            update={"telegram_api_base": sandbox.url, "wecom_api_base": f"{sandbox.url}/wecom"}
        )
        # the channel sender reads the robots' host from the services' settings
        services = dataclasses.replace(services, settings=settings)

        runtime = await stack.enter_async_context(
            open_runtime(settings, services=services, sender_config=sender_config or DEMO_SENDER)
        )
        tg_bot, dp = runtime.bot, runtime.dispatcher
        sender = runtime.start_sender()
        dp.update.outer_middleware(_wake_after(sender))
        state.add_action(_digest_action(services, sender, world.personas))
        await set_bot_commands(tg_bot)
        jobs = runtime.start_scheduler(stop_grace=5.0) if scheduler else None

        polling = asyncio.create_task(
            dp.start_polling(
                tg_bot,
                allowed_updates=dp.resolve_used_update_types(),
                handle_signals=False,
                close_bot_session=False,  # the sender still needs it while it stops
                polling_timeout=polling_timeout,
            ),
            name="demo-polling",
        )
        stack.push_async_callback(_stop_polling, dp, polling)
        await _wait_polling(state, polling)
        if greet:
            await _greet(state, world.personas)
    except BaseException:
        await stack.aclose()
        raise
    return RunningDemo(
        url=sandbox.url,
        data_dir=data_dir,
        world=world,
        settings=settings,
        services=services,
        sandbox=sandbox,
        bot=tg_bot,
        dispatcher=dp,
        sender=sender,
        scheduler=jobs,
        started_in=time.perf_counter() - started,
        _stack=stack,
    )


async def _wait_polling(state: SandboxState, polling: asyncio.Task[None]) -> None:
    """Until the bot's first getUpdates reached the emulator (so the demo is really up)."""
    deadline = time.monotonic() + 10
    while "getUpdates" not in state.requests:
        if polling.done():
            polling.result()  # raises what stopped it
            raise RuntimeError("polling stopped before it started")
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not start polling within 10 s")
        await asyncio.sleep(0.02)


async def _greet(state: SandboxState, personas: tuple[DemoPersona, ...]) -> None:
    """Each persona says /start and gets the menu: the page opens on a chat in use."""
    for persona in personas:
        state.user_send_text(persona.user_id, "/start")
    deadline = time.monotonic() + 15
    waiting = [p.user_id for p in personas]
    while waiting and time.monotonic() < deadline:
        waiting = [
            uid
            for uid in waiting
            if not any(m.from_bot for m in state.chats[uid].messages.values())
        ]
        await asyncio.sleep(0.05)
    if waiting:
        log.warning("no answer to /start for users %s yet", waiting)


async def _stop_polling(dp: Dispatcher, polling: asyncio.Task[None]) -> None:
    # aiogram closes the FSM storage as soon as polling stops, under handlers still running
    await _wait_updates_handled(dp)
    with contextlib.suppress(RuntimeError):  # polling had not started (or already stopped)
        await dp.stop_polling()
    try:
        await asyncio.wait_for(polling, STOP_TIMEOUT)
    except TimeoutError:
        log.warning("polling did not stop within %.0f s; cancelled", STOP_TIMEOUT)
    except Exception:
        log.exception("polling ended with an error")


async def _wait_updates_handled(dp: Dispatcher) -> None:
    """Polling hands each update to a task of its own and does not wait for it. Each such task
    holds its user's lock (bot.isolation) from the moment it starts: wait until none does."""
    isolation = dp.fsm.events_isolation if dp.fsm is not None else None
    deadline = time.monotonic() + STOP_TIMEOUT
    while held := getattr(isolation, "keys_held", 0):
        if time.monotonic() > deadline:
            log.warning("%d updates still being handled after %.0f s", held, STOP_TIMEOUT)
            return
        await asyncio.sleep(0.02)


# --- the command ----------------------------------------------------------------------------


def describe(demo: RunningDemo) -> str:
    """What `jingong demo` prints once it is up."""
    seeded = "seeded now" if demo.world.seeded_now else "reused"
    lines = [
        f"JinGong Dispatch demo (晋工调度 演示) ready in {demo.started_in:.1f} s",
        "",
        f"  Open the chat page:  {demo.url}/",
        f"  Database ({seeded}): {demo.data_dir / 'jingong.db'}",
        "",
        "  Personas (pick one on the page; each is already bound to its account):",
    ]
    width = max(len(p.name) for p in demo.personas)
    for p in demo.personas:
        lines.append(f"    {p.name:<{width}}  {p.label}  (user id {p.user_id})")
    lines += [
        "",
        "  Regulators have a 'Send today's digest now' button above their chat",
        "  (once today's digest went out, it sends a copy marked as a preview).",
        f"  The Taiyuan regulator's WeCom group (企业微信群) copy: {demo.url}/wecom/",
        "  Ctrl-C stops the demo.",
    ]
    return "\n".join(lines)


async def run_demo(
    data_dir: Path, *, port: int, host: str = "127.0.0.1", fresh: bool = False
) -> None:
    """`jingong demo`: run until SIGINT/SIGTERM, then stop everything cleanly."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        if fresh:
            print(f"jingong demo: starting afresh in {data_dir}", flush=True)
        demo = await start_demo(data_dir, port=port, host=host, fresh=fresh)
        try:
            print(describe(demo), flush=True)
            await stop.wait()
            print("\njingong demo: stopping…", flush=True)
        finally:
            began = time.perf_counter()
            await demo.stop()
        print(f"jingong demo: stopped in {time.perf_counter() - began:.1f} s", flush=True)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
